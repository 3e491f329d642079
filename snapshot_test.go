package strata

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"path"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/strata-db/strata/internal/vfs"
)

// snapConfig has two named dense vectors, a sparse vector and a keyword
// index; sealed segments of 500+ points get HNSW graphs.
func snapConfig() CollectionConfig {
	return CollectionConfig{
		Vectors: map[string]VectorParams{
			"a": {Size: 8, Distance: Cosine},
			"b": {Size: 4, Distance: Euclid},
		},
		SparseVectors: map[string]SparseVectorParams{"sp": {}},
		Optimizers:    OptimizersConfig{FlushThreshold: 1000, IndexingThresholdKB: 8, Interval: -1},
		HNSW:          HnswConfig{M: 8, EfConstruct: 32, FullScanThresholdKB: 1},
		PayloadSchema: map[string]FieldSchema{"tag": {Type: "keyword"}},
	}
}

func snapPoints(r *rand.Rand, lo, hi int) []Point {
	var pts []Point
	for i := lo; i < hi; i++ {
		p := Point{
			ID:      NumID(uint64(i)),
			Vectors: map[string][]float32{"a": vec(r, 8)},
			Payload: Payload{"i": i, "tag": fmt.Sprintf("t%d", i%7)},
		}
		if i%3 != 0 {
			p.Vectors["b"] = vec(r, 4)
		}
		if i%5 == 0 {
			p.Sparse = map[string]SparseVector{"sp": {Indices: []uint32{uint32(i), 7}, Values: []float32{1, 0.5}}}
		}
		pts = append(pts, p)
	}
	return pts
}

// allRecords returns every point with payload and vectors, in id order.
func allRecords(t *testing.T, c *Collection) []Record {
	t.Helper()
	var out []Record
	var off *PointID
	for {
		res, err := c.Scroll(ctx, ScrollRequest{Limit: 1000, Offset: off, WithPayload: PayloadSelector{All: true}, WithVectors: VectorSelector{All: true}})
		if err != nil {
			t.Fatalf("scroll %s: %v", c.Name(), err)
		}
		out = append(out, res.Points...)
		if res.NextOffset == nil {
			return out
		}
		off = res.NextOffset
	}
}

// snapshotBytes reads a stored snapshot whole.
func snapshotBytes(t *testing.T, db *DB, coll, name string) []byte {
	t.Helper()
	r, err := db.OpenSnapshot(ctx, coll, name)
	if err != nil {
		t.Fatalf("OpenSnapshot: %v", err)
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(b)) != r.Info().Size {
		t.Fatalf("read %d bytes, info says %d", len(b), r.Info().Size)
	}
	return b
}

// readArchive decompresses a snapshot into its entries, in order.
func readArchive(t *testing.T, b []byte) (names []string, files map[string][]byte) {
	t.Helper()
	zr, err := zstd.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	tr := tar.NewReader(zr)
	files = map[string][]byte{}
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return names, files
		}
		if err != nil {
			t.Fatalf("archive: %v", err)
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, h.Name)
		files[h.Name] = data
	}
}

