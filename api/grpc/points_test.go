package grpcapi

import (
	"fmt"
	"slices"
	"testing"

	"github.com/qdrant/go-client/qdrant"
	"google.golang.org/grpc/codes"
)

const uuid1 = "550e8400-e29b-41d4-a716-446655440000"

func TestUpsertGet(t *testing.T) {
	e := newEnv(t, Options{})
	c := ctx(t)
	e.createSimple("c", 2, qdrant.Distance_Cosine)
	e.upsert("c",
		point(1, []float32{3, 4}, map[string]any{
			"s": "text", "i": 7, "f": 1.0, "g": 2.5, "b": true, "null": nil,
			"list": []any{1, "two", 3.5}, "obj": map[string]any{"k": map[string]any{"deep": int64(-3)}},
		}),
		&qdrant.PointStruct{Id: qdrant.NewID(uuid1), Vectors: qdrant.NewVectors(0, 2)},
	)

	pts := must(e.client.Get(c, &qdrant.GetPoints{
		CollectionName: "c",
		Ids:            []*qdrant.PointId{qdrant.NewID(uuid1), qdrant.NewIDNum(1), qdrant.NewIDNum(99)},
		WithVectors:    qdrant.NewWithVectors(true),
	}))
	if len(pts) != 2 || pts[0].GetId().GetUuid() != uuid1 || pts[1].GetId().GetNum() != 1 {
		t.Fatalf("get: %v", pts)
	}
	// Cosine vectors are stored normalised.
	v := pts[1].GetVectors().GetVector().GetDenseVector().GetData()
	if len(v) != 2 || !near(v[0], 0.6) || !near(v[1], 0.8) {
		t.Fatalf("vector %v", v)
	}
	pl := pts[1].GetPayload()
	if pl["s"].GetStringValue() != "text" || pl["i"].GetIntegerValue() != 7 || pl["b"].GetBoolValue() != true {
		t.Fatalf("payload %v", pl)
	}
	// 1.0 stays a double, as in Qdrant; integers stay integers.
	if _, ok := pl["f"].GetKind().(*qdrant.Value_DoubleValue); !ok || pl["f"].GetDoubleValue() != 1.0 || pl["g"].GetDoubleValue() != 2.5 {
		t.Fatalf("doubles: %v %v", pl["f"], pl["g"])
	}
	if _, ok := pl["null"].GetKind().(*qdrant.Value_NullValue); !ok {
		t.Fatalf("null: %v", pl["null"])
	}
	list := pl["list"].GetListValue().GetValues()
	if len(list) != 3 || list[0].GetIntegerValue() != 1 || list[1].GetStringValue() != "two" || list[2].GetDoubleValue() != 3.5 {
		t.Fatalf("list: %v", list)
	}
	if d := pl["obj"].GetStructValue().GetFields()["k"].GetStructValue().GetFields()["deep"].GetIntegerValue(); d != -3 {
		t.Fatalf("nested: %v", pl["obj"])
	}
	if len(pts[0].GetPayload()) != 0 {
		t.Fatalf("point without payload: %v", pts[0].GetPayload())
	}

	// Payload selectors.
	pts = must(e.client.Get(c, &qdrant.GetPoints{CollectionName: "c", Ids: []*qdrant.PointId{qdrant.NewIDNum(1)}, WithPayload: qdrant.NewWithPayloadInclude("s", "obj.k")}))
	if pl := pts[0].GetPayload(); len(pl) != 2 || pl["s"] == nil || pl["obj"] == nil || pts[0].GetVectors() != nil {
		t.Fatalf("include: %v", pts[0])
	}
	pts = must(e.client.Get(c, &qdrant.GetPoints{CollectionName: "c", Ids: []*qdrant.PointId{qdrant.NewIDNum(1)}, WithPayload: qdrant.NewWithPayloadExclude("list", "obj", "null")}))
	if pl := pts[0].GetPayload(); len(pl) != 5 || pl["list"] != nil {
		t.Fatalf("exclude: %v", pts[0].GetPayload())
	}

	// Errors: unknown collection, wrong dimension, bad id; nothing written.
	_, err := e.client.Upsert(c, &qdrant.UpsertPoints{CollectionName: "nope", Points: []*qdrant.PointStruct{point(1, []float32{1, 2}, nil)}})
	wantCode(t, err, codes.NotFound, "Collection `nope` doesn't exist!")
	_, err = e.client.Upsert(c, &qdrant.UpsertPoints{CollectionName: "c", Points: []*qdrant.PointStruct{point(5, []float32{1, 2}, nil), point(6, []float32{1, 2, 3}, nil)}})
	wantCode(t, err, codes.InvalidArgument, "points[1].vector: expected dimension 2, got 3")
	_, err = e.client.Upsert(c, &qdrant.UpsertPoints{CollectionName: "c", Points: []*qdrant.PointStruct{{Id: qdrant.NewID("not-a-uuid"), Vectors: qdrant.NewVectors(1, 2)}}})
	wantCode(t, err, codes.InvalidArgument, `points[0].id: "not-a-uuid" is not a valid point id`)
	_, err = e.client.Upsert(c, &qdrant.UpsertPoints{CollectionName: "c", Points: []*qdrant.PointStruct{{Id: qdrant.NewIDNum(7), Vectors: qdrant.NewVectorsMulti([][]float32{{1, 2}})}}})
	wantCode(t, err, codes.InvalidArgument, "multivectors", "not supported")
	_, err = e.client.Upsert(c, &qdrant.UpsertPoints{CollectionName: "c", Points: []*qdrant.PointStruct{point(8, []float32{1, 2}, nil)}, UpdateMode: qdrant.UpdateMode_InsertOnly.Enum()})
	wantCode(t, err, codes.InvalidArgument, "update_mode InsertOnly is not supported")
	if n := must(e.client.Count(c, &qdrant.CountPoints{CollectionName: "c"})); n != 2 {
		t.Fatalf("count %d after failed upserts", n)
	}
	// wait=false answers Acknowledged; the write is durable and visible all the same.
	res := must(e.client.Upsert(c, &qdrant.UpsertPoints{CollectionName: "c", Points: []*qdrant.PointStruct{point(9, []float32{1, 1}, nil)}}))
	if res.GetStatus() != qdrant.UpdateStatus_Acknowledged || res.GetOperationId() == 0 {
		t.Fatalf("result %v", res)
	}
	if n := must(e.client.Count(c, &qdrant.CountPoints{CollectionName: "c"})); n != 3 {
		t.Fatalf("count %d", n)
	}
}

