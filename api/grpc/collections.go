package grpcapi

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/qdrant/go-client/qdrant"
	"google.golang.org/grpc/codes"

	"github.com/strata-db/strata"
)

// collectionsService is Qdrant's Collections service. Aliases, cluster
// setup and shard keys are Unimplemented (Strata has none of them), except
// the alias lists, which are empty.
type collectionsService struct {
	qdrant.UnimplementedCollectionsServer
	s *server
}

// collection resolves a collection name: InvalidArgument for a name Strata
// cannot store, NotFound for a missing collection.
func (s *server) collection(name string) (*strata.Collection, error) {
	if err := strata.ValidateName(name); err != nil {
		return nil, err
	}
	c, err := s.db.Collection(name)
	if errors.Is(err, strata.ErrNotFound) {
		return nil, collectionNotFound(name)
	}
	return c, err
}

func (cs *collectionsService) List(ctx context.Context, _ *qdrant.ListCollectionsRequest) (*qdrant.ListCollectionsResponse, error) {
	start := time.Now()
	names, err := cs.s.db.ListCollections(ctx)
	if err != nil {
		return nil, err
	}
	out := &qdrant.ListCollectionsResponse{Collections: make([]*qdrant.CollectionDescription, len(names))}
	for i, n := range names {
		out.Collections[i] = &qdrant.CollectionDescription{Name: n}
	}
	out.Time = since(start)
	return out, nil
}

func (cs *collectionsService) CollectionExists(ctx context.Context, req *qdrant.CollectionExistsRequest) (*qdrant.CollectionExistsResponse, error) {
	start := time.Now()
	_, err := cs.s.collection(req.GetCollectionName())
	var ae *apiError
	if errors.As(err, &ae) && ae.code == codes.NotFound {
		return &qdrant.CollectionExistsResponse{Result: &qdrant.CollectionExists{Exists: false}, Time: since(start)}, nil
	}
	if err != nil {
		return nil, err
	}
	return &qdrant.CollectionExistsResponse{Result: &qdrant.CollectionExists{Exists: true}, Time: since(start)}, nil
}

// Delete answers true, or false when there was no such collection (as
// Qdrant does).
func (cs *collectionsService) Delete(ctx context.Context, req *qdrant.DeleteCollection) (*qdrant.CollectionOperationResponse, error) {
	start := time.Now()
	name := req.GetCollectionName()
	if err := strata.ValidateName(name); err != nil {
		return nil, err
	}
	err := cs.s.db.DeleteCollection(ctx, name)
	if errors.Is(err, strata.ErrNotFound) {
		return &qdrant.CollectionOperationResponse{Result: false, Time: since(start)}, nil
	}
	if err != nil {
		return nil, err
	}
	return &qdrant.CollectionOperationResponse{Result: true, Time: since(start)}, nil
}

func (cs *collectionsService) ListAliases(context.Context, *qdrant.ListAliasesRequest) (*qdrant.ListAliasesResponse, error) {
	return &qdrant.ListAliasesResponse{}, nil
}

func (cs *collectionsService) ListCollectionAliases(_ context.Context, req *qdrant.ListCollectionAliasesRequest) (*qdrant.ListAliasesResponse, error) {
	if _, err := cs.s.collection(req.GetCollectionName()); err != nil {
		return nil, err
	}
	return &qdrant.ListAliasesResponse{}, nil
}

// --- create ---

func (cs *collectionsService) Create(ctx context.Context, req *qdrant.CreateCollection) (*qdrant.CollectionOperationResponse, error) {
	start := time.Now()
	name := req.GetCollectionName()
	if err := strata.ValidateName(name); err != nil {
		return nil, err
	}
	cfg, err := createConfig(req)
	if err != nil {
		return nil, err
	}
	if _, err := cs.s.db.CreateCollection(ctx, name, cfg); err != nil {
		if errors.Is(err, strata.ErrAlreadyExists) {
			return nil, &apiError{code: codes.AlreadyExists, msg: fmt.Sprintf("Wrong input: Collection `%s` already exists!", name)}
		}
		return nil, err
	}
	return &qdrant.CollectionOperationResponse{Result: true, Time: since(start)}, nil
}