// writeArchiveBytes re-packs entries (in order) as a snapshot archive.
func writeArchiveBytes(t *testing.T, names []string, files map[string][]byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw, err := zstd.NewWriter(&buf)
	if err != nil {
		t.Fatal(err)
	}
	tw := tar.NewWriter(zw)
	for _, n := range names {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: n, Size: int64(len(files[n])), Mode: 0o644}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(files[n]); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func searchBoth(t *testing.T, c *Collection, q []float32, f *Filter) []ScoredPoint {
	t.Helper()
	res, err := c.Search(ctx, SearchRequest{Vector: q, Using: "a", Limit: 10, Filter: f, WithPayload: PayloadSelector{All: true}})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// noLeftovers checks that no recovery or snapshot temporary is left.
func noLeftovers(t *testing.T, dir string) {
	t.Helper()
	for _, pattern := range []string{"collections/.*", "snapshots/*/.*", "snapshots/*/*.tmp"} {
		m, _ := filepath.Glob(filepath.Join(dir, pattern))
		if len(m) > 0 {
			t.Fatalf("leftovers: %v", m)
		}
	}
}

// A snapshot recovered under a new name has the same points, payloads,
// vectors, payload indexes and HNSW graphs, and searches give the same
// answers.
func TestSnapshotRoundTrip(t *testing.T) {
	dir := t.TempDir()
	db := mustOpen(t, dir)
	defer db.Close()
	c, err := db.CreateCollection(ctx, "src", snapConfig())
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	for lo := 0; lo < 3000; lo += 500 {
		if err := c.Upsert(ctx, snapPoints(r, lo, lo+500)); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Optimize(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.CreateFieldIndex(ctx, "i", FieldSchema{Type: "integer"}); err != nil {
		t.Fatal(err)
	}
	if err := c.WaitIndexed(ctx); err != nil {
		t.Fatal(err)
	}
	// Changes after the last round: tombstones on sealed segments, payload
	// updates, new points in the appendable segment.
	if err := c.Delete(ctx, IDs(NumID(3), NumID(1500), NumID(2999))); err != nil {
		t.Fatal(err)
	}
	if err := c.SetPayload(ctx, IDs(NumID(10), NumID(20)), Payload{"extra": true}); err != nil {
		t.Fatal(err)
	}
	if err := c.Upsert(ctx, snapPoints(r, 3000, 3100)); err != nil {
		t.Fatal(err)
	}
	want := allRecords(t, c)

	info, err := c.CreateSnapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(info.Name, "src-") || !strings.HasSuffix(info.Name, ".snapshot") || info.Collection != "src" {
		t.Fatalf("info: %+v", info)
	}
	b := snapshotBytes(t, db, "src", info.Name)
	if sum := sha256.Sum256(b); hex.EncodeToString(sum[:]) != info.Checksum || int64(len(b)) != info.Size {
		t.Fatalf("checksum/size of the file differ from the info %+v", info)
	}
	// The archive: the header first, listing every other entry with its
	// sha256; graphs and payload indexes are in it.
	names, files := readArchive(t, b)
	if names[0] != "strata-snapshot.json" {
		t.Fatalf("first entry %q", names[0])
	}
	var hdr snapshotHeader
	if err := json.Unmarshal(files[names[0]], &hdr); err != nil {
		t.Fatal(err)
	}
	if hdr.Format != 1 || hdr.Collection != "src" || hdr.Points != len(want) || hdr.Checkpoint == 0 || len(hdr.Files) != len(names)-1 {
		t.Fatalf("header: %+v (want %d points, %d files)", hdr, len(want), len(names)-1)
	}
	var graphs, pidx int
	for i, e := range hdr.Files {
		sum := sha256.Sum256(files[e.Name])
		if names[i+1] != e.Name || hex.EncodeToString(sum[:]) != e.SHA256 || int64(len(files[e.Name])) != e.Size {
			t.Fatalf("header entry %d %+v does not match the archive", i, e)
		}
		graphs += btoi(strings.HasSuffix(e.Name, ".hnsw"))
		pidx += btoi(strings.HasSuffix(e.Name, ".pidx"))
	}
	if graphs == 0 || pidx == 0 {
		t.Fatalf("archive has %d graph and %d payload index files: %v", graphs, pidx, names)
	}

	rr, err := db.OpenSnapshot(ctx, "src", info.Name)
	if err != nil {
		t.Fatal(err)
	}
	cp, err := db.RecoverSnapshot(ctx, "copy", rr, RecoverOptions{Checksum: strings.ToUpper(info.Checksum)})
	rr.Close()
	if err != nil {
		t.Fatal(err)
	}
	if got := allRecords(t, cp); !reflect.DeepEqual(got, want) {
		t.Fatalf("recovered records differ: %d vs %d", len(got), len(want))
	}
	si, _ := c.Info(ctx)
	ci, _ := cp.Info(ctx)
	if ci.IndexedVectorsCount == 0 || ci.IndexedVectorsCount != si.IndexedVectorsCount || ci.PointsCount != si.PointsCount {
		t.Fatalf("info: source %+v, copy %+v", si, ci)
	}
	if !reflect.DeepEqual(ci.PayloadSchema, si.PayloadSchema) || len(ci.PayloadSchema) != 2 {
		t.Fatalf("payload schema: source %v, copy %v", si.PayloadSchema, ci.PayloadSchema)
	}
	for i := 0; i < 20; i++ {
		q := vec(r, 8)
		var f *Filter
		if i%2 == 1 {
			f = &Filter{Must: []Condition{MatchValue("tag", "t3")}}
		}
		if a, b := searchBoth(t, c, q, f), searchBoth(t, cp, q, f); !reflect.DeepEqual(a, b) || len(a) != 10 {
			t.Fatalf("search %d differs:\n%v\n%v", i, a, b)
		}
	}
	// The copy is an ordinary collection: writable, and it survives a reopen.
	if err := cp.Upsert(ctx, snapPoints(r, 5000, 5001)); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = mustOpen(t, dir)
	cp, err = db.Collection("copy")
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := cp.Count(ctx, nil); n != len(want)+1 {
		t.Fatalf("copy after reopen: %d points, want %d", n, len(want)+1)
	}
	noLeftovers(t, dir)
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// A snapshot taken while writers run (with the optimizer and indexer busy)
// is exactly the state at one point of the write sequence: for each
// writer, a prefix of its operations, at least as long as what was
// acknowledged before CreateSnapshot was called.
func TestSnapshotDuringWrites(t *testing.T) {
	dir := t.TempDir()
	db := mustOpen(t, dir)
	defer db.Close()
	cfg := CollectionConfig{
		Vectors:    map[string]VectorParams{"": {Size: 4, Distance: Dot}},
		Optimizers: OptimizersConfig{FlushThreshold: 300, MaxSegments: 3, IndexingThresholdKB: 1, Interval: 5 * time.Millisecond},
		HNSW:       HnswConfig{M: 4, EfConstruct: 16},
	}
	c, err := db.CreateCollection(ctx, "w", cfg)
	if err != nil {
		t.Fatal(err)
	}
	const writers = 3
	// Writer w's op k (k = 0, 1, ...): upsert id w*1e6+k with payload
	// {"k": k}; every 10th op also deletes id w*1e6+k-5, as a separate op
	// right after.
	type op struct {
		id     uint64
		delete bool
	}
	opsOf := func(w, n int) []op {
		var ops []op
		for k := 0; len(ops) < n; k++ {
			id := uint64(w)*1_000_000 + uint64(k)
			ops = append(ops, op{id: id})
			if k%10 == 9 {
				ops = append(ops, op{id: id - 5, delete: true})
			}
		}
		return ops[:n]
	}
	var acked [writers]atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	errc := make(chan error, writers)
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ops := opsOf(w, 100000)
			for i, o := range ops {
				select {
				case <-stop:
					return
				default:
				}
				var err error
				if o.delete {
					err = c.Delete(ctx, IDs(NumID(o.id)))
				} else {
					err = c.Upsert(ctx, []Point{{ID: NumID(o.id), Vector: []float32{1, float32(o.id % 7), 0, 1}, Payload: Payload{"k": o.id % 1_000_000}}})
				}
				if err != nil {
					errc <- err
					return
				}
				acked[w].Store(int64(i + 1))
			}
		}()
	}
	check := func(cp *Collection, before [writers]int64) {
		recs := allRecords(t, cp)
		have := map[uint64]bool{}
		for _, r := range recs {
			id := r.ID.Num()
			have[id] = true
			if k, _ := r.Payload["k"].(json.Number).Int64(); uint64(k) != id%1_000_000 {
				t.Fatalf("point %d has payload %v", id, r.Payload)
			}
		}
		for w := 0; w < writers; w++ {
			// Find the prefix length: the op count n such that the state
			// after ops[:n] equals have restricted to this writer.
			var mine []uint64
			for id := range have {
				if id/1_000_000 == uint64(w) {
					mine = append(mine, id)
				}
			}
			slices.Sort(mine)
			ops := opsOf(w, int(acked[w].Load())+20)
			state := map[uint64]bool{}
			match := -1
			for n := 0; n <= len(ops); n++ {
				if n > 0 {
					o := ops[n-1]
					if o.delete {
						delete(state, o.id)
					} else {
						state[o.id] = true
					}
				}
				if len(state) != len(mine) {
					continue
				}
				ok := true
				for _, id := range mine {
					if !state[id] {
						ok = false
						break
					}
				}
				if ok {
					match = n
				}
			}
			if match < 0 {
				t.Fatalf("writer %d: the snapshot's %d points are no prefix of its operations", w, len(mine))
			}
			if int64(match) < before[w] {
				t.Fatalf("writer %d: the snapshot has %d ops, but %d were acknowledged before it started", w, match, before[w])
			}
		}
	}
	time.Sleep(50 * time.Millisecond)
	for round := 0; round < 3; round++ {
		var before [writers]int64
		for w := range before {
			before[w] = acked[w].Load()
		}
		info, err := c.CreateSnapshot(ctx)
		if err != nil {
			t.Fatal(err)
		}
		rr, err := db.OpenSnapshot(ctx, "w", info.Name)
		if err != nil {
			t.Fatal(err)
		}
		cp, err := db.RecoverSnapshot(ctx, fmt.Sprintf("w%d", round), rr, RecoverOptions{Checksum: info.Checksum})
		rr.Close()
		if err != nil {
			t.Fatal(err)
		}
		check(cp, before)
		time.Sleep(30 * time.Millisecond)
	}
	close(stop)
	wg.Wait()
	select {
	case err := <-errc:
		t.Fatal(err)
	default:
	}
}

// Recovering over an existing collection replaces it while readers use the
// old handle: they finish or get ErrClosed, never crash; the new handle has
// the snapshot's data.
func TestSnapshotRecoverReplacesWithReaders(t *testing.T) {
	dir := t.TempDir()
	db := mustOpen(t, dir)
	defer db.Close()
	cfg := snapConfig()
	cfg.Optimizers.Interval = 10 * time.Millisecond
	c, err := db.CreateCollection(ctx, "r", cfg)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(3, 4))
	if err := c.Upsert(ctx, snapPoints(r, 0, 2500)); err != nil {
		t.Fatal(err)
	}
	want := allRecords(t, c)
	info, err := c.CreateSnapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// Change everything after the snapshot.
	if err := c.Delete(ctx, Where(&Filter{Must: []Condition{MatchValue("tag", "t1")}})); err != nil {
		t.Fatal(err)
	}
	if err := c.Upsert(ctx, snapPoints(r, 10000, 10500)); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var reads, closed atomic.Int64
	for g := 0; g < 3; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rr := rand.New(rand.NewPCG(uint64(g), 9))
			for {
				select {
				case <-stop:
					return
				default:
				}
				var err error
				switch g {
				case 0:
					_, err = c.Search(ctx, SearchRequest{Vector: vec(rr, 8), Using: "a", Limit: 5, Filter: &Filter{Must: []Condition{MatchValue("tag", "t2")}}})
				case 1:
					_, err = c.Scroll(ctx, ScrollRequest{Limit: 100, WithPayload: PayloadSelector{All: true}, WithVectors: VectorSelector{All: true}})
				default:
					_, err = c.Count(ctx, nil)
				}
				switch {
				case err == nil:
					reads.Add(1)
				case errors.Is(err, ErrClosed):
					closed.Add(1)
				default:
					t.Errorf("reader %d: %v", g, err)
					return
				}
			}
		}()
	}
	time.Sleep(20 * time.Millisecond)
	rr, err := db.OpenSnapshot(ctx, "r", info.Name)
	if err != nil {
		t.Fatal(err)
	}
	nc, err := db.RecoverSnapshot(ctx, "r", rr, RecoverOptions{})
	rr.Close()
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(20 * time.Millisecond)
	close(stop)
	wg.Wait()
	if reads.Load() == 0 || closed.Load() == 0 {
		t.Fatalf("readers: %d reads, %d ErrClosed; want both", reads.Load(), closed.Load())
	}
	if err := c.Upsert(ctx, snapPoints(r, 0, 1)); !errors.Is(err, ErrClosed) {
		t.Fatalf("write on the replaced handle: %v, want ErrClosed", err)
	}
	got, err := db.Collection("r")
	if err != nil || got != nc {
		t.Fatalf("Collection(r) = %p, %v; want the recovered handle %p", got, err, nc)
	}
	if recs := allRecords(t, nc); !reflect.DeepEqual(recs, want) {
		t.Fatalf("recovered %d records, want the snapshot's %d", len(recs), len(want))
	}
	if err := nc.Upsert(ctx, snapPoints(r, 20000, 20001)); err != nil {
		t.Fatal(err)
	}
	noLeftovers(t, dir)
}

