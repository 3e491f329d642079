package rest

import (
	"net/http"
	"testing"
)

// TestUpsertForms: the list and batch forms, numeric and UUID ids, named
// dense and sparse vectors, read back by every read endpoint.
func TestUpsertForms(t *testing.T) {
	e := newEnv(t, Options{})
	e.create("c", `{"vectors": {"size": 2, "distance": "Dot"}}`)
	e.write("PUT", "/collections/c/points", `{"points": [
		{"id": 1, "vector": [1, 2], "payload": {"a": 1, "big": 12345678901234567890}},
		{"id": "550e8400-e29b-41d4-a716-446655440000", "vector": {"": [3, 4]}, "payload": null}]}`)
	e.write("PUT", "/collections/c/points", `{"batch": {"ids": [2, 3], "vectors": [[5, 6], [7, 8]], "payloads": [{"b": true}, null]}}`)
	e.write("PUT", "/collections/c/points", `{"points": []}`) // Qdrant accepts an empty upsert

	jsonEqual(t, e.ok("GET", "/collections/c/points/1", nil), `{"id": 1, "payload": {"a": 1, "big": 12345678901234567890}, "vector": [1, 2]}`)
	jsonEqual(t, e.ok("GET", "/collections/c/points/550e8400-e29b-41d4-a716-446655440000", nil),
		`{"id": "550e8400-e29b-41d4-a716-446655440000", "payload": {}, "vector": [3, 4]}`)
	e.fail("GET", "/collections/c/points/99", nil, http.StatusNotFound, "Not found: No point with id 99 found")
	e.fail("GET", "/collections/c/points/abc", nil, http.StatusBadRequest, `invalid point id "abc"`)

	// Retrieve: payload by default, no vector; missing ids are skipped.
	jsonEqual(t, e.ok("POST", "/collections/c/points", `{"ids": [3, 2, 42]}`),
		`[{"id": 3, "payload": {}, "vector": null}, {"id": 2, "payload": {"b": true}, "vector": null}]`)
	jsonEqual(t, e.ok("POST", "/collections/c/points", `{"ids": [2], "with_payload": false, "with_vector": true}`),
		`[{"id": 2, "payload": null, "vector": [5, 6]}]`)
	jsonEqual(t, e.ok("POST", "/collections/c/points", `{"ids": []}`), `[]`)
	jsonEqual(t, e.ok("POST", "/collections/c/points/count", `{"exact": false}`), `{"count": 4}`)

	// Named dense and sparse vectors, in both forms.
	e.create("n", `{"vectors": {"img": {"size": 2, "distance": "Euclid"}, "txt": {"size": 3, "distance": "Cosine"}}, "sparse_vectors": {"kw": {}}}`)
	e.write("PUT", "/collections/n/points", `{"points": [
		{"id": 1, "vector": {"img": [1, 1], "kw": {"indices": [7, 2], "values": [0.5, 1.5]}}},
		{"id": 2, "vector": {"txt": [0, 3, 4]}},
		{"id": 3, "vector": {}}]}`)
	e.write("PUT", "/collections/n/points", `{"batch": {"ids": [4, 5], "vectors": {"img": [[2, 2], [3, 3]], "kw": [{"indices": [1], "values": [1]}, {"indices": [], "values": []}]}}}`)
	jsonEqual(t, e.ok("POST", "/collections/n/points", `{"ids": [1, 2, 3, 4, 5], "with_payload": false, "with_vector": true}`), `[
		{"id": 1, "payload": null, "vector": {"img": [1, 1], "kw": {"indices": [7, 2], "values": [0.5, 1.5]}}},
		{"id": 2, "payload": null, "vector": {"txt": [0, 0.6, 0.8]}},
		{"id": 3, "payload": null, "vector": {}},
		{"id": 4, "payload": null, "vector": {"img": [2, 2], "kw": {"indices": [1], "values": [1]}}},
		{"id": 5, "payload": null, "vector": {"img": [3, 3], "kw": {"indices": [], "values": []}}}]`)
	jsonEqual(t, e.ok("POST", "/collections/n/points", `{"ids": [1], "with_payload": false, "with_vectors": ["kw"]}`),
		`[{"id": 1, "payload": null, "vector": {"kw": {"indices": [7, 2], "values": [0.5, 1.5]}}}]`)

	// Refused forms.
	e.fail("PUT", "/collections/c/points", `{"points": [{"id": 9, "vector": [[1, 2], [3, 4]]}]}`, http.StatusBadRequest, "points[0].vector: multivectors (a list of vectors) is not supported")
	e.fail("PUT", "/collections/c/points", `{"points": [{"id": 9, "vector": {"text": "hi", "model": "m"}}]}`, http.StatusBadRequest, "inference (documents, images, objects to embed) is not supported")
	e.fail("PUT", "/collections/c/points", `{"points": [{"id": 9, "vector": [1, 2]}], "shard_key": "a"}`, http.StatusBadRequest, "shard_key (custom sharding) is not supported")
	e.fail("PUT", "/collections/c/points", `{"points": [{"id": 9, "vector": [1, 2]}], "update_mode": "insert_only"}`, http.StatusBadRequest, `update_mode "insert_only" is not supported`)
	e.fail("PUT", "/collections/c/points", `{"batch": {"ids": [9, 10], "vectors": [[1, 2]]}}`, http.StatusBadRequest, "batch.vectors: 1 vectors for 2 ids")
	e.fail("PUT", "/collections/c/points", `{"batch": {"ids": [9], "vectors": [[1, 2]], "payloads": []}}`, http.StatusBadRequest, "batch.payloads: 0 payloads for 1 ids")
	e.fail("PUT", "/collections/c/points", `{"points": [{"id": 9, "vector": [1, 2], "payload": [1]}]}`, http.StatusBadRequest, "points[0].payload: expected a JSON object, got array")
	e.fail("PUT", "/collections/c/points", `{}`, http.StatusBadRequest, "body: missing field `points` or `batch`")
	e.fail("PUT", "/collections/n/points", `{"points": [{"id": 9, "vector": {"kw": {"indices": [1, 1], "values": [1, 2]}}}]}`, http.StatusBadRequest, `Wrong input: points[0].sparse["kw"].indices[1]: duplicate index 1`)
	e.fail("PUT", "/collections/n/points", `{"points": [{"id": 9, "vector": {"kw": {"indices": [1]}}}]}`, http.StatusBadRequest, "points[0].vector.kw: missing field `values`")
	e.fail("PUT", "/collections/n/points", `{"points": [{"id": 9, "vector": [1, 2]}]}`, http.StatusBadRequest, "Wrong input: points[0].vector: the collection has only named vectors; say which one")
	e.fail("PUT", "/collections/nope/points", `{"points": []}`, http.StatusNotFound, "Not found: Collection `nope` doesn't exist!")
}