func TestPayloadOps(t *testing.T) {
	e := newEnv(t, Options{})
	c := ctx(t)
	e.createSimple("c", 2, qdrant.Distance_Dot)
	e.upsert("c",
		point(1, []float32{1, 0}, map[string]any{"a": 1, "b": "x"}),
		point(2, []float32{0, 1}, map[string]any{"a": 2, "b": "y"}),
		point(3, []float32{1, 1}, map[string]any{"a": 3}),
	)
	wait := qdrant.PtrOf(true)
	payloadOf := func(id uint64) map[string]*qdrant.Value {
		t.Helper()
		pts := must(e.client.Get(c, &qdrant.GetPoints{CollectionName: "c", Ids: []*qdrant.PointId{qdrant.NewIDNum(id)}}))
		if len(pts) != 1 {
			t.Fatalf("point %d missing", id)
		}
		return pts[0].GetPayload()
	}

	// Set merges; by ids and by filter.
	must(e.client.SetPayload(c, &qdrant.SetPayloadPoints{CollectionName: "c", Wait: wait, Payload: qdrant.NewValueMap(map[string]any{"c": "new"}), PointsSelector: qdrant.NewPointsSelector(qdrant.NewIDNum(1))}))
	if p := payloadOf(1); p["a"].GetIntegerValue() != 1 || p["c"].GetStringValue() != "new" {
		t.Fatalf("set: %v", p)
	}
	must(e.client.SetPayload(c, &qdrant.SetPayloadPoints{CollectionName: "c", Wait: wait, Payload: qdrant.NewValueMap(map[string]any{"tag": "big"}), PointsSelector: qdrant.NewPointsSelectorFilter(&qdrant.Filter{Must: []*qdrant.Condition{qdrant.NewRange("a", &qdrant.Range{Gte: qdrant.PtrOf(2.0)})}})}))
	if n := must(e.client.Count(c, &qdrant.CountPoints{CollectionName: "c", Filter: &qdrant.Filter{Must: []*qdrant.Condition{qdrant.NewMatch("tag", "big")}}})); n != 2 {
		t.Fatalf("set by filter reached %d points", n)
	}
	// Set at a nested key.
	must(e.client.SetPayload(c, &qdrant.SetPayloadPoints{CollectionName: "c", Wait: wait, Key: qdrant.PtrOf("meta.inner"), Payload: qdrant.NewValueMap(map[string]any{"z": 1}), PointsSelector: qdrant.NewPointsSelector(qdrant.NewIDNum(2))}))
	if z := payloadOf(2)["meta"].GetStructValue().GetFields()["inner"].GetStructValue().GetFields()["z"].GetIntegerValue(); z != 1 {
		t.Fatalf("set at key: %v", payloadOf(2))
	}
	// Overwrite replaces.
	must(e.client.OverwritePayload(c, &qdrant.SetPayloadPoints{CollectionName: "c", Wait: wait, Payload: qdrant.NewValueMap(map[string]any{"only": true}), PointsSelector: qdrant.NewPointsSelector(qdrant.NewIDNum(1))}))
	if p := payloadOf(1); len(p) != 1 || !p["only"].GetBoolValue() {
		t.Fatalf("overwrite: %v", p)
	}
	// Delete keys.
	must(e.client.DeletePayload(c, &qdrant.DeletePayloadPoints{CollectionName: "c", Wait: wait, Keys: []string{"b", "tag"}, PointsSelector: qdrant.NewPointsSelector(qdrant.NewIDNum(2))}))
	if p := payloadOf(2); p["b"] != nil || p["tag"] != nil || p["a"].GetIntegerValue() != 2 {
		t.Fatalf("delete keys: %v", p)
	}
	// Clear.
	must(e.client.ClearPayload(c, &qdrant.ClearPayloadPoints{CollectionName: "c", Wait: wait, Points: qdrant.NewPointsSelector(qdrant.NewIDNum(3))}))
	if p := payloadOf(3); len(p) != 0 {
		t.Fatalf("clear: %v", p)
	}
	// Errors: a missing point, no selector, overwrite with a key.
	_, err := e.client.SetPayload(c, &qdrant.SetPayloadPoints{CollectionName: "c", Payload: qdrant.NewValueMap(map[string]any{"x": 1}), PointsSelector: qdrant.NewPointsSelector(qdrant.NewIDNum(42))})
	wantCode(t, err, codes.NotFound)
	_, err = e.client.SetPayload(c, &qdrant.SetPayloadPoints{CollectionName: "c", Payload: qdrant.NewValueMap(map[string]any{"x": 1})})
	wantCode(t, err, codes.InvalidArgument, "either points or filter is required")
	_, err = e.client.OverwritePayload(c, &qdrant.SetPayloadPoints{CollectionName: "c", Key: qdrant.PtrOf("k"), Payload: qdrant.NewValueMap(map[string]any{"x": 1}), PointsSelector: qdrant.NewPointsSelector(qdrant.NewIDNum(1))})
	wantCode(t, err, codes.InvalidArgument, "key with overwrite_payload is not supported")

	// Delete points by id and by filter.
	must(e.client.Delete(c, &qdrant.DeletePoints{CollectionName: "c", Wait: wait, Points: qdrant.NewPointsSelector(qdrant.NewIDNum(1))}))
	must(e.client.Delete(c, &qdrant.DeletePoints{CollectionName: "c", Wait: wait, Points: qdrant.NewPointsSelectorFilter(&qdrant.Filter{Must: []*qdrant.Condition{qdrant.NewMatchInt("a", 2)}})}))
	if got := ids(must(e.client.Scroll(c, &qdrant.ScrollPoints{CollectionName: "c"}))); !slices.Equal(got, []uint64{3}) {
		t.Fatalf("after deletes: %v", got)
	}
}

