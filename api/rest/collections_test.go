package rest

import (
	"net/http"
	"strings"
	"testing"
)

func TestService(t *testing.T) {
	e := newEnv(t, Options{Version: "1.2.3"})
	r := e.do("GET", "/", nil)
	if r.status != 200 || r.json["title"] != "strata" || r.json["version"] != QdrantAPIVersion || r.json["commit"] != "1.2.3" {
		t.Fatalf("GET /: %d %s", r.status, r.body)
	}
	for path, want := range map[string]string{
		"/healthz": "healthz check passed",
		"/livez":   "healthz check passed",
		"/readyz":  "all shards are ready",
	} {
		r := e.do("GET", path, nil)
		if r.status != 200 || string(r.body) != want {
			t.Errorf("GET %s: %d %q", path, r.status, r.body)
		}
	}
	e.fail("GET", "/no/such/endpoint", nil, http.StatusNotFound, "Not found: no endpoint GET /no/such/endpoint")
}

func TestCollectionLifecycle(t *testing.T) {
	e := newEnv(t, Options{})
	jsonEqual(t, e.ok("GET", "/collections", nil), `{"collections": []}`)
	e.create("single", `{"vectors": {"size": 4, "distance": "Cosine"}}`)
	e.create("named", `{
		"vectors": {"image": {"size": 3, "distance": "Dot"}, "text": {"size": 2, "distance": "Euclid", "on_disk": true}},
		"sparse_vectors": {"keywords": {"modifier": "none"}},
		"hnsw_config": {"m": 8, "ef_construct": 64, "full_scan_threshold": 500},
		"optimizers_config": {"indexing_threshold": 0, "deleted_threshold": 0.5, "vacuum_min_vector_number": 200, "default_segment_number": 3,
			"max_optimization_threads": 0}
	}`)
	e.fail("PUT", "/collections/single", `{"vectors": {"size": 4, "distance": "Cosine"}}`, http.StatusConflict, "Wrong input: Collection `single` already exists!")
	jsonEqual(t, e.ok("GET", "/collections", nil), `{"collections": [{"name": "named"}, {"name": "single"}]}`)
	jsonEqual(t, e.ok("GET", "/collections/single/exists", nil), `{"exists": true}`)
	jsonEqual(t, e.ok("GET", "/collections/nope/exists", nil), `{"exists": false}`)

	info := e.ok("GET", "/collections/single", nil)
	jsonEqual(t, info, `{
		"status": "green", "optimizer_status": "ok", "indexed_vectors_count": 0, "points_count": 0, "segments_count": 0,
		"config": {
			"params": {"vectors": {"size": 4, "distance": "Cosine"}, "shard_number": 1, "replication_factor": 1, "write_consistency_factor": 1, "on_disk_payload": true},
			"hnsw_config": {"m": 16, "ef_construct": 100, "full_scan_threshold": 10000, "max_indexing_threads": 0, "on_disk": false},
			"optimizer_config": {"deleted_threshold": 0.2, "vacuum_min_vector_number": 1000, "default_segment_number": 0, "max_segment_size": null,
				"memmap_threshold": null, "indexing_threshold": 10000, "flush_interval_sec": 0, "max_optimization_threads": null},
			"quantization_config": null
		},
		"payload_schema": {}
	}`)
	cfg := field(e.ok("GET", "/collections/named", nil), "config")
	jsonEqual(t, field(cfg, "params"), `{"vectors": {"image": {"size": 3, "distance": "Dot"}, "text": {"size": 2, "distance": "Euclid"}},
		"shard_number": 1, "replication_factor": 1, "write_consistency_factor": 1, "on_disk_payload": true, "sparse_vectors": {"keywords": {}}}`)
	jsonEqual(t, field(cfg, "hnsw_config"), `{"m": 8, "ef_construct": 64, "full_scan_threshold": 500, "max_indexing_threads": 0, "on_disk": false}`)
	jsonEqual(t, field(cfg, "optimizer_config"), `{"deleted_threshold": 0.5, "vacuum_min_vector_number": 200, "default_segment_number": 3, "max_segment_size": null,
		"memmap_threshold": null, "indexing_threshold": 0, "flush_interval_sec": 0, "max_optimization_threads": 0}`)

	// PATCH changes only what it names. The collection was created with
	// max_optimization_threads 0, so no background optimizer runs.
	if e.ok("PATCH", "/collections/named", `{"hnsw_config": {"ef_construct": 128}, "optimizers_config": {"indexing_threshold": 20000, "max_segment_size": 100, "max_optimization_threads": 0}, "params": {"replication_factor": 2}}`) != true {
		t.Fatal("patch")
	}
	cfg = field(e.ok("GET", "/collections/named", nil), "config")
	jsonEqual(t, field(cfg, "hnsw_config"), `{"m": 8, "ef_construct": 128, "full_scan_threshold": 500, "max_indexing_threads": 0, "on_disk": false}`)
	// max_segment_size is kept in points (100 KiB of 20-byte points = 5120
	// points) and reported back in KiB.
	jsonEqual(t, field(cfg, "optimizer_config"), `{"deleted_threshold": 0.5, "vacuum_min_vector_number": 200, "default_segment_number": 3, "max_segment_size": 100,
		"memmap_threshold": null, "indexing_threshold": 20000, "flush_interval_sec": 0, "max_optimization_threads": 0}`)
	e.fail("PATCH", "/collections/named", `{"hnsw_config": {"ef_construct": 3}}`, http.StatusUnprocessableEntity, "Validation error in JSON body: [hnsw_config.ef_construct: value 3 invalid, must be 4 or larger]")
	e.fail("PATCH", "/collections/nope", `{}`, http.StatusNotFound, "Not found: Collection `nope` doesn't exist!")

	if e.ok("DELETE", "/collections/single", nil) != true {
		t.Fatal("delete")
	}
	if e.ok("DELETE", "/collections/single", nil) != false {
		t.Fatal("second delete should answer false")
	}
	e.fail("GET", "/collections/single", nil, http.StatusNotFound, "Not found: Collection `single` doesn't exist!")
	jsonEqual(t, e.ok("GET", "/collections", nil), `{"collections": [{"name": "named"}]}`)
}