func TestWaitStatus(t *testing.T) {
	e := newEnv(t, Options{})
	e.create("c", `{"vectors": {"size": 1, "distance": "Dot"}}`)
	res := e.ok("PUT", "/collections/c/points", `{"points": [{"id": 1, "vector": [1]}]}`)
	if field(res, "status") != "acknowledged" {
		t.Fatalf("default wait: %v", res)
	}
	first := field(res, "operation_id").(float64)
	res = e.ok("PUT", "/collections/c/points?wait=false", `{"points": [{"id": 2, "vector": [1]}]}`)
	if field(res, "status") != "acknowledged" || field(res, "operation_id").(float64) != first+1 {
		t.Fatalf("wait=false: %v", res)
	}
	// Acknowledged writes are already durable and visible.
	jsonEqual(t, e.ok("POST", "/collections/c/points/count", `{}`), `{"count": 2}`)
	e.fail("PUT", "/collections/c/points?wait=maybe", `{"points": []}`, http.StatusBadRequest, `wait: expected true or false, got "maybe"`)
}

func TestPayloadOps(t *testing.T) {
	e := newEnv(t, Options{})
	e.create("c", `{"vectors": {"size": 1, "distance": "Dot"}}`)
	e.write("PUT", "/collections/c/points", `{"points": [
		{"id": 1, "vector": [1], "payload": {"a": 1, "b": {"c": 2}}},
		{"id": 2, "vector": [2], "payload": {"a": 2}},
		{"id": 3, "vector": [3], "payload": {"a": 3}}]}`)
	get := func(id string) any { return field(e.ok("GET", "/collections/c/points/"+id, nil), "payload") }

	e.write("POST", "/collections/c/points/payload", `{"payload": {"x": "y"}, "points": [1]}`)
	jsonEqual(t, get("1"), `{"a": 1, "b": {"c": 2}, "x": "y"}`)
	e.write("POST", "/collections/c/points/payload", `{"payload": {"d": 4}, "points": [1], "key": "b"}`)
	jsonEqual(t, get("1"), `{"a": 1, "b": {"c": 2, "d": 4}, "x": "y"}`)
	e.write("POST", "/collections/c/points/payload", `{"payload": {"tag": "big"}, "filter": {"must": [{"key": "a", "range": {"gte": 2}}]}}`)
	jsonEqual(t, get("2"), `{"a": 2, "tag": "big"}`)
	jsonEqual(t, get("3"), `{"a": 3, "tag": "big"}`)
	e.write("PUT", "/collections/c/points/payload", `{"payload": {"only": true}, "points": [2]}`)
	jsonEqual(t, get("2"), `{"only": true}`)
	e.write("POST", "/collections/c/points/payload/delete", `{"keys": ["b.c", "x"], "points": [1]}`)
	jsonEqual(t, get("1"), `{"a": 1, "b": {"d": 4}}`)
	e.write("POST", "/collections/c/points/payload/clear", `{"points": [1, 3]}`)
	jsonEqual(t, get("1"), `{}`)
	jsonEqual(t, get("3"), `{}`)
	e.write("POST", "/collections/c/points/payload", `{"payload": {}, "points": [1]}`) // nothing to merge
	e.write("POST", "/collections/c/points/payload", `{"payload": {"z": 1}, "points": []}`)

	e.fail("POST", "/collections/c/points/payload", `{"payload": {"x": 1}, "points": [42]}`, http.StatusNotFound, "Not found: no point with id 42")
	e.fail("POST", "/collections/c/points/payload", `{"payload": {"x": 1}}`, http.StatusBadRequest, "Bad request: body: either points or filter is required")
	e.fail("POST", "/collections/c/points/payload", `{"points": [1]}`, http.StatusBadRequest, "body: missing field `payload`")
	e.fail("POST", "/collections/c/points/payload", `{"payload": {"x": 1}, "points": [1], "filter": {}}`, http.StatusBadRequest, "give either points or filter, not both")
	e.fail("PUT", "/collections/c/points/payload", `{"payload": {"x": 1}, "points": [1], "key": "k"}`, http.StatusBadRequest, "key with overwrite_payload is not supported")
	e.fail("POST", "/collections/c/points/payload/delete", `{"points": [1]}`, http.StatusBadRequest, "body: missing field `keys`")
}

