package rest

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"

	"github.com/strata-db/strata"
)

// collection resolves the {name} of the request's path: 400 for a name
// Strata cannot store, 404 for a missing collection.
func (s *server) collection(r *http.Request) (*strata.Collection, error) {
	name := r.PathValue("name")
	if err := strata.ValidateName(name); err != nil {
		return nil, err
	}
	c, err := s.db.Collection(name)
	if errors.Is(err, strata.ErrNotFound) {
		return nil, collectionNotFound(name)
	}
	return c, err
}

// --- list, exists, delete ---

type collectionDescription struct {
	Name string `json:"name"`
}

type collectionsResponse struct {
	Collections []collectionDescription `json:"collections"`
}

func (s *server) listCollections(r *http.Request) (any, error) {
	names, err := s.db.ListCollections(r.Context())
	if err != nil {
		return nil, err
	}
	out := collectionsResponse{Collections: make([]collectionDescription, len(names))}
	for i, n := range names {
		out.Collections[i].Name = n
	}
	return out, nil
}

func (s *server) collectionExists(r *http.Request) (any, error) {
	_, err := s.collection(r)
	var ae *apiError
	if errors.As(err, &ae) && ae.status == http.StatusNotFound {
		return map[string]bool{"exists": false}, nil
	}
	if err != nil {
		return nil, err
	}
	return map[string]bool{"exists": true}, nil
}

// deleteCollection answers true, or false when there was no such
// collection (as Qdrant does).
func (s *server) deleteCollection(r *http.Request) (any, error) {
	name := r.PathValue("name")
	if err := strata.ValidateName(name); err != nil {
		return nil, err
	}
	err := s.db.DeleteCollection(r.Context(), name)
	if errors.Is(err, strata.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return nil, err
	}
	return true, nil
}

// --- create ---

// createCollectionRequest is Qdrant's CreateCollection. Fields Strata does
// not implement are decoded only to be checked (see unsupported.go).
type createCollectionRequest struct {
	Vectors            json.RawMessage            `json:"vectors"`
	SparseVectors      map[string]json.RawMessage `json:"sparse_vectors"`
	HnswConfig         *hnswConfigDiff            `json:"hnsw_config"`
	OptimizersConfig   *optimizersConfigDiff      `json:"optimizers_config"`
	ShardNumber        *int                       `json:"shard_number"`
	ShardingMethod     *string                    `json:"sharding_method"`
	ReplicationFactor  *int                       `json:"replication_factor"`
	WriteConsistency   *int                       `json:"write_consistency_factor"`
	OnDiskPayload      *bool                      `json:"on_disk_payload"`
	Payload            json.RawMessage            `json:"payload"`
	WalConfig          json.RawMessage            `json:"wal_config"`
	QuantizationConfig json.RawMessage            `json:"quantization_config"`
	StrictModeConfig   json.RawMessage            `json:"strict_mode_config"`
	Metadata           json.RawMessage            `json:"metadata"`
	InitFrom           json.RawMessage            `json:"init_from"`
}

// vectorParams is Qdrant's VectorParams.
type vectorParams struct {
	Size               *int            `json:"size"`
	Distance           *string         `json:"distance"`
	HnswConfig         json.RawMessage `json:"hnsw_config"`
	QuantizationConfig json.RawMessage `json:"quantization_config"`
	OnDisk             *bool           `json:"on_disk"`
	Memory             json.RawMessage `json:"memory"`
	Datatype           *string         `json:"datatype"`
	MultivectorConfig  json.RawMessage `json:"multivector_config"`
}

// sparseVectorParams is Qdrant's SparseVectorParams.
type sparseVectorParams struct {
	Index    json.RawMessage `json:"index"`
	Modifier *string         `json:"modifier"`
}

