package segment

// This file holds every unsafe conversion of the package. Sealed segment
// files are mmap'd read-only and their columns are viewed in place as typed
// slices, so opening a segment costs no parsing and no copy (reopen time is
// independent of the data size, bar checksum verification).
//
// Why it is safe:
//   - every section starts at a 64-byte-aligned file offset and mappings are
//     page-aligned, so element alignment holds for float32, uint32, uint64
//     and PointID (8-byte aligned);
//   - the mapping is PROT_READ: a write through these slices faults rather
//     than corrupting the file, and no code in Strata writes through them;
//   - the mapping outlives every slice: segments are reference counted and
//     unmapped only after the last reader released them;
//   - the on-disk layout is little endian, as are the CPUs the cast is used
//     on; on any other layout (nativeLayout false) columns are decoded into
//     fresh memory instead.

import (
	"encoding/binary"
	"math"
	"unsafe"

	"github.com/strata-db/strata/internal/base"
)

// nativeLayout reports whether in-memory values share the file's layout:
// little-endian words and a PointID laid out as kind, hi, lo words.
var nativeLayout = func() bool {
	if unsafe.Sizeof(base.PointID{}) != base.PointIDSize {
		return false
	}
	ids := []base.PointID{base.NumID(7), base.UUIDID([16]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16})}
	var enc []byte
	for _, id := range ids {
		enc = base.AppendPointID(enc, id)
	}
	back := unsafe.Slice((*base.PointID)(unsafe.Pointer(unsafe.SliceData(enc))), len(ids))
	var x uint32 = 1
	return back[0] == ids[0] && back[1] == ids[1] && *(*byte)(unsafe.Pointer(&x)) == 1
}()

func float32s(b []byte) []float32 {
	if len(b) == 0 {
		return nil
	}
	if nativeLayout {
		return unsafe.Slice((*float32)(unsafe.Pointer(unsafe.SliceData(b))), len(b)/4)
	}
	out := make([]float32, len(b)/4)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return out
}

func uint32s(b []byte) []uint32 {
	if len(b) == 0 {
		return nil
	}
	if nativeLayout {
		return unsafe.Slice((*uint32)(unsafe.Pointer(unsafe.SliceData(b))), len(b)/4)
	}
	out := make([]uint32, len(b)/4)
	for i := range out {
		out[i] = binary.LittleEndian.Uint32(b[4*i:])
	}
	return out
}

func uint64s(b []byte) []uint64 {
	if len(b) == 0 {
		return nil
	}
	if nativeLayout {
		return unsafe.Slice((*uint64)(unsafe.Pointer(unsafe.SliceData(b))), len(b)/8)
	}
	out := make([]uint64, len(b)/8)
	for i := range out {
		out[i] = binary.LittleEndian.Uint64(b[8*i:])
	}
	return out
}

// pointIDs views b as ids after checking every record decodes (kind 0 or 1,
// numeric ids with a zero high word); ok is false otherwise.
func pointIDs(b []byte) (ids []base.PointID, ok bool) {
	n := len(b) / base.PointIDSize
	if nativeLayout {
		for i := 0; i < n; i++ {
			if _, ok := base.DecodePointID(b[i*base.PointIDSize:]); !ok {
				return nil, false
			}
		}
		if n == 0 {
			return nil, true
		}
		return unsafe.Slice((*base.PointID)(unsafe.Pointer(unsafe.SliceData(b))), n), true
	}
	ids = make([]base.PointID, n)
	for i := range ids {
		id, ok := base.DecodePointID(b[i*base.PointIDSize:])
		if !ok {
			return nil, false
		}
		ids[i] = id
	}
	return ids, true
}

// float32Bytes views a float32 slice as bytes for writing.
func float32Bytes(f []float32) []byte {
	if len(f) == 0 {
		return nil
	}
	if nativeLayout {
		return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(f))), len(f)*4)
	}
	out := make([]byte, 0, len(f)*4)
	for _, v := range f {
		out = binary.LittleEndian.AppendUint32(out, math.Float32bits(v))
	}
	return out
}
