// Package conformance checks Strata's REST API through Qdrant's official
// JavaScript client (@qdrant/js-client-rest) and LangChain's Qdrant vector
// store (@langchain/qdrant, which drives that client), both pinned by
// js/package-lock.json.
//
// It holds no code, only a test (Unix only): TestQdrantJSClient builds the
// strata binary (with the race detector when the test runs with it), serves
// a temporary data directory with it, and runs the Node.js test files under
// js/ against it with Node's built-in test runner:
//
//   - js/test/*.test.js: collections, points, payloads, payload indexes and
//     filters, search, query (prefetch, fusion, MMR, recommend, groups),
//     snapshots, metrics and telemetry, errors, and LangChain's vector
//     store (langchain.test.js); js/test/auth.test.js against a second
//     server started with API keys;
//   - js/restart/before.js, then a restart of the server (SIGTERM, a new
//     process on the same directory), then js/restart/after.js.
//
// The test installs the client itself ("npm ci" in js/ when node_modules is
// missing or older than the lock file), so the project's one test command,
// go test -race -count=1 ./..., runs it too. Without node or npm on PATH it
// skips, unless STRATA_REQUIRE_CONFORMANCE=1 is set (as CI does), which
// makes that a failure.
//
// Tests of Qdrant features that Strata documents as not implemented yet are
// marked todo (js/test/unimplemented.test.js): they run and report, but do
// not fail.
//
// To run the JavaScript tests by hand against a running server:
//
//	cd conformance/js && npm ci
//	STRATA_URL=http://127.0.0.1:6333 node --test test/*.test.js
//
// (auth.test.js skips unless STRATA_API_KEY, and optionally
// STRATA_READ_ONLY_API_KEY, give the server's keys.)
package conformance
