//go:build unix

package vfs

import (
	"fmt"
	"io"
	"math"
	"os"
	"sync"

	"golang.org/x/sys/unix"
)

// This file holds all of the package's mmap code. It needs no unsafe: the
// []byte that unix.Mmap returns is backed by the mapping, and the package
// hands it out read-only (PROT_READ: a write through it faults) and only
// until the Closer runs munmap (V6).

// mapFile maps name read-only and shared, so pages come from the page cache
// and are not copied into the Go heap.
func mapFile(name string) ([]byte, io.Closer, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, nil, err
	}
	// The mapping outlives the descriptor, so close it in any case.
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, nil, err
	}
	size := fi.Size()
	if size == 0 {
		// mmap of length 0 is EINVAL; an empty file is an empty slice.
		return []byte{}, nopCloser{}, nil
	}
	if size > math.MaxInt {
		return nil, nil, fmt.Errorf("vfs: map %s: %d bytes do not fit in memory", name, size)
	}
	rc, err := f.SyscallConn()
	if err != nil {
		return nil, nil, err
	}
	var data []byte
	var merr error
	if err := rc.Control(func(fd uintptr) {
		data, merr = unix.Mmap(int(fd), 0, int(size), unix.PROT_READ, unix.MAP_SHARED)
	}); err != nil {
		return nil, nil, err
	}
	if merr != nil {
		return nil, nil, &os.PathError{Op: "mmap", Path: name, Err: merr}
	}
	return data, &mapping{data: data, name: name}, nil
}

type mapping struct {
	once sync.Once
	data []byte
	name string
}

// Close unmaps the file. Closing twice is harmless.
func (m *mapping) Close() error {
	var err error
	m.once.Do(func() {
		if merr := unix.Munmap(m.data); merr != nil {
			err = &os.PathError{Op: "munmap", Path: m.name, Err: merr}
		}
		m.data = nil
	})
	return err
}

type nopCloser struct{}

func (nopCloser) Close() error { return nil }
