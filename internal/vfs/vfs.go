package vfs

import (
	"io"
	"os"
)

// File is an open file.
type File interface {
	io.Reader
	io.ReaderAt
	io.Writer
	io.Closer
	// Sync flushes the file's data to stable storage (fdatasync on Linux).
	Sync() error
	// Truncate changes the file's size.
	Truncate(size int64) error
	// Stat returns the file's metadata; Size is what callers use.
	Stat() (os.FileInfo, error)
}

// FS is a file system.
type FS interface {
	// Create creates or truncates the named file for reading and writing.
	Create(name string) (File, error)
	// Open opens the named file read-only.
	Open(name string) (File, error)
	// OpenAppend opens an existing file for writing at its end (and reading).
	OpenAppend(name string) (File, error)
	// Remove removes a file or an empty directory.
	Remove(name string) error
	// RemoveAll removes a directory tree; it is not an error if it is missing.
	RemoveAll(name string) error
	// Rename atomically renames oldname to newname, replacing newname.
	Rename(oldname, newname string) error
	// MkdirAll creates a directory and its parents.
	MkdirAll(dir string, perm os.FileMode) error
	// List returns the names (not paths) of the entries of dir, sorted.
	List(dir string) ([]string, error)
	// Stat returns metadata of the named file.
	Stat(name string) (os.FileInfo, error)
	// SyncDir makes dir's entries durable.
	SyncDir(dir string) error
	// Lock takes an exclusive advisory lock on the named file, creating it.
	// It fails with an error matching ErrLocked (from package base) if
	// another process or another Lock in this process holds it.
	Lock(name string) (io.Closer, error)
	// Map returns the whole named file's contents as a read-only byte slice:
	// an mmap on the OS file system, a copy on others. The slice is valid
	// until the returned Closer is closed.
	Map(name string) ([]byte, io.Closer, error)
}
