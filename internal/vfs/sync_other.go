//go:build !linux

package vfs

import "os"

// datasync is (*os.File).Sync on platforms without a separate fdatasync
// (on macOS that is fcntl(F_FULLFSYNC), which also flushes the drive cache).
func datasync(f *os.File) error { return f.Sync() }
