package collection

import (
	"sync/atomic"
	"time"

	"github.com/strata-db/strata/internal/segment"
	"github.com/strata-db/strata/internal/wal"
)

// counters are the collection's activity counters since Open. They are
// atomics updated where the work happens (optimizer rounds, graph and
// payload index builds), never on the write or read path, and read
// without a lock by Stats.
type counters struct {
	optRounds   atomic.Uint64 // optimizer rounds that committed a manifest
	optFailures atomic.Uint64 // rounds that failed (and will be retried)
	optSegments atomic.Uint64 // sealed segments written by committed rounds
	optMerges   atomic.Uint64 // committed rounds that merged segments
	optVacuums  atomic.Uint64 // segments rewritten without their deleted points
	// optLastErr is the error of the last round if it failed; a round that
	// commits clears it.
	optLastErr atomic.Pointer[error]

	graphsBuilt   atomic.Uint64 // HNSW graphs built and attached
	graphNanos    atomic.Int64  // time spent building them (build, write, commit)
	graphFailures atomic.Uint64 // background graph builds that failed
	fieldsBuilt   atomic.Uint64 // payload indexes built by the field indexer
	fieldFailures atomic.Uint64 // background payload index builds that failed
}

// optimizeFailed records a failed optimizer round.
func (k *counters) optimizeFailed(err error) {
	k.optFailures.Add(1)
	k.optLastErr.Store(&err)
}

// optimized records a committed optimizer round that wrote groups.
func (k *counters) optimized(groups []*group, merged bool, vacuums int) {
	for _, g := range groups {
		if g.out != nil {
			k.optSegments.Add(1)
		}
	}
	if merged {
		k.optMerges.Add(1)
	}
	k.optVacuums.Add(uint64(vacuums))
	k.optRounds.Add(1)
	k.optLastErr.Store(nil)
}

// OptimizerStats count the optimizer's rounds since Open.
type OptimizerStats struct {
	Rounds          uint64 // rounds that committed (sealed, merged or vacuumed)
	Failures        uint64 // rounds that failed; each is retried
	SegmentsWritten uint64 // sealed segment files written by committed rounds
	Merges          uint64 // committed rounds that merged small segments
	Vacuums         uint64 // segments rewritten without their deleted points
	// LastError is the last round's error when it failed; nil once a later
	// round commits.
	LastError error
}

// IndexerStats count the background index builds since Open.
type IndexerStats struct {
	GraphsBuilt       uint64        // HNSW graphs built and attached
	GraphBuildTime    time.Duration // time spent building, writing and committing them
	GraphFailures     uint64        // failed background graph builds (retried)
	FieldIndexesBuilt uint64        // payload indexes built for existing sealed segments
	FieldFailures     uint64        // failed background payload index builds (retried)
}

// Stats are the collection's current sizes and its counters since Open.
type Stats struct {
	Points int // live points
	// Vectors counts the live points that have each dense vector, in
	// schema order.
	Vectors []int
	// IndexedVectors counts the vectors in HNSW graphs (deleted points
	// included until their segment is vacuumed, as Info does).
	IndexedVectors int
	// SealedSegments are immutable segment files; MemorySegments are the
	// appendable segment plus any being sealed by the optimizer.
	SealedSegments int
	MemorySegments int
	// PendingGraphs counts the HNSW graphs due to be built (segments above
	// the indexing threshold without a graph, or with one built with other
	// parameters); PendingFieldIndexes counts the payload indexes
	// configured but not yet built for a sealed segment (segment × key).
	PendingGraphs       int
	PendingFieldIndexes int
	Optimizing          bool // an optimizer round or an index build is running
	WAL                 wal.Stats
	Optimizer           OptimizerStats
	Indexer             IndexerStats
}

// Stats returns the collection's sizes and counters. It takes a snapshot
// (C4) and never waits for the optimizer or an index build; it costs a
// pass over the presence bitsets of vectors some points lack.
func (c *Collection) Stats() (Stats, error) {
	snap, err := c.acquire(nil)
	if err != nil {
		return Stats{}, err
	}
	defer snap.release()
	st := Stats{
		Vectors:    make([]int, len(c.schema.Dense)),
		Optimizing: c.optimizing.Load() || c.indexing.Load() > 0,
		WAL:        c.wal.Stats(),
	}
	schemas := c.Fields()
	for i, s := range snap.set.segs {
		v := &snap.views[i]
		live := v.N - v.Deleted.Count()
		st.Points += live
		if !s.Sealed() {
			st.MemorySegments++
		} else {
			st.SealedSegments++
			have := s.Fields()
			for key, fs := range schemas {
				if x := have[key]; x == nil || !segment.SameSchema(x.Schema(), fs) {
					st.PendingFieldIndexes++
				}
			}
		}
		for vi := range c.schema.Dense {
			st.Vectors[vi] += liveVectors(v, vi, live)
			if g, _ := s.Graph(vi); g != nil {
				st.IndexedVectors += g.Len()
			}
		}
	}
	st.PendingGraphs = len(c.pendingIndex())
	k := &c.ctr
	st.Optimizer = OptimizerStats{
		Rounds:          k.optRounds.Load(),
		Failures:        k.optFailures.Load(),
		SegmentsWritten: k.optSegments.Load(),
		Merges:          k.optMerges.Load(),
		Vacuums:         k.optVacuums.Load(),
	}
	if p := k.optLastErr.Load(); p != nil {
		st.Optimizer.LastError = *p
	}
	st.Indexer = IndexerStats{
		GraphsBuilt:       k.graphsBuilt.Load(),
		GraphBuildTime:    time.Duration(k.graphNanos.Load()),
		GraphFailures:     k.graphFailures.Load(),
		FieldIndexesBuilt: k.fieldsBuilt.Load(),
		FieldFailures:     k.fieldFailures.Load(),
	}
	return st, nil
}

// liveVectors counts the live points of view v that have dense vector vi;
// live is the view's live point count.
func liveVectors(v *segment.View, vi, live int) int {
	p := v.Present[vi]
	if p == nil {
		return live // every point has it
	}
	n := 0
	for off := range uint32(v.N) {
		if p.Get(off) && !v.Deleted.Get(off) {
			n++
		}
	}
	return n
}
