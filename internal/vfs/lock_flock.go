//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package vfs

import (
	"errors"
	"os"

	"golang.org/x/sys/unix"

	"github.com/strata-db/strata/internal/base"
)

// flockFile takes a non-blocking exclusive flock(2) on f. The lock lives as
// long as f's open file description, so closing f releases it. A lock held
// elsewhere yields an error matching base.ErrLocked.
func flockFile(f *os.File) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var ferr error
	if err := rc.Control(func(fd uintptr) {
		for {
			ferr = unix.Flock(int(fd), unix.LOCK_EX|unix.LOCK_NB)
			if ferr != unix.EINTR {
				return
			}
		}
	}); err != nil {
		return err
	}
	switch {
	case ferr == nil:
		return nil
	case errors.Is(ferr, unix.EWOULDBLOCK):
		return &lockedError{err: ferr}
	}
	return &os.PathError{Op: "flock", Path: f.Name(), Err: ferr}
}

// lockedError matches both base.ErrLocked and the errno that said so.
type lockedError struct{ err error }

func (e *lockedError) Error() string   { return "held by another process: " + base.ErrLocked.Error() }
func (e *lockedError) Unwrap() []error { return []error{base.ErrLocked, e.err} }
