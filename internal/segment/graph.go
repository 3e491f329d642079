package segment

import (
	"context"
	"fmt"
	"io"
	"sync"
	"sync/atomic"

	"github.com/strata-db/strata/internal/base"
	"github.com/strata-db/strata/internal/index/flat"
	"github.com/strata-db/strata/internal/index/hnsw"
	"github.com/strata-db/strata/internal/vfs"
)

// GraphParams are the parameters a segment's HNSW graph was built with;
// the collection rebuilds a graph whose parameters differ from its config.
type GraphParams struct {
	M           int `json:"m"`
	EfConstruct int `json:"ef_construct"`
}

// graphRef is one dense vector's graph: immutable once attached.
type graphRef struct {
	g        *hnsw.Graph
	params   GraphParams
	closer   io.Closer // the file mapping, released with the segment
	searcher sync.Pool // *hnsw.Searcher
}

// graphSlot holds the current graph of one dense vector of a sealed segment.
type graphSlot struct {
	cur atomic.Pointer[graphRef]
}

// Graph returns the HNSW graph of dense vector vi and its parameters, or
// nil if the vector is not indexed in this segment.
func (s *Segment) Graph(vi int) (*hnsw.Graph, GraphParams) {
	if !s.sealed {
		return nil, GraphParams{}
	}
	r := s.graphs[vi].cur.Load()
	if r == nil {
		return nil, GraphParams{}
	}
	return r.g, r.params
}

// AttachGraph installs g as vector vi's graph. A replaced graph stays
// usable by readers that already hold it; its mapping is released with the
// segment.
func (s *Segment) AttachGraph(vi int, g *hnsw.Graph, p GraphParams, closer io.Closer) {
	old := s.graphs[vi].cur.Swap(&graphRef{g: g, params: p, closer: closer})
	if old != nil && old.closer != nil {
		s.mu.Lock()
		s.retired = append(s.retired, old.closer)
		s.mu.Unlock()
	}
}

// SearchGraph searches dense vector vi's graph (see hnsw.Graph.Search),
// appending to out; ok is false if the vector has no graph here.
func (s *Segment) SearchGraph(vi int, q []float32, k, ef int, tag uint32, accept func(uint32) bool, out []flat.Candidate) (res []flat.Candidate, ok bool) {
	if !s.sealed {
		return out, false
	}
	r := s.graphs[vi].cur.Load()
	if r == nil {
		return out, false
	}
	sr, _ := r.searcher.Get().(*hnsw.Searcher)
	if sr == nil {
		sr = r.g.NewSearcher()
	}
	out = r.g.Search(sr, q, k, ef, tag, accept, out)
	r.searcher.Put(sr)
	return out, true
}

// BuildGraph builds an HNSW graph over dense vector vi of a sealed segment,
// indexing the points of v (a view of s) that are live and have the vector.
// Points deleted later stay in the graph, routable but never returned.
func (s *Segment) BuildGraph(ctx context.Context, v *View, vi int, p GraphParams, threads int, seed uint64) (*hnsw.Graph, error) {
	offs := make([]uint32, 0, v.N)
	for off := 0; off < v.N; off++ {
		o := uint32(off)
		if v.Live(o) && v.HasVector(vi, o) {
			offs = append(offs, o)
		}
	}
	spec := s.schema.Dense[vi]
	hp := hnsw.Params{M: p.M, EfConstruction: p.EfConstruct, Seed: seed}
	return hnsw.Build(ctx, hp, flat.MetricFor(spec.Distance), spec.Dim, v.Dense[vi], offs, threads)
}

// WriteGraph persists g atomically at name.
func WriteGraph(fs vfs.FS, name string, g *hnsw.Graph) error {
	if err := vfs.WriteFileAtomic(fs, name, g.AppendBinary(nil)); err != nil {
		return fmt.Errorf("segment: write graph %s: %w", name, err)
	}
	return nil
}

// LoadGraph maps the graph file name for dense vector vi of s and attaches
// it; verify checks its checksum.
func (s *Segment) LoadGraph(fs vfs.FS, name string, vi int, p GraphParams, verify bool) error {
	if !s.sealed || vi < 0 || vi >= len(s.schema.Dense) {
		return base.CorruptionErrorf("graph %s: no dense vector %d in a sealed segment", name, vi)
	}
	b, closer, err := fs.Map(name)
	if err != nil {
		return fmt.Errorf("segment: map graph %s: %w", name, err)
	}
	spec := s.schema.Dense[vi]
	g, err := hnsw.Decode(b, flat.MetricFor(spec.Distance), spec.Dim, s.v.Dense[vi], verify)
	if err != nil {
		_ = closer.Close()
		return fmt.Errorf("segment: graph %s: %w", name, err)
	}
	s.AttachGraph(vi, g, p, closer)
	return nil
}

// SearchGraphFiltered is SearchGraph for a filtered query: accept is the
// filter (non-nil) and selectivity the planner's estimate of the fraction
// of points it accepts (see hnsw.Graph.SearchFiltered).
func (s *Segment) SearchGraphFiltered(vi int, q []float32, k, ef int, tag uint32, accept func(uint32) bool, selectivity float64, out []flat.Candidate) (res []flat.Candidate, ok bool) {
	if !s.sealed {
		return out, false
	}
	r := s.graphs[vi].cur.Load()
	if r == nil {
		return out, false
	}
	sr, _ := r.searcher.Get().(*hnsw.Searcher)
	if sr == nil {
		sr = r.g.NewSearcher()
	}
	out = r.g.SearchFiltered(sr, q, k, ef, tag, accept, selectivity, out)
	r.searcher.Put(sr)
	return out, true
}
