package vfs

import (
	"errors"
	"io/fs"
	"sync/atomic"
	"testing"
)

func TestOnceAfter(t *testing.T) {
	m := NewMem()
	efs := NewErrorFS(m, OnceAfter(OpWrite, "wal", 2, nil))
	f, err := efs.Create("wal-1")
	if err != nil {
		t.Fatal(err)
	}
	other, _ := efs.Create("other")
	for i := range 3 {
		if _, err := other.Write([]byte("o")); err != nil { // does not match
			t.Fatalf("write %d to other: %v", i, err)
		}
	}
	for i := range 5 {
		_, err := f.Write([]byte{'a' + byte(i)})
		if (err != nil) != (i == 2) {
			t.Fatalf("write %d: err = %v", i, err)
		}
		if i == 2 {
			var pe *fs.PathError
			if !errors.Is(err, ErrInjected) || !errors.As(err, &pe) || pe.Op != "write" || pe.Path != "wal-1" {
				t.Fatalf("write error %#v", err)
			}
		}
	}
	// V7: the failed write wrote nothing.
	if got := mustRead(t, m, "wal-1"); string(got) != "abde" {
		t.Fatalf("contents %q, want abde", got)
	}
}

func TestAlways(t *testing.T) {
	m := NewMem()
	custom := errors.New("disk on fire")
	efs := NewErrorFS(m, Always(OpSync, "", custom))
	f, _ := efs.Create("f")
	f.Write([]byte("data"))
	for range 3 {
		if err := f.Sync(); !errors.Is(err, custom) {
			t.Fatalf("Sync: %v", err)
		}
	}
	// V7: nothing was synced.
	m.SyncDir("")
	if got, _ := durable(t, m, "f"); got != "" {
		t.Fatalf("failed Sync made %q durable", got)
	}
	if err := efs.SyncDir(""); err != nil {
		t.Fatalf("SyncDir is another op: %v", err)
	}
}

func TestErrorFSEveryOp(t *testing.T) {
	var want Op
	var calls atomic.Int32
	inj := InjectorFunc(func(op Op, path string) error {
		if op == want {
			calls.Add(1)
			return ErrInjected
		}
		return nil
	})
	m := NewMem()
	mustWrite(t, m, "f", []byte("x"))
	efs := NewErrorFS(m, inj)
	file := func() File {
		saved := want
		want = 255 // no injection while opening
		f, err := efs.OpenAppend("f")
		want = saved
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	buf := make([]byte, 1)
	cases := []struct {
		op Op
		do func() error
	}{
		{OpCreate, func() error { _, err := efs.Create("g"); return err }},
		{OpOpen, func() error { _, err := efs.Open("f"); return err }},
		{OpOpen, func() error { _, err := efs.OpenAppend("f"); return err }},
		{OpRead, func() error { _, err := file().Read(buf); return err }},
		{OpRead, func() error { _, err := file().ReadAt(buf, 0); return err }},
		{OpWrite, func() error { _, err := file().Write(buf); return err }},
		{OpSync, func() error { return file().Sync() }},
		{OpSyncDir, func() error { return efs.SyncDir("") }},
		{OpRename, func() error { return efs.Rename("f", "h") }},
		{OpRemove, func() error { return efs.Remove("f") }},
		{OpRemove, func() error { return efs.RemoveAll("f") }},
		{OpTruncate, func() error { return file().Truncate(0) }},
		{OpMkdir, func() error { return efs.MkdirAll("d", 0o755) }},
		{OpList, func() error { _, err := efs.List(""); return err }},
		{OpStat, func() error { _, err := efs.Stat("f"); return err }},
		{OpStat, func() error { _, err := file().Stat(); return err }},
		{OpMap, func() error { _, _, err := efs.Map("f"); return err }},
		{OpLock, func() error { _, err := efs.Lock("L"); return err }},
	}
	for _, c := range cases {
		calls.Store(0)
		do := c.do
		want = c.op
		if err := do(); !errors.Is(err, ErrInjected) || calls.Load() != 1 {
			t.Errorf("%v: err = %v, injector calls = %d", c.op, err, calls.Load())
		}
	}
	// Nothing changed in the inner FS.
	if names, _ := m.List(""); len(names) != 1 || string(mustRead(t, m, "f")) != "x" {
		t.Fatalf("inner FS changed: %v", names)
	}
	if s := Op(200).String(); s != "Op(200)" {
		t.Fatal(s)
	}
}