// hnswConfigDiff is Qdrant's HnswConfigDiff.
type hnswConfigDiff struct {
	M                  *int            `json:"m"`
	EfConstruct        *int            `json:"ef_construct"`
	FullScanThreshold  *int            `json:"full_scan_threshold"`
	MaxIndexingThreads *int            `json:"max_indexing_threads"`
	OnDisk             *bool           `json:"on_disk"`
	Memory             json.RawMessage `json:"memory"`
	PayloadM           *int            `json:"payload_m"`
	InlineStorage      *bool           `json:"inline_storage"`
}

// optimizersConfigDiff is Qdrant's OptimizersConfigDiff.
type optimizersConfigDiff struct {
	DeletedThreshold       *float64        `json:"deleted_threshold"`
	VacuumMinVectorNumber  *int            `json:"vacuum_min_vector_number"`
	DefaultSegmentNumber   *int            `json:"default_segment_number"`
	MaxSegmentSize         *int            `json:"max_segment_size"`
	MemmapThreshold        *int            `json:"memmap_threshold"`
	IndexingThreshold      *int            `json:"indexing_threshold"`
	FlushIntervalSec       *int            `json:"flush_interval_sec"`
	MaxOptimizationThreads json.RawMessage `json:"max_optimization_threads"`
	PreventUnoptimized     *bool           `json:"prevent_unoptimized"`
}

func (s *server) createCollection(r *http.Request) (any, error) {
	name := r.PathValue("name")
	if err := strata.ValidateName(name); err != nil {
		return nil, err
	}
	var req createCollectionRequest
	if err := decodeBody(r, &req); err != nil {
		return nil, err
	}
	cfg, err := req.config()
	if err != nil {
		return nil, err
	}
	if _, err := s.db.CreateCollection(r.Context(), name, cfg); err != nil {
		if errors.Is(err, strata.ErrAlreadyExists) {
			return nil, &apiError{status: http.StatusConflict, msg: fmt.Sprintf("Wrong input: Collection `%s` already exists!", name)}
		}
		return nil, err
	}
	return true, nil
}

// config converts the request to a strata.CollectionConfig.
func (req *createCollectionRequest) config() (strata.CollectionConfig, error) {
	var cfg strata.CollectionConfig
	if err := checkCreateOptions(req); err != nil {
		return cfg, err
	}
	vectors, err := parseVectorsConfig(req.Vectors)
	if err != nil {
		return cfg, err
	}
	cfg.Vectors = vectors
	for _, name := range sortedKeys(req.SparseVectors) {
		raw := req.SparseVectors[name]
		path := fmt.Sprintf("sparse_vectors.%s", name)
		var p sparseVectorParams
		if !isNull(raw) {
			if err := unmarshal(raw, &p, path); err != nil {
				return cfg, err
			}
		}
		if err := checkSparseParams(&p, path); err != nil {
			return cfg, err
		}
		if cfg.SparseVectors == nil {
			cfg.SparseVectors = map[string]strata.SparseVectorParams{}
		}
		cfg.SparseVectors[name] = strata.SparseVectorParams{}
	}
	if req.HnswConfig != nil {
		if err := req.HnswConfig.apply(&cfg.HNSW, "hnsw_config"); err != nil {
			return cfg, err
		}
	}
	if req.OptimizersConfig != nil {
		if err := req.OptimizersConfig.apply(&cfg.Optimizers, &cfg, "optimizers_config"); err != nil {
			return cfg, err
		}
	}
	return cfg, nil
}

