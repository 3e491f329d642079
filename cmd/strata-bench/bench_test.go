package main

import (
	"path/filepath"
	"testing"

	"github.com/strata-db/strata"
	"github.com/strata-db/strata/internal/dataset"
)

func TestStats(t *testing.T) {
	if m := median([]float64{3, 1, 2}); m != 2 {
		t.Errorf("median = %v", m)
	}
	if m := median([]float64{4, 1, 3, 2}); m != 2.5 {
		t.Errorf("median = %v", m)
	}
	xs := make([]float64, 200)
	for i := range xs {
		xs[i] = float64(200 - i) // 1..200, reversed
	}
	if p := percentile(xs, 99); p != 198 {
		t.Errorf("p99 = %v, want 198", p)
	}
	if p := percentile(xs, 50); p != 100 {
		t.Errorf("p50 = %v, want 100", p)
	}
	if p := percentile([]float64{5}, 99); p != 5 {
		t.Errorf("p99 of one = %v", p)
	}
	if median(nil) != 0 || percentile(nil, 50) != 0 {
		t.Error("empty input")
	}
}

func TestParseInts(t *testing.T) {
	got, err := parseInts("1, 4,16")
	if err != nil || len(got) != 3 || got[0] != 1 || got[1] != 4 || got[2] != 16 {
		t.Fatalf("got %v, %v", got, err)
	}
	for _, bad := range []string{"", "0", "1,x", "-2"} {
		if _, err := parseInts(bad); err == nil {
			t.Errorf("parseInts(%q) accepted", bad)
		}
	}
}

func TestRecall(t *testing.T) {
	set := &dataset.Set{
		GT:     [][]int32{{1, 2, 3}, {4, 5, 6}},
		GTDist: [][]float32{{1, 4, 9}, {0.1, 0.2, 0.3}},
	}
	// Query 0: ids 1 and 2 right, 7 wrong but tied with the 2nd neighbour
	// (distance 2 -> squared 4 <= 4). Query 1: 4 right, 8 and 9 too far.
	ids := [][]uint64{{1, 7, 2}, {4, 8, 9}}
	scores := [][]float32{{1, 2, 2}, {0.3, 3, 4}}
	plain, ties := recall(set, ids, scores, strata.Euclid, 2)
	// k=2: query 0 has 1 (hit) and 7 (tie with kth=4); query 1 has 4 (hit) and 8 (miss).
	if plain != 0.5 || ties != 0.75 {
		t.Fatalf("recall = %v, ties = %v; want 0.5, 0.75", plain, ties)
	}
	set.GTDist = nil
	if plain, ties = recall(set, ids, scores, strata.Euclid, 3); plain != 0.5 || ties != 0 {
		t.Fatalf("recall = %v, ties = %v", plain, ties)
	}
}

func TestFsyncProbe(t *testing.T) {
	r, err := measureFsync(t.TempDir(), 3)
	if err != nil {
		t.Fatal(err)
	}
	if r.AppendP50Ms <= 0 || r.OverwriteP50Ms <= 0 || r.AppendP99Ms < r.AppendP50Ms {
		t.Fatalf("%+v", r)
	}
}

func TestIngestOnce(t *testing.T) {
	points := make([]strata.Point, 300)
	for i := range points {
		points[i] = strata.Point{ID: strata.NumID(uint64(i)), Vector: []float32{float32(i), 1, 2}}
	}
	run, err := ingestOnce(filepath.Join(t.TempDir(), "db"), points, 3, 64, 3, false)
	if err != nil {
		t.Fatal(err)
	}
	if !run.CountVerified || run.Batches != 5 || run.PointsPerS <= 0 {
		t.Fatalf("%+v", run)
	}
}
