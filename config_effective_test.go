package strata

import (
	"testing"
	"time"
)

// TestEffectiveConfig: zero tunables become the engine's defaults, set
// ones stay, and the receiver is not changed.
func TestEffectiveConfig(t *testing.T) {
	var cfg CollectionConfig
	eff := cfg.Effective()
	if h := eff.HNSW; h.M != 16 || h.EfConstruct != 100 || h.FullScanThresholdKB != 10_000 || h.MaxIndexingThreads != 0 {
		t.Errorf("HNSW defaults: %+v", h)
	}
	o := eff.Optimizers
	if o.IndexingThresholdKB != 10_000 || o.DeletedThreshold != 0.2 || o.VacuumMinPoints != 1000 ||
		o.MaxSegments != 8 || o.FlushThreshold != 20_000 || o.Interval != time.Second || o.MaxSegmentPoints != 0 {
		t.Errorf("optimizer defaults: %+v", o)
	}
	if cfg.HNSW.M != 0 || cfg.Optimizers.DeletedThreshold != 0 {
		t.Errorf("Effective changed its receiver: %+v", cfg)
	}

	set := CollectionConfig{
		HNSW:       HnswConfig{M: 8, EfConstruct: 64, FullScanThresholdKB: 5, MaxIndexingThreads: 1},
		Optimizers: OptimizersConfig{IndexingThresholdKB: -1, DeletedThreshold: 0.5, VacuumMinPoints: 10, MaxSegments: 3, FlushThreshold: 7, Interval: -1, MaxSegmentPoints: 99},
	}
	eff = set.Effective()
	if eff.HNSW != set.HNSW || eff.Optimizers != set.Optimizers {
		t.Errorf("set values changed: got %+v %+v, want %+v %+v", eff.HNSW, eff.Optimizers, set.HNSW, set.Optimizers)
	}
}
