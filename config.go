package strata

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/strata-db/strata/internal/base"
	"github.com/strata-db/strata/internal/collection"
	"github.com/strata-db/strata/internal/fieldindex"
	"github.com/strata-db/strata/internal/filter"
	"github.com/strata-db/strata/internal/segment"
	"github.com/strata-db/strata/internal/vfs"
)

// Options configure a database. The zero value (or nil) works.
type Options struct {
	// Logger receives the engine's logs (optimizer activity and failures).
	// Default: discard.
	Logger *slog.Logger
	// SkipChecksums skips verifying every section checksum of sealed
	// segments when a collection is opened. Structure is still checked.
	SkipChecksums bool

	// fs replaces the operating system's file system (tests only).
	fs vfs.FS
}

// EnsureDefaults fills unset fields.
func (o *Options) EnsureDefaults() {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.fs == nil {
		o.fs = vfs.Default
	}
}

// VectorParams configures one dense vector.
type VectorParams struct {
	// Size is the dimension, 1 to MaxDimension.
	Size int `json:"size"`
	// Distance is the similarity function.
	Distance Distance `json:"distance"`
}

// SparseVectorParams configures one sparse vector (no options yet).
type SparseVectorParams struct{}

// OptimizersConfig tunes the background optimizer. Zero fields take the
// defaults documented on each field.
type OptimizersConfig struct {
	// FlushThreshold: the in-memory segment is sealed into a file once it
	// holds this many points (default 20,000).
	FlushThreshold int `json:"flush_threshold,omitempty"`
	// MaxSegments: the smallest sealed segments are merged while there are
	// more (default 8).
	MaxSegments int `json:"max_segments,omitempty"`
	// MaxSegmentPoints bounds a merged segment (default 4,000,000).
	MaxSegmentPoints int `json:"max_segment_points,omitempty"`
	// DeletedThreshold: a segment whose deleted fraction exceeds it is
	// rewritten without them (default 0.2) if it has at least
	// VacuumMinPoints points (default 1,000).
	DeletedThreshold float64 `json:"deleted_threshold,omitempty"`
	VacuumMinPoints  int     `json:"vacuum_min_points,omitempty"`
	// Interval between background optimizer checks (default 1s); negative
	// disables the background optimizer and indexer.
	Interval time.Duration `json:"interval,omitempty"`
	// IndexingThresholdKB: a sealed segment gets an HNSW graph once its
	// vectors take this many KiB (default 10,000; 1 KiB is one 256-dim
	// vector). Negative disables indexing: every search is exact.
	IndexingThresholdKB int `json:"indexing_threshold,omitempty"`
}

// HnswConfig configures the HNSW graphs of indexed segments. Changing it
// (Collection.Update) rebuilds the graphs in the background.
type HnswConfig struct {
	// M is the number of neighbours per node (default 16; layer 0 keeps 2M).
	M int `json:"m,omitempty"`
	// EfConstruct is the beam width while building (default 100); it is
	// also the default search beam width (SearchRequest.HnswEf).
	EfConstruct int `json:"ef_construct,omitempty"`
	// FullScanThresholdKB: segments whose vectors take fewer KiB are
	// searched exactly even if indexed (default 10,000).
	FullScanThresholdKB int `json:"full_scan_threshold,omitempty"`
	// MaxIndexingThreads bounds the threads building a graph (default: all
	// cores).
	MaxIndexingThreads int `json:"max_indexing_threads,omitempty"`
}

// CollectionConfig is a collection's configuration, fixed at creation.
type CollectionConfig struct {
	// Vectors lists the dense vectors by name. The name "" is the unnamed
	// vector; when present it must be the only dense vector.
	Vectors map[string]VectorParams `json:"vectors"`
	// SparseVectors lists the sparse vectors by name.
	SparseVectors map[string]SparseVectorParams `json:"sparse_vectors,omitempty"`
	Optimizers    OptimizersConfig              `json:"optimizers"`
	HNSW          HnswConfig                    `json:"hnsw_config"`
	// PayloadSchema lists the payload indexes by payload key. Set it at
	// creation to index from the start; CreateFieldIndex and
	// DeleteFieldIndex change it later.
	PayloadSchema map[string]FieldSchema `json:"payload_schema,omitempty"`
}

