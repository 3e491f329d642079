package collection

import (
	"context"
	"fmt"
	"path"
	"runtime"
	"slices"
	"time"

	"github.com/strata-db/strata/internal/segment"
	"github.com/strata-db/strata/internal/vfs"
)

// IndexConfig configures HNSW indexing of sealed segments.
type IndexConfig struct {
	M           int // neighbours per node (layer 0 keeps 2*M)
	EfConstruct int // beam width while building; also the default search ef
	// IndexingThresholdKB: a sealed segment's vector is indexed once its live
	// vectors take at least this many KiB (1 KiB = one 256-dim vector).
	// Negative disables indexing.
	IndexingThresholdKB int
	// FullScanThresholdKB: segments whose vectors take fewer KiB are always
	// scanned exactly, graph or not.
	FullScanThresholdKB int
	Threads             int // build threads (default GOMAXPROCS)
}

// EnsureDefaults fills zero fields: M 16, EfConstruct 100, both thresholds
// 10,000 KiB (Qdrant's defaults).
func (ic *IndexConfig) EnsureDefaults() {
	if ic.M <= 0 {
		ic.M = 16
	}
	if ic.EfConstruct <= 0 {
		ic.EfConstruct = 100
	}
	if ic.IndexingThresholdKB == 0 {
		ic.IndexingThresholdKB = 10000
	}
	if ic.FullScanThresholdKB <= 0 {
		ic.FullScanThresholdKB = 10000
	}
}

func (ic *IndexConfig) params() segment.GraphParams {
	return segment.GraphParams{M: ic.M, EfConstruct: ic.EfConstruct}
}

// SetIndexConfig changes the indexing parameters; segments indexed with
// other parameters are rebuilt in the background.
func (c *Collection) SetIndexConfig(ic IndexConfig) {
	ic.EnsureDefaults()
	c.indexCfg.Store(&ic)
	c.kickIndexer()
}

// SetOptimizerConfig changes the optimizer's thresholds.
func (c *Collection) SetOptimizerConfig(oc OptimizerConfig) {
	c.optMu.Lock()
	oc.EnsureDefaults()
	oc.Interval = c.interval // the loops' tickers are fixed
	c.opts.Optimizer = oc
	c.flushPoints.Store(int64(oc.FlushPoints))
	c.optMu.Unlock()
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

func (c *Collection) kickIndexer() {
	select {
	case c.idxKick <- struct{}{}:
	default:
	}
}

func vectorKB(n, dim int) int { return n * dim * 4 / 1024 }

// indexWork is one graph to build.
type indexWork struct {
	seg *segment.Segment
	vi  int
}

// pendingIndex returns the graphs that should be built now.
func (c *Collection) pendingIndex() []indexWork {
	ic := c.indexCfg.Load()
	if ic == nil || ic.IndexingThresholdKB < 0 {
		return nil
	}
	set := c.current()
	if set == nil {
		return nil
	}
	var out []indexWork
	for _, s := range set.segs {
		if !s.Sealed() {
			continue
		}
		for vi, spec := range c.schema.Dense {
			g, p := s.Graph(vi)
			switch {
			case g != nil && p == ic.params():
			case g != nil: // built with other parameters: rebuild
				out = append(out, indexWork{s, vi})
			case vectorKB(s.LiveCount(), spec.Dim) >= ic.IndexingThresholdKB:
				out = append(out, indexWork{s, vi})
			}
		}
	}
	return out
}

func (c *Collection) indexerLoop() {
	defer close(c.idxStopped)
	t := time.NewTicker(c.interval)
	defer t.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-c.idxKick:
		case <-t.C:
		}
		for _, w := range c.pendingIndex() {
			if err := c.buildIndex(w); err != nil {
				select {
				case <-c.stop:
					return
				default:
				}
				c.ctr.graphFailures.Add(1)
				c.log.Error("index build failed; will retry", "dir", c.dir, "segment", w.seg.ID(), "err", err)
				break
			}
		}
	}
}

// IndexNow builds every pending graph on the calling goroutine (tests and
// benchmarks use it to wait for indexing).
func (c *Collection) IndexNow() error {
	for {
		work := c.pendingIndex()
		if len(work) == 0 {
			return nil
		}
		if err := c.buildIndex(work[0]); err != nil {
			return err
		}
	}
}

// buildIndex builds one graph without holding any lock, then commits it:
// writes the graph file, names it in the manifest and attaches it.
func (c *Collection) buildIndex(w indexWork) error {
	c.indexMu.Lock() // one build at a time; each uses every core
	defer c.indexMu.Unlock()
	ic := *c.indexCfg.Load()
	snap, err := c.acquire(nil)
	if err != nil {
		return err
	}
	defer snap.release()
	si := slices.Index(snap.set.segs, w.seg)
	if si < 0 {
		return nil // merged away meanwhile
	}
	if g, p := w.seg.Graph(w.vi); g != nil && p == ic.params() {
		return nil
	}
	c.indexing.Add(1)
	defer c.indexing.Add(-1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-c.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	threads := ic.Threads
	if threads <= 0 {
		threads = runtime.GOMAXPROCS(0)
	}
	start := time.Now()
	g, err := w.seg.BuildGraph(ctx, &snap.views[si], w.vi, ic.params(), threads, w.seg.ID()*1000+uint64(w.vi))
	if err != nil {
		return err
	}
	p := ic.params()
	file := fmt.Sprintf("%08d.v%d.m%d.ef%d.hnsw", w.seg.ID(), w.vi, p.M, p.EfConstruct)
	name := path.Join(c.dir, "segments", file)
	if err := segment.WriteGraph(c.fs, name, g); err != nil {
		return err
	}

	c.optMu.Lock()
	defer c.optMu.Unlock()
	if !slices.Contains(c.current().segs, w.seg) {
		_ = c.fs.Remove(name) // merged away while building
		return nil
	}
	m := c.manifest.clone()
	var old string
	for i := range m.Segments {
		ms := &m.Segments[i]
		if ms.ID != w.seg.ID() {
			continue
		}
		ms.Graphs = slices.DeleteFunc(ms.Graphs, func(mg ManifestGraph) bool {
			if mg.Vector == w.vi {
				old = mg.File
				return true
			}
			return false
		})
		ms.Graphs = append(ms.Graphs, ManifestGraph{Vector: w.vi, File: file, M: p.M, EfConstruct: p.EfConstruct})
	}
	if err := vfs.WriteFileAtomic(c.fs, path.Join(c.dir, manifestName), encodeManifest(m)); err != nil {
		_ = c.fs.Remove(name)
		return fmt.Errorf("collection: write manifest: %w", err)
	}
	c.manifest = m
	w.seg.AttachGraph(w.vi, g, p, nil)
	c.ctr.graphsBuilt.Add(1)
	c.ctr.graphNanos.Add(int64(time.Since(start)))
	if old != "" && old != file {
		_ = c.fs.Remove(path.Join(c.dir, "segments", old)) // a reader's mapping outlives the name
	}
	c.log.Debug("indexed", "dir", c.dir, "segment", w.seg.ID(), "vector", w.vi, "points", g.Len(), "took", time.Since(start))
	return nil
}

func (m *Manifest) clone() *Manifest {
	c := *m
	c.Segments = slices.Clone(m.Segments)
	for i := range c.Segments {
		c.Segments[i].Graphs = slices.Clone(c.Segments[i].Graphs)
		c.Segments[i].Fields = slices.Clone(c.Segments[i].Fields)
	}
	return &c
}
