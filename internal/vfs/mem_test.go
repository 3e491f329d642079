package vfs

import (
	"errors"
	"fmt"
	"io/fs"
	"sync"
	"testing"
)

// durable returns name's contents in a crash clone of m, or ok=false if the
// file does not exist there.
func durable(t *testing.T, m *MemFS, name string) (string, bool) {
	t.Helper()
	c := m.CrashClone()
	b, err := ReadFile(c, name)
	if errors.Is(err, fs.ErrNotExist) {
		return "", false
	}
	if err != nil {
		t.Fatal(err)
	}
	return string(b), true
}

func TestMemCrashContents(t *testing.T) {
	m := NewMem()
	f, err := m.Create("f")
	if err != nil {
		t.Fatal(err)
	}
	if err := m.SyncDir(""); err != nil { // the entry is durable, empty
		t.Fatal(err)
	}
	if got, ok := durable(t, m, "f"); !ok || got != "" {
		t.Fatalf("after SyncDir: %q %v", got, ok)
	}
	f.Write([]byte("abc"))
	if got, _ := durable(t, m, "f"); got != "" {
		t.Fatalf("unsynced write survived: %q", got)
	}
	f.Sync()
	f.Write([]byte("def"))
	if got, _ := durable(t, m, "f"); got != "abc" { // V1
		t.Fatalf("got %q, want the synced abc", got)
	}
	f.Sync()
	if got, _ := durable(t, m, "f"); got != "abcdef" {
		t.Fatalf("got %q", got)
	}
	// Truncation is contents too: undone unless synced.
	f.Truncate(1)
	if got, _ := durable(t, m, "f"); got != "abcdef" {
		t.Fatalf("unsynced truncate survived: %q", got)
	}
	f.Close()
	// Create of an existing file truncates it, also undone unless synced.
	g, _ := m.Create("f")
	g.Close()
	if got, _ := durable(t, m, "f"); got != "abcdef" {
		t.Fatalf("unsynced re-create survived: %q", got)
	}
}

func TestMemCrashEntries(t *testing.T) {
	m := NewMem()
	mustWrite(t, m, "new", []byte("synced data")) // Sync, but no SyncDir
	if _, ok := durable(t, m, "new"); ok {
		t.Fatal("file whose entry was never synced survived (V2)")
	}
	m.SyncDir("/")
	if got, ok := durable(t, m, "new"); !ok || got != "synced data" {
		t.Fatalf("after SyncDir: %q %v", got, ok)
	}

	// Remove is undone without SyncDir.
	m.Remove("new")
	if _, ok := durable(t, m, "new"); !ok {
		t.Fatal("unsynced remove survived")
	}
	m.SyncDir("/")
	if _, ok := durable(t, m, "new"); ok {
		t.Fatal("synced remove undone")
	}

	// Directories: MkdirAll alone is not durable; MkdirAllSync is.
	m.MkdirAll("a/b", 0o755)
	mustWrite(t, m, "a/b/f", []byte("x"))
	m.SyncDir("a/b")
	if _, ok := durable(t, m, "a/b/f"); ok {
		t.Fatal("file in a directory whose own entry is not durable survived")
	}
	if err := MkdirAllSync(m, "c/d", 0o755); err != nil {
		t.Fatal(err)
	}
	mustWrite(t, m, "c/d/f", []byte("y"))
	m.SyncDir("c/d")
	if got, ok := durable(t, m, "c/d/f"); !ok || got != "y" {
		t.Fatalf("after MkdirAllSync: %q %v", got, ok)
	}
}

func TestMemCrashRename(t *testing.T) {
	m := NewMem()
	mustWrite(t, m, "dst", []byte("old"))
	m.SyncDir("/")
	mustWrite(t, m, "tmp", []byte("new"))
	if err := m.Rename("tmp", "dst"); err != nil {
		t.Fatal(err)
	}
	if got := mustRead(t, m, "dst"); got == nil || string(got) != "new" {
		t.Fatalf("live view after rename: %q", got)
	}
	if got, _ := durable(t, m, "dst"); got != "old" {
		t.Fatalf("rename without SyncDir survived: dst=%q", got)
	}
	m.SyncDir("/")
	if got, _ := durable(t, m, "dst"); got != "new" {
		t.Fatalf("after SyncDir: dst=%q", got)
	}
	if _, ok := durable(t, m, "tmp"); ok {
		t.Fatal("tmp survived a synced rename")
	}

	// A renamed node keeps its synced contents, not its current ones.
	f, _ := m.OpenAppend("dst")
	f.Write([]byte("-unsynced"))
	f.Close()
	m.Rename("dst", "dst2")
	m.SyncDir("/")
	if got, _ := durable(t, m, "dst2"); got != "new" {
		t.Fatalf("dst2 = %q, want the synced contents", got)
	}
}

