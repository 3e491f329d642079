//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package vfs

import "os"

// flockFile is a no-op where flock(2) is unavailable: Lock then excludes
// only other Lock calls in this process (V5 holds within one process).
func flockFile(*os.File) error { return nil }
