// Package vfs is Strata's file-system seam. Every byte Strata persists goes
// through an FS, so tests can run the engine on an in-memory file system and
// inject failures (a failing write or fsync) at chosen points.
//
// Three implementations: Default (the operating system), NewMem (in memory,
// with a crash model: data not synced is lost by CrashClone), and NewErrorFS
// (wraps another FS and fails the operations an Injector picks). Helpers on
// top of any FS: WriteFileAtomic, ReadFile and MkdirAllSync.
//
// Contract:
//   - Names are slash-separated paths; implementations use them as given.
//   - File.Sync makes the file's contents durable; FS.SyncDir makes the
//     directory's entries (creates, renames, removes) durable.
//   - An error from Sync is final for that file: callers must not retry it
//     and assume success (see fsyncgate); Strata's WAL stops accepting writes.
//
// # Invariants
//
// Tests and comments cite these by number (V1 … V7).
//
//   - V1 (durable contents). After File.Sync returns nil, the file's
//     contents as of the start of that Sync survive a crash, provided the
//     file's directory entry is durable (V2). Nothing written after the last
//     successful Sync is promised to survive. On Linux, Default's Sync is
//     fdatasync(2): it also persists the file size, but not other metadata.
//   - V2 (durable entries). A create, rename or remove is durable only after
//     SyncDir of the directory that holds the entry returned nil. A rename
//     across directories needs SyncDir of both. MkdirAll is no exception:
//     MkdirAllSync does the SyncDirs for the directories it creates.
//   - V3 (no silent retry). No function in this package retries a failed
//     Sync or SyncDir, or reports success after one failed.
//   - V4 (crash model). MemFS.CrashClone returns exactly what V1 and V2
//     promise: each directory holds the entries of its last successful
//     SyncDir (the root directory's entries too), and each file the contents
//     of its last successful Sync (empty if it was never synced).
//   - V5 (locks). Lock excludes other processes (flock on Linux, macOS and
//     the BSDs) and other Lock calls in this process on the same path. The
//     second part does not rest on flock, whose locks belong to open file
//     descriptions (a descriptor shared by dup or fork shares the lock), but
//     on a process-wide set of held paths; on other platforms that set is
//     all there is. Closing the returned Closer releases the lock; closing
//     it twice is harmless.
//   - V6 (mappings). Map's slice must not be written to and must not be used
//     after the Closer is closed. An empty file maps to an empty, non-nil
//     slice. The mapping is of the file as it was when Map was called; on
//     the OS FS later writes may show through, so map only immutable files.
//   - V7 (injected failures). An ErrorFS operation that an Injector fails
//     has no effect on the inner FS: a failed Write writes nothing, a failed
//     Sync syncs nothing. The error wraps the injector's error in an
//     *fs.PathError naming the operation and the path.
//
// # Caveats
//
// MemFS is a model, not an emulator: it keeps whole-file contents per Sync,
// so it never produces the torn or reordered sector writes that a real disk
// may; tests that need a torn tail write one on purpose.
package vfs
