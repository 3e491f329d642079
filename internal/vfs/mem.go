package vfs

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/strata-db/strata/internal/base"
)

// MemFS is an in-memory FS with a crash model (V4): every file keeps the
// contents of its last successful Sync apart from its current contents, and
// every directory keeps the entries of its last successful SyncDir apart
// from its current entries. CrashClone returns what a machine crash would
// leave behind.
//
// Names are slash-separated; "/a/b", "a/b" and "a//b/" name the same file,
// and "", "." and "/" name the root directory. MemFS is safe for concurrent
// use. Its zero value is not usable; call NewMem.
type MemFS struct {
	// mu protects the whole tree (every memNode reachable from root), the
	// position of every open memFile, and locks. It is a single lock because
	// MemFS exists for tests, where simplicity beats throughput.
	mu    sync.Mutex
	root  *memNode
	locks map[string]bool // cleaned path -> held by a Lock
}

// memNode is a file or a directory: an inode. Directory entries point to
// nodes, so a renamed file keeps its node, and with it its synced contents.
type memNode struct {
	isDir   bool
	modTime time.Time

	// Files.
	data   []byte // current contents
	synced []byte // contents as of the last successful Sync; never aliases data

	// Directories.
	children       map[string]*memNode // current entries
	syncedChildren map[string]*memNode // entries as of the last successful SyncDir
}

var (
	errIsDir    = errors.New("is a directory")
	errNotDir   = errors.New("not a directory")
	errNotEmpty = errors.New("directory not empty")
	errReadOnly = errors.New("file not open for writing")
)

// NewMem returns an empty in-memory file system; only the root directory
// exists.
func NewMem() *MemFS {
	return &MemFS{root: newDirNode(), locks: make(map[string]bool)}
}

func newDirNode() *memNode {
	return &memNode{
		isDir:          true,
		modTime:        time.Now(),
		children:       make(map[string]*memNode),
		syncedChildren: make(map[string]*memNode),
	}
}

// CrashClone returns a new MemFS holding only what was durable in fs (V4):
// starting at the root, each directory holds the entries of its last
// SyncDir, and each file the contents of its last Sync. A file created but
// never made durable by SyncDir of its directory is absent; a rename whose
// directories were not synced is undone. No locks are held in the clone.
func (m *MemFS) CrashClone() *MemFS {
	m.mu.Lock()
	defer m.mu.Unlock()
	// memo keeps node identity: a node reachable through two durable
	// entries (say, a cross-directory rename with only the target synced)
	// stays one node, like a hard link.
	memo := make(map[*memNode]*memNode)
	var clone func(n *memNode) *memNode
	clone = func(n *memNode) *memNode {
		if c, ok := memo[n]; ok {
			return c
		}
		c := &memNode{isDir: n.isDir, modTime: n.modTime}
		memo[n] = c
		if n.isDir {
			c.children = make(map[string]*memNode, len(n.syncedChildren))
			for name, child := range n.syncedChildren {
				c.children[name] = clone(child)
			}
			c.syncedChildren = maps.Clone(c.children)
		} else {
			c.data = slices.Clone(n.synced)
			c.synced = slices.Clone(n.synced)
		}
		return c
	}
	return &MemFS{root: clone(m.root), locks: make(map[string]bool)}
}

// String lists the tree, for test failures: one line per entry, with the
// current size and the synced size of files and a mark on entries that are
// not durable.
func (m *MemFS) String() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var b strings.Builder
	var walk func(dir *memNode, prefix string)
	walk = func(dir *memNode, prefix string) {
		for _, name := range slices.Sorted(maps.Keys(dir.children)) {
			n := dir.children[name]
			mark := ""
			if dir.syncedChildren[name] != n {
				mark = " (entry not synced)"
			}
			if n.isDir {
				fmt.Fprintf(&b, "%s%s/%s\n", prefix, name, mark)
				walk(n, prefix+name+"/")
			} else {
				fmt.Fprintf(&b, "%s%s %d bytes, %d synced%s\n", prefix, name, len(n.data), len(n.synced), mark)
			}
		}
	}
	walk(m.root, "")
	return b.String()
}

