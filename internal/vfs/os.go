package vfs

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"

	"github.com/strata-db/strata/internal/base"
)

// Default is the operating system's file system.
//
// File.Sync is fdatasync(2) on Linux and (*os.File).Sync elsewhere. Lock is
// flock(2) where available (see lock_flock.go) plus a process-wide set of
// held paths (V5). Map is a read-only shared mmap on Unix systems and a copy
// elsewhere (see mmap_unix.go).
var Default FS = osFS{}

type osFS struct{}

// osFile is an *os.File whose Sync is fdatasync where the platform has it.
type osFile struct{ *os.File }

func (f osFile) Sync() error { return datasync(f.File) }

func (osFS) Create(name string) (File, error) {
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, err
	}
	return osFile{f}, nil
}

func (osFS) Open(name string) (File, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	return osFile{f}, nil
}

func (osFS) OpenAppend(name string) (File, error) {
	f, err := os.OpenFile(name, os.O_RDWR|os.O_APPEND, 0)
	if err != nil {
		return nil, err
	}
	return osFile{f}, nil
}

func (osFS) Remove(name string) error                    { return os.Remove(name) }
func (osFS) RemoveAll(name string) error                 { return os.RemoveAll(name) }
func (osFS) Rename(oldname, newname string) error        { return os.Rename(oldname, newname) }
func (osFS) MkdirAll(dir string, perm os.FileMode) error { return os.MkdirAll(dir, perm) }
func (osFS) Stat(name string) (os.FileInfo, error)       { return os.Stat(name) }
func (osFS) Map(name string) ([]byte, io.Closer, error)  { return mapFile(name) }
func (osFS) Lock(name string) (io.Closer, error)         { return lockFile(name) }
func (osFS) List(dir string) ([]string, error)           { return listDir(dir) }
func (osFS) SyncDir(dir string) error                    { return syncDir(dir) }

func listDir(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir) // sorted by name
	if err != nil {
		return nil, err
	}
	names := make([]string, len(entries))
	for i, e := range entries {
		names[i] = e.Name()
	}
	return names, nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	// A directory needs fsync, not fdatasync: its "data" is the entries.
	serr := d.Sync()
	cerr := d.Close()
	if serr != nil {
		return serr
	}
	return cerr
}

// heldLocks is the process-wide set of paths locked through Default (V5).
// flock(2) locks belong to open file descriptions, so whether two Locks in
// one process conflict would depend on how their descriptors came to be
// (and where flock is missing, nothing would conflict); this set makes the
// in-process answer certain.
var heldLocks struct {
	mu    sync.Mutex
	paths map[string]bool // absolute, cleaned path -> held
}

// lockFile implements osFS.Lock: the in-process set first, then the
// platform lock (flockFile), undoing the first if the second fails.
func lockFile(name string) (io.Closer, error) {
	abs, err := filepath.Abs(name)
	if err != nil {
		return nil, fmt.Errorf("vfs: lock %s: %w", name, err)
	}
	heldLocks.mu.Lock()
	if heldLocks.paths[abs] {
		heldLocks.mu.Unlock()
		return nil, fmt.Errorf("vfs: lock %s: held by this process: %w", name, base.ErrLocked)
	}
	if heldLocks.paths == nil {
		heldLocks.paths = make(map[string]bool)
	}
	heldLocks.paths[abs] = true
	heldLocks.mu.Unlock()

	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o644)
	if err == nil {
		err = flockFile(f)
		if err != nil {
			f.Close()
		}
	}
	if err != nil {
		heldLocks.mu.Lock()
		delete(heldLocks.paths, abs)
		heldLocks.mu.Unlock()
		return nil, fmt.Errorf("vfs: lock %s: %w", name, err)
	}
	return &osLock{f: f, abs: abs}, nil
}

type osLock struct {
	once sync.Once
	f    *os.File
	abs  string
}

// Close releases the lock: closing the descriptor drops the flock.
func (l *osLock) Close() error {
	var err error
	l.once.Do(func() {
		err = l.f.Close()
		heldLocks.mu.Lock()
		delete(heldLocks.paths, l.abs)
		heldLocks.mu.Unlock()
	})
	return err
}