func TestVectorOps(t *testing.T) {
	e := newEnv(t, Options{})
	c := ctx(t)
	err := e.client.CreateCollection(c, &qdrant.CreateCollection{
		CollectionName: "n",
		VectorsConfig: qdrant.NewVectorsConfigMap(map[string]*qdrant.VectorParams{
			"a": {Size: 2, Distance: qdrant.Distance_Dot},
			"b": {Size: 3, Distance: qdrant.Distance_Euclid},
		}),
		SparseVectorsConfig: qdrant.NewSparseVectorsConfig(map[string]*qdrant.SparseVectorParams{"s": {}}),
	})
	if err != nil {
		t.Fatal(err)
	}
	e.upsert("n", &qdrant.PointStruct{Id: qdrant.NewIDNum(1), Vectors: qdrant.NewVectorsMap(map[string]*qdrant.Vector{
		"a": qdrant.NewVector(1, 2),
		"b": qdrant.NewVector(1, 2, 3),
		"s": qdrant.NewVectorSparse([]uint32{3, 7}, []float32{0.5, 1.5}),
	})})
	vecs := func() map[string]*qdrant.VectorOutput {
		t.Helper()
		pts := must(e.client.Get(c, &qdrant.GetPoints{CollectionName: "n", Ids: []*qdrant.PointId{qdrant.NewIDNum(1)}, WithVectors: qdrant.NewWithVectors(true)}))
		return pts[0].GetVectors().GetVectors().GetVectors()
	}
	v := vecs()
	if !slices.Equal(v["a"].GetDenseVector().GetData(), []float32{1, 2}) || !slices.Equal(v["b"].GetDenseVector().GetData(), []float32{1, 2, 3}) {
		t.Fatalf("vectors: %v", v)
	}
	if s := v["s"].GetSparseVector(); !slices.Equal(s.GetIndices(), []uint32{3, 7}) || !slices.Equal(s.GetValues(), []float32{0.5, 1.5}) {
		t.Fatalf("sparse: %v", v["s"])
	}
	// Only the named vectors selected.
	pts := must(e.client.Get(c, &qdrant.GetPoints{CollectionName: "n", Ids: []*qdrant.PointId{qdrant.NewIDNum(1)}, WithVectors: qdrant.NewWithVectorsInclude("b")}))
	if m := pts[0].GetVectors().GetVectors().GetVectors(); len(m) != 1 || m["b"] == nil {
		t.Fatalf("include b: %v", m)
	}

	// Update one vector; the others stay.
	must(e.client.UpdateVectors(c, &qdrant.UpdatePointVectors{CollectionName: "n", Wait: qdrant.PtrOf(true), Points: []*qdrant.PointVectors{
		{Id: qdrant.NewIDNum(1), Vectors: qdrant.NewVectorsMap(map[string]*qdrant.Vector{"a": qdrant.NewVector(5, 6)})},
	}}))
	v = vecs()
	if !slices.Equal(v["a"].GetDenseVector().GetData(), []float32{5, 6}) || v["b"] == nil || v["s"] == nil {
		t.Fatalf("after update: %v", v)
	}
	// Delete vectors.
	must(e.client.DeleteVectors(c, &qdrant.DeletePointVectors{CollectionName: "n", Wait: qdrant.PtrOf(true), PointsSelector: qdrant.NewPointsSelector(qdrant.NewIDNum(1)), Vectors: &qdrant.VectorsSelector{Names: []string{"b", "s"}}}))
	v = vecs()
	if len(v) != 1 || v["a"] == nil {
		t.Fatalf("after delete: %v", v)
	}
	// has_vector sees it.
	if n := must(e.client.Count(c, &qdrant.CountPoints{CollectionName: "n", Filter: &qdrant.Filter{Must: []*qdrant.Condition{qdrant.NewHasVector("b")}}})); n != 0 {
		t.Fatalf("has_vector b: %d", n)
	}
	// Errors.
	_, err = e.client.UpdateVectors(c, &qdrant.UpdatePointVectors{CollectionName: "n", Points: []*qdrant.PointVectors{{Id: qdrant.NewIDNum(2), Vectors: qdrant.NewVectorsMap(map[string]*qdrant.Vector{"a": qdrant.NewVector(1, 1)})}}})
	wantCode(t, err, codes.NotFound)
	_, err = e.client.UpdateVectors(c, &qdrant.UpdatePointVectors{CollectionName: "n", Points: []*qdrant.PointVectors{{Id: qdrant.NewIDNum(1), Vectors: qdrant.NewVectorsMap(map[string]*qdrant.Vector{"a": qdrant.NewVector(1, 1, 1)})}}})
	wantCode(t, err, codes.InvalidArgument, "expected dimension 2, got 3")
	_, err = e.client.DeleteVectors(c, &qdrant.DeletePointVectors{CollectionName: "n", PointsSelector: qdrant.NewPointsSelector(qdrant.NewIDNum(1)), Vectors: &qdrant.VectorsSelector{}})
	wantCode(t, err, codes.InvalidArgument, "vectors.names: must contain at least 1 item")
	_, err = e.client.Upsert(c, &qdrant.UpsertPoints{CollectionName: "n", Points: []*qdrant.PointStruct{{Id: qdrant.NewIDNum(3), Vectors: qdrant.NewVectorsSparse([]uint32{1}, []float32{1})}}})
	wantCode(t, err, codes.InvalidArgument, "a sparse vector must be named")
}

