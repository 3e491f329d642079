package vfs

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"path"
	"slices"
	"testing"

	"github.com/strata-db/strata/internal/base"
)

// forEachFS runs the same conformance checks on every implementation.
func forEachFS(t *testing.T, f func(t *testing.T, fsys FS, dir string)) {
	t.Run("os", func(t *testing.T) { f(t, Default, t.TempDir()) })
	t.Run("mem", func(t *testing.T) {
		m := NewMem()
		if err := m.MkdirAll("/data", 0o755); err != nil {
			t.Fatal(err)
		}
		f(t, m, "/data")
	})
	t.Run("errorfs", func(t *testing.T) {
		efs := NewErrorFS(NewMem(), InjectorFunc(func(Op, string) error { return nil }))
		if err := efs.MkdirAll("data", 0o755); err != nil {
			t.Fatal(err)
		}
		f(t, efs, "data")
	})
}

func mustWrite(t *testing.T, fsys FS, name string, data []byte) {
	t.Helper()
	f, err := fsys.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

func mustRead(t *testing.T, fsys FS, name string) []byte {
	t.Helper()
	b, err := ReadFile(fsys, name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestBasicOps(t *testing.T) {
	forEachFS(t, func(t *testing.T, fsys FS, dir string) {
		if err := fsys.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		a, b := path.Join(dir, "a"), path.Join(dir, "b")
		mustWrite(t, fsys, a, []byte("hello"))
		if got := mustRead(t, fsys, a); string(got) != "hello" {
			t.Fatalf("read %q", got)
		}
		fi, err := fsys.Stat(a)
		if err != nil || fi.Size() != 5 || fi.IsDir() || fi.Name() != "a" {
			t.Fatalf("stat: %v %v", fi, err)
		}

		// OpenAppend writes at the end even after a read moved the offset.
		f, err := fsys.OpenAppend(a)
		if err != nil {
			t.Fatal(err)
		}
		var two [2]byte
		if _, err := io.ReadFull(f, two[:]); err != nil || string(two[:]) != "he" {
			t.Fatalf("read %q %v", two, err)
		}
		if _, err := f.Write([]byte(", world")); err != nil {
			t.Fatal(err)
		}
		var at [5]byte
		if n, err := f.ReadAt(at[:], 7); n != 5 || err != nil || string(at[:]) != "world" {
			t.Fatalf("ReadAt: %d %v %q", n, err, at)
		}
		if n, err := f.ReadAt(at[:], 10); n != 2 || err != io.EOF {
			t.Fatalf("ReadAt past end: %d %v", n, err)
		}
		// Truncate, then grow again: the hole must read as zeros.
		if err := f.Truncate(3); err != nil {
			t.Fatal(err)
		}
		if err := f.Truncate(6); err != nil {
			t.Fatal(err)
		}
		if fi, err := f.Stat(); err != nil || fi.Size() != 6 {
			t.Fatalf("stat after truncate: %v %v", fi, err)
		}
		if _, err := f.Write([]byte("!")); err != nil {
			t.Fatal(err)
		}
		if err := f.Sync(); err != nil {
			t.Fatal(err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
		if got := mustRead(t, fsys, a); string(got) != "hel\x00\x00\x00!" {
			t.Fatalf("after truncate: %q", got)
		}

		// A read-only file refuses writes.
		ro, err := fsys.Open(a)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ro.Write([]byte("x")); err == nil {
			t.Fatal("write to read-only file succeeded")
		}
		ro.Close()

		// Rename replaces; List is sorted; Remove and RemoveAll.
		mustWrite(t, fsys, b, []byte("bbb"))
		if err := fsys.Rename(b, a); err != nil {
			t.Fatal(err)
		}
		if got := mustRead(t, fsys, a); string(got) != "bbb" {
			t.Fatalf("after rename: %q", got)
		}
		if _, err := fsys.Stat(b); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("old name after rename: %v", err)
		}
		sub := path.Join(dir, "sub", "deeper")
		if err := fsys.MkdirAll(sub, 0o755); err != nil {
			t.Fatal(err)
		}
		mustWrite(t, fsys, path.Join(sub, "c"), nil)
		names, err := fsys.List(dir)
		if err != nil || !slices.Equal(names, []string{"a", "sub"}) {
			t.Fatalf("List: %v %v", names, err)
		}
		if err := fsys.Remove(path.Join(dir, "sub")); err == nil {
			t.Fatal("Remove of a non-empty directory succeeded")
		}
		if err := fsys.RemoveAll(path.Join(dir, "sub")); err != nil {
			t.Fatal(err)
		}
		if err := fsys.RemoveAll(path.Join(dir, "missing")); err != nil {
			t.Fatalf("RemoveAll of a missing path: %v", err)
		}
		if err := fsys.Remove(a); err != nil {
			t.Fatal(err)
		}
		if _, err := fsys.Open(a); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("open removed: %v", err)
		}
		if err := fsys.SyncDir(dir); err != nil {
			t.Fatal(err)
		}
		if names, err := fsys.List(dir); err != nil || len(names) != 0 {
			t.Fatalf("List of empty dir: %v %v", names, err)
		}
	})
}

func TestMap(t *testing.T) {
	forEachFS(t, func(t *testing.T, fsys FS, dir string) {
		want := bytes.Repeat([]byte("0123456789abcdef"), 1000)
		name := path.Join(dir, "m")
		mustWrite(t, fsys, name, want)
		got, c, err := fsys.Map(name)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Fatal("mapped contents differ")
		}
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
		if err := c.Close(); err != nil {
			t.Fatalf("second Close: %v", err)
		}

		empty := path.Join(dir, "empty")
		mustWrite(t, fsys, empty, nil)
		got, c, err = fsys.Map(empty)
		if err != nil {
			t.Fatal(err)
		}
		if got == nil || len(got) != 0 {
			t.Fatalf("empty file mapped to %v (nil: %v)", got, got == nil)
		}
		c.Close()

		if _, _, err := fsys.Map(path.Join(dir, "missing")); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("Map of a missing file: %v", err)
		}
	})
}

func TestLockInProcess(t *testing.T) {
	forEachFS(t, func(t *testing.T, fsys FS, dir string) {
		name := path.Join(dir, "LOCK")
		l1, err := fsys.Lock(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := fsys.Lock(name); !errors.Is(err, base.ErrLocked) {
			t.Fatalf("second Lock: %v, want ErrLocked", err)
		}
		// The same file by another spelling of its path.
		if _, err := fsys.Lock(path.Join(dir, ".", "LOCK")); !errors.Is(err, base.ErrLocked) {
			t.Fatalf("second Lock by another spelling: %v, want ErrLocked", err)
		}
		if err := l1.Close(); err != nil {
			t.Fatal(err)
		}
		if err := l1.Close(); err != nil {
			t.Fatalf("second Close: %v", err)
		}
		l2, err := fsys.Lock(name)
		if err != nil {
			t.Fatalf("Lock after release: %v", err)
		}
		l2.Close()
	})
}

func TestWriteFileAtomic(t *testing.T) {
	forEachFS(t, func(t *testing.T, fsys FS, dir string) {
		name := path.Join(dir, "MANIFEST")
		for _, s := range []string{"one", "two, longer", ""} {
			if err := WriteFileAtomic(fsys, name, []byte(s)); err != nil {
				t.Fatal(err)
			}
			if got := mustRead(t, fsys, name); string(got) != s {
				t.Fatalf("got %q, want %q", got, s)
			}
		}
		if names, _ := fsys.List(dir); !slices.Equal(names, []string{"MANIFEST"}) {
			t.Fatalf("leftovers: %v", names)
		}
	})
}

func TestReadFileLarge(t *testing.T) {
	m := NewMem()
	want := bytes.Repeat([]byte{1, 2, 3}, 100_000)
	mustWrite(t, m, "big", want)
	if got := mustRead(t, m, "big"); !bytes.Equal(got, want) {
		t.Fatal("contents differ")
	}
}
