package vfs

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/strata-db/strata/internal/base"
)

// lockHelperEnv makes the test binary act as a second process that tries to
// take a lock and prints what happened (see TestLockOtherProcess).
const lockHelperEnv = "STRATA_VFS_LOCK_HELPER"

func TestMain(m *testing.M) {
	if name := os.Getenv(lockHelperEnv); name != "" {
		l, err := Default.Lock(name)
		switch {
		case err == nil:
			l.Close()
			fmt.Println("acquired")
		case errors.Is(err, base.ErrLocked):
			fmt.Println("locked")
		default:
			fmt.Println("error:", err)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func TestLockOtherProcess(t *testing.T) {
	switch runtime.GOOS {
	case "linux", "darwin", "freebsd", "netbsd", "openbsd", "dragonfly":
	default:
		t.Skip("no flock on", runtime.GOOS)
	}
	name := filepath.Join(t.TempDir(), "LOCK")
	try := func() string {
		t.Helper()
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), lockHelperEnv+"="+name)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("helper: %v: %s", err, out)
		}
		return strings.TrimSpace(string(out))
	}
	l, err := Default.Lock(name)
	if err != nil {
		t.Fatal(err)
	}
	if got := try(); got != "locked" {
		t.Fatalf("other process while held: %q, want locked", got)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if got := try(); got != "acquired" {
		t.Fatalf("other process after release: %q, want acquired", got)
	}
}

func TestOSSyncDirAndErrors(t *testing.T) {
	dir := t.TempDir()
	if err := Default.SyncDir(dir); err != nil {
		t.Fatal(err)
	}
	if err := Default.SyncDir(filepath.Join(dir, "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("SyncDir of a missing dir: %v", err)
	}
	if _, err := Default.OpenAppend(filepath.Join(dir, "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("OpenAppend of a missing file: %v", err)
	}
	// Sync of a file opened read-only still works (fdatasync needs no write
	// access), and Sync of a closed file fails.
	name := filepath.Join(dir, "f")
	mustWrite(t, Default, name, []byte("x"))
	f, err := Default.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Sync(); err != nil {
		t.Fatalf("Sync of read-only file: %v", err)
	}
	f.Close()
	if err := f.Sync(); err == nil {
		t.Fatal("Sync of a closed file succeeded")
	}
}

func TestMkdirAllSync(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "b", "c")
	if err := MkdirAllSync(Default, dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		t.Fatalf("stat: %v %v", fi, err)
	}
	if err := MkdirAllSync(Default, dir, 0o755); err != nil {
		t.Fatalf("second call: %v", err)
	}
}
