// Package grpcapi serves Qdrant's gRPC API over a [strata.DB], so that
// Qdrant's official clients work against Strata over gRPC unchanged.
//
// It implements the server interfaces generated in
// github.com/qdrant/go-client/qdrant (Qdrant's own protocol buffer
// definitions, version [QdrantAPIVersion]; no .proto file is copied here)
// and registers the standard grpc.health.v1 service. It lives in its own
// Go module, github.com/strata-db/strata/api/grpc, so that programs that
// embed Strata do not pull in gRPC and protocol buffers.
//
// Like api/rest it is a thin adapter: every method converts the request,
// calls the root package, and converts the answer. It follows api/rest's
// decisions (defaults, unsupported options, error messages) so that both
// protocols behave alike.
//
// # Use
//
//	s := grpc.NewServer(grpc.Creds(credentials.NewTLS(tlsCfg))) // or no options
//	grpcapi.Register(s, db, grpcapi.Options{APIKey: key})
//	ln, _ := net.Listen("tcp", ":6334")
//	go s.Serve(ln)
//	...
//	s.GracefulStop()
//	db.Close()
//
// # Services
//
//   - qdrant.Qdrant: HealthCheck answers title "strata", the Qdrant API
//     version and Strata's version as commit.
//   - qdrant.Collections: List, Get (with payload_schema), Create, Update,
//     Delete, CollectionExists; ListAliases and ListCollectionAliases answer
//     empty lists (Strata has no aliases). Aliases changes, cluster setup
//     and shard keys are Unimplemented.
//   - qdrant.Points: Upsert, Delete, Get, UpdateVectors, DeleteVectors,
//     SetPayload, OverwritePayload, DeletePayload, ClearPayload,
//     CreateFieldIndex, DeleteFieldIndex, Search, SearchBatch, SearchGroups,
//     Scroll, Count, Query (prefetch, fusion, MMR, recommend), QueryBatch,
//     QueryGroups, Recommend, RecommendBatch, RecommendGroups, UpdateBatch.
//     Discover, DiscoverBatch, Facet and the distance matrices are
//     Unimplemented.
//   - qdrant.Snapshots: Create, List, Delete of collection snapshots and
//     CreateFull, ListFull, DeleteFull of full-storage snapshots (download,
//     upload and recovery are REST's: gRPC has no such calls).
//   - grpc.health.v1.Health: SERVING for "" and each Qdrant service.
//
// # Status codes
//
// As Qdrant's server: InvalidArgument for bad input (including a wrong
// vector dimension and options Strata does not support), NotFound for a
// missing collection or point, AlreadyExists for an existing collection,
// Unavailable when a collection refuses writes after a failed WAL write or
// the database is closing, DeadlineExceeded when a request's timeout runs
// out, Internal for anything else, Unauthenticated for a missing or wrong
// API key and PermissionDenied for a write with the read-only key.
// Messages are api/rest's ("Not found: Collection `x` doesn't exist!").
//
// # Deviations from Qdrant
//
//   - Authentication is checked after the request is decoded (Qdrant checks
//     it first); both health services need no key.
//   - Options Strata does not implement are accepted and ignored, or
//     refused with InvalidArgument "... is not supported by Strata", as in
//     api/rest (see its unsupported.go): e.g. quantization and on_disk are
//     ignored; shard keys, update filters, multivectors, inference, sparse
//     search, and the discover, context, order_by, formula, sample and
//     relevance_feedback queries are refused.
//     is_empty / is_null false in a field condition is refused (use the
//     condition with true in must_not).
//   - Write results report status Completed with wait=true and Acknowledged
//     without; Strata returns only once a write is durable and visible, so
//     both mean the same. Operation ids are numbered by the server process.
//   - Vectors are returned in the deprecated data / indices fields of
//     VectorOutput, as Qdrant's server fills them; every client reads those.
//   - Doubles in payloads keep a decimal point in storage, so 1.0 reads back
//     as a double, as in Qdrant.
package grpcapi
