// Package collection is one collection's storage engine: the write-ahead
// log, the segment set (one appendable segment plus sealed ones), the
// background optimizer, and reads across segments.
//
// # Write path
//
// A write is validated by the caller, then Write:
//
//  1. under writeMu: (for operations that need existing points, first
//     waits until every earlier write is applied and checks the ids), appends
//     the encoded operation to the WAL, which assigns its sequence number, and
//     queues it in pending;
//  2. without locks: waits for an fsync covering the record (group commit:
//     concurrent writers share one fsync);
//  3. under applyMu: applies every queued operation that is durable, in
//     sequence order, to the segments.
//
// Write returns after step 3, so an acknowledged write is durable and
// visible; a write is never visible before it is durable. If a WAL write or
// fsync fails, nothing queued after the last good fsync is applied, the
// caller gets the error, and the collection refuses every later write with
// base.ErrReadOnly until it is reopened: a failed fsync is never retried.
//
// # Invariants
//
//	C1. At most one live version of a point id exists across all segments.
//	C2. Operations are applied in sequence order, each exactly once; the
//	    applied state is always a prefix of the WAL.
//	C3. The manifest's segments and deleted files reflect exactly the
//	    operations with seq <= Checkpoint; the WAL holds every record after it.
//	    Recovery = open the manifest's segments + replay the WAL after it.
//	C4. Readers take a reference to the current segment set; they never
//	    wait for the optimizer, except to copy a pointer under stateMu.
//	C5. Lock order: closeMu, writeMu, optMu, applyMu, stateMu; pendMu is a
//	    leaf.
package collection
