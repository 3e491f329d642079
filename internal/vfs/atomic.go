package vfs

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
)

// WriteFileAtomic replaces name with data so that after a crash name holds
// either its old contents or data, never a mix: it writes name+".tmp",
// syncs and closes it, renames it over name and syncs the parent directory
// (V1, V2). On error the temporary file is removed (best effort) and name is
// either unchanged or, if only the final SyncDir failed, replaced but not
// yet durable.
func WriteFileAtomic(fsys FS, name string, data []byte) (err error) {
	tmp := name + ".tmp"
	f, err := fsys.Create(tmp)
	if err != nil {
		return fmt.Errorf("vfs: write %s: %w", name, err)
	}
	defer func() {
		if err != nil && f != nil {
			f.Close()
		}
		if err != nil {
			fsys.Remove(tmp) // best effort; a leftover .tmp is harmless
		}
	}()
	if _, err = f.Write(data); err != nil {
		return fmt.Errorf("vfs: write %s: %w", tmp, err)
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("vfs: sync %s: %w", tmp, err)
	}
	err = f.Close()
	f = nil
	if err != nil {
		return fmt.Errorf("vfs: close %s: %w", tmp, err)
	}
	if err = fsys.Rename(tmp, name); err != nil {
		return fmt.Errorf("vfs: rename %s: %w", tmp, err)
	}
	if serr := fsys.SyncDir(path.Dir(name)); serr != nil {
		// The rename happened: do not remove tmp (it is gone), just report.
		return fmt.Errorf("vfs: sync directory of %s: %w", name, serr)
	}
	return nil
}

// ReadFile returns the whole contents of the named file.
func ReadFile(fsys FS, name string) ([]byte, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var size int64
	if fi, err := f.Stat(); err == nil {
		size = fi.Size()
	}
	// One extra byte so a file that did not grow ends with a single Read
	// returning io.EOF rather than a reallocation.
	buf := make([]byte, 0, size+1)
	for {
		n, err := f.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if errors.Is(err, io.EOF) {
			return buf, nil
		}
		if err != nil {
			return nil, err
		}
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
	}
}

// MkdirAllSync is MkdirAll made durable (V2): for every directory it
// creates, it syncs the parent that holds the new entry, shallowest first,
// so that a crash never leaves a durable entry inside a directory whose own
// entry is not durable.
func MkdirAllSync(fsys FS, dir string, perm os.FileMode) error {
	// Find the missing directories, deepest first.
	var missing []string
	for d := path.Clean(dir); ; d = path.Dir(d) {
		_, err := fsys.Stat(d)
		if err == nil {
			break
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("vfs: mkdir %s: %w", dir, err)
		}
		missing = append(missing, d)
		if p := path.Dir(d); p == d {
			break
		}
	}
	if len(missing) == 0 {
		return nil
	}
	if err := fsys.MkdirAll(dir, perm); err != nil {
		return fmt.Errorf("vfs: mkdir %s: %w", dir, err)
	}
	for i := len(missing) - 1; i >= 0; i-- {
		if err := fsys.SyncDir(path.Dir(missing[i])); err != nil {
			return fmt.Errorf("vfs: mkdir %s: sync parent of %s: %w", dir, missing[i], err)
		}
	}
	return nil
}
