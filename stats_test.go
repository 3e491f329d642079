package strata

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/strata-db/strata/internal/vfs"
)

// statsOf returns the collection's stats, failing the test on error.
func statsOf(t *testing.T, c *Collection) CollectionStats {
	t.Helper()
	st, err := c.Stats(ctx)
	if err != nil {
		t.Fatalf("Stats: %v", err)
	}
	return st
}

// twoVectorPoints returns points lo..hi-1 with vector "a" each and vector
// "b" on even ids only, payload {"k": "v<id mod 3>"}.
func twoVectorPoints(lo, hi int) []Point {
	var pts []Point
	for i := lo; i < hi; i++ {
		v := map[string][]float32{"a": {float32(i), 1, 0, 0}}
		if i%2 == 0 {
			v["b"] = []float32{0, 0, 1, float32(i)}
		}
		pts = append(pts, Point{ID: NumID(uint64(i)), Vectors: v, Payload: Payload{"k": []string{"v0", "v1", "v2"}[i%3]}})
	}
	return pts
}

func idRange(lo, hi int) Selector {
	var ids []PointID
	for i := lo; i < hi; i++ {
		ids = append(ids, NumID(uint64(i)))
	}
	return IDs(ids...)
}

// TestStats follows a collection through writes, deletes, optimizer rounds
// (seal, vacuum, merge), graph and payload index builds, checking every
// size and counter against what those operations must have done.
func TestStats(t *testing.T) {
	db, err := Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	c, err := db.CreateCollection(ctx, "c", CollectionConfig{
		Vectors: map[string]VectorParams{"a": {Size: 4, Distance: Dot}, "b": {Size: 4, Distance: Dot}},
		Optimizers: OptimizersConfig{
			Interval:            -1, // every round and build below is explicit
			MaxSegments:         1,
			VacuumMinPoints:     10,
			IndexingThresholdKB: 1, // 64 points of 4 dimensions
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	st := statsOf(t, c)
	if st.Name != "c" || st.Status != StatusGreen || st.Points != 0 || st.SealedSegments != 0 || st.AppendableSegments != 1 || st.WAL.Records != 0 || st.WAL.Files != 1 {
		t.Fatalf("empty collection: %+v", st)
	}
	fsyncs := st.WAL.Fsyncs

	// Writes: one WAL record and one group commit each.
	if err := c.Upsert(ctx, twoVectorPoints(0, 100)); err != nil {
		t.Fatal(err)
	}
	st = statsOf(t, c)
	if st.Points != 100 || st.Vectors["a"] != 100 || st.Vectors["b"] != 50 || len(st.Vectors) != 2 {
		t.Fatalf("after upsert: points %d, vectors %v", st.Points, st.Vectors)
	}
	if st.WAL.Records != 1 || st.WAL.Bytes == 0 || st.WAL.Fsyncs != fsyncs+1 || st.WAL.FsyncTime <= 0 || st.WAL.FsyncFailures != 0 {
		t.Fatalf("after upsert: WAL %+v (fsyncs before: %d)", st.WAL, fsyncs)
	}
	bytes := st.WAL.Bytes
	if err := c.Delete(ctx, idRange(0, 10)); err != nil {
		t.Fatal(err)
	}
	st = statsOf(t, c)
	if st.Points != 90 || st.Vectors["a"] != 90 || st.Vectors["b"] != 45 {
		t.Fatalf("after delete: points %d, vectors %v", st.Points, st.Vectors)
	}
	if st.WAL.Records != 2 || st.WAL.Bytes <= bytes || st.WAL.Fsyncs != fsyncs+2 {
		t.Fatalf("after delete: WAL %+v", st.WAL)
	}

	// Seal: one round, one segment written; both vectors now need a graph.
	if err := c.Optimize(ctx); err != nil {
		t.Fatal(err)
	}
	st = statsOf(t, c)
	if st.Optimizer.Rounds != 1 || st.Optimizer.SegmentsWritten != 1 || st.Optimizer.Merges != 0 || st.Optimizer.Vacuums != 0 || st.Optimizer.Failures != 0 || st.Optimizer.LastError != nil {
		t.Fatalf("after seal: optimizer %+v", st.Optimizer)
	}
	if st.SealedSegments != 1 || st.AppendableSegments != 1 || st.PendingGraphs != 2 || st.IndexedVectors != 0 {
		t.Fatalf("after seal: %+v", st)
	}
	// Counted from the sealed segment's presence bitset now.
	if st.Points != 90 || st.Vectors["a"] != 90 || st.Vectors["b"] != 45 {
		t.Fatalf("after seal: points %d, vectors %v", st.Points, st.Vectors)
	}

	// Graphs.
	if err := c.WaitIndexed(ctx); err != nil {
		t.Fatal(err)
	}
	st = statsOf(t, c)
	info, err := c.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Indexer.GraphsBuilt != 2 || st.Indexer.GraphBuildTime <= 0 || st.Indexer.GraphFailures != 0 || st.PendingGraphs != 0 {
		t.Fatalf("after indexing: indexer %+v, pending %d", st.Indexer, st.PendingGraphs)
	}
	if st.IndexedVectors == 0 || st.IndexedVectors != info.IndexedVectorsCount {
		t.Fatalf("indexed vectors %d, info says %d", st.IndexedVectors, info.IndexedVectorsCount)
	}

	// A payload index created later is built for the sealed segment.
	if err := c.CreateFieldIndex(ctx, "k", FieldSchema{Type: FieldKeyword}); err != nil {
		t.Fatal(err)
	}
	if st = statsOf(t, c); st.PendingFieldIndexes != 1 || st.Indexer.FieldIndexesBuilt != 0 {
		t.Fatalf("after CreateFieldIndex: pending %d, built %d", st.PendingFieldIndexes, st.Indexer.FieldIndexesBuilt)
	}
	if err := c.WaitIndexed(ctx); err != nil {
		t.Fatal(err)
	}
	if st = statsOf(t, c); st.PendingFieldIndexes != 0 || st.Indexer.FieldIndexesBuilt != 1 {
		t.Fatalf("after WaitIndexed: pending %d, built %d", st.PendingFieldIndexes, st.Indexer.FieldIndexesBuilt)
	}

	// Vacuum: a third of the sealed segment deleted.
	if err := c.Delete(ctx, idRange(10, 40)); err != nil {
		t.Fatal(err)
	}
	if err := c.Optimize(ctx); err != nil {
		t.Fatal(err)
	}
	st = statsOf(t, c)
	if st.Optimizer.Rounds != 2 || st.Optimizer.Vacuums != 1 || st.Optimizer.SegmentsWritten != 2 || st.Optimizer.Merges != 0 {
		t.Fatalf("after vacuum: optimizer %+v", st.Optimizer)
	}
	if st.Points != 60 || st.SealedSegments != 1 || st.Vectors["b"] != 30 {
		t.Fatalf("after vacuum: %+v", st)
	}

	// Merge: with at most one segment, the third round merges the two
	// sealed ones (the second had only one to merge).
	for i, lo := range []int{100, 200} {
		if err := c.Upsert(ctx, twoVectorPoints(lo, lo+100)); err != nil {
			t.Fatal(err)
		}
		if err := c.Optimize(ctx); err != nil {
			t.Fatal(err)
		}
		st = statsOf(t, c)
		if wantMerges := uint64(i); st.Optimizer.Merges != wantMerges || st.Optimizer.Rounds != uint64(3+i) {
			t.Fatalf("round %d: optimizer %+v", 3+i, st.Optimizer)
		}
	}
	if st.Optimizer.SegmentsWritten != 5 || st.SealedSegments != 2 || st.Points != 260 || st.Vectors["a"] != 260 || st.Vectors["b"] != 130 {
		t.Fatalf("after merge: %+v", st)
	}
	if st.WAL.Records != 5 {
		t.Fatalf("WAL records %d, want 5 writes", st.WAL.Records)
	}

	// The database's view: every collection, sorted; deleted ones gone.
	if _, err := db.CreateCollection(ctx, "a_first", CollectionConfig{Vectors: map[string]VectorParams{"": {Size: 2, Distance: Cosine}}}); err != nil {
		t.Fatal(err)
	}
	all, err := db.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	names := func(s DBStats) []string {
		var out []string
		for _, c := range s.Collections {
			out = append(out, c.Name)
		}
		return out
	}
	if got := names(all); !slices.Equal(got, []string{"a_first", "c"}) || all.Collections[1].Points != 260 || all.Collections[0].Vectors[""] != 0 {
		t.Fatalf("db stats: %v %+v", got, all)
	}
	if err := db.DeleteCollection(ctx, "a_first"); err != nil {
		t.Fatal(err)
	}
	if all, err = db.Stats(ctx); err != nil || !slices.Equal(names(all), []string{"c"}) {
		t.Fatalf("db stats after delete: %v %v", names(all), err)
	}
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := c.Stats(canceled); !errors.Is(err, context.Canceled) {
		t.Fatalf("canceled: %v", err)
	}
}

// TestStatsFailures: a failed optimizer round and a failed WAL fsync are
// counted; a later successful round clears the optimizer's last error.
func TestStatsFailures(t *testing.T) {
	t.Run("optimizer", func(t *testing.T) {
		inj := &switchInjector{op: vfs.OpSync, path: "/segments/"}
		db := openOn(t, vfs.NewErrorFS(vfs.NewMem(), inj))
		defer db.Close()
		c, err := db.CreateCollection(ctx, "c", faultConfig)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Upsert(ctx, pointsRange(0, 50)); err != nil {
			t.Fatal(err)
		}
		inj.armed.Store(true)
		if err := c.Optimize(ctx); !errors.Is(err, vfs.ErrInjected) {
			t.Fatalf("optimize: %v", err)
		}
		st := statsOf(t, c)
		if st.Optimizer.Failures != 1 || st.Optimizer.Rounds != 0 || !errors.Is(st.Optimizer.LastError, vfs.ErrInjected) {
			t.Fatalf("after a failed round: %+v", st.Optimizer)
		}
		if st.Points != 50 || st.Status != StatusGreen {
			t.Fatalf("a failed round loses nothing: %+v", st)
		}
		inj.armed.Store(false)
		if err := c.Optimize(ctx); err != nil {
			t.Fatal(err)
		}
		st = statsOf(t, c)
		if st.Optimizer.Failures != 1 || st.Optimizer.Rounds != 1 || st.Optimizer.LastError != nil || st.SealedSegments != 1 {
			t.Fatalf("after a good round: %+v", st)
		}
	})
	t.Run("wal fsync", func(t *testing.T) {
		inj := &switchInjector{op: vfs.OpSync, path: "/wal/"}
		db := openOn(t, vfs.NewErrorFS(vfs.NewMem(), inj))
		defer db.Close()
		c, err := db.CreateCollection(ctx, "c", faultConfig)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Upsert(ctx, pointsRange(0, 10)); err != nil {
			t.Fatal(err)
		}
		before := statsOf(t, c).WAL
		inj.armed.Store(true)
		if err := c.Upsert(ctx, pointsRange(10, 20)); !errors.Is(err, ErrReadOnly) {
			t.Fatalf("upsert: %v", err)
		}
		st := statsOf(t, c)
		if st.WAL.FsyncFailures != 1 || st.WAL.Fsyncs != before.Fsyncs+1 || st.WAL.Records != before.Records+1 {
			t.Fatalf("after a failed fsync: %+v (before %+v)", st.WAL, before)
		}
		if st.Status != StatusRed || !errors.Is(st.Err, vfs.ErrInjected) || st.Points != 10 {
			t.Fatalf("after a failed fsync: status %s (%v), points %d", st.Status, st.Err, st.Points)
		}
	})
}