// TestCreateOptions: options Strata ignores are accepted, options it cannot
// honour are refused, Qdrant's validation rules give 422.
func TestCreateOptions(t *testing.T) {
	e := newEnv(t, Options{})
	e.create("ignored", `{
		"vectors": {"size": 2, "distance": "Dot", "datatype": "float16", "hnsw_config": {"m": 4}, "quantization_config": {"scalar": {"type": "int8"}}, "memory": "cached"},
		"shard_number": 2, "sharding_method": "auto", "replication_factor": 2, "write_consistency_factor": 1,
		"on_disk_payload": false, "payload": {"memory": "cold"}, "wal_config": {"wal_capacity_mb": 64},
		"quantization_config": {"binary": {"always_ram": true}}, "strict_mode_config": {"enabled": false},
		"hnsw_config": {"on_disk": true, "payload_m": 16, "inline_storage": false},
		"optimizers_config": {"memmap_threshold": 1000, "flush_interval_sec": 10, "prevent_unoptimized": true, "max_optimization_threads": "auto"},
		"some_future_option": 1
	}`)
	refused := map[string]string{
		`{"vectors": {"size": 2, "distance": "Dot"}, "sharding_method": "custom"}`:                     `sharding_method "custom" (shard keys) is not supported`,
		`{"vectors": {"size": 2, "distance": "Dot"}, "metadata": {"a": 1}}`:                            `collection metadata is not supported`,
		`{"vectors": {"size": 2, "distance": "Dot"}, "init_from": {"collection": "x"}}`:                `init_from is not supported`,
		`{"vectors": {"size": 2, "distance": "Dot", "multivector_config": {"comparator": "max_sim"}}}`: `vectors.multivector_config (multivectors) is not supported`,
		`{"sparse_vectors": {"s": {"modifier": "idf"}}}`:                                               `sparse_vectors.s.modifier "idf" is not supported`,
		`{"vectors": {"size": 2, "distance": "Dot"}, "hnsw_config": {"m": 0}}`:                         `hnsw_config.m = 0`,
	}
	for body, msg := range refused {
		e.fail("PUT", "/collections/refused", body, http.StatusBadRequest, msg)
	}
	invalid := map[string]string{
		`{"vectors": {"size": 0, "distance": "Dot"}}`:                                                        `[vectors.size: value 0 invalid, must be 1 or larger]`,
		`{"vectors": {"a": {"size": 0, "distance": "Dot"}}}`:                                                 `[vectors.a.size: value 0 invalid, must be 1 or larger]`,
		`{"vectors": {"size": 2, "distance": "Dot"}, "shard_number": 0}`:                                     `[shard_number: value 0 invalid, must be 1 or larger]`,
		`{"vectors": {"size": 2, "distance": "Dot"}, "optimizers_config": {"deleted_threshold": 2}}`:         `[optimizers_config.deleted_threshold: value 2 invalid, must be from 0 to 1]`,
		`{"vectors": {"size": 2, "distance": "Dot"}, "optimizers_config": {"vacuum_min_vector_number": 10}}`: `[optimizers_config.vacuum_min_vector_number: value 10 invalid, must be 100 or larger]`,
		`{"vectors": {"size": 2, "distance": "Dot"}, "hnsw_config": {"full_scan_threshold": 5}}`:             `[hnsw_config.full_scan_threshold: value 5 invalid, must be 10 or larger]`,
	}
	for body, msg := range invalid {
		e.fail("PUT", "/collections/invalid", body, http.StatusUnprocessableEntity, msg)
	}
	bad := map[string]string{
		`{"vectors": {"size": 2, "distance": "Hamming"}}`: `vectors.distance: unknown distance "Hamming"`,
		`{"vectors": {"size": "2", "distance": "Dot"}}`:   `vectors.size: expected integer, got string`,
		`{"vectors": {"size": 2}}`:                        "vectors: missing field `distance`",
		`{"vectors": {"size": 70000, "distance": "Dot"}}`: `Wrong input: config.vectors[""].size: 70000 is out of range 1..65536`,
		`{"vectors": [1, 2]}`:                             `vectors: expected {size, distance} or an object of named vectors, got array`,
		`{}`:                                              `Wrong input: config: a collection needs at least one dense or sparse vector`,
		`{"vectors": {"size": 2, "distance": "Dot"}`:      `Format error in JSON body: unexpected end of the JSON body`,
		`{"vectors": {"size": 2, "distance": "Dot"}} {}`:  `Format error in JSON body: unexpected data after the JSON value`,
		`{"vectors": {"size": 2, "distance": "Dot"}, "optimizers_config": {"max_optimization_threads": "many"}}`: `max_optimization_threads: expected "auto" or a number`,
	}
	for body, msg := range bad {
		e.fail("PUT", "/collections/bad", body, http.StatusBadRequest, msg)
	}
	jsonEqual(t, e.ok("GET", "/collections", nil), `{"collections": [{"name": "ignored"}]}`)
}

