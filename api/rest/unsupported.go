package rest

import (
	"encoding/json"
)

// Options of Qdrant's API that Strata does not implement fall in two
// groups, checked here in one place.
//
// Accepted and ignored: ignoring them cannot lose data or make results
// worse than Qdrant's (they tune storage placement, replication, or
// approximations Strata does not make):
//
//	create:  shard_number, sharding_method "auto", replication_factor,
//	         write_consistency_factor, on_disk_payload, payload, wal_config,
//	         quantization_config, strict_mode_config
//	vectors: hnsw_config and quantization_config per vector, on_disk,
//	         memory, datatype (vectors are stored as float32)
//	sparse:  index, modifier "none"
//	hnsw:    on_disk, memory, payload_m, inline_storage
//	optimizers: memmap_threshold, flush_interval_sec (every write is
//	         fsynced), prevent_unoptimized (points are always visible)
//	update:  vectors (per-vector diffs), params, quantization_config,
//	         strict_mode_config
//	search:  params.quantization, params.indexed_only, params.acorn,
//	         params.idf; read consistency; write ordering
//	indexes: memory, enable_hnsw, on_disk
//
// Refused with 400 "not supported": options whose effect Strata cannot
// give, where ignoring them would silently change results or drop data:
//
//	create:  sharding_method "custom", init_from, metadata,
//	         multivector_config, sparse modifier "idf", hnsw m = 0
//	update:  metadata, sparse modifier "idf"
//	points:  shard_key, update_filter, update_mode other than "upsert",
//	         multivectors, inference objects (documents, images), key
//	         with overwrite_payload
//	query:   the discover, context, order_by, formula, sample and
//	         relevance_feedback queries, sparse query vectors and examples
//	         (sparse search comes later)
//	scroll:  order_by
//	indexes: stemmer

// checkCreateOptions checks the collection-level options of a create
// request.
func checkCreateOptions(req *createCollectionRequest) error {
	if v := req.ShardNumber; v != nil && *v < 1 {
		return minErr("shard_number", *v, 1)
	}
	if v := req.ReplicationFactor; v != nil && *v < 1 {
		return minErr("replication_factor", *v, 1)
	}
	if v := req.WriteConsistency; v != nil && *v < 1 {
		return minErr("write_consistency_factor", *v, 1)
	}
	if v := req.ShardingMethod; v != nil {
		switch *v {
		case "auto":
		case "custom":
			return unsupported("sharding_method \"custom\" (shard keys)")
		default:
			return formatErr("sharding_method: unknown variant %q, expected auto or custom", *v)
		}
	}
	if !isNull(req.InitFrom) {
		return unsupported("init_from")
	}
	if !isNull(req.Metadata) {
		return unsupported("collection metadata")
	}
	return nil
}

// checkVectorParams checks the per-vector options of VectorParams.
func checkVectorParams(p *vectorParams, path string) error {
	if !isNull(p.MultivectorConfig) {
		return unsupported("%s.multivector_config (multivectors)", path)
	}
	if p.Datatype != nil {
		switch *p.Datatype {
		case "float32", "float16", "uint8", "turbo4":
		default:
			return formatErr("%s.datatype: unknown variant %q, expected one of float32, uint8, float16, turbo4", path, *p.Datatype)
		}
	}
	return nil
}

// checkSparseParams checks SparseVectorParams.
func checkSparseParams(p *sparseVectorParams, path string) error {
	if p.Modifier == nil {
		return nil
	}
	switch *p.Modifier {
	case "none":
		return nil
	case "idf":
		return unsupported("%s.modifier \"idf\"", path)
	}
	return formatErr("%s.modifier: unknown variant %q, expected none or idf", path, *p.Modifier)
}

// checkHnswDiff checks the HNSW options Strata cannot honour.
func checkHnswDiff(d *hnswConfigDiff, path string) error {
	switch {
	case d.M != nil && *d.M < 0:
		return formatErr("%s.m: %d is negative", path, *d.M)
	case d.M != nil && *d.M == 0:
		return unsupported("%s.m = 0 (no HNSW graph; optimizers_config.indexing_threshold = 0 disables indexing instead)", path)
	case d.PayloadM != nil && *d.PayloadM < 0:
		return formatErr("%s.payload_m: %d is negative", path, *d.PayloadM)
	}
	return nil
}

// checkUpdateOptions checks the options of a collection update.
func checkUpdateOptions(req *updateCollectionRequest) error {
	if !isNull(req.Metadata) {
		return unsupported("collection metadata")
	}
	return nil
}

// checkNoShardKey refuses a shard_key: Strata has no custom sharding.
func checkNoShardKey(raw json.RawMessage, path string) error {
	if !isNull(raw) {
		return unsupported("%s (custom sharding)", joinPath(path, "shard_key"))
	}
	return nil
}