// split cleans name into its components; the root has none.
func split(name string) ([]string, error) {
	p := strings.Trim(path.Clean("/"+name), "/")
	if p == "" {
		return nil, nil
	}
	parts := strings.Split(p, "/")
	for _, part := range parts {
		if part == ".." { // only possible for paths that climb above the root
			return nil, fs.ErrInvalid
		}
	}
	return parts, nil
}

func cleanName(name string) string { return strings.Trim(path.Clean("/"+name), "/") }

// lookup returns the node at name. Call with m.mu held.
func (m *MemFS) lookup(op, name string) (*memNode, error) {
	parts, err := split(name)
	if err != nil {
		return nil, &fs.PathError{Op: op, Path: name, Err: err}
	}
	n := m.root
	for _, part := range parts {
		if !n.isDir {
			return nil, &fs.PathError{Op: op, Path: name, Err: errNotDir}
		}
		child, ok := n.children[part]
		if !ok {
			return nil, &fs.PathError{Op: op, Path: name, Err: fs.ErrNotExist}
		}
		n = child
	}
	return n, nil
}

// lookupParent returns the directory that holds name's entry and the
// entry's name. Call with m.mu held.
func (m *MemFS) lookupParent(op, name string) (*memNode, string, error) {
	parts, err := split(name)
	if err != nil {
		return nil, "", &fs.PathError{Op: op, Path: name, Err: err}
	}
	if len(parts) == 0 {
		return nil, "", &fs.PathError{Op: op, Path: name, Err: fs.ErrInvalid} // the root has no parent
	}
	dir, err := m.lookup(op, strings.Join(parts[:len(parts)-1], "/"))
	if err != nil {
		return nil, "", &fs.PathError{Op: op, Path: name, Err: errors.Unwrap(err)}
	}
	if !dir.isDir {
		return nil, "", &fs.PathError{Op: op, Path: name, Err: errNotDir}
	}
	return dir, parts[len(parts)-1], nil
}

// Create creates or truncates the named file. Truncating an existing file
// keeps its node: until the next Sync its synced contents are unchanged.
func (m *MemFS) Create(name string) (File, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	dir, base, err := m.lookupParent("open", name)
	if err != nil {
		return nil, err
	}
	n, ok := dir.children[base]
	switch {
	case ok && n.isDir:
		return nil, &fs.PathError{Op: "open", Path: name, Err: errIsDir}
	case ok:
		n.data = n.data[:0]
		n.modTime = time.Now()
	default:
		n = &memNode{modTime: time.Now()}
		dir.children[base] = n
	}
	return &memFile{fs: m, n: n, name: name, write: true}, nil
}

// Open opens the named file (or directory) read-only.
func (m *MemFS) Open(name string) (File, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n, err := m.lookup("open", name)
	if err != nil {
		return nil, err
	}
	return &memFile{fs: m, n: n, name: name}, nil
}

// OpenAppend opens an existing file for reading and for writing at its end.
func (m *MemFS) OpenAppend(name string) (File, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n, err := m.lookup("open", name)
	if err != nil {
		return nil, err
	}
	if n.isDir {
		return nil, &fs.PathError{Op: "open", Path: name, Err: errIsDir}
	}
	return &memFile{fs: m, n: n, name: name, write: true, append: true}, nil
}

// Remove removes a file or an empty directory. Open files stay usable.
func (m *MemFS) Remove(name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	dir, base, err := m.lookupParent("remove", name)
	if err != nil {
		return err
	}
	n, ok := dir.children[base]
	if !ok {
		return &fs.PathError{Op: "remove", Path: name, Err: fs.ErrNotExist}
	}
	if n.isDir && len(n.children) > 0 {
		return &fs.PathError{Op: "remove", Path: name, Err: errNotEmpty}
	}
	delete(dir.children, base)
	return nil
}

// RemoveAll removes name and everything below it; a missing name is not an
// error. RemoveAll of the root empties it.
func (m *MemFS) RemoveAll(name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	parts, err := split(name)
	if err != nil {
		return &fs.PathError{Op: "removeall", Path: name, Err: err}
	}
	if len(parts) == 0 {
		clear(m.root.children)
		return nil
	}
	dir, base, err := m.lookupParent("removeall", name)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return err
	}
	delete(dir.children, base)
	return nil
}

