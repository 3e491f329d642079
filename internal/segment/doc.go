// Package segment stores points: ids, per-point sequence numbers, dense and
// sparse vectors and JSON payloads, addressed by dense uint32 offsets.
//
// A collection holds one appendable segment, which takes writes in memory
// (the write-ahead log makes it durable), and any number of sealed segments:
// immutable files, mmap'd, written once by the optimizer. Deleting a point
// from any segment sets its bit in the segment's deleted bitset (a
// tombstone); updating a point tombstones the old version and appends the new
// one to the appendable segment.
//
// Invariants:
//
//	S1. Offsets are assigned in append order and never reused in a segment.
//	S2. The data at an offset (id, seq, vectors, payload) never changes once
//	    published; only its deleted bit may go from clear to set.
//	S3. A View copies column headers under the segment's read lock; every
//	    element below View.N is immutable (S2), so reads need no lock.
//	S4. Only one goroutine (the collection's applier, or the optimizer while
//	    it holds the collection's apply lock) mutates a segment.
//	S5. Sealed segment files are immutable; each section carries a CRC32C
//	    that is verified when the file is opened.
package segment