// parseVectorsConfig decodes VectorsConfig: one {size, distance} (the
// unnamed vector) or an object of named ones.
func parseVectorsConfig(raw json.RawMessage) (map[string]strata.VectorParams, error) {
	switch first(raw) {
	case 0, 'n':
		return nil, nil
	case '{':
	default:
		return nil, formatErr("vectors: expected {size, distance} or an object of named vectors, got %s", jsonKind(raw))
	}
	var m map[string]json.RawMessage
	if err := unmarshal(raw, &m, "vectors"); err != nil {
		return nil, err
	}
	// Qdrant tries VectorParams first: a number "size" or a string
	// "distance" make it the single unnamed vector.
	if isSingleVectorParams(m) {
		p, err := parseVectorParams(raw, "vectors")
		if err != nil {
			return nil, err
		}
		return map[string]strata.VectorParams{"": p}, nil
	}
	out := make(map[string]strata.VectorParams, len(m))
	for _, name := range sortedKeys(m) {
		p, err := parseVectorParams(m[name], "vectors."+name)
		if err != nil {
			return nil, err
		}
		out[name] = p
	}
	return out, nil
}

func isSingleVectorParams(m map[string]json.RawMessage) bool {
	if v, ok := m["size"]; ok && first(v) != '{' {
		return true
	}
	if v, ok := m["distance"]; ok && first(v) == '"' {
		return true
	}
	return false
}

func parseVectorParams(raw json.RawMessage, path string) (strata.VectorParams, error) {
	var p vectorParams
	if err := unmarshal(raw, &p, path); err != nil {
		return strata.VectorParams{}, err
	}
	switch {
	case p.Size == nil:
		return strata.VectorParams{}, formatErr("%s: missing field `size`", path)
	case p.Distance == nil:
		return strata.VectorParams{}, formatErr("%s: missing field `distance`", path)
	case *p.Size < 0:
		return strata.VectorParams{}, formatErr("%s.size: %d is negative", path, *p.Size)
	case *p.Size == 0:
		return strata.VectorParams{}, minErr(path+".size", 0, 1)
	}
	var d strata.Distance
	if err := d.UnmarshalText([]byte(*p.Distance)); err != nil {
		return strata.VectorParams{}, formatErr("%s.distance: unknown distance %q, expected one of Cosine, Euclid, Dot, Manhattan", path, *p.Distance)
	}
	if err := checkVectorParams(&p, path); err != nil {
		return strata.VectorParams{}, err
	}
	return strata.VectorParams{Size: *p.Size, Distance: d}, nil
}

// apply sets the fields of the diff on h, checking Qdrant's minimums.
func (d *hnswConfigDiff) apply(h *strata.HnswConfig, path string) error {
	if err := checkHnswDiff(d, path); err != nil {
		return err
	}
	if d.M != nil {
		h.M = *d.M
	}
	if d.EfConstruct != nil {
		if *d.EfConstruct < 4 {
			return minErr(path+".ef_construct", *d.EfConstruct, 4)
		}
		h.EfConstruct = *d.EfConstruct
	}
	if d.FullScanThreshold != nil {
		if *d.FullScanThreshold < 10 {
			return minErr(path+".full_scan_threshold", *d.FullScanThreshold, 10)
		}
		h.FullScanThresholdKB = *d.FullScanThreshold
	}
	if d.MaxIndexingThreads != nil {
		if *d.MaxIndexingThreads < 0 {
			return formatErr("%s.max_indexing_threads: %d is negative", path, *d.MaxIndexingThreads)
		}
		h.MaxIndexingThreads = *d.MaxIndexingThreads
	}
	return nil
}

