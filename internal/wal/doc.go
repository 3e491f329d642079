// Package wal is Strata's write-ahead log: framed, checksummed records with
// consecutive sequence numbers, made durable by group commit.
//
// A collection appends one record per operation and acknowledges the
// operation only after Sync returned nil for its seq:
//
//	seq, err := log.Append(typ, payload) // under the collection's write lock
//	...                                   // release the lock
//	err = log.Sync(seq)                   // many writers at once: one fsync serves them all
//
// On start it calls Open with the seq up to which its checkpoint (the
// segment manifest) covers the log, applies the records Open replays, and
// after a new checkpoint calls TruncateBefore to drop the files it made
// obsolete. The on-disk format is drawn in record.go.
//
// # Invariants
//
// Tests and comments cite these by number (W1 … W8).
//
//   - W1 (sequence). Records have consecutive seqs, across files too; each
//     file is named after the seq of its first record (or, while it has
//     none, of the record it will get first). Open checks this and reports
//     a gap as corruption.
//   - W2 (durability). Sync(seq) returns nil only if every record with a seq
//     <= seq was covered by a successful fsync that started after the
//     record's Write returned. SyncedSeq never exceeds what such fsyncs
//     covered. Open fsyncs the last file, so replayed records are durable.
//   - W3 (group commit). At most one fsync of the active file is in flight.
//     It covers every record appended before it started. A Sync whose
//     record it covers waits for it instead of issuing its own; a Sync
//     whose record it does not cover waits too, then the first such caller
//     issues one fsync for all of them. No file is switched or closed while
//     an fsync on it is in flight.
//   - W4 (poisoning). The first failed write, fsync, or step of a rotation
//     or of TruncateBefore's directory sync poisons the log: that call and
//     every later Append, Sync and TruncateBefore return the same error,
//     which matches base.ErrReadOnly and the cause (errors.Is). Nothing is
//     retried: after a failed fsync the kernel may have dropped the dirty
//     pages, so a later "successful" fsync would prove nothing. Records
//     synced before the failure stay durable; the collection reopens the
//     log to go on.
//   - W5 (rotation). Before the log switches to a new file it fsyncs the old
//     one, then creates the new file, writes and fsyncs its header, and
//     fsyncs the directory. Hence every file but the last is complete and
//     durable, and only the last can have a torn tail. A crash during
//     rotation can leave a last file with no or a partial header and no
//     records; Open rewrites its header.
//   - W6 (recovery). Open truncates a torn tail of the last file (a short,
//     zero-filled or checksum-failing record with no valid record after it)
//     and never skips anything else: a bad record followed by a valid one,
//     a bad record in any other file, a bad file header, and a seq gap are
//     errors matching base.ErrCorruption naming the file and offset.
//   - W7 (truncation). Files are removed oldest first, and each removal is
//     made durable before the next, so the files on disk always hold a
//     contiguous range of seqs, even after a crash.
//   - W8 (checkpoint). Open's after promises that records <= after are no
//     longer needed. The log must hold every record after it, else Open
//     reports corruption; if the log holds nothing after it, Open removes
//     its files (W7) and starts a new file at after+1, keeping W1.
//
// # Caveats
//
// The rule in W6 that a valid record after a bad one is corruption can
// also fire after a crash that wrote back a later page of unsynced records
// but not an earlier one. No acknowledged record is lost in that case, but
// Open refuses the log, and an operator must look at it: that is the price
// of never dropping an acknowledged record silently.
//
// A failed fsync poisons the Log (W4), but reopening the log in the same
// process cannot tell whether the unsynced tail reached the disk: Linux may
// have dropped the dirty pages and marked them clean, so Open reads them
// from the page cache and its own fsync succeeds. Such records were never
// acknowledged, and if they are in fact missing on disk a later Open after
// a crash reports corruption rather than skipping them, but the safest
// reaction to a failed fsync is to restart the process.
//
// One Log per directory: Open takes no lock; the caller holds the data
// directory's lock (vfs.FS.Lock).
//
// Records are applied by seq, so replaying a record twice must be harmless
// to the caller: after a crash between applying records and persisting a
// checkpoint, Open replays them again.
package wal
