package hnsw

// This file holds every unsafe conversion of the package. An encoded graph
// is made of flat little-endian uint32 arrays, so Decode views them in place
// as []uint32 (a graph in an mmap'd file costs no parsing and no copy) and
// AppendBinary writes them with one copy each.
//
// Why it is safe:
//   - the views are taken only when the machine is little endian (the file's
//     byte order, so the bits mean the same) and the bytes are 4-byte
//     aligned (sections start at multiples of 8 from the start of the
//     encoding; callers place it at an 8-byte-aligned file offset, and
//     mappings and Go allocations of this size are aligned). Otherwise the
//     arrays are decoded into fresh memory instead;
//   - the views alias the caller's bytes, which Decode documents must
//     outlive the Graph; the graph never writes through them (a decoded
//     graph is immutable, and an mmap'd file is mapped read-only anyway);
//   - the byte view of a []uint32 in appendUint32s only lives for the
//     duration of one append.

import (
	"encoding/binary"
	"unsafe"
)

// littleEndian reports whether the machine stores uint32s as the file does.
var littleEndian = func() bool {
	x := uint32(1)
	return *(*byte)(unsafe.Pointer(&x)) == 1
}()

// uint32s returns b (whose length is a multiple of 4) as a []uint32: a view
// when the layout allows, a decoded copy otherwise.
func uint32s(b []byte) []uint32 {
	n := len(b) / 4
	if n == 0 {
		return nil
	}
	p := unsafe.Pointer(unsafe.SliceData(b))
	if littleEndian && uintptr(p)%4 == 0 {
		return unsafe.Slice((*uint32)(p), n)
	}
	out := make([]uint32, n)
	for i := range out {
		out[i] = binary.LittleEndian.Uint32(b[4*i:])
	}
	return out
}

// appendUint32s appends a in little-endian order.
func appendUint32s(dst []byte, a []uint32) []byte {
	if len(a) == 0 {
		return dst
	}
	if littleEndian {
		return append(dst, unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(a))), 4*len(a))...)
	}
	for _, v := range a {
		dst = binary.LittleEndian.AppendUint32(dst, v)
	}
	return dst
}