// apply sets the fields of the diff on o. cfg gives the vector sizes, to
// convert max_segment_size from KiB to points.
func (d *optimizersConfigDiff) apply(o *strata.OptimizersConfig, cfg *strata.CollectionConfig, path string) error {
	if v := d.DeletedThreshold; v != nil {
		if *v < 0 || *v > 1 {
			return validationErr(path+".deleted_threshold", "value %v invalid, must be from 0 to 1", *v)
		}
		o.DeletedThreshold = *v
		if *v == 0 {
			// Strata reads 0 as "the default (0.2)"; Qdrant's 0 means any
			// deleted point qualifies, which the smallest positive
			// fraction says too.
			o.DeletedThreshold = minDeletedThreshold
		}
	}
	if v := d.VacuumMinVectorNumber; v != nil {
		if *v < 100 {
			return minErr(path+".vacuum_min_vector_number", *v, 100)
		}
		o.VacuumMinPoints = *v
	}
	if v := d.DefaultSegmentNumber; v != nil {
		if *v < 0 {
			return formatErr("%s.default_segment_number: %d is negative", path, *v)
		}
		o.MaxSegments = *v // 0: automatic in both
	}
	if v := d.MaxSegmentSize; v != nil {
		if *v < 1 {
			return minErr(path+".max_segment_size", *v, 1)
		}
		o.MaxSegmentPoints = max(1, *v*1024/pointBytes(cfg))
	}
	if v := d.IndexingThreshold; v != nil {
		switch {
		case *v < 0:
			return formatErr("%s.indexing_threshold: %d is negative", path, *v)
		case *v == 0:
			o.IndexingThresholdKB = -1 // Qdrant's 0 disables indexing; Strata's is negative
		default:
			o.IndexingThresholdKB = *v
		}
	}
	if v := d.MemmapThreshold; v != nil && *v < 0 {
		return formatErr("%s.memmap_threshold: %d is negative", path, *v)
	}
	if v := d.FlushIntervalSec; v != nil && *v < 0 {
		return formatErr("%s.flush_interval_sec: %d is negative", path, *v)
	}
	if raw := d.MaxOptimizationThreads; !isNull(raw) {
		// 0 disables optimizations in Qdrant, and a negative interval
		// disables Strata's background optimizer and indexer. "auto" or a
		// positive count restores the default.
		o.Interval = 0
		switch first(raw) {
		case '"':
			var v string
			if err := unmarshal(raw, &v, path+".max_optimization_threads"); err != nil {
				return err
			}
			if v != "auto" {
				return formatErr("%s.max_optimization_threads: expected \"auto\" or a number, got %q", path, v)
			}
		default:
			var n int
			if err := unmarshal(raw, &n, path+".max_optimization_threads"); err != nil {
				return err
			}
			if n < 0 {
				return formatErr("%s.max_optimization_threads: %d is negative", path, n)
			}
			if n == 0 {
				o.Interval = -1
			}
		}
	}
	return nil
}

// minDeletedThreshold stands for Qdrant's deleted_threshold 0.
const minDeletedThreshold = 1e-9

// pointBytes is the size of one point's dense vectors, for converting
// Qdrant's sizes in KiB to points.
func pointBytes(cfg *strata.CollectionConfig) int {
	n := 0
	for _, v := range cfg.Vectors {
		n += 4 * v.Size
	}
	return max(n, 4)
}

// --- update ---

// updateCollectionRequest is Qdrant's UpdateCollection.
type updateCollectionRequest struct {
	Vectors            map[string]json.RawMessage `json:"vectors"`
	OptimizersConfig   *optimizersConfigDiff      `json:"optimizers_config"`
	Params             json.RawMessage            `json:"params"`
	HnswConfig         *hnswConfigDiff            `json:"hnsw_config"`
	QuantizationConfig json.RawMessage            `json:"quantization_config"`
	SparseVectors      map[string]json.RawMessage `json:"sparse_vectors"`
	StrictModeConfig   json.RawMessage            `json:"strict_mode_config"`
	Metadata           json.RawMessage            `json:"metadata"`
}

