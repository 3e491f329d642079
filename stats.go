package strata

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"time"
)

// CollectionStats are a collection's sizes now and its activity counters
// since the database was opened (they start from zero at every Open, as
// Prometheus counters do at a process restart).
//
// Reading them is cheap and never waits for a write, an optimizer round
// or an index build: sizes come from a point-in-time snapshot, counters
// from atomics updated where the work happens.
type CollectionStats struct {
	Name   string
	Status CollectionStatus // as in CollectionInfo
	// Err is why the status is red (a failed WAL write or fsync).
	Err error
	// Optimizing reports an optimizer round or an index build running.
	Optimizing bool
	// Points counts the live points.
	Points int
	// Vectors counts the live points that have each dense vector, by
	// vector name ("" for the unnamed vector).
	Vectors map[string]int
	// IndexedVectors counts the vectors in HNSW graphs, as
	// CollectionInfo.IndexedVectorsCount does.
	IndexedVectors int
	// SealedSegments are immutable, memory-mapped segment files;
	// AppendableSegments are the in-memory segment taking writes plus any
	// the optimizer is sealing.
	SealedSegments     int
	AppendableSegments int
	// PendingGraphs counts the HNSW graphs due to be built; PendingFieldIndexes
	// counts the payload index builds due for sealed segments (one per
	// segment and indexed key).
	PendingGraphs       int
	PendingFieldIndexes int
	WAL                 WALStats
	Optimizer           OptimizerStats
	Indexer             IndexerStats
}

// WALStats count a collection's write-ahead log activity.
type WALStats struct {
	Records uint64 // records appended (one per acknowledged write batch)
	Bytes   uint64 // bytes appended, framing included
	// Fsyncs counts the fsyncs of log files (group commits, file
	// rotations, opening and closing); FsyncTime is their total duration
	// and FsyncFailures the ones that failed. A failed fsync makes the
	// collection read-only until the database is reopened.
	Fsyncs        uint64
	FsyncTime     time.Duration
	FsyncFailures uint64
	Files         int // log files on disk now
}

// OptimizerStats count a collection's optimizer rounds.
type OptimizerStats struct {
	Rounds          uint64 // rounds that committed (sealed, merged or vacuumed)
	Failures        uint64 // rounds that failed (each is retried)
	SegmentsWritten uint64 // sealed segment files written by committed rounds
	Merges          uint64 // rounds that merged small segments
	Vacuums         uint64 // segments rewritten without their deleted points
	// LastError is the error of the last round if it failed; nil once a
	// later round commits.
	LastError error
}

// IndexerStats count a collection's background index builds.
type IndexerStats struct {
	GraphsBuilt    uint64        // HNSW graphs built and attached
	GraphBuildTime time.Duration // total time building, writing and committing them
	GraphFailures  uint64        // failed graph builds (each is retried)
	// FieldIndexesBuilt counts the payload indexes built for existing
	// sealed segments (after CreateFieldIndex); segments the optimizer
	// writes get theirs as part of the round.
	FieldIndexesBuilt uint64
	FieldFailures     uint64 // failed payload index builds (each is retried)
}

// Stats returns the collection's sizes and counters.
func (c *Collection) Stats(ctx context.Context) (CollectionStats, error) {
	if err := c.check(ctx); err != nil {
		return CollectionStats{}, err
	}
	in, err := c.eng.Stats()
	if err != nil {
		return CollectionStats{}, err
	}
	st := CollectionStats{
		Name:                c.name,
		Status:              StatusGreen,
		Optimizing:          in.Optimizing,
		Points:              in.Points,
		Vectors:             make(map[string]int, len(in.Vectors)),
		IndexedVectors:      in.IndexedVectors,
		SealedSegments:      in.SealedSegments,
		AppendableSegments:  in.MemorySegments,
		PendingGraphs:       in.PendingGraphs,
		PendingFieldIndexes: in.PendingFieldIndexes,
		WAL: WALStats{
			Records:       in.WAL.Appends,
			Bytes:         in.WAL.Bytes,
			Fsyncs:        in.WAL.Syncs,
			FsyncTime:     in.WAL.SyncTime,
			FsyncFailures: in.WAL.SyncFailures,
			Files:         in.WAL.Files,
		},
		Optimizer: OptimizerStats(in.Optimizer),
		Indexer: IndexerStats{
			GraphsBuilt:       in.Indexer.GraphsBuilt,
			GraphBuildTime:    in.Indexer.GraphBuildTime,
			GraphFailures:     in.Indexer.GraphFailures,
			FieldIndexesBuilt: in.Indexer.FieldIndexesBuilt,
			FieldFailures:     in.Indexer.FieldFailures,
		},
	}
	for i, spec := range c.schema.Dense {
		st.Vectors[spec.Name] = in.Vectors[i]
	}
	if in.Optimizing {
		st.Status = StatusYellow
	}
	if err := c.eng.Err(); err != nil {
		st.Status, st.Err = StatusRed, err
	}
	return st, nil
}

// DBStats are the statistics of every collection of a database.
type DBStats struct {
	// Collections holds one entry per collection, sorted by name.
	Collections []CollectionStats
}

// Stats returns the statistics of every collection. A collection deleted
// while Stats runs is left out.
func (db *DB) Stats(ctx context.Context) (DBStats, error) {
	if err := ctx.Err(); err != nil {
		return DBStats{}, err
	}
	db.mu.RLock()
	if db.closed {
		db.mu.RUnlock()
		return DBStats{}, ErrClosed
	}
	colls := make([]*Collection, 0, len(db.colls))
	for _, c := range db.colls {
		colls = append(colls, c)
	}
	db.mu.RUnlock()
	slices.SortFunc(colls, func(a, b *Collection) int { return cmp.Compare(a.name, b.name) })
	out := DBStats{Collections: make([]CollectionStats, 0, len(colls))}
	for _, c := range colls {
		st, err := c.Stats(ctx)
		switch {
		case errors.Is(err, ErrClosed) && c.dropped.Load():
			continue // deleted meanwhile
		case err != nil:
			return DBStats{}, err
		}
		out.Collections = append(out.Collections, st)
	}
	return out, nil
}