func TestScrollCount(t *testing.T) {
	e := newEnv(t, Options{})
	c := ctx(t)
	e.createSimple("c", 2, qdrant.Distance_Euclid)
	var pts []*qdrant.PointStruct
	for i := uint64(1); i <= 25; i++ {
		pts = append(pts, point(i, []float32{float32(i), 0}, map[string]any{"even": i%2 == 0, "i": i}))
	}
	e.upsert("c", pts...)

	// Pages of 10 in id order, following next_page_offset.
	var got []uint64
	var offset *qdrant.PointId
	pages := 0
	for {
		page, next, err := e.client.ScrollAndOffset(c, &qdrant.ScrollPoints{CollectionName: "c", Limit: qdrant.PtrOf(uint32(10)), Offset: offset})
		if err != nil {
			t.Fatal(err)
		}
		pages++
		got = append(got, ids(page)...)
		if next == nil {
			break
		}
		offset = next
	}
	if pages != 3 || len(got) != 25 || !slices.IsSorted(got) || got[0] != 1 || got[24] != 25 {
		t.Fatalf("%d pages: %v", pages, got)
	}
	if page := must(e.client.Scroll(c, &qdrant.ScrollPoints{CollectionName: "c", Limit: qdrant.PtrOf(uint32(10)), Offset: qdrant.NewIDNum(21)})); !slices.Equal(ids(page), []uint64{21, 22, 23, 24, 25}) {
		t.Fatalf("last page: %v", ids(page))
	}
	// Default page size 10; payload by default, no vectors.
	page := must(e.client.Scroll(c, &qdrant.ScrollPoints{CollectionName: "c"}))
	if len(page) != 10 || page[0].GetPayload()["i"].GetIntegerValue() != 1 || page[0].GetVectors() != nil {
		t.Fatalf("default scroll: %v", page[0])
	}
	even := &qdrant.Filter{Must: []*qdrant.Condition{qdrant.NewMatchBool("even", true)}}
	page = must(e.client.Scroll(c, &qdrant.ScrollPoints{CollectionName: "c", Filter: even, Limit: qdrant.PtrOf(uint32(3)), WithVectors: qdrant.NewWithVectors(true), WithPayload: qdrant.NewWithPayload(false)}))
	if !slices.Equal(ids(page), []uint64{2, 4, 6}) || page[0].GetPayload() != nil || page[0].GetVectors().GetVector().GetDenseVector().GetData()[0] != 2 {
		t.Fatalf("filtered scroll: %v", page)
	}
	if n := must(e.client.Count(c, &qdrant.CountPoints{CollectionName: "c", Filter: even})); n != 12 {
		t.Fatalf("count even %d", n)
	}
	if n := must(e.client.Count(c, &qdrant.CountPoints{CollectionName: "c", Exact: qdrant.PtrOf(false)})); n != 25 {
		t.Fatalf("count %d", n)
	}
	_, err := e.client.Scroll(c, &qdrant.ScrollPoints{CollectionName: "c", Limit: qdrant.PtrOf(uint32(0))})
	wantCode(t, err, codes.InvalidArgument, "limit: value 0 invalid")
	_, err = e.client.Scroll(c, &qdrant.ScrollPoints{CollectionName: "c", OrderBy: &qdrant.OrderBy{Key: "i"}})
	wantCode(t, err, codes.InvalidArgument, "order_by is not supported")
}