func (s *server) updateCollection(r *http.Request) (any, error) {
	c, err := s.collection(r)
	if err != nil {
		return nil, err
	}
	var req updateCollectionRequest
	if err := decodeBody(r, &req); err != nil {
		return nil, err
	}
	if err := checkUpdateOptions(&req); err != nil {
		return nil, err
	}
	cfg := c.Config()
	for _, name := range sortedKeys(req.Vectors) {
		if _, ok := cfg.Vectors[name]; !ok {
			return nil, badRequest("vectors.%s: the collection has no dense vector named %q", name, name)
		}
	}
	for _, name := range sortedKeys(req.SparseVectors) {
		raw := req.SparseVectors[name]
		path := "sparse_vectors." + name
		if _, ok := cfg.SparseVectors[name]; !ok {
			return nil, badRequest("%s: the collection has no sparse vector named %q", path, name)
		}
		var p sparseVectorParams
		if !isNull(raw) {
			if err := unmarshal(raw, &p, path); err != nil {
				return nil, err
			}
		}
		if err := checkSparseParams(&p, path); err != nil {
			return nil, err
		}
	}
	var u strata.CollectionUpdate
	if req.HnswConfig != nil {
		h := cfg.HNSW
		if err := req.HnswConfig.apply(&h, "hnsw_config"); err != nil {
			return nil, err
		}
		u.HNSW = &h
	}
	if req.OptimizersConfig != nil {
		o := cfg.Optimizers
		if err := req.OptimizersConfig.apply(&o, &cfg, "optimizers_config"); err != nil {
			return nil, err
		}
		u.Optimizers = &o
	}
	if u.HNSW != nil || u.Optimizers != nil {
		if err := c.Update(r.Context(), u); err != nil {
			return nil, err
		}
	}
	return true, nil
}

// --- info ---

type collectionInfoJSON struct {
	Status              strata.CollectionStatus        `json:"status"`
	OptimizerStatus     any                            `json:"optimizer_status"`
	IndexedVectorsCount int                            `json:"indexed_vectors_count"`
	PointsCount         int                            `json:"points_count"`
	SegmentsCount       int                            `json:"segments_count"`
	Config              collectionConfigJSON           `json:"config"`
	PayloadSchema       map[string]payloadIndexInfoOut `json:"payload_schema"`
}

type collectionConfigJSON struct {
	Params             collectionParamsJSON `json:"params"`
	HnswConfig         hnswConfigJSON       `json:"hnsw_config"`
	OptimizerConfig    optimizersConfigJSON `json:"optimizer_config"`
	QuantizationConfig any                  `json:"quantization_config"`
}

type collectionParamsJSON struct {
	Vectors                any                 `json:"vectors"`
	ShardNumber            int                 `json:"shard_number"`
	ReplicationFactor      int                 `json:"replication_factor"`
	WriteConsistencyFactor int                 `json:"write_consistency_factor"`
	OnDiskPayload          bool                `json:"on_disk_payload"`
	SparseVectors          map[string]struct{} `json:"sparse_vectors,omitempty"`
}

type vectorParamsJSON struct {
	Size     int             `json:"size"`
	Distance strata.Distance `json:"distance"`
}

type hnswConfigJSON struct {
	M                  int  `json:"m"`
	EfConstruct        int  `json:"ef_construct"`
	FullScanThreshold  int  `json:"full_scan_threshold"`
	MaxIndexingThreads int  `json:"max_indexing_threads"`
	OnDisk             bool `json:"on_disk"`
}

type optimizersConfigJSON struct {
	DeletedThreshold       float64 `json:"deleted_threshold"`
	VacuumMinVectorNumber  int     `json:"vacuum_min_vector_number"`
	DefaultSegmentNumber   int     `json:"default_segment_number"`
	MaxSegmentSize         *int    `json:"max_segment_size"`
	MemmapThreshold        *int    `json:"memmap_threshold"`
	IndexingThreshold      int     `json:"indexing_threshold"`
	FlushIntervalSec       int     `json:"flush_interval_sec"`
	MaxOptimizationThreads *int    `json:"max_optimization_threads"`
}

type payloadIndexInfoOut struct {
	DataType strata.FieldType `json:"data_type"`
	Params   json.RawMessage  `json:"params,omitempty"`
	Points   int              `json:"points"`
}

