package vfs

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"sync"
)

// ErrInjected is the error the ready-made injectors return when given a nil
// error.
var ErrInjected = errors.New("vfs: injected error")

// Op is an operation an Injector may fail.
type Op uint8

// The operations of FS and File, as ErrorFS reports them to its Injector.
const (
	OpCreate   Op = iota // FS.Create
	OpOpen               // FS.Open, FS.OpenAppend
	OpRead               // File.Read, File.ReadAt
	OpWrite              // File.Write
	OpSync               // File.Sync
	OpSyncDir            // FS.SyncDir
	OpRename             // FS.Rename (path is the old name)
	OpRemove             // FS.Remove, FS.RemoveAll
	OpTruncate           // File.Truncate
	OpMkdir              // FS.MkdirAll
	OpList               // FS.List
	OpStat               // FS.Stat, File.Stat
	OpMap                // FS.Map
	OpLock               // FS.Lock
	numOps
)

var opNames = [numOps]string{
	OpCreate: "create", OpOpen: "open", OpRead: "read", OpWrite: "write",
	OpSync: "sync", OpSyncDir: "syncdir", OpRename: "rename", OpRemove: "remove",
	OpTruncate: "truncate", OpMkdir: "mkdir", OpList: "list", OpStat: "stat",
	OpMap: "map", OpLock: "lock",
}

func (o Op) String() string {
	if o < numOps {
		return opNames[o]
	}
	return fmt.Sprintf("Op(%d)", uint8(o))
}

// Injector decides, before each operation of an ErrorFS, whether it fails.
// A non-nil error fails the operation, which then has no effect (V7).
// Implementations must be safe for concurrent use.
type Injector interface {
	MaybeError(op Op, path string) error
}

// InjectorFunc adapts a function to Injector.
type InjectorFunc func(op Op, path string) error

// MaybeError calls f(op, path).
func (f InjectorFunc) MaybeError(op Op, path string) error { return f(op, path) }

// OnceAfter returns an Injector that lets n operations op on paths
// containing pathContains succeed, fails the next one with err (ErrInjected
// if err is nil), and lets everything after that succeed.
func OnceAfter(op Op, pathContains string, n int, err error) Injector {
	if err == nil {
		err = ErrInjected
	}
	return &onceAfter{op: op, sub: pathContains, left: n, err: err}
}

type onceAfter struct {
	op   Op
	sub  string
	err  error
	mu   sync.Mutex
	left int  // matching operations still to let through
	done bool // the error was returned
}

func (o *onceAfter) MaybeError(op Op, path string) error {
	if op != o.op || !strings.Contains(path, o.sub) {
		return nil
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	switch {
	case o.done:
		return nil
	case o.left > 0:
		o.left--
		return nil
	}
	o.done = true
	return o.err
}

// Always returns an Injector that fails every operation op on paths
// containing pathContains with err (ErrInjected if err is nil).
func Always(op Op, pathContains string, err error) Injector {
	if err == nil {
		err = ErrInjected
	}
	return InjectorFunc(func(o Op, path string) error {
		if o == op && strings.Contains(path, pathContains) {
			return err
		}
		return nil
	})
}

// NewErrorFS returns an FS that asks inj before every operation and, if it
// returns an error, fails the operation without calling inner (V7). The
// error is an *fs.PathError (Op is the Op's name) wrapping inj's error.
// File.Close is never failed, so tests can always release resources.
func NewErrorFS(inner FS, inj Injector) FS {
	return &errorFS{inner: inner, inj: inj}
}

type errorFS struct {
	inner FS
	inj   Injector
}

func (e *errorFS) maybe(op Op, path string) error {
	if err := e.inj.MaybeError(op, path); err != nil {
		return &fs.PathError{Op: op.String(), Path: path, Err: err}
	}
	return nil
}

func (e *errorFS) wrap(f File, err error, name string) (File, error) {
	if err != nil {
		return nil, err
	}
	return &errorFile{fs: e, f: f, name: name}, nil
}

func (e *errorFS) Create(name string) (File, error) {
	if err := e.maybe(OpCreate, name); err != nil {
		return nil, err
	}
	f, err := e.inner.Create(name)
	return e.wrap(f, err, name)
}

func (e *errorFS) Open(name string) (File, error) {
	if err := e.maybe(OpOpen, name); err != nil {
		return nil, err
	}
	f, err := e.inner.Open(name)
	return e.wrap(f, err, name)
}

func (e *errorFS) OpenAppend(name string) (File, error) {
	if err := e.maybe(OpOpen, name); err != nil {
		return nil, err
	}
	f, err := e.inner.OpenAppend(name)
	return e.wrap(f, err, name)
}

func (e *errorFS) Remove(name string) error {
	if err := e.maybe(OpRemove, name); err != nil {
		return err
	}
	return e.inner.Remove(name)
}

func (e *errorFS) RemoveAll(name string) error {
	if err := e.maybe(OpRemove, name); err != nil {
		return err
	}
	return e.inner.RemoveAll(name)
}

func (e *errorFS) Rename(oldname, newname string) error {
	if err := e.maybe(OpRename, oldname); err != nil {
		return err
	}
	return e.inner.Rename(oldname, newname)
}

func (e *errorFS) MkdirAll(dir string, perm os.FileMode) error {
	if err := e.maybe(OpMkdir, dir); err != nil {
		return err
	}
	return e.inner.MkdirAll(dir, perm)
}

func (e *errorFS) List(dir string) ([]string, error) {
	if err := e.maybe(OpList, dir); err != nil {
		return nil, err
	}
	return e.inner.List(dir)
}

func (e *errorFS) Stat(name string) (os.FileInfo, error) {
	if err := e.maybe(OpStat, name); err != nil {
		return nil, err
	}
	return e.inner.Stat(name)
}

func (e *errorFS) SyncDir(dir string) error {
	if err := e.maybe(OpSyncDir, dir); err != nil {
		return err
	}
	return e.inner.SyncDir(dir)
}

func (e *errorFS) Lock(name string) (io.Closer, error) {
	if err := e.maybe(OpLock, name); err != nil {
		return nil, err
	}
	return e.inner.Lock(name)
}

func (e *errorFS) Map(name string) ([]byte, io.Closer, error) {
	if err := e.maybe(OpMap, name); err != nil {
		return nil, nil, err
	}
	return e.inner.Map(name)
}

type errorFile struct {
	fs   *errorFS
	f    File
	name string
}

func (f *errorFile) Read(p []byte) (int, error) {
	if err := f.fs.maybe(OpRead, f.name); err != nil {
		return 0, err
	}
	return f.f.Read(p)
}

func (f *errorFile) ReadAt(p []byte, off int64) (int, error) {
	if err := f.fs.maybe(OpRead, f.name); err != nil {
		return 0, err
	}
	return f.f.ReadAt(p, off)
}

func (f *errorFile) Write(p []byte) (int, error) {
	if err := f.fs.maybe(OpWrite, f.name); err != nil {
		return 0, err
	}
	return f.f.Write(p)
}

func (f *errorFile) Sync() error {
	if err := f.fs.maybe(OpSync, f.name); err != nil {
		return err
	}
	return f.f.Sync()
}

func (f *errorFile) Truncate(size int64) error {
	if err := f.fs.maybe(OpTruncate, f.name); err != nil {
		return err
	}
	return f.f.Truncate(size)
}

func (f *errorFile) Stat() (os.FileInfo, error) {
	if err := f.fs.maybe(OpStat, f.name); err != nil {
		return nil, err
	}
	return f.f.Stat()
}

func (f *errorFile) Close() error { return f.f.Close() }