// Damaged input is refused with ErrInvalidArgument and a precise message;
// the target collection is left as it was and no temporary is left.
func TestSnapshotRecoverRejectsBadArchives(t *testing.T) {
	dir := t.TempDir()
	db := mustOpen(t, dir)
	defer db.Close()
	c, err := db.CreateCollection(ctx, "x", snapConfig())
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(5, 6))
	if err := c.Upsert(ctx, snapPoints(r, 0, 1500)); err != nil {
		t.Fatal(err)
	}
	info, err := c.CreateSnapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	good := snapshotBytes(t, db, "x", info.Name)
	// The target: a different collection "x" state, which must survive.
	if err := c.Delete(ctx, IDs(NumID(1), NumID(2))); err != nil {
		t.Fatal(err)
	}
	before := allRecords(t, c)

	names, files := readArchive(t, good)
	var segName string
	for _, n := range names {
		if strings.HasSuffix(n, ".seg") {
			segName = n
		}
	}
	// One byte flipped inside a segment file, re-packed with a valid
	// compression frame: only the header's sha256 can catch it.
	tampered := cloneFiles(files)
	seg := slices.Clone(tampered[segName])
	seg[len(seg)/2] ^= 0x40
	tampered[segName] = seg
	// An entry missing from the archive.
	var missing []string
	for _, n := range names {
		if n != segName {
			missing = append(missing, n)
		}
	}
	// The header names a file the archive lacks... and a config.json that
	// is not a config.
	badHeader := cloneFiles(files)
	badHeader["strata-snapshot.json"] = []byte(`{"format":2}`)
	// A consistent header and archive without a segment the manifest
	// names: every file checks out, but the collection does not open.
	var hdr snapshotHeader
	if err := json.Unmarshal(files["strata-snapshot.json"], &hdr); err != nil {
		t.Fatal(err)
	}
	hdr.Files = slices.DeleteFunc(hdr.Files, func(e snapshotFileEntry) bool { return e.Name == segName })
	noSeg := cloneFiles(files)
	noSeg["strata-snapshot.json"], _ = json.Marshal(hdr)
	flipped := slices.Clone(good)
	flipped[len(flipped)/2] ^= 0x01
	wrongSum := strings.Repeat("ab", 32)

	cases := []struct {
		name string
		data []byte
		opts RecoverOptions
		msg  string
	}{
		{"truncated", good[:len(good)/2], RecoverOptions{}, "truncated"},
		{"truncated-tail", good[:len(good)-3], RecoverOptions{}, "truncated"},
		{"empty", nil, RecoverOptions{}, "truncated"},
		{"not-zstd", []byte("hello, this is not a snapshot"), RecoverOptions{}, "damaged"},
		{"flipped-byte", flipped, RecoverOptions{}, "damaged"},
		{"tampered-file", writeArchiveBytes(t, names, tampered), RecoverOptions{}, "sha256"},
		{"missing-file", writeArchiveBytes(t, missing, files), RecoverOptions{}, "missing"},
		{"bad-header", writeArchiveBytes(t, names, badHeader), RecoverOptions{}, "unsupported format 2"},
		{"manifest-names-missing-file", writeArchiveBytes(t, missing, noSeg), RecoverOptions{}, "the collection does not open"},
		{"wrong-checksum", good, RecoverOptions{Checksum: wrongSum}, "expected " + wrongSum + ", but the snapshot's SHA-256 is " + info.Checksum},
		{"malformed-checksum", good, RecoverOptions{Checksum: "xyz"}, "not a SHA-256"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := db.RecoverSnapshot(ctx, "x", bytes.NewReader(tc.data), tc.opts)
			if !errors.Is(err, ErrInvalidArgument) || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("got %v; want ErrInvalidArgument containing %q", err, tc.msg)
			}
			got, err := db.Collection("x")
			if err != nil || got != c {
				t.Fatalf("collection x replaced: %v", err)
			}
			if recs := allRecords(t, c); !reflect.DeepEqual(recs, before) {
				t.Fatal("collection x changed")
			}
			noLeftovers(t, dir)
		})
	}
	// A new name is not created by a failed recovery either.
	if _, err := db.RecoverSnapshot(ctx, "y", bytes.NewReader(good[:100]), RecoverOptions{}); !errors.Is(err, ErrInvalidArgument) {
		t.Fatal(err)
	}
	if _, err := db.Collection("y"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("y after a failed recovery: %v", err)
	}
	// And the good archive still works, with its checksum.
	if _, err := db.RecoverSnapshot(ctx, "y", bytes.NewReader(good), RecoverOptions{Checksum: info.Checksum}); err != nil {
		t.Fatal(err)
	}
}