// createConfig converts CreateCollection to a strata.CollectionConfig.
// Options Strata does not implement are accepted and ignored, or refused,
// as REST does (see doc.go).
func createConfig(req *qdrant.CreateCollection) (strata.CollectionConfig, error) {
	var cfg strata.CollectionConfig
	for _, f := range []struct {
		name string
		v    *uint32
	}{{"shard_number", req.ShardNumber}, {"replication_factor", req.ReplicationFactor}, {"write_consistency_factor", req.WriteConsistencyFactor}} {
		if f.v != nil && *f.v < 1 {
			return cfg, minErr(f.name, uint64(*f.v), 1)
		}
	}
	switch req.GetShardingMethod() {
	case qdrant.ShardingMethod_Auto:
	case qdrant.ShardingMethod_Custom:
		return cfg, unsupported("sharding_method Custom (shard keys)")
	default:
		return cfg, formatErr("sharding_method: unknown value %d", req.GetShardingMethod())
	}
	if len(req.GetMetadata()) > 0 {
		return cfg, unsupported("collection metadata")
	}
	var err error
	if cfg.Vectors, err = vectorsConfig(req.GetVectorsConfig()); err != nil {
		return cfg, err
	}
	for _, name := range sortedKeys(req.GetSparseVectorsConfig().GetMap()) {
		if err := checkSparseParams(req.GetSparseVectorsConfig().GetMap()[name], "sparse_vectors_config."+name); err != nil {
			return cfg, err
		}
		if cfg.SparseVectors == nil {
			cfg.SparseVectors = map[string]strata.SparseVectorParams{}
		}
		cfg.SparseVectors[name] = strata.SparseVectorParams{}
	}
	if d := req.GetHnswConfig(); d != nil {
		if err := applyHnswDiff(d, &cfg.HNSW, "hnsw_config"); err != nil {
			return cfg, err
		}
	}
	if d := req.GetOptimizersConfig(); d != nil {
		if err := applyOptimizersDiff(d, &cfg.Optimizers, &cfg, "optimizers_config"); err != nil {
			return cfg, err
		}
	}
	return cfg, nil
}

// vectorsConfig converts VectorsConfig: one VectorParams (the unnamed
// vector) or a map of named ones. nil is no dense vector.
func vectorsConfig(vc *qdrant.VectorsConfig) (map[string]strata.VectorParams, error) {
	switch c := vc.GetConfig().(type) {
	case nil:
		if vc != nil {
			return nil, formatErr("vectors_config: empty: expected params or params_map")
		}
		return nil, nil
	case *qdrant.VectorsConfig_Params:
		p, err := vectorParams(c.Params, "vectors_config.params")
		if err != nil {
			return nil, err
		}
		return map[string]strata.VectorParams{"": p}, nil
	case *qdrant.VectorsConfig_ParamsMap:
		m := c.ParamsMap.GetMap()
		out := make(map[string]strata.VectorParams, len(m))
		for _, name := range sortedKeys(m) {
			p, err := vectorParams(m[name], "vectors_config.params_map."+name)
			if err != nil {
				return nil, err
			}
			out[name] = p
		}
		return out, nil
	}
	return nil, formatErr("vectors_config: unknown kind of configuration")
}

func vectorParams(p *qdrant.VectorParams, path string) (strata.VectorParams, error) {
	if p == nil {
		return strata.VectorParams{}, formatErr("%s: missing", path)
	}
	if p.GetSize() == 0 {
		return strata.VectorParams{}, minErr(path+".size", 0, 1)
	}
	if p.GetSize() > strata.MaxDimension {
		return strata.VectorParams{}, &apiError{code: codes.InvalidArgument, msg: fmt.Sprintf("Wrong input: %s.size: %d is out of range 1..%d", path, p.GetSize(), strata.MaxDimension)}
	}
	d, err := distance(p.GetDistance(), path+".distance")
	if err != nil {
		return strata.VectorParams{}, err
	}
	if p.GetMultivectorConfig() != nil {
		return strata.VectorParams{}, unsupported("%s.multivector_config (multivectors)", path)
	}
	if dt := p.Datatype; dt != nil {
		if _, ok := qdrant.Datatype_name[int32(*dt)]; !ok {
			return strata.VectorParams{}, formatErr("%s.datatype: unknown value %d", path, *dt)
		}
	}
	return strata.VectorParams{Size: int(p.GetSize()), Distance: d}, nil
}

