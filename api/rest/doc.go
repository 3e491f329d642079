// Package rest serves Qdrant's REST API over a [strata.DB], so that Qdrant's
// official clients work against Strata unchanged.
//
// It is a thin adapter: every handler decodes the request, calls the root
// package, and encodes the answer. It holds no engine logic; the
// authority for paths, shapes, defaults and status codes is Qdrant's
// OpenAPI specification (version [QdrantAPIVersion]).
//
// # Envelope
//
// Successful answers are {"result": ..., "status": "ok", "time": seconds};
// errors are {"status": {"error": "..."}, "time": seconds} with Qdrant's
// status codes (see errors.go for the one table that maps Strata's
// sentinel errors to them). Writes answer
// {"operation_id": n, "status": "completed"} with ?wait=true and
// "acknowledged" without (Qdrant's default is wait=false). Strata returns
// from a write only after its WAL record is fsynced and applied, whatever
// wait says, so both answers mean the same: durable and visible.
//
// # Deviations from Qdrant
//
//   - Request bodies over Options.MaxBodyBytes get 413 (Qdrant answers 400).
//   - Collection names that Strata cannot store (path separators, "..", a
//     leading '.') get 400 (Qdrant validates its own rules with 422).
//   - Authentication failures carry the JSON error envelope with Qdrant's
//     messages (Qdrant answers them in plain text).
//   - GET / reports the Qdrant API version Strata mirrors as "version" (so
//     that clients' compatibility checks pass) and Strata's own version as
//     "commit".
//   - Options Strata does not implement are either accepted and ignored,
//     when ignoring them cannot change results or lose data (quantization,
//     on_disk, replication, ...), or refused with 400 "not supported"
//     (discover, sparse-vector search, multivectors, custom sharding,
//     collection metadata, ...). The full list is in unsupported.go.
//   - Operation ids are numbered by the server process, from 1 at start-up
//     (Qdrant numbers them per collection, from its WAL).
package rest