// Limits on input.
const (
	MaxNameLength   = 255
	MaxDimension    = 65536
	MaxBatchPoints  = 100_000
	MaxSearchLimit  = 100_000
	MaxSearchOffset = 1_000_000
	MaxSearchBatch  = 1024
)

// ValidateName reports whether name can name a collection: 1 to 255 bytes
// of valid UTF-8, no path separator, no "..", no leading '.', no control
// character.
func ValidateName(name string) error {
	switch {
	case name == "":
		return base.InvalidArgumentf("collection name is empty")
	case len(name) > MaxNameLength:
		return base.InvalidArgumentf("collection name is %d bytes long; the limit is %d", len(name), MaxNameLength)
	case !utf8.ValidString(name):
		return base.InvalidArgumentf("collection name %q is not valid UTF-8", name)
	case name[0] == '.':
		return base.InvalidArgumentf("collection name %q may not start with '.'", name)
	}
	for _, r := range name {
		if r == '/' || r == '\\' {
			return base.InvalidArgumentf("collection name %q contains a path separator", name)
		}
		if unicode.IsControl(r) {
			return base.InvalidArgumentf("collection name %q contains a control character", name)
		}
	}
	if strings.Contains(name, "..") {
		return base.InvalidArgumentf("collection name %q contains \"..\"", name)
	}
	return nil
}

// Validate checks the configuration.
func (c *CollectionConfig) Validate() error {
	if len(c.Vectors) == 0 && len(c.SparseVectors) == 0 {
		return base.InvalidArgumentf("config: a collection needs at least one dense or sparse vector")
	}
	if _, ok := c.Vectors[""]; ok && len(c.Vectors) > 1 {
		return base.InvalidArgumentf("config.vectors: the unnamed vector cannot be combined with named ones")
	}
	for name, p := range c.Vectors {
		if err := validateVectorName(name, "vectors"); err != nil {
			return err
		}
		if p.Size < 1 || p.Size > MaxDimension {
			return base.InvalidArgumentf("config.vectors[%q].size: %d is out of range 1..%d", name, p.Size, MaxDimension)
		}
		if !p.Distance.Valid() {
			return base.InvalidArgumentf("config.vectors[%q].distance: expected Cosine, Dot, Euclid or Manhattan", name)
		}
	}
	for name := range c.SparseVectors {
		if name == "" {
			return base.InvalidArgumentf("config.sparse_vectors: a sparse vector needs a name")
		}
		if err := validateVectorName(name, "sparse_vectors"); err != nil {
			return err
		}
		if _, dup := c.Vectors[name]; dup {
			return base.InvalidArgumentf("config.sparse_vectors[%q]: the name is used by a dense vector", name)
		}
	}
	o := &c.Optimizers
	if o.FlushThreshold < 0 || o.MaxSegments < 0 || o.MaxSegmentPoints < 0 || o.VacuumMinPoints < 0 {
		return base.InvalidArgumentf("config.optimizers: counts may not be negative")
	}
	if o.DeletedThreshold < 0 || o.DeletedThreshold > 1 {
		return base.InvalidArgumentf("config.optimizers.deleted_threshold: %v is out of range 0..1", o.DeletedThreshold)
	}
	if err := c.HNSW.Validate(); err != nil {
		return err
	}
	for key, fs := range c.PayloadSchema {
		if err := validateFieldSchema(key, fs, fmt.Sprintf("config.payload_schema[%q]", key)); err != nil {
			return err
		}
	}
	return nil
}