func distance(d qdrant.Distance, path string) (strata.Distance, error) {
	switch d {
	case qdrant.Distance_Cosine:
		return strata.Cosine, nil
	case qdrant.Distance_Euclid:
		return strata.Euclid, nil
	case qdrant.Distance_Dot:
		return strata.Dot, nil
	case qdrant.Distance_Manhattan:
		return strata.Manhattan, nil
	}
	return 0, formatErr("%s: unknown distance %s, expected one of Cosine, Euclid, Dot, Manhattan", path, d)
}

func toDistance(d strata.Distance) qdrant.Distance {
	switch d {
	case strata.Cosine:
		return qdrant.Distance_Cosine
	case strata.Euclid:
		return qdrant.Distance_Euclid
	case strata.Dot:
		return qdrant.Distance_Dot
	case strata.Manhattan:
		return qdrant.Distance_Manhattan
	}
	return qdrant.Distance_UnknownDistance
}

// checkSparseParams refuses the idf modifier, which Strata does not
// implement.
func checkSparseParams(p *qdrant.SparseVectorParams, path string) error {
	switch p.GetModifier() {
	case qdrant.Modifier_None:
		return nil
	case qdrant.Modifier_Idf:
		return unsupported("%s.modifier Idf", path)
	}
	return formatErr("%s.modifier: unknown value %d", path, p.GetModifier())
}

// applyHnswDiff sets the fields of the diff on h, checking Qdrant's
// minimums.
func applyHnswDiff(d *qdrant.HnswConfigDiff, h *strata.HnswConfig, path string) error {
	if d.M != nil {
		if *d.M == 0 {
			return unsupported("%s.m = 0 (no HNSW graph; optimizers_config.indexing_threshold = 0 disables indexing instead)", path)
		}
		if *d.M > 512 {
			return &apiError{code: codes.InvalidArgument, msg: fmt.Sprintf("Wrong input: %s.m: %d is out of range 0..512", path, *d.M)}
		}
		h.M = int(*d.M)
	}
	if d.EfConstruct != nil {
		if *d.EfConstruct < 4 {
			return minErr(path+".ef_construct", *d.EfConstruct, 4)
		}
		h.EfConstruct = clampInt(*d.EfConstruct)
	}
	if d.FullScanThreshold != nil {
		if *d.FullScanThreshold < 10 {
			return minErr(path+".full_scan_threshold", *d.FullScanThreshold, 10)
		}
		h.FullScanThresholdKB = clampInt(*d.FullScanThreshold)
	}
	if d.MaxIndexingThreads != nil {
		h.MaxIndexingThreads = clampInt(*d.MaxIndexingThreads)
	}
	return nil
}

// clampInt converts a protobuf uint64 to an int, saturating: the root
// refuses values out of its ranges with a precise message.
func clampInt(v uint64) int {
	return int(min(v, 1<<31-1))
}

// applyOptimizersDiff sets the fields of the diff on o. cfg gives the
// vector sizes, to convert max_segment_size from KiB to points.
func applyOptimizersDiff(d *qdrant.OptimizersConfigDiff, o *strata.OptimizersConfig, cfg *strata.CollectionConfig, path string) error {
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
		o.VacuumMinPoints = clampInt(*v)
	}
	if v := d.DefaultSegmentNumber; v != nil {
		o.MaxSegments = clampInt(*v) // 0: automatic in both
	}
	if v := d.MaxSegmentSize; v != nil {
		if *v < 1 {
			return minErr(path+".max_segment_size", *v, 1)
		}
		o.MaxSegmentPoints = max(1, clampInt(min(*v, 1<<40)*1024/uint64(pointBytes(cfg))))
	}
	if v := d.IndexingThreshold; v != nil {
		if *v == 0 {
			o.IndexingThresholdKB = -1 // Qdrant's 0 disables indexing; Strata's is negative
		} else {
			o.IndexingThresholdKB = clampInt(*v)
		}
	}
	// 0 threads disables optimizations in Qdrant, and a negative interval
	// disables Strata's background optimizer and indexer. Auto or a
	// positive count restores the default.
	threads := d.DeprecatedMaxOptimizationThreads
	switch t := d.GetMaxOptimizationThreads().GetVariant().(type) {
	case *qdrant.MaxOptimizationThreads_Value:
		threads = &t.Value
	case *qdrant.MaxOptimizationThreads_Setting_:
		one := uint64(1) // Auto
		threads = &one
	}
	if threads != nil {
		o.Interval = 0
		if *threads == 0 {
			o.Interval = -1
		}
	}
	return nil
}