// Rename moves oldname's entry to newname, replacing a file there.
func (m *MemFS) Rename(oldname, newname string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	odir, obase, err := m.lookupParent("rename", oldname)
	if err != nil {
		return err
	}
	n, ok := odir.children[obase]
	if !ok {
		return &fs.PathError{Op: "rename", Path: oldname, Err: fs.ErrNotExist}
	}
	ndir, nbase, err := m.lookupParent("rename", newname)
	if err != nil {
		return err
	}
	if odir == ndir && obase == nbase {
		return nil
	}
	if n.isDir {
		oc, nc := cleanName(oldname), cleanName(newname)
		if strings.HasPrefix(nc, oc+"/") {
			return &os.LinkError{Op: "rename", Old: oldname, New: newname, Err: fs.ErrInvalid}
		}
	}
	if target, ok := ndir.children[nbase]; ok {
		switch {
		case target.isDir && !n.isDir:
			return &os.LinkError{Op: "rename", Old: oldname, New: newname, Err: errIsDir}
		case !target.isDir && n.isDir:
			return &os.LinkError{Op: "rename", Old: oldname, New: newname, Err: errNotDir}
		case target.isDir && len(target.children) > 0:
			return &os.LinkError{Op: "rename", Old: oldname, New: newname, Err: errNotEmpty}
		}
	}
	delete(odir.children, obase)
	ndir.children[nbase] = n
	return nil
}

// MkdirAll creates dir and any missing parents. The new entries are not
// durable until their parents are synced (V2); see MkdirAllSync.
func (m *MemFS) MkdirAll(dir string, _ os.FileMode) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	parts, err := split(dir)
	if err != nil {
		return &fs.PathError{Op: "mkdir", Path: dir, Err: err}
	}
	n := m.root
	for _, part := range parts {
		child, ok := n.children[part]
		if !ok {
			child = newDirNode()
			n.children[part] = child
		} else if !child.isDir {
			return &fs.PathError{Op: "mkdir", Path: dir, Err: errNotDir}
		}
		n = child
	}
	return nil
}

// List returns the sorted names of dir's current entries.
func (m *MemFS) List(dir string) ([]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n, err := m.lookup("readdir", dir)
	if err != nil {
		return nil, err
	}
	if !n.isDir {
		return nil, &fs.PathError{Op: "readdir", Path: dir, Err: errNotDir}
	}
	return slices.Sorted(maps.Keys(n.children)), nil
}

// Stat returns metadata of the named file or directory.
func (m *MemFS) Stat(name string) (os.FileInfo, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n, err := m.lookup("stat", name)
	if err != nil {
		return nil, err
	}
	return n.info(path.Base(cleanName(name))), nil
}

// SyncDir makes dir's current entries durable (V2).
func (m *MemFS) SyncDir(dir string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	n, err := m.lookup("sync", dir)
	if err != nil {
		return err
	}
	if !n.isDir {
		return &fs.PathError{Op: "sync", Path: dir, Err: errNotDir}
	}
	n.syncedChildren = maps.Clone(n.children)
	return nil
}

// Lock takes an in-process exclusive lock on name, creating the file if it
// is missing (without truncating it).
func (m *MemFS) Lock(name string) (io.Closer, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	key := cleanName(name)
	if m.locks[key] {
		return nil, fmt.Errorf("vfs: lock %s: %w", name, base.ErrLocked)
	}
	dir, base, err := m.lookupParent("open", name)
	if err != nil {
		return nil, err
	}
	if n, ok := dir.children[base]; !ok {
		dir.children[base] = &memNode{modTime: time.Now()}
	} else if n.isDir {
		return nil, &fs.PathError{Op: "open", Path: name, Err: errIsDir}
	}
	m.locks[key] = true
	return &memLock{fs: m, key: key}, nil
}

type memLock struct {
	once sync.Once
	fs   *MemFS
	key  string
}

func (l *memLock) Close() error {
	l.once.Do(func() {
		l.fs.mu.Lock()
		delete(l.fs.locks, l.key)
		l.fs.mu.Unlock()
	})
	return nil
}

// Map returns a copy of the named file's current contents.
func (m *MemFS) Map(name string) ([]byte, io.Closer, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n, err := m.lookup("mmap", name)
	if err != nil {
		return nil, nil, err
	}
	if n.isDir {
		return nil, nil, &fs.PathError{Op: "mmap", Path: name, Err: errIsDir}
	}
	data := make([]byte, len(n.data))
	copy(data, n.data)
	return data, nopCloser{}, nil
}