func TestFieldIndexes(t *testing.T) {
	e := newEnv(t, Options{})
	c := ctx(t)
	e.createSimple("c", 2, qdrant.Distance_Dot)
	var pts []*qdrant.PointStruct
	for i := uint64(1); i <= 6; i++ {
		pts = append(pts, point(i, []float32{1, float32(i)}, map[string]any{"city": fmt.Sprintf("c%d", i%2), "n": i, "desc": "a quick brown fox"}))
	}
	e.upsert("c", pts...)
	wait := qdrant.PtrOf(true)
	must(e.client.CreateFieldIndex(c, &qdrant.CreateFieldIndexCollection{CollectionName: "c", Wait: wait, FieldName: "city", FieldType: qdrant.FieldType_FieldTypeKeyword.Enum()}))
	must(e.client.CreateFieldIndex(c, &qdrant.CreateFieldIndexCollection{CollectionName: "c", Wait: wait, FieldName: "n", FieldIndexParams: qdrant.NewPayloadIndexParamsInt(&qdrant.IntegerIndexParams{Lookup: qdrant.PtrOf(false), Range: qdrant.PtrOf(true)})}))
	must(e.client.CreateFieldIndex(c, &qdrant.CreateFieldIndexCollection{CollectionName: "c", Wait: wait, FieldName: "desc", FieldType: qdrant.FieldType_FieldTypeText.Enum(), FieldIndexParams: qdrant.NewPayloadIndexParamsText(&qdrant.TextIndexParams{Tokenizer: qdrant.TokenizerType_Whitespace, Lowercase: qdrant.PtrOf(true)})}))

	schema := must(e.client.GetCollectionInfo(c, "c")).GetPayloadSchema()
	if len(schema) != 3 {
		t.Fatalf("payload_schema: %v", schema)
	}
	if s := schema["city"]; s.GetDataType() != qdrant.PayloadSchemaType_Keyword || s.GetPoints() != 6 || s.GetParams() != nil {
		t.Fatalf("city: %v", s)
	}
	if s := schema["n"]; s.GetDataType() != qdrant.PayloadSchemaType_Integer || s.GetParams().GetIntegerIndexParams().GetRange() != true || s.GetParams().GetIntegerIndexParams().GetLookup() != false {
		t.Fatalf("n: %v", s)
	}
	if s := schema["desc"]; s.GetDataType() != qdrant.PayloadSchemaType_Text || s.GetParams().GetTextIndexParams().GetTokenizer() != qdrant.TokenizerType_Whitespace {
		t.Fatalf("desc: %v", s)
	}
	// Indexed filters answer as before.
	f := &qdrant.Filter{Must: []*qdrant.Condition{qdrant.NewMatch("city", "c1"), qdrant.NewRange("n", &qdrant.Range{Gt: qdrant.PtrOf(2.0)}), qdrant.NewMatchText("desc", "quick")}}
	if got := ids(must(e.client.Scroll(c, &qdrant.ScrollPoints{CollectionName: "c", Filter: f}))); !slices.Equal(got, []uint64{3, 5}) {
		t.Fatalf("indexed filter: %v", got)
	}

	must(e.client.DeleteFieldIndex(c, &qdrant.DeleteFieldIndexCollection{CollectionName: "c", Wait: wait, FieldName: "city"}))
	must(e.client.DeleteFieldIndex(c, &qdrant.DeleteFieldIndexCollection{CollectionName: "c", Wait: wait, FieldName: "city"})) // absent: succeeds
	if schema := must(e.client.GetCollectionInfo(c, "c")).GetPayloadSchema(); len(schema) != 2 || schema["city"] != nil {
		t.Fatalf("after delete: %v", schema)
	}
	// Errors: no type, a type and other parameters, the stemmer.
	_, err := e.client.CreateFieldIndex(c, &qdrant.CreateFieldIndexCollection{CollectionName: "c", FieldName: "x"})
	wantCode(t, err, codes.InvalidArgument, "field_type: missing")
	_, err = e.client.CreateFieldIndex(c, &qdrant.CreateFieldIndexCollection{CollectionName: "c", FieldName: "x", FieldType: qdrant.FieldType_FieldTypeFloat.Enum(), FieldIndexParams: qdrant.NewPayloadIndexParamsKeyword(&qdrant.KeywordIndexParams{})})
	wantCode(t, err, codes.InvalidArgument, "keyword parameters for a float index")
	_, err = e.client.CreateFieldIndex(c, &qdrant.CreateFieldIndexCollection{CollectionName: "c", FieldName: "x", FieldIndexParams: qdrant.NewPayloadIndexParamsText(&qdrant.TextIndexParams{Stemmer: qdrant.NewStemmingAlgorithmSnowball(&qdrant.SnowballParams{Language: "english"})})})
	wantCode(t, err, codes.InvalidArgument, "stemmer is not supported")
}