func TestDeletePoints(t *testing.T) {
	e := newEnv(t, Options{})
	e.create("c", `{"vectors": {"size": 1, "distance": "Dot"}}`)
	e.write("PUT", "/collections/c/points", `{"batch": {"ids": [1, 2, 3, 4], "vectors": [[1], [2], [3], [4]], "payloads": [{"k": "a"}, {"k": "b"}, {"k": "a"}, {"k": "b"}]}}`)
	e.write("POST", "/collections/c/points/delete", `{"points": [1, 77]}`)
	e.write("POST", "/collections/c/points/delete", `{"filter": {"must": {"key": "k", "match": {"value": "b"}}}}`)
	e.write("POST", "/collections/c/points/delete", `{"points": []}`)
	res := e.ok("POST", "/collections/c/points/scroll", `{}`)
	if got := ids(t, points(t, res)); got != "3" {
		t.Fatalf("left: %s", got)
	}
	e.fail("POST", "/collections/c/points/delete", `{}`, http.StatusBadRequest, "either points or filter is required")
	e.fail("POST", "/collections/c/points/delete", `{"points": [-1]}`, http.StatusBadRequest, "points[0]: -1 is not a valid point id")
	e.fail("POST", "/collections/c/points/delete", `{"points": ["not-a-uuid"]}`, http.StatusBadRequest, `points[0]: "not-a-uuid" is not a valid point id`)
	e.fail("POST", "/collections/c/points/delete", `{"points": [1.5]}`, http.StatusBadRequest, "points[0]: 1.5 is not a valid point id")
}