func (n *memNode) info(name string) os.FileInfo {
	fi := memFileInfo{name: name, size: int64(len(n.data)), mode: 0o644, modTime: n.modTime}
	if n.isDir {
		fi.size = 0
		fi.mode = fs.ModeDir | 0o755
	}
	return fi
}

type memFileInfo struct {
	name    string
	size    int64
	mode    os.FileMode
	modTime time.Time
}

func (fi memFileInfo) Name() string       { return fi.name }
func (fi memFileInfo) Size() int64        { return fi.size }
func (fi memFileInfo) Mode() os.FileMode  { return fi.mode }
func (fi memFileInfo) ModTime() time.Time { return fi.modTime }
func (fi memFileInfo) IsDir() bool        { return fi.mode.IsDir() }
func (fi memFileInfo) Sys() any           { return nil }

// memFile is an open MemFS file. Its position is protected by fs.mu.
type memFile struct {
	fs     *MemFS
	n      *memNode
	name   string
	pos    int64
	write  bool // opened by Create or OpenAppend
	append bool // every Write goes to the end (OpenAppend)
	closed bool
}

func (f *memFile) check(op string, write bool) error {
	switch {
	case f.closed:
		return &fs.PathError{Op: op, Path: f.name, Err: fs.ErrClosed}
	case f.n.isDir && op != "stat" && op != "sync":
		return &fs.PathError{Op: op, Path: f.name, Err: errIsDir}
	case write && !f.write:
		return &fs.PathError{Op: op, Path: f.name, Err: errReadOnly}
	}
	return nil
}

func (f *memFile) Read(p []byte) (int, error) {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if err := f.check("read", false); err != nil {
		return 0, err
	}
	if f.pos >= int64(len(f.n.data)) {
		return 0, io.EOF
	}
	k := copy(p, f.n.data[f.pos:])
	f.pos += int64(k)
	return k, nil
}

func (f *memFile) ReadAt(p []byte, off int64) (int, error) {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if err := f.check("read", false); err != nil {
		return 0, err
	}
	if off < 0 {
		return 0, &fs.PathError{Op: "read", Path: f.name, Err: fs.ErrInvalid}
	}
	if off >= int64(len(f.n.data)) {
		return 0, io.EOF
	}
	k := copy(p, f.n.data[off:])
	if k < len(p) {
		return k, io.EOF
	}
	return k, nil
}

func (f *memFile) Write(p []byte) (int, error) {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if err := f.check("write", true); err != nil {
		return 0, err
	}
	n := f.n
	if f.append {
		f.pos = int64(len(n.data))
	}
	end := f.pos + int64(len(p))
	if end > int64(len(n.data)) {
		n.data = resize(n.data, end) // zero-fills any hole
	}
	copy(n.data[f.pos:], p)
	f.pos = end
	n.modTime = time.Now()
	return len(p), nil
}

// Sync makes the file's current contents its durable contents (V1).
func (f *memFile) Sync() error {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if err := f.check("sync", false); err != nil {
		return err
	}
	if !f.n.isDir {
		f.n.synced = slices.Clone(f.n.data)
		if f.n.synced == nil {
			f.n.synced = []byte{}
		}
	}
	return nil
}

func (f *memFile) Truncate(size int64) error {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if err := f.check("truncate", true); err != nil {
		return err
	}
	if size < 0 {
		return &fs.PathError{Op: "truncate", Path: f.name, Err: fs.ErrInvalid}
	}
	n := f.n
	n.data = resize(n.data, size)
	n.modTime = time.Now()
	return nil
}

func (f *memFile) Stat() (os.FileInfo, error) {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if err := f.check("stat", false); err != nil {
		return nil, err
	}
	return f.n.info(path.Base(cleanName(f.name))), nil
}

func (f *memFile) Close() error {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if f.closed {
		return &fs.PathError{Op: "close", Path: f.name, Err: fs.ErrClosed}
	}
	f.closed = true
	return nil
}

// resize returns b with length size; bytes past the old length are zero,
// even where b's spare capacity holds bytes from before a truncation.
func resize(b []byte, size int64) []byte {
	old := len(b)
	if size <= int64(old) {
		return b[:size]
	}
	b = slices.Grow(b, int(size)-old)[:size]
	clear(b[old:])
	return b
}