// minDeletedThreshold stands for Qdrant's deleted_threshold 0 (as in
// api/rest).
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

func (cs *collectionsService) Update(ctx context.Context, req *qdrant.UpdateCollection) (*qdrant.CollectionOperationResponse, error) {
	start := time.Now()
	c, err := cs.s.collection(req.GetCollectionName())
	if err != nil {
		return nil, err
	}
	if len(req.GetMetadata()) > 0 {
		return nil, unsupported("collection metadata")
	}
	cfg := c.Config()
	switch v := req.GetVectorsConfig().GetConfig().(type) {
	case *qdrant.VectorsConfigDiff_Params:
		if _, ok := cfg.Vectors[""]; !ok {
			return nil, badRequest("vectors_config.params: the collection has only named vectors")
		}
	case *qdrant.VectorsConfigDiff_ParamsMap:
		for _, name := range sortedKeys(v.ParamsMap.GetMap()) {
			if _, ok := cfg.Vectors[name]; !ok {
				return nil, badRequest("vectors_config.params_map.%s: the collection has no dense vector named %q", name, name)
			}
		}
	}
	for _, name := range sortedKeys(req.GetSparseVectorsConfig().GetMap()) {
		path := "sparse_vectors_config." + name
		if _, ok := cfg.SparseVectors[name]; !ok {
			return nil, badRequest("%s: the collection has no sparse vector named %q", path, name)
		}
		if err := checkSparseParams(req.GetSparseVectorsConfig().GetMap()[name], path); err != nil {
			return nil, err
		}
	}
	var u strata.CollectionUpdate
	if d := req.GetHnswConfig(); d != nil {
		h := cfg.HNSW
		if err := applyHnswDiff(d, &h, "hnsw_config"); err != nil {
			return nil, err
		}
		u.HNSW = &h
	}
	if d := req.GetOptimizersConfig(); d != nil {
		o := cfg.Optimizers
		if err := applyOptimizersDiff(d, &o, &cfg, "optimizers_config"); err != nil {
			return nil, err
		}
		u.Optimizers = &o
	}
	if u.HNSW != nil || u.Optimizers != nil {
		if err := c.Update(ctx, u); err != nil {
			return nil, err
		}
	}
	return &qdrant.CollectionOperationResponse{Result: true, Time: since(start)}, nil
}

// --- info ---

func (cs *collectionsService) Get(ctx context.Context, req *qdrant.GetCollectionInfoRequest) (*qdrant.GetCollectionInfoResponse, error) {
	start := time.Now()
	c, err := cs.s.collection(req.GetCollectionName())
	if err != nil {
		return nil, err
	}
	info, err := c.Info(ctx)
	if err != nil {
		return nil, err
	}
	points, indexed := uint64(info.PointsCount), uint64(info.IndexedVectorsCount)
	out := &qdrant.CollectionInfo{
		Status:              toStatusColor(info.Status),
		OptimizerStatus:     &qdrant.OptimizerStatus{Ok: true},
		SegmentsCount:       uint64(info.SegmentsCount),
		Config:              toConfig(&info.Config),
		PayloadSchema:       make(map[string]*qdrant.PayloadSchemaInfo, len(info.PayloadSchema)),
		PointsCount:         &points,
		IndexedVectorsCount: &indexed,
	}
	if info.Err != nil {
		out.OptimizerStatus = &qdrant.OptimizerStatus{Ok: false, Error: info.Err.Error()}
	}
	for key, pi := range info.PayloadSchema {
		n := uint64(pi.Points)
		out.PayloadSchema[key] = &qdrant.PayloadSchemaInfo{DataType: toSchemaType(pi.Schema.Type), Params: toIndexParams(pi.Schema), Points: &n}
	}
	return &qdrant.GetCollectionInfoResponse{Result: out, Time: since(start)}, nil
}

