//go:build !unix

package vfs

import (
	"io"
	"os"
)

// mapFile reads the whole file where mmap is not available: the caller gets
// the same contract (V6) at the cost of a heap copy.
func mapFile(name string) ([]byte, io.Closer, error) {
	data, err := os.ReadFile(name)
	if err != nil {
		return nil, nil, err
	}
	if data == nil {
		data = []byte{}
	}
	return data, nopCloser{}, nil
}

type nopCloser struct{}

func (nopCloser) Close() error { return nil }
