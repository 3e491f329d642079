// Package dataset reads the vector benchmark formats used by strata-bench:
// the texmex .fvecs / .bvecs / .ivecs files and NumPy .npy arrays, and
// loads whole benchmark data sets (base vectors, queries, ground truth and
// metric) from a directory laid out as /work/shared/bench/build_datasets.py
// writes them.
//
// Every reader validates the file before trusting it: record headers must
// agree, sizes must add up exactly, and a malformed file is reported with
// its path and what is wrong rather than silently truncated.
package dataset

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"
)

// MaxDim bounds the dimension a vector file may declare. Larger values are
// taken as a sign of a corrupt or foreign file.
const MaxDim = 1 << 20

// ReadFvecs reads a .fvecs file: per record an int32 dimension followed by
// that many little-endian float32 values. All records must have the same
// dimension. It returns the vectors row by row in one slice.
func ReadFvecs(path string) (data []float32, n, dim int, err error) {
	return readVecs(path, 4, func(dst []float32, src []byte) {
		for i := range dst {
			dst[i] = math.Float32frombits(binary.LittleEndian.Uint32(src[4*i:]))
		}
	})
}

// ReadBvecs reads a .bvecs file (int32 dimension, then that many uint8
// values per record) and converts the values to float32.
func ReadBvecs(path string) (data []float32, n, dim int, err error) {
	return readVecs(path, 1, func(dst []float32, src []byte) {
		for i := range dst {
			dst[i] = float32(src[i])
		}
	})
}

// readVecs reads a file of fixed-size records: a little-endian int32
// dimension, then dim values of elem bytes each, decoded by conv.
func readVecs(path string, elem int, conv func(dst []float32, src []byte)) (data []float32, n, dim int, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, 0, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, 0, 0, err
	}
	size := st.Size()
	if size == 0 {
		return nil, 0, 0, fmt.Errorf("%s: empty file (no records)", path)
	}
	if size < 4 {
		return nil, 0, 0, fmt.Errorf("%s: %d bytes is too short for a record header (4 bytes)", path, size)
	}
	r := bufio.NewReaderSize(f, 1<<20)
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, 0, 0, fmt.Errorf("%s: %w", path, err)
	}
	d := int32(binary.LittleEndian.Uint32(hdr[:]))
	if d <= 0 || d > MaxDim {
		return nil, 0, 0, fmt.Errorf("%s: record 0 declares dimension %d; expected 1..%d (not a vecs file?)", path, d, MaxDim)
	}
	dim = int(d)
	rec := int64(4 + dim*elem)
	if size%rec != 0 {
		return nil, 0, 0, fmt.Errorf("%s: size %d is not a multiple of the record size %d (dimension %d, %d-byte values): truncated or not this format",
			path, size, rec, dim, elem)
	}
	n = int(size / rec)
	data = make([]float32, n*dim)
	buf := make([]byte, dim*elem)
	for i := 0; i < n; i++ {
		if i > 0 {
			if _, err := io.ReadFull(r, hdr[:]); err != nil {
				return nil, 0, 0, fmt.Errorf("%s: record %d: %w", path, i, err)
			}
			if got := int32(binary.LittleEndian.Uint32(hdr[:])); got != d {
				return nil, 0, 0, fmt.Errorf("%s: record %d declares dimension %d, but record 0 declared %d", path, i, got, d)
			}
		}
		if _, err := io.ReadFull(r, buf); err != nil {
			return nil, 0, 0, fmt.Errorf("%s: record %d: %w", path, i, err)
		}
		conv(data[i*dim:(i+1)*dim], buf)
	}
	return data, n, dim, nil
}

// ReadIvecs reads a .ivecs file: per record an int32 length followed by
// that many little-endian int32 values (ground-truth neighbour ids). Rows
// may differ in length; a record that runs past the end of the file is an
// error.
func ReadIvecs(path string) ([][]int32, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if len(b) == 0 {
		return nil, fmt.Errorf("%s: empty file (no records)", path)
	}
	var rows [][]int32
	for off := 0; off < len(b); {
		if len(b)-off < 4 {
			return nil, fmt.Errorf("%s: record %d: %d trailing bytes are too short for a record header", path, len(rows), len(b)-off)
		}
		d := int32(binary.LittleEndian.Uint32(b[off:]))
		if d < 0 || d > MaxDim {
			return nil, fmt.Errorf("%s: record %d (offset %d) declares length %d; expected 0..%d", path, len(rows), off, d, MaxDim)
		}
		off += 4
		need := int(d) * 4
		if len(b)-off < need {
			return nil, fmt.Errorf("%s: record %d (offset %d) is truncated: %d values need %d bytes, %d remain",
				path, len(rows), off-4, d, need, len(b)-off)
		}
		row := make([]int32, d)
		for i := range row {
			row[i] = int32(binary.LittleEndian.Uint32(b[off+4*i:]))
		}
		rows = append(rows, row)
		off += need
	}
	return rows, nil
}