func toStatusColor(s strata.CollectionStatus) qdrant.CollectionStatus {
	switch s {
	case strata.StatusGreen:
		return qdrant.CollectionStatus_Green
	case strata.StatusYellow:
		return qdrant.CollectionStatus_Yellow
	case strata.StatusRed:
		return qdrant.CollectionStatus_Red
	}
	return qdrant.CollectionStatus_UnknownCollectionStatus
}

// toConfig reports a configuration with effective values where Strata
// stores zero for "the default".
func toConfig(cfg *strata.CollectionConfig) *qdrant.CollectionConfig {
	one := uint32(1)
	params := &qdrant.CollectionParams{ShardNumber: 1, OnDiskPayload: true, ReplicationFactor: &one, WriteConsistencyFactor: &one}
	if p, ok := cfg.Vectors[""]; ok {
		params.VectorsConfig = qdrant.NewVectorsConfig(&qdrant.VectorParams{Size: uint64(p.Size), Distance: toDistance(p.Distance)})
	} else if len(cfg.Vectors) > 0 {
		m := make(map[string]*qdrant.VectorParams, len(cfg.Vectors))
		for name, p := range cfg.Vectors {
			m[name] = &qdrant.VectorParams{Size: uint64(p.Size), Distance: toDistance(p.Distance)}
		}
		params.VectorsConfig = qdrant.NewVectorsConfigMap(m)
	}
	if len(cfg.SparseVectors) > 0 {
		m := make(map[string]*qdrant.SparseVectorParams, len(cfg.SparseVectors))
		for name := range cfg.SparseVectors {
			m[name] = &qdrant.SparseVectorParams{}
		}
		params.SparseVectorsConfig = &qdrant.SparseVectorConfig{Map: m}
	}
	u := func(v int) *uint64 { x := uint64(max(v, 0)); return &x }
	onDisk := false
	eff := cfg.Effective()
	h := &qdrant.HnswConfigDiff{
		M:                  u(eff.HNSW.M),
		EfConstruct:        u(eff.HNSW.EfConstruct),
		FullScanThreshold:  u(eff.HNSW.FullScanThresholdKB),
		MaxIndexingThreads: u(cfg.HNSW.MaxIndexingThreads),
		OnDisk:             &onDisk,
	}
	o := cfg.Optimizers
	deleted := eff.Optimizers.DeletedThreshold
	if o.DeletedThreshold == minDeletedThreshold {
		deleted = 0
	}
	opt := &qdrant.OptimizersConfigDiff{
		DeletedThreshold:      &deleted,
		VacuumMinVectorNumber: u(eff.Optimizers.VacuumMinPoints),
		DefaultSegmentNumber:  u(o.MaxSegments), // 0: automatic, as in Qdrant
		IndexingThreshold:     u(eff.Optimizers.IndexingThresholdKB),
		// Every write is fsynced before it is acknowledged: nothing waits
		// for a periodic flush.
		FlushIntervalSec: u(0),
	}
	if o.IndexingThresholdKB < 0 {
		opt.IndexingThreshold = u(0)
	}
	if o.MaxSegmentPoints > 0 {
		opt.MaxSegmentSize = u(max(1, (o.MaxSegmentPoints*pointBytes(cfg)+1023)/1024)) // round up, as api/rest: the inverse of the conversion on the way in
	}
	if o.Interval < 0 {
		opt.MaxOptimizationThreads = qdrant.NewMaxOptimizationThreads(0)
	} else {
		opt.MaxOptimizationThreads = qdrant.NewMaxOptimizationThreadsSetting(qdrant.MaxOptimizationThreads_Auto)
	}
	return &qdrant.CollectionConfig{Params: params, HnswConfig: h, OptimizerConfig: opt}
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
