//go:build !noasm

package vector

import "unsafe"

// Implemented in prefetch_amd64.s.
//
//go:noescape
func prefetchRows(base unsafe.Pointer, stride uintptr, ids []uint32, lines int)

// PrefetchRows hints the CPU to start loading, for every id in ids, the
// first lines cache lines of the row data[id*dim:(id+1)*dim] (the whole row
// when lines <= 0 or lines exceeds it), so that a kernel reading the rows
// next does not wait for memory. Graph searches call it with the neighbours
// they are about to score.
//
// It is only a hint: it has no visible effect, never faults, and costs one
// call for all the ids. An id past the end of data wastes its hint (the ids
// are not checked, to keep the call cheap).
func PrefetchRows(data []float32, dim int, ids []uint32, lines int) {
	if len(data) == 0 || dim <= 0 {
		return
	}
	lines = clampLines(dim*4, lines)
	prefetchRows(unsafe.Pointer(unsafe.SliceData(data)), uintptr(dim)*4, ids, lines)
}

// PrefetchUint32Rows is PrefetchRows for a []uint32 of rows of stride
// elements, such as a graph's adjacency lists.
func PrefetchUint32Rows(data []uint32, stride int, ids []uint32, lines int) {
	if len(data) == 0 || stride <= 0 {
		return
	}
	lines = clampLines(stride*4, lines)
	prefetchRows(unsafe.Pointer(unsafe.SliceData(data)), uintptr(stride)*4, ids, lines)
}

// clampLines returns how many cache lines to prefetch of a row of rowBytes
// bytes: lines, or every line the row can touch when lines <= 0 or more
// than that. Rows start at 4-byte boundaries, so up to 60 bytes into a line.
func clampLines(rowBytes, lines int) int {
	all := (rowBytes + 60 + 63) / 64
	if lines <= 0 || lines > all {
		return all
	}
	return lines
}