func TestVectorOps(t *testing.T) {
	e := newEnv(t, Options{})
	e.create("n", `{"vectors": {"a": {"size": 2, "distance": "Dot"}, "b": {"size": 1, "distance": "Dot"}}}`)
	e.write("PUT", "/collections/n/points", `{"points": [{"id": 1, "vector": {"a": [1, 2], "b": [3]}, "payload": {"p": 1}}]}`)
	e.write("PUT", "/collections/n/points/vectors", `{"points": [{"id": 1, "vector": {"a": [5, 6]}}]}`)
	jsonEqual(t, e.ok("GET", "/collections/n/points/1", nil), `{"id": 1, "payload": {"p": 1}, "vector": {"a": [5, 6], "b": [3]}}`)
	e.write("POST", "/collections/n/points/vectors/delete", `{"points": [1], "vector": ["b"]}`)
	jsonEqual(t, e.ok("GET", "/collections/n/points/1", nil), `{"id": 1, "payload": {"p": 1}, "vector": {"a": [5, 6]}}`)

	e.fail("PUT", "/collections/n/points/vectors", `{"points": []}`, http.StatusUnprocessableEntity, "[points: must contain at least 1 item]")
	e.fail("PUT", "/collections/n/points/vectors", `{"points": [{"id": 2, "vector": {"a": [1, 1]}}]}`, http.StatusNotFound, "Not found: no point with id 2")
	e.fail("PUT", "/collections/n/points/vectors", `{"points": [{"id": 1, "vector": {"a": [1, 1, 1]}}]}`, http.StatusBadRequest, `Wrong input: dimension mismatch: points[0].vectors["a"]: expected dimension 2, got 3`)
	e.fail("PUT", "/collections/n/points/vectors", `{"points": [{"id": 1}]}`, http.StatusBadRequest, "points[0]: missing field `vector`")
	e.fail("POST", "/collections/n/points/vectors/delete", `{"points": [1], "vector": []}`, http.StatusUnprocessableEntity, "[vector: must contain at least 1 item]")
	e.fail("POST", "/collections/n/points/vectors/delete", `{"points": [1], "vector": ["zz"]}`, http.StatusBadRequest, `Wrong input: vectors: no vector named "zz"`)
}

func TestBatchUpdate(t *testing.T) {
	e := newEnv(t, Options{})
	e.create("c", `{"vectors": {"size": 1, "distance": "Dot"}}`)
	res := e.ok("POST", "/collections/c/points/batch?wait=true", `{"operations": [
		{"upsert": {"points": [{"id": 1, "vector": [1], "payload": {"a": 1}}, {"id": 2, "vector": [2]}, {"id": 3, "vector": [3]}]}},
		{"set_payload": {"payload": {"b": 2}, "points": [1, 2]}},
		{"overwrite_payload": {"payload": {"c": 3}, "points": [2]}},
		{"delete_payload": {"keys": ["a"], "points": [1]}},
		{"clear_payload": {"points": [3]}},
		{"update_vectors": {"points": [{"id": 3, "vector": [30]}]}},
		{"delete": {"points": [2]}},
		{"upsert": {"batch": {"ids": [4], "vectors": [[4]]}}}
	]}`)
	list, ok := res.([]any)
	if !ok || len(list) != 8 || field(list[7], "status") != "completed" {
		t.Fatalf("batch result: %v", res)
	}
	jsonEqual(t, e.ok("POST", "/collections/c/points", `{"ids": [1, 2, 3, 4], "with_vector": true}`), `[
		{"id": 1, "payload": {"b": 2}, "vector": [1]},
		{"id": 3, "payload": {}, "vector": [30]},
		{"id": 4, "payload": {}, "vector": [4]}]`)
	// Every operation is checked before any runs.
	e.fail("POST", "/collections/c/points/batch", `{"operations": [{"delete": {"points": [1]}}, {"upsert": {"points": [{"id": "x", "vector": [1]}]}}]}`,
		http.StatusBadRequest, `operations[1].upsert.points[0].id: "x" is not a valid point id`)
	jsonEqual(t, e.ok("POST", "/collections/c/points/count", `{}`), `{"count": 3}`)
	e.fail("POST", "/collections/c/points/batch", `{"operations": [{"explode": {}}]}`, http.StatusBadRequest, `operations[0]: unknown operation "explode"`)
	e.fail("POST", "/collections/c/points/batch", `{"operations": [{"delete": {"points": [1]}, "upsert": {}}]}`, http.StatusBadRequest, "operations[0]: expected an object with one operation")
	e.fail("POST", "/collections/c/points/batch", `{"operations": [{"delete": {"filter": {"must": [{"key": "a", "match": {"valeu": 1}}]}}}]}`,
		http.StatusBadRequest, `operations[0].delete.filter.must[0].match: unknown field "valeu"`)
	e.fail("POST", "/collections/c/points/batch", `{}`, http.StatusBadRequest, "missing field `operations`")
}