func TestCollectionNames(t *testing.T) {
	e := newEnv(t, Options{})
	for _, name := range []string{"a%2Fb", "%2E%2E", "x..y", ".hidden", "a%5Cb"} {
		e.fail("PUT", "/collections/"+name, `{"vectors": {"size": 2, "distance": "Dot"}}`, http.StatusBadRequest, "Wrong input: collection name")
		e.fail("GET", "/collections/"+name, nil, http.StatusBadRequest, "Wrong input: collection name")
		e.fail("POST", "/collections/"+name+"/points/scroll", `{}`, http.StatusBadRequest, "Wrong input: collection name")
	}
	e.fail("GET", "/collections/"+strings.Repeat("n", 256), nil, http.StatusBadRequest, "bytes long; the limit is 255")
	e.create("ünïcode-name_1", `{"vectors": {"size": 2, "distance": "Dot"}}`)
	jsonEqual(t, e.ok("GET", "/collections/%C3%BCn%C3%AFcode-name_1/exists", nil), `{"exists": true}`)
}

func TestFieldIndex(t *testing.T) {
	e := newEnv(t, Options{})
	e.create("c", `{"vectors": {"size": 2, "distance": "Dot"}}`)
	e.write("PUT", "/collections/c/points", `{"points": [
		{"id": 1, "vector": [1, 0], "payload": {"city": "Paris", "n": 1, "body": "the quick fox"}},
		{"id": 2, "vector": [0, 1], "payload": {"city": "Rome", "n": 2}},
		{"id": 3, "vector": [1, 1], "payload": {"n": 3}}]}`)
	e.write("PUT", "/collections/c/index", `{"field_name": "city", "field_schema": "keyword"}`)
	e.write("PUT", "/collections/c/index", `{"field_name": "n", "field_schema": {"type": "integer", "lookup": false, "range": true, "enable_hnsw": false}}`)
	e.write("PUT", "/collections/c/index", `{"field_name": "body", "field_type": {"type": "text", "tokenizer": "word", "lowercase": true, "stopwords": "english"}}`)
	schema := field(e.ok("GET", "/collections/c", nil), "payload_schema")
	jsonEqual(t, field(schema, "city"), `{"data_type": "keyword", "points": 2}`)
	jsonEqual(t, field(schema, "n"), `{"data_type": "integer", "params": {"type": "integer", "lookup": false, "range": true}, "points": 3}`)
	jsonEqual(t, field(field(schema, "body"), "params"), `{"type": "text", "tokenizer": "word", "lowercase": true, "stopwords": {"languages": ["english"]}}`)
	// An indexed text field serves match.text.
	res := e.ok("POST", "/collections/c/points/count", `{"filter": {"must": [{"key": "body", "match": {"text": "QUICK"}}]}}`)
	jsonEqual(t, res, `{"count": 1}`)

	e.fail("PUT", "/collections/c/index", `{"field_name": "x", "field_schema": "vector"}`, http.StatusBadRequest, "Wrong input: field_schema")
	e.fail("PUT", "/collections/c/index", `{"field_name": "x"}`, http.StatusBadRequest, "field_schema: missing")
	e.fail("PUT", "/collections/c/index", `{"field_schema": "keyword"}`, http.StatusBadRequest, "missing field `field_name`")
	e.fail("PUT", "/collections/c/index", `{"field_name": "x", "field_schema": {"type": "text", "stemmer": {"type": "snowball", "language": "english"}}}`, http.StatusBadRequest, "field_schema.stemmer is not supported")

	e.write("DELETE", "/collections/c/index/city", nil)
	e.write("DELETE", "/collections/c/index/city", nil) // idempotent, as in Qdrant
	schema = field(e.ok("GET", "/collections/c", nil), "payload_schema")
	if _, ok := schema.(map[string]any)["city"]; ok {
		t.Fatal("index on city still reported")
	}
}