func TestMemCloneIndependent(t *testing.T) {
	m := NewMem()
	mustWrite(t, m, "f", []byte("abc"))
	m.SyncDir("/")
	c := m.CrashClone()
	mustWrite(t, c, "f", []byte("changed"))
	if got := mustRead(t, m, "f"); string(got) != "abc" {
		t.Fatalf("original changed through its clone: %q", got)
	}
	if l, err := c.Lock("LOCK"); err != nil { // locks are not inherited
		t.Fatal(err)
	} else {
		l.Close()
	}
}

func TestMemOpenAfterRemove(t *testing.T) {
	m := NewMem()
	f, _ := m.Create("f")
	m.Remove("f")
	if _, err := f.Write([]byte("still works")); err != nil {
		t.Fatal(err)
	}
	var buf [5]byte
	if n, err := f.ReadAt(buf[:], 0); n != 5 || err != nil {
		t.Fatalf("ReadAt: %d %v", n, err)
	}
	f.Close()
	if err := f.Close(); !errors.Is(err, fs.ErrClosed) {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := f.Write(nil); !errors.Is(err, fs.ErrClosed) {
		t.Fatalf("Write after Close: %v", err)
	}
}

func TestMemPaths(t *testing.T) {
	m := NewMem()
	if err := m.MkdirAll("/x/y/", 0o755); err != nil {
		t.Fatal(err)
	}
	mustWrite(t, m, "x//y/./f", []byte("1"))
	if got := mustRead(t, m, "/x/y/f"); string(got) != "1" {
		t.Fatalf("got %q", got)
	}
	if _, err := m.Create("nodir/f"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Create in a missing directory: %v", err)
	}
	if _, err := m.Create("x/y/f/g"); err == nil {
		t.Fatal("Create below a file succeeded")
	}
	if _, err := m.Open("../etc"); err == nil {
		t.Fatal("path above the root accepted")
	}
	if err := m.Rename("x", "x/y/z"); err == nil {
		t.Fatal("renaming a directory into itself succeeded")
	}
	if err := m.Rename("x/y", "x2"); err != nil {
		t.Fatal(err)
	}
	if got := mustRead(t, m, "x2/f"); string(got) != "1" {
		t.Fatalf("after directory rename: %q", got)
	}
	if fi, err := m.Stat("/"); err != nil || !fi.IsDir() {
		t.Fatalf("Stat of root: %v %v", fi, err)
	}
}

func TestMemConcurrent(t *testing.T) {
	m := NewMem()
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			name := fmt.Sprintf("f%d", i)
			f, err := m.Create(name)
			if err != nil {
				t.Error(err)
				return
			}
			for j := range 100 {
				f.Write([]byte{byte(j)})
				if j%10 == 0 {
					f.Sync()
					m.SyncDir("")
					_ = m.CrashClone()
				}
			}
			f.Close()
			m.List("")
		}()
	}
	wg.Wait()
	names, _ := m.List("")
	if len(names) != 8 {
		t.Fatalf("List: %v", names)
	}
}

// TestWriteFileAtomicCrash fails every step of WriteFileAtomic in turn and
// checks that a crash right after leaves the old or the new contents, and
// that after success the new contents are durable.
func TestWriteFileAtomicCrash(t *testing.T) {
	for _, op := range []Op{OpCreate, OpWrite, OpSync, OpRename, OpSyncDir} {
		t.Run(op.String(), func(t *testing.T) {
			m := NewMem()
			if err := WriteFileAtomic(m, "M", []byte("old")); err != nil {
				t.Fatal(err)
			}
			efs := NewErrorFS(m, Always(op, "", nil))
			err := WriteFileAtomic(efs, "M", []byte("new"))
			if !errors.Is(err, ErrInjected) {
				t.Fatalf("err = %v, want ErrInjected", err)
			}
			got, ok := durable(t, m, "M")
			if !ok || (got != "old" && got != "new") {
				t.Fatalf("after crash: %q %v", got, ok)
			}
		})
	}
	m := NewMem()
	WriteFileAtomic(m, "M", []byte("old"))
	WriteFileAtomic(m, "M", []byte("new"))
	if got, _ := durable(t, m, "M"); got != "new" {
		t.Fatalf("after success and crash: %q", got)
	}
}