func (s *server) getCollection(r *http.Request) (any, error) {
	c, err := s.collection(r)
	if err != nil {
		return nil, err
	}
	info, err := c.Info(r.Context())
	if err != nil {
		return nil, err
	}
	out := collectionInfoJSON{
		Status:              info.Status,
		OptimizerStatus:     "ok",
		IndexedVectorsCount: info.IndexedVectorsCount,
		PointsCount:         info.PointsCount,
		SegmentsCount:       info.SegmentsCount,
		Config:              configJSON(&info.Config),
		PayloadSchema:       make(map[string]payloadIndexInfoOut, len(info.PayloadSchema)),
	}
	if info.Err != nil {
		out.OptimizerStatus = map[string]string{"error": info.Err.Error()}
	}
	for key, pi := range info.PayloadSchema {
		o := payloadIndexInfoOut{DataType: pi.Schema.Type, Points: pi.Points}
		if params, err := schemaParams(pi.Schema); err == nil {
			o.Params = params
		}
		out.PayloadSchema[key] = o
	}
	return out, nil
}

// schemaParams returns the schema as Qdrant's PayloadSchemaParams when it
// has options beyond its type, else nil.
func schemaParams(fs strata.FieldSchema) (json.RawMessage, error) {
	b, err := json.Marshal(fs)
	if err != nil {
		return nil, err
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil || len(m) <= 1 {
		return nil, err
	}
	return b, nil
}

// configJSON reports a configuration with effective values where Strata
// stores zero for "the default".
func configJSON(cfg *strata.CollectionConfig) collectionConfigJSON {
	params := collectionParamsJSON{ShardNumber: 1, ReplicationFactor: 1, WriteConsistencyFactor: 1, OnDiskPayload: true}
	if p, ok := cfg.Vectors[""]; ok {
		params.Vectors = vectorParamsJSON{Size: p.Size, Distance: p.Distance}
	} else {
		named := make(map[string]vectorParamsJSON, len(cfg.Vectors))
		for name, p := range cfg.Vectors {
			named[name] = vectorParamsJSON{Size: p.Size, Distance: p.Distance}
		}
		params.Vectors = named
	}
	if len(cfg.SparseVectors) > 0 {
		params.SparseVectors = make(map[string]struct{}, len(cfg.SparseVectors))
		for name := range cfg.SparseVectors {
			params.SparseVectors[name] = struct{}{}
		}
	}
	eff := cfg.Effective()
	h := hnswConfigJSON{
		M:                  eff.HNSW.M,
		EfConstruct:        eff.HNSW.EfConstruct,
		FullScanThreshold:  eff.HNSW.FullScanThresholdKB,
		MaxIndexingThreads: cfg.HNSW.MaxIndexingThreads,
	}
	o := cfg.Optimizers
	opt := optimizersConfigJSON{
		DeletedThreshold:      eff.Optimizers.DeletedThreshold,
		VacuumMinVectorNumber: eff.Optimizers.VacuumMinPoints,
		DefaultSegmentNumber:  o.MaxSegments, // 0: automatic, as in Qdrant
		IndexingThreshold:     eff.Optimizers.IndexingThresholdKB,
		// Every write is fsynced before it is acknowledged: nothing waits
		// for a periodic flush.
		FlushIntervalSec: 0,
	}
	if o.DeletedThreshold == minDeletedThreshold {
		opt.DeletedThreshold = 0
	}
	if o.IndexingThresholdKB < 0 {
		opt.IndexingThreshold = 0
	}
	if o.MaxSegmentPoints > 0 {
		kb := max(1, (o.MaxSegmentPoints*pointBytes(cfg)+1023)/1024) // round up: the inverse of the conversion on the way in
		opt.MaxSegmentSize = &kb
	}
	if o.Interval < 0 {
		zero := 0
		opt.MaxOptimizationThreads = &zero
	}
	return collectionConfigJSON{Params: params, HnswConfig: h, OptimizerConfig: opt}
}

// sortedKeys returns m's keys in order (stable error messages).
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
