package grpcapi

import (
	"slices"
	"testing"

	"github.com/qdrant/go-client/qdrant"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

func TestCollections(t *testing.T) {
	e := newEnv(t, Options{})
	c := ctx(t)

	// Create: one unnamed vector, then named vectors with a sparse one.
	e.createSimple("single", 4, qdrant.Distance_Cosine)
	err := e.client.CreateCollection(c, &qdrant.CreateCollection{
		CollectionName: "named",
		VectorsConfig: qdrant.NewVectorsConfigMap(map[string]*qdrant.VectorParams{
			"text":  {Size: 3, Distance: qdrant.Distance_Dot},
			"image": {Size: 2, Distance: qdrant.Distance_Euclid, OnDisk: qdrant.PtrOf(true)}, // on_disk: accepted, ignored
		}),
		SparseVectorsConfig: qdrant.NewSparseVectorsConfig(map[string]*qdrant.SparseVectorParams{"bm25": {}}),
		HnswConfig:          &qdrant.HnswConfigDiff{M: qdrant.PtrOf(uint64(8)), EfConstruct: qdrant.PtrOf(uint64(64))},
		OptimizersConfig:    &qdrant.OptimizersConfigDiff{IndexingThreshold: qdrant.PtrOf(uint64(0))},
		QuantizationConfig:  qdrant.NewQuantizationScalar(&qdrant.ScalarQuantization{Type: qdrant.QuantizationType_Int8}), // ignored
	})
	if err != nil {
		t.Fatal(err)
	}

	names := must(e.client.ListCollections(c))
	if !slices.Equal(names, []string{"named", "single"}) {
		t.Fatalf("list: %v", names)
	}
	if !must(e.client.CollectionExists(c, "single")) || must(e.client.CollectionExists(c, "nope")) {
		t.Fatal("exists is wrong")
	}

	info := must(e.client.GetCollectionInfo(c, "single"))
	p := info.GetConfig().GetParams().GetVectorsConfig().GetParams()
	if p.GetSize() != 4 || p.GetDistance() != qdrant.Distance_Cosine {
		t.Fatalf("single params: %v", p)
	}
	if info.GetStatus() != qdrant.CollectionStatus_Green || info.GetPointsCount() != 0 {
		t.Fatalf("single info: %v", info)
	}
	if h := info.GetConfig().GetHnswConfig(); h.GetM() != 16 || h.GetEfConstruct() != 100 || h.GetFullScanThreshold() != 10000 {
		t.Fatalf("effective hnsw defaults: %v", h)
	}

	info = must(e.client.GetCollectionInfo(c, "named"))
	m := info.GetConfig().GetParams().GetVectorsConfig().GetParamsMap().GetMap()
	if len(m) != 2 || m["text"].GetSize() != 3 || m["text"].GetDistance() != qdrant.Distance_Dot || m["image"].GetDistance() != qdrant.Distance_Euclid {
		t.Fatalf("named params: %v", m)
	}
	if _, ok := info.GetConfig().GetParams().GetSparseVectorsConfig().GetMap()["bm25"]; !ok {
		t.Fatalf("sparse config: %v", info.GetConfig().GetParams())
	}
	if h := info.GetConfig().GetHnswConfig(); h.GetM() != 8 || h.GetEfConstruct() != 64 {
		t.Fatalf("hnsw: %v", h)
	}
	if o := info.GetConfig().GetOptimizerConfig(); o.GetIndexingThreshold() != 0 {
		t.Fatalf("indexing_threshold 0 (disabled) did not round-trip: %v", o)
	}

	// Update HNSW parameters.
	err = e.client.UpdateCollection(c, &qdrant.UpdateCollection{CollectionName: "named", HnswConfig: &qdrant.HnswConfigDiff{M: qdrant.PtrOf(uint64(12))}})
	if err != nil {
		t.Fatal(err)
	}
	if h := must(e.client.GetCollectionInfo(c, "named")).GetConfig().GetHnswConfig(); h.GetM() != 12 || h.GetEfConstruct() != 64 {
		t.Fatalf("hnsw after update: %v", h)
	}
	err = e.client.UpdateCollection(c, &qdrant.UpdateCollection{CollectionName: "named", VectorsConfig: qdrant.NewVectorsConfigDiffMap(map[string]*qdrant.VectorParamsDiff{"nope": {}})})
	wantCode(t, err, codes.InvalidArgument, `no dense vector named "nope"`)

	// Errors.
	err = e.client.CreateCollection(c, &qdrant.CreateCollection{CollectionName: "single", VectorsConfig: qdrant.NewVectorsConfig(&qdrant.VectorParams{Size: 4, Distance: qdrant.Distance_Dot})})
	wantCode(t, err, codes.AlreadyExists, "Collection `single` already exists!")
	_, err = e.client.GetCollectionInfo(c, "nope")
	wantCode(t, err, codes.NotFound, "Collection `nope` doesn't exist!")
	err = e.client.CreateCollection(c, &qdrant.CreateCollection{CollectionName: "zero", VectorsConfig: qdrant.NewVectorsConfig(&qdrant.VectorParams{Size: 0, Distance: qdrant.Distance_Dot})})
	wantCode(t, err, codes.InvalidArgument, "vectors_config.params.size: value 0 invalid")
	err = e.client.CreateCollection(c, &qdrant.CreateCollection{CollectionName: "nodist", VectorsConfig: qdrant.NewVectorsConfig(&qdrant.VectorParams{Size: 2})})
	wantCode(t, err, codes.InvalidArgument, "unknown distance")
	err = e.client.CreateCollection(c, &qdrant.CreateCollection{CollectionName: "custom", ShardingMethod: qdrant.ShardingMethod_Custom.Enum(), VectorsConfig: qdrant.NewVectorsConfig(&qdrant.VectorParams{Size: 2, Distance: qdrant.Distance_Dot})})
	wantCode(t, err, codes.InvalidArgument, "is not supported by Strata")
	err = e.client.CreateCollection(c, &qdrant.CreateCollection{CollectionName: "multi", VectorsConfig: qdrant.NewVectorsConfig(&qdrant.VectorParams{Size: 2, Distance: qdrant.Distance_Dot, MultivectorConfig: &qdrant.MultiVectorConfig{}})})
	wantCode(t, err, codes.InvalidArgument, "multivectors", "is not supported by Strata")
	err = e.client.CreateCollection(c, &qdrant.CreateCollection{CollectionName: "a/b", VectorsConfig: qdrant.NewVectorsConfig(&qdrant.VectorParams{Size: 2, Distance: qdrant.Distance_Dot})})
	wantCode(t, err, codes.InvalidArgument, "path separator")

	// Aliases: none.
	if a := must(e.client.ListAliases(c)); len(a) != 0 {
		t.Fatalf("aliases: %v", a)
	}
	err = e.client.CreateAlias(c, "a", "single")
	wantCode(t, err, codes.Unimplemented)

	// Delete answers true, then false (Qdrant's answer for a missing one).
	res, err := e.client.GetCollectionsClient().Delete(c, &qdrant.DeleteCollection{CollectionName: "single"})
	if err != nil || !res.GetResult() {
		t.Fatalf("delete: %v %v", res, err)
	}
	res, err = e.client.GetCollectionsClient().Delete(c, &qdrant.DeleteCollection{CollectionName: "single"})
	if err != nil || res.GetResult() {
		t.Fatalf("delete again: %v %v", res, err)
	}
	if must(e.client.CollectionExists(c, "single")) {
		t.Fatal("still exists")
	}
}

func TestHealthAndUnimplemented(t *testing.T) {
	e := newEnv(t, Options{Version: "v9.9.9"})
	c := ctx(t)
	hc := must(e.client.HealthCheck(c))
	if hc.GetTitle() != "strata" || hc.GetVersion() != QdrantAPIVersion || hc.GetCommit() != "v9.9.9" {
		t.Fatalf("health check: %v", hc)
	}
	h := healthpb.NewHealthClient(e.client.GetConnection())
	for _, svc := range []string{"", "qdrant.Points", "qdrant.Collections"} {
		r, err := h.Check(c, &healthpb.HealthCheckRequest{Service: svc})
		if err != nil || r.GetStatus() != healthpb.HealthCheckResponse_SERVING {
			t.Fatalf("health %q: %v %v", svc, r, err)
		}
	}
	_, err := h.Check(c, &healthpb.HealthCheckRequest{Service: "nope"})
	wantCode(t, err, codes.NotFound)

	_, err = e.client.ListSnapshots(c, "x")
	wantCode(t, err, codes.NotFound, "Collection `x` doesn't exist!")
	_, err = e.client.GetPointsClient().Discover(c, &qdrant.DiscoverPoints{CollectionName: "x"})
	wantCode(t, err, codes.Unimplemented)
}