func cloneFiles(m map[string][]byte) map[string][]byte {
	out := make(map[string][]byte, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// Names are validated; unknown snapshots are ErrNotFound; list is oldest
// first; delete removes the file and its checksum.
func TestSnapshotNamesListDelete(t *testing.T) {
	dir := t.TempDir()
	db := mustOpen(t, dir)
	defer db.Close()
	c, err := db.CreateCollection(ctx, "n", faultConfig)
	if err != nil {
		t.Fatal(err)
	}
	if l, err := db.ListSnapshots(ctx, "n"); err != nil || len(l) != 0 {
		t.Fatalf("empty list: %v %v", l, err)
	}
	var made []SnapshotInfo
	for i := 0; i < 3; i++ {
		if err := c.Upsert(ctx, pointsRange(i*10, i*10+10)); err != nil {
			t.Fatal(err)
		}
		info, err := c.CreateSnapshot(ctx)
		if err != nil {
			t.Fatal(err)
		}
		made = append(made, info)
		time.Sleep(5 * time.Millisecond)
	}
	list, err := db.ListSnapshots(ctx, "n")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(list, made) {
		t.Fatalf("list:\n%+v\nwant\n%+v", list, made)
	}
	for _, bad := range []string{"../x", "a/b", `a\b`, "..", ".hidden.snapshot", "", "x\x00.snapshot"} {
		if err := db.DeleteSnapshot(ctx, "n", bad); !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("DeleteSnapshot(%q): %v, want ErrInvalidArgument", bad, err)
		}
		if _, err := db.OpenSnapshot(ctx, "n", bad); !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("OpenSnapshot(%q): %v, want ErrInvalidArgument", bad, err)
		}
	}
	if _, err := db.ListSnapshots(ctx, "../n"); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("ListSnapshots(../n): %v", err)
	}
	for _, unknown := range []string{"nope.snapshot", made[0].Name + ".checksum", "n"} {
		if _, err := db.OpenSnapshot(ctx, "n", unknown); !errors.Is(err, ErrNotFound) {
			t.Errorf("OpenSnapshot(%q): %v, want ErrNotFound", unknown, err)
		}
		if err := db.DeleteSnapshot(ctx, "n", unknown); !errors.Is(err, ErrNotFound) {
			t.Errorf("DeleteSnapshot(%q): %v, want ErrNotFound", unknown, err)
		}
	}
	if _, err := db.OpenSnapshot(ctx, "other", made[0].Name); !errors.Is(err, ErrNotFound) {
		t.Errorf("a snapshot under another collection: %v", err)
	}
	if err := db.DeleteSnapshot(ctx, "n", made[1].Name); err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteSnapshot(ctx, "n", made[1].Name); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second delete: %v", err)
	}
	list, _ = db.ListSnapshots(ctx, "n")
	if !reflect.DeepEqual(list, []SnapshotInfo{made[0], made[2]}) {
		t.Fatalf("after delete: %+v", list)
	}
	if m, _ := filepath.Glob(filepath.Join(dir, "snapshots", "n", made[1].Name+"*")); len(m) != 0 {
		t.Fatalf("files left: %v", m)
	}
	// Without its checksum file, the checksum is computed.
	if err := vfs.Default.Remove(filepath.Join(dir, "snapshots", "n", made[2].Name+".checksum")); err != nil {
		t.Fatal(err)
	}
	list, _ = db.ListSnapshots(ctx, "n")
	if list[1].Checksum != made[2].Checksum {
		t.Fatalf("computed checksum %s, want %s", list[1].Checksum, made[2].Checksum)
	}
	// The oldest snapshot recovers the state it was taken at.
	rr, _ := db.OpenSnapshot(ctx, "n", made[0].Name)
	old, err := db.RecoverSnapshot(ctx, "old", rr, RecoverOptions{})
	rr.Close()
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := old.Count(ctx, nil); n != 10 {
		t.Fatalf("oldest snapshot has %d points, want 10", n)
	}
}

