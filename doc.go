// Package strata is an embeddable vector database: collections of points,
// each an id, one or more dense vectors, optional sparse vectors and a JSON
// payload, searched by vector similarity with payload filters. Its data
// model and semantics are Qdrant's, so that the same engine can sit behind a
// Qdrant-compatible server (`strata serve`) or run inside any Go program with
// no server and no cgo:
//
//	db, err := strata.Open("./data", nil)
//	coll, err := db.CreateCollection(ctx, "docs", strata.CollectionConfig{
//		Vectors: map[string]strata.VectorParams{"": {Size: 384, Distance: strata.Cosine}},
//	})
//	err = coll.Upsert(ctx, []strata.Point{{ID: strata.NumID(1), Vector: v, Payload: strata.Payload{"title": "..."}}})
//	hits, err := coll.Search(ctx, strata.SearchRequest{Vector: q, Limit: 10, WithPayload: strata.AllPayload})
//
// # Durability
//
// Every write (upsert, delete, payload and vector updates) is appended to
// the collection's write-ahead log and returns only after the log record is
// fsynced and the write is visible to reads. Concurrent writers share
// fsyncs (group commit), so throughput grows with the number of writers. A
// crash at any moment loses no acknowledged write: on Open the log is
// replayed after the last checkpoint, a torn record at its tail is cut off,
// and damage anywhere else is reported as ErrCorruption rather than skipped.
//
// If a log write or fsync fails, the failing write returns the error and the
// collection refuses every later write with ErrReadOnly (reads keep
// working) until the database is reopened: a failed fsync is never retried,
// because the kernel may have dropped the unsynced data.
//
// # Storage
//
// New points go to an in-memory appendable segment. A background optimizer
// seals it into an immutable segment file once it holds
// OptimizersConfig.FlushThreshold points, merges small segments and rewrites
// segments with many deletions. Sealed segments are mmap'd, so reopening a
// large collection does not read or parse its vectors. Readers never wait
// for the optimizer.
//
// # Caveats
//
//   - Payload numbers come back as json.Number, which keeps 64-bit integers
//     exact; convert with Int64 or Float64.
//   - Vectors of Cosine collections are normalised on write; searches return
//     the stored (normalised) vector.
//   - Sealed segments whose vectors exceed OptimizersConfig.IndexingThresholdKB
//     get an HNSW graph, built in the background; until then, and for the
//     in-memory segment, search scans exactly. SearchRequest.Exact forces
//     the exact scan, HnswEf trades speed for recall.
//   - Filters are checked during the graph traversal; a very selective
//     filter can lower recall until the query planner arrives.
//   - One process at a time may open a data directory (ErrLocked).
package strata
