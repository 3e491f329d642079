package segment

import (
	"encoding/binary"
	"math"

	"github.com/strata-db/strata/internal/base"
)

// VectorSpec describes one dense vector of every point: its name ("" for the
// unnamed default vector), dimension and distance.
type VectorSpec struct {
	Name     string        `json:"name"`
	Dim      int           `json:"dim"`
	Distance base.Distance `json:"distance"`
}

// Schema lists the vectors of a collection, in a fixed order: the order of
// Point.Dense and Point.Sparse and of the segment columns.
type Schema struct {
	Dense  []VectorSpec `json:"dense"`
	Sparse []string     `json:"sparse"`
}

// DenseIndex returns the position of the named dense vector, or -1.
func (s *Schema) DenseIndex(name string) int {
	for i := range s.Dense {
		if s.Dense[i].Name == name {
			return i
		}
	}
	return -1
}

// SparseIndex returns the position of the named sparse vector, or -1.
func (s *Schema) SparseIndex(name string) int {
	for i, n := range s.Sparse {
		if n == name {
			return i
		}
	}
	return -1
}

// Equal reports whether two schemas describe the same columns.
func (s *Schema) Equal(o *Schema) bool {
	if len(s.Dense) != len(o.Dense) || len(s.Sparse) != len(o.Sparse) {
		return false
	}
	for i := range s.Dense {
		if s.Dense[i] != o.Dense[i] {
			return false
		}
	}
	for i := range s.Sparse {
		if s.Sparse[i] != o.Sparse[i] {
			return false
		}
	}
	return true
}

// Sparse is a sparse vector: parallel index and value arrays.
type Sparse struct {
	Indices []uint32
	Values  []float32
}

// Point is one point's data in schema order. A nil Dense[i] or Sparse[i]
// means the point has no such vector. Payload is a JSON object (nil means
// empty).
type Point struct {
	ID      base.PointID
	Dense   [][]float32
	Sparse  []*Sparse
	Payload []byte
}

// AppendSparse encodes a sparse vector: nnz uint32, indices, values.
func AppendSparse(dst []byte, s *Sparse) []byte {
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(s.Indices)))
	for _, i := range s.Indices {
		dst = binary.LittleEndian.AppendUint32(dst, i)
	}
	for _, v := range s.Values {
		dst = binary.LittleEndian.AppendUint32(dst, math.Float32bits(v))
	}
	return dst
}

// DecodeSparse decodes AppendSparse's encoding; ok is false if b is malformed.
func DecodeSparse(b []byte) (s Sparse, ok bool) {
	if len(b) < 4 {
		return s, false
	}
	n := int(binary.LittleEndian.Uint32(b))
	if n < 0 || len(b) != 4+8*n {
		return s, false
	}
	s.Indices = make([]uint32, n)
	s.Values = make([]float32, n)
	for i := 0; i < n; i++ {
		s.Indices[i] = binary.LittleEndian.Uint32(b[4+4*i:])
		s.Values[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4+4*n+4*i:]))
	}
	return s, true
}