// validateFieldSchema checks a payload index definition; errors name path.
func validateFieldSchema(key string, fs FieldSchema, path string) error {
	if _, err := filter.ParsePath(key); err != nil {
		return base.InvalidArgumentf("%s: field_name: %v", path, err)
	}
	if _, err := fieldindex.New(key, fs); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// Validate checks the HNSW parameters.
func (h *HnswConfig) Validate() error {
	switch {
	case h.M < 0 || h.M > 512:
		return base.InvalidArgumentf("config.hnsw_config.m: %d is out of range 0..512", h.M)
	case h.EfConstruct < 0 || h.EfConstruct > 100000:
		return base.InvalidArgumentf("config.hnsw_config.ef_construct: %d is out of range 0..100000", h.EfConstruct)
	case h.FullScanThresholdKB < 0:
		return base.InvalidArgumentf("config.hnsw_config.full_scan_threshold: %d is negative", h.FullScanThresholdKB)
	case h.MaxIndexingThreads < 0:
		return base.InvalidArgumentf("config.hnsw_config.max_indexing_threads: %d is negative", h.MaxIndexingThreads)
	}
	return nil
}

func validateVectorName(name, field string) error {
	if len(name) > MaxNameLength || !utf8.ValidString(name) {
		return base.InvalidArgumentf("config.%s: invalid vector name %q", field, name)
	}
	for _, r := range name {
		if unicode.IsControl(r) {
			return base.InvalidArgumentf("config.%s: vector name %q contains a control character", field, name)
		}
	}
	return nil
}

// schema derives the engine's column order: names sorted.
func (c *CollectionConfig) schema() *segment.Schema {
	s := &segment.Schema{}
	names := make([]string, 0, len(c.Vectors))
	for n := range c.Vectors {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		s.Dense = append(s.Dense, segment.VectorSpec{Name: n, Dim: c.Vectors[n].Size, Distance: c.Vectors[n].Distance})
	}
	for n := range c.SparseVectors {
		s.Sparse = append(s.Sparse, n)
	}
	slices.Sort(s.Sparse)
	return s
}

// Effective returns the configuration with every zero (default) tunable of
// HNSW and Optimizers replaced by the value the engine uses, so that what
// is reported is what is in force. MaxIndexingThreads stays 0 (all
// cores), MaxSegmentPoints stays as set, and the maps are shared with c.
func (c CollectionConfig) Effective() CollectionConfig {
	ic := c.engineIndex()
	ic.EnsureDefaults()
	oc := c.engineOptimizer()
	oc.EnsureDefaults()
	c.HNSW.M, c.HNSW.EfConstruct, c.HNSW.FullScanThresholdKB = ic.M, ic.EfConstruct, ic.FullScanThresholdKB
	c.Optimizers.IndexingThresholdKB = ic.IndexingThresholdKB
	c.Optimizers.FlushThreshold = oc.FlushPoints
	c.Optimizers.MaxSegments = oc.MaxSegments
	c.Optimizers.DeletedThreshold = oc.DeletedThreshold
	c.Optimizers.VacuumMinPoints = oc.VacuumMinPoints
	c.Optimizers.Interval = oc.Interval
	return c
}

func (c *CollectionConfig) engineIndex() collection.IndexConfig {
	return collection.IndexConfig{
		M:                   c.HNSW.M,
		EfConstruct:         c.HNSW.EfConstruct,
		IndexingThresholdKB: c.Optimizers.IndexingThresholdKB,
		FullScanThresholdKB: c.HNSW.FullScanThresholdKB,
		Threads:             c.HNSW.MaxIndexingThreads,
	}
}

func (c *CollectionConfig) engineOptimizer() collection.OptimizerConfig {
	return collection.OptimizerConfig{
		FlushPoints:      c.Optimizers.FlushThreshold,
		MaxSegments:      c.Optimizers.MaxSegments,
		MaxSegmentPoints: c.Optimizers.MaxSegmentPoints,
		DeletedThreshold: c.Optimizers.DeletedThreshold,
		VacuumMinPoints:  c.Optimizers.VacuumMinPoints,
		Interval:         c.Optimizers.Interval,
	}
}

// config.json, written once when the collection is created.
type configFile struct {
	Format int              `json:"format"`
	Config CollectionConfig `json:"config"`
}

func encodeConfig(c *CollectionConfig) []byte {
	b, err := json.MarshalIndent(configFile{Format: 1, Config: *c}, "", "  ")
	if err != nil {
		panic(fmt.Sprintf("strata: encode config: %v", err))
	}
	return b
}

func decodeConfig(b []byte) (*CollectionConfig, error) {
	var f configFile
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, base.CorruptionErrorf("config.json: %v", err)
	}
	if f.Format != 1 {
		return nil, base.CorruptionErrorf("config.json: unsupported format %d", f.Format)
	}
	if err := f.Config.Validate(); err != nil {
		return nil, base.CorruptionErrorf("config.json: %v", err)
	}
	return &f.Config, nil
}
