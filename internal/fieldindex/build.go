package fieldindex

import (
	"math"
	"runtime"
	"slices"
	"sync"

	"github.com/strata-db/strata/internal/base"
	"github.com/strata-db/strata/internal/filter"
)

// Build builds the frozen index of key with schema s over offsets [0, n),
// where payload returns the JSON payload of an offset (empty for none)
// and may be called from several goroutines at once.
// It is used when a segment is sealed and by the background indexer.
func Build(key string, s filter.FieldSchema, n int, payload func(off uint32) []byte) (*Index, error) {
	m, err := BuildMany(map[string]filter.FieldSchema{key: s}, n, payload)
	if err != nil {
		return nil, err
	}
	return m[key], nil
}

// BuildMany builds the frozen indexes of several keys over offsets [0, n)
// at once, decoding each payload once for all of them. payload may be
// called from several goroutines at once (decoding runs on all cores).
func BuildMany(schemas map[string]filter.FieldSchema, n int, payload func(off uint32) []byte) (map[string]*Index, error) {
	if n < 0 || n > math.MaxUint32 {
		return nil, base.InvalidArgumentf("fieldindex: %d offsets out of range", n)
	}
	keys := make([]string, 0, len(schemas))
	for k := range schemas {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	xs := make([]*Index, len(keys))
	for i, k := range keys {
		x, err := New(k, schemas[k])
		if err != nil {
			return nil, err
		}
		x.bulk = true
		xs[i] = x
	}
	if len(xs) > 0 {
		decodeAll(n, payload, func(off uint32, doc map[string]any) {
			for _, x := range xs {
				x.add(off, doc)
			}
		})
	}
	out := make(map[string]*Index, len(xs))
	for _, x := range xs {
		x.n = n
		x.freeze()
		out[x.key] = x
	}
	return out, nil
}

// decodeChunk is the number of payloads a decoding worker takes at once.
const decodeChunk = 512

// decodeAll decodes the payloads of offsets [0, n) and calls add with each
// non-empty one in offset order. The decoding, most of a build's work, is
// spread over GOMAXPROCS goroutines; add runs on the calling goroutine.
// At most a few chunks per worker are decoded ahead of add.
func decodeAll(n int, payload func(off uint32) []byte, add func(off uint32, doc map[string]any)) {
	workers := runtime.GOMAXPROCS(0)
	if workers < 2 || n < 4*decodeChunk {
		for off := 0; off < n; off++ {
			if doc := filter.DecodePayload(payload(uint32(off))); doc != nil {
				add(uint32(off), doc)
			}
		}
		return
	}
	type job struct {
		start int
		docs  []map[string]any
		done  chan struct{}
	}
	jobs := make(chan *job, 2*workers)
	order := make(chan *job, 2*workers)
	go func() {
		for start := 0; start < n; start += decodeChunk {
			j := &job{start: start, docs: make([]map[string]any, min(decodeChunk, n-start)), done: make(chan struct{})}
			order <- j
			jobs <- j
		}
		close(jobs)
		close(order)
	}()
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				for i := range j.docs {
					j.docs[i] = filter.DecodePayload(payload(uint32(j.start + i)))
				}
				close(j.done)
			}
		}()
	}
	for j := range order {
		<-j.done
		for i, doc := range j.docs {
			if doc != nil {
				add(uint32(j.start+i), doc)
			}
		}
	}
	wg.Wait()
}