// Deleting a collection keeps its snapshots, which can recreate it; a
// handle to a deleted collection cannot take snapshots.
func TestSnapshotOfDroppedCollection(t *testing.T) {
	dir := t.TempDir()
	db := mustOpen(t, dir)
	defer db.Close()
	c, err := db.CreateCollection(ctx, "d", faultConfig)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Upsert(ctx, pointsRange(0, 50)); err != nil {
		t.Fatal(err)
	}
	want := allRecords(t, c)
	info, err := c.CreateSnapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteCollection(ctx, "d"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateSnapshot(ctx); !errors.Is(err, ErrClosed) {
		t.Fatalf("snapshot of a deleted collection: %v, want ErrClosed", err)
	}
	list, err := db.ListSnapshots(ctx, "d")
	if err != nil || len(list) != 1 || list[0] != info {
		t.Fatalf("list after delete: %v %v", list, err)
	}
	rr, err := db.OpenSnapshot(ctx, "d", info.Name)
	if err != nil {
		t.Fatal(err)
	}
	nc, err := db.RecoverSnapshot(ctx, "d", rr, RecoverOptions{Checksum: info.Checksum})
	rr.Close()
	if err != nil {
		t.Fatal(err)
	}
	if got := allRecords(t, nc); !reflect.DeepEqual(got, want) {
		t.Fatal("recreated collection differs")
	}
	// An empty collection snapshots and recovers too.
	e, err := db.CreateCollection(ctx, "empty", faultConfig)
	if err != nil {
		t.Fatal(err)
	}
	ei, err := e.CreateSnapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	b := snapshotBytes(t, db, "empty", ei.Name)
	ec, err := db.RecoverSnapshot(ctx, "empty2", bytes.NewReader(b), RecoverOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := ec.Count(ctx, nil); n != 0 {
		t.Fatalf("empty copy has %d points", n)
	}
	if err := ec.Upsert(ctx, pointsRange(0, 3)); err != nil {
		t.Fatal(err)
	}
}

// A failed fsync while a snapshot is written is returned, never retried,
// and leaves no snapshot listed and no file behind; a failed fsync while
// recovering changes nothing.
func TestSnapshotFaults(t *testing.T) {
	for _, tc := range []struct {
		op   vfs.Op
		path string
	}{
		{vfs.OpSync, "/snapshots/"},
		{vfs.OpSyncDir, "/snapshots/s"},
		{vfs.OpWrite, "/snapshots/"},
		{vfs.OpRename, "/snapshots/"},
	} {
		t.Run(tc.op.String(), func(t *testing.T) {
			mem := vfs.NewMem()
			inj := &switchInjector{op: tc.op, path: tc.path}
			db := openOn(t, vfs.NewErrorFS(mem, inj))
			defer db.Close()
			c, err := db.CreateCollection(ctx, "s", faultConfig)
			if err != nil {
				t.Fatal(err)
			}
			if err := c.Upsert(ctx, pointsRange(0, 20)); err != nil {
				t.Fatal(err)
			}
			if _, err := c.CreateSnapshot(ctx); err != nil { // creates the directory
				t.Fatal(err)
			}
			list, _ := db.ListSnapshots(ctx, "s")
			inj.armed.Store(true)
			_, err = c.CreateSnapshot(ctx)
			inj.armed.Store(false)
			if !errors.Is(err, vfs.ErrInjected) || inj.hits.Load() != 1 {
				t.Fatalf("CreateSnapshot: %v (%d injected failures), want the injected error once", err, inj.hits.Load())
			}
			after, err := db.ListSnapshots(ctx, "s")
			if err != nil || !reflect.DeepEqual(after, list) {
				t.Fatalf("list after a failed snapshot: %v %v, want %v", after, err, list)
			}
			names, _ := mem.List("db/snapshots/s")
			if len(names) != 2 { // the first snapshot and its checksum
				t.Fatalf("files after a failed snapshot: %v", names)
			}
			// The collection is unharmed and snapshots again.
			if err := c.Upsert(ctx, pointsRange(20, 30)); err != nil {
				t.Fatal(err)
			}
			if _, err := c.CreateSnapshot(ctx); err != nil {
				t.Fatal(err)
			}
		})
	}
	t.Run("recover", func(t *testing.T) {
		mem := vfs.NewMem()
		inj := &switchInjector{op: vfs.OpSync, path: "/.recover-"}
		db := openOn(t, vfs.NewErrorFS(mem, inj))
		defer db.Close()
		c, err := db.CreateCollection(ctx, "s", faultConfig)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Upsert(ctx, pointsRange(0, 20)); err != nil {
			t.Fatal(err)
		}
		info, err := c.CreateSnapshot(ctx)
		if err != nil {
			t.Fatal(err)
		}
		b := snapshotBytes(t, db, "s", info.Name)
		if err := c.Delete(ctx, IDs(NumID(0))); err != nil {
			t.Fatal(err)
		}
		inj.armed.Store(true)
		_, err = db.RecoverSnapshot(ctx, "s", bytes.NewReader(b), RecoverOptions{})
		inj.armed.Store(false)
		if !errors.Is(err, vfs.ErrInjected) {
			t.Fatalf("RecoverSnapshot: %v, want the injected error", err)
		}
		if got, _ := db.Collection("s"); got != c {
			t.Fatal("collection replaced by a failed recovery")
		}
		if n, _ := c.Count(ctx, nil); n != 19 {
			t.Fatalf("count %d after a failed recovery", n)
		}
		names, _ := mem.List("db/collections")
		if !reflect.DeepEqual(names, []string{"s"}) {
			t.Fatalf("collections dir: %v", names)
		}
	})
}

// A crash in the middle of a recovery's directory swap leaves the old
// collection under a hidden name; Open puts it back. Leftovers of an
// interrupted snapshot are removed.
func TestSnapshotCrashLeftovers(t *testing.T) {
	mem := vfs.NewMem()
	db := openOn(t, mem)
	c, err := db.CreateCollection(ctx, "k", faultConfig)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Upsert(ctx, pointsRange(0, 25)); err != nil {
		t.Fatal(err)
	}
	info, err := c.CreateSnapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	// The swap moved the old directory away, then crashed.
	if err := mem.Rename("db/collections/k", "db/collections/.old-k"); err != nil {
		t.Fatal(err)
	}
	// An interrupted snapshot creation.
	for _, n := range []string{".k-x.snapshot.tmp", "k-y.snapshot.checksum", "k-z.snapshot.checksum.tmp"} {
		if err := vfs.WriteFileAtomic(mem, path.Join("db/snapshots/k", n), []byte("x")); err != nil {
			t.Fatal(err)
		}
	}
	db = openOn(t, mem)
	c, err = db.Collection("k")
	if err != nil {
		t.Fatalf("k after the interrupted swap: %v", err)
	}
	if n, _ := c.Count(ctx, nil); n != 25 {
		t.Fatalf("k has %d points, want 25", n)
	}
	names, _ := mem.List("db/snapshots/k")
	if !reflect.DeepEqual(names, []string{info.Name, info.Name + ".checksum"}) {
		t.Fatalf("snapshot dir after open: %v", names)
	}
	// The swap finished (both names exist): the new one stays, the old goes.
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if err := mem.MkdirAll("db/collections/.old-k", 0o755); err != nil {
		t.Fatal(err)
	}
	db = openOn(t, mem)
	defer db.Close()
	if _, err := db.Collection("k"); err != nil {
		t.Fatal(err)
	}
	if names, _ := mem.List("db/collections"); !reflect.DeepEqual(names, []string{"k"}) {
		t.Fatalf("collections after open: %v", names)
	}
}

// The longest collection names that can be created can be snapshotted,
// recovered over and listed: snapshot names cut the collection's name (at
// a character boundary) to stay within file name limits.
func TestSnapshotLongCollectionName(t *testing.T) {
	dir := t.TempDir()
	db := mustOpen(t, dir)
	defer db.Close()
	name := strings.Repeat("é", 125) // 250 bytes
	c, err := db.CreateCollection(ctx, name, faultConfig)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Upsert(ctx, pointsRange(0, 5)); err != nil {
		t.Fatal(err)
	}
	info, err := c.CreateSnapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(info.Name, strings.Repeat("é", 90)+"-") || len(info.Name) > 230 {
		t.Fatalf("name %q (%d bytes)", info.Name, len(info.Name))
	}
	if err := c.Upsert(ctx, pointsRange(5, 10)); err != nil {
		t.Fatal(err)
	}
	rr, err := db.OpenSnapshot(ctx, name, info.Name)
	if err != nil {
		t.Fatal(err)
	}
	nc, err := db.RecoverSnapshot(ctx, name, rr, RecoverOptions{})
	rr.Close()
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := nc.Count(ctx, nil); n != 5 {
		t.Fatalf("%d points after recovery, want 5", n)
	}
	if l, err := db.ListSnapshots(ctx, name); err != nil || len(l) != 1 {
		t.Fatalf("list: %v %v", l, err)
	}
	noLeftovers(t, dir)
}