func TestUpdateBatch(t *testing.T) {
	e := newEnv(t, Options{})
	c := ctx(t)
	e.createSimple("c", 2, qdrant.Distance_Dot)
	res := must(e.client.UpdateBatch(c, &qdrant.UpdateBatchPoints{CollectionName: "c", Wait: qdrant.PtrOf(true), Operations: []*qdrant.PointsUpdateOperation{
		qdrant.NewPointsUpdateUpsert(&qdrant.PointsUpdateOperation_PointStructList{Points: []*qdrant.PointStruct{
			point(1, []float32{1, 0}, map[string]any{"k": 1}),
			point(2, []float32{0, 1}, map[string]any{"k": 2}),
			point(3, []float32{1, 1}, nil),
		}}),
		qdrant.NewPointsUpdateSetPayload(&qdrant.PointsUpdateOperation_SetPayload{Payload: qdrant.NewValueMap(map[string]any{"set": true}), PointsSelector: qdrant.NewPointsSelector(qdrant.NewIDNum(1), qdrant.NewIDNum(3))}),
		qdrant.NewPointsUpdateDeletePoints(&qdrant.PointsUpdateOperation_DeletePoints{Points: qdrant.NewPointsSelector(qdrant.NewIDNum(2))}),
		qdrant.NewPointsUpdateUpdateVectors(&qdrant.PointsUpdateOperation_UpdateVectors{Points: []*qdrant.PointVectors{{Id: qdrant.NewIDNum(3), Vectors: qdrant.NewVectors(7, 7)}}}),
		qdrant.NewPointsUpdateDeletePayload(&qdrant.PointsUpdateOperation_DeletePayload{Keys: []string{"k"}, PointsSelector: qdrant.NewPointsSelector(qdrant.NewIDNum(1))}),
	}}))
	if len(res) != 5 || res[0].GetStatus() != qdrant.UpdateStatus_Completed {
		t.Fatalf("results: %v", res)
	}
	pts := must(e.client.Scroll(c, &qdrant.ScrollPoints{CollectionName: "c", WithVectors: qdrant.NewWithVectors(true)}))
	if !slices.Equal(ids(pts), []uint64{1, 3}) {
		t.Fatalf("ids %v", ids(pts))
	}
	if p := pts[0].GetPayload(); len(p) != 1 || !p["set"].GetBoolValue() {
		t.Fatalf("point 1 payload %v", p)
	}
	if v := pts[1].GetVectors().GetVector().GetDenseVector().GetData(); !slices.Equal(v, []float32{7, 7}) {
		t.Fatalf("point 3 vector %v", v)
	}
	// A bad operation anywhere in the batch refuses the whole batch before
	// anything runs.
	_, err := e.client.UpdateBatch(c, &qdrant.UpdateBatchPoints{CollectionName: "c", Operations: []*qdrant.PointsUpdateOperation{
		qdrant.NewPointsUpdateDeletePoints(&qdrant.PointsUpdateOperation_DeletePoints{Points: qdrant.NewPointsSelector(qdrant.NewIDNum(1))}),
		qdrant.NewPointsUpdateUpsert(&qdrant.PointsUpdateOperation_PointStructList{Points: []*qdrant.PointStruct{{Id: qdrant.NewIDNum(9)}}}),
	}})
	wantCode(t, err, codes.InvalidArgument, "operations[1].upsert.points[0].vectors: missing")
	if n := must(e.client.Count(c, &qdrant.CountPoints{CollectionName: "c"})); n != 2 {
		t.Fatalf("count %d after a refused batch", n)
	}
}
