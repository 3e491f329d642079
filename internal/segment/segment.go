package segment

import (
	"io"
	"slices"
	"sort"
	"sync"
	"sync/atomic"

	"github.com/strata-db/strata/internal/base"
	"github.com/strata-db/strata/internal/bitset"
)

// View is a point-in-time read view of a segment (invariant S3): its
// columns up to N and a snapshot of its tombstones. Its slices must not be
// modified.
type View struct {
	N       int
	IDs     []base.PointID
	Seqs    []uint64
	Dense   [][]float32      // per schema dense vector: N*dim values, zero where absent
	Present []*bitset.Atomic // per dense vector; nil means every point has it
	Deleted bitset.Snapshot

	// Payload and sparse vectors: appendable segments keep one slice per
	// point; sealed ones keep offsets into a blob.
	payloads    [][]byte
	payloadOffs []uint64
	payloadData []byte
	sparse      [][][]byte
	sparseOffs  [][]uint64
	sparseData  [][]byte
}

// Live reports whether the point at off is not deleted.
func (v *View) Live(off uint32) bool { return !v.Deleted.Get(off) }

// HasVector reports whether the point at off has dense vector vi.
func (v *View) HasVector(vi int, off uint32) bool {
	p := v.Present[vi]
	return p == nil || p.Get(off)
}

// Vector returns dense vector vi of the point at off (nil if absent). The
// slice aliases segment memory: read only.
func (v *View) Vector(vi, dim int, off uint32) []float32 {
	if !v.HasVector(vi, off) {
		return nil
	}
	o := int(off) * dim
	return v.Dense[vi][o : o+dim : o+dim]
}

// Payload returns the JSON payload of the point at off (nil if empty). The
// slice aliases segment memory: read only.
func (v *View) Payload(off uint32) []byte {
	if v.payloads != nil {
		return v.payloads[off]
	}
	if v.payloadOffs == nil {
		return nil
	}
	b := v.payloadData[v.payloadOffs[off]:v.payloadOffs[off+1]]
	if len(b) == 0 {
		return nil
	}
	return b
}

// SparseBytes returns the encoded sparse vector si of the point at off, or
// nil if the point has none.
func (v *View) SparseBytes(si int, off uint32) []byte {
	if v.sparse != nil {
		return v.sparse[si][off]
	}
	b := v.sparseData[si][v.sparseOffs[si][off]:v.sparseOffs[si][off+1]]
	if len(b) == 0 {
		return nil
	}
	return b
}

// Segment is an appendable (in-memory) or sealed (file-backed) segment.
type Segment struct {
	id     uint64
	schema *Schema
	sealed bool

	// mu guards v's slice headers, del and index against the single writer
	// (S3, S4). A View is consistent for one segment; the collection makes
	// views of all its segments consistent with each other by taking them
	// under its own state lock, which every writer holds exclusively.
	mu    sync.RWMutex
	v     View // v.Deleted is unused: del is the live tombstone set
	del   *bitset.COW
	index map[base.PointID]uint32 // appendable: live points only
	perm  []uint32                // sealed: offsets ordered by id

	live   atomic.Int64 // points not deleted
	frozen atomic.Bool  // appendable segment that the optimizer is sealing

	// Lifetime: refs counts the segment set that holds the segment plus
	// every reader that acquired it. When it drops to zero the file mapping
	// is released and, if obsolete, the file removed.
	refs    atomic.Int32
	closer  io.Closer
	onFinal func()

	fields  fieldSlot   // payload field indexes (fields.go)
	graphs  []graphSlot // sealed: one per dense vector
	retired []io.Closer // mappings of replaced graphs (guarded by mu)
}

// NewAppendable returns an empty appendable segment.
func NewAppendable(id uint64, schema *Schema) *Segment {
	s := &Segment{id: id, schema: schema, index: make(map[base.PointID]uint32), del: bitset.NewCOW(0)}
	s.v.Dense = make([][]float32, len(schema.Dense))
	s.v.Present = make([]*bitset.Atomic, len(schema.Dense))
	for i := range s.v.Present {
		s.v.Present[i] = bitset.NewAtomic(0)
	}
	s.v.payloads = make([][]byte, 0)
	s.v.sparse = make([][][]byte, len(schema.Sparse))
	s.refs.Store(1)
	return s
}

// ID returns the segment id (unique within a collection, never reused).
func (s *Segment) ID() uint64 { return s.id }

// Sealed reports whether the segment is an immutable file.
func (s *Segment) Sealed() bool { return s.sealed }

// Schema returns the segment's schema.
func (s *Segment) Schema() *Schema { return s.schema }

// Len returns the number of offsets, deleted ones included.
func (s *Segment) Len() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.v.N
}

// LiveCount returns the number of points not deleted.
func (s *Segment) LiveCount() int { return int(s.live.Load()) }

// View returns a point-in-time read view (S3).
func (s *Segment) View() View {
	s.mu.RLock()
	defer s.mu.RUnlock()
	v := s.v
	v.Deleted = s.del.Snapshot()
	if !s.sealed {
		// The writer replaces these per-vector slice headers as columns
		// grow: copy the outer slices so the view keeps its own.
		v.Dense = slices.Clone(v.Dense)
		v.Present = slices.Clone(v.Present)
		v.sparse = slices.Clone(v.sparse)
	}
	return v
}

// Lookup returns the offset of the live point id.
func (s *Segment) Lookup(id base.PointID) (uint32, bool) {
	if !s.sealed {
		s.mu.RLock()
		off, ok := s.index[id]
		s.mu.RUnlock()
		return off, ok
	}
	ids := s.v.IDs
	i := sort.Search(len(s.perm), func(i int) bool { return ids[s.perm[i]].Compare(id) >= 0 })
	if i == len(s.perm) || ids[s.perm[i]] != id {
		return 0, false
	}
	off := s.perm[i]
	s.mu.RLock()
	deleted := s.del.Get(off)
	s.mu.RUnlock()
	if deleted {
		return 0, false
	}
	return off, true
}

// Delete tombstones the point at off; it reports whether it was live.
func (s *Segment) Delete(off uint32) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.del.Set(off) {
		return false
	}
	if !s.sealed {
		delete(s.index, s.v.IDs[off])
	}
	s.live.Add(-1)
	return true
}

// Append adds a point written by operation seq to an appendable segment and
// returns its offset. An older version of the same id in this segment is
// tombstoned. The point's slices are retained: the caller must not modify
// them afterwards.
func (s *Segment) Append(p *Point, seq uint64) uint32 {
	if s.sealed || s.frozen.Load() {
		panic("segment: append to a sealed or frozen segment")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.index[p.ID]; ok {
		s.del.Set(old)
		s.live.Add(-1)
	}
	off := uint32(s.v.N)
	n := s.v.N + 1
	s.v.IDs = append(s.v.IDs, p.ID)
	s.v.Seqs = append(s.v.Seqs, seq)
	for i, spec := range s.schema.Dense {
		s.v.Present[i] = s.v.Present[i].Grown(n)
		col := grow(s.v.Dense[i], spec.Dim)
		if vec := p.Dense[i]; vec != nil {
			s.v.Dense[i] = append(col, vec...)
			s.v.Present[i].Set(off)
		} else {
			s.v.Dense[i] = append(col, make([]float32, spec.Dim)...)
		}
	}
	for i := range s.schema.Sparse {
		var enc []byte
		if sp := p.Sparse[i]; sp != nil {
			enc = AppendSparse(nil, sp)
		}
		s.v.sparse[i] = append(s.v.sparse[i], enc)
	}
	s.v.payloads = append(s.v.payloads, p.Payload)
	s.indexAppended(off, p.Payload)
	s.del.Grow(n)
	s.v.N = n
	s.index[p.ID] = off
	s.live.Add(1)
	return off
}

// grow returns col with room for n more values, doubling its capacity when
// it must grow. append alone grows large slices by about 1.25x, so a vector
// column of an appendable segment (hundreds of MiB before it is sealed)
// would be copied four to five times over; doubling copies it about once.
// Views keep reading the old array, which is never written again.
func grow(col []float32, n int) []float32 {
	if cap(col)-len(col) >= n {
		return col
	}
	c := make([]float32, len(col), max(2*cap(col), len(col)+n, 1024))
	copy(c, col)
	return c
}

// Freeze marks an appendable segment read-only (tombstones still allowed):
// the optimizer is about to write it as a sealed segment.
func (s *Segment) Freeze() { s.frozen.Store(true) }

// AscendFrom calls fn with the offsets of v's live points whose id >= from
// (all points if from is nil), in id order, until fn returns false. v must
// be a view of s.
func (s *Segment) AscendFrom(v *View, from *base.PointID, fn func(off uint32) bool) {
	if s.sealed {
		i := 0
		if from != nil {
			i = sort.Search(len(s.perm), func(i int) bool { return v.IDs[s.perm[i]].Compare(*from) >= 0 })
		}
		for ; i < len(s.perm); i++ {
			off := s.perm[i]
			if v.Deleted.Get(off) {
				continue
			}
			if !fn(off) {
				return
			}
		}
		return
	}
	offs := make([]uint32, 0, v.N)
	for off := 0; off < v.N; off++ {
		if v.Deleted.Get(uint32(off)) {
			continue
		}
		if from != nil && v.IDs[off].Compare(*from) < 0 {
			continue
		}
		offs = append(offs, uint32(off))
	}
	slices.SortFunc(offs, func(a, b uint32) int { return v.IDs[a].Compare(v.IDs[b]) })
	for _, off := range offs {
		if !fn(off) {
			return
		}
	}
}

// Ref takes a reference; it fails if the segment has already been released.
func (s *Segment) Ref() bool {
	for {
		r := s.refs.Load()
		if r <= 0 {
			return false
		}
		if s.refs.CompareAndSwap(r, r+1) {
			return true
		}
	}
}

// Unref drops a reference; the last one releases the file mapping and runs
// the hook set by SetOnFinal (removing an obsolete file).
func (s *Segment) Unref() {
	if s.refs.Add(-1) != 0 {
		return
	}
	for i := range s.graphs {
		if r := s.graphs[i].cur.Load(); r != nil && r.closer != nil {
			_ = r.closer.Close()
		}
	}
	for _, c := range s.retired {
		_ = c.Close()
	}
	if s.closer != nil {
		_ = s.closer.Close()
	}
	if s.onFinal != nil {
		s.onFinal()
	}
}

// SetOnFinal sets a function to run once the last reference is dropped.
// Only the optimizer calls it, before dropping the set's reference.
func (s *Segment) SetOnFinal(fn func()) { s.onFinal = fn }

// Seq returns the sequence number that wrote the point at off.
func (s *Segment) Seq(off uint32) uint64 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.v.Seqs[off]
}

// ReadPoint returns a copy of the point at off, safe to modify and to keep
// after the segment is released. Unlike View it takes no tombstone
// snapshot: the applier calls it per updated point, and every snapshot
// makes the next tombstone write copy its chunk.
func (s *Segment) ReadPoint(off uint32) Point {
	s.mu.RLock()
	defer s.mu.RUnlock()
	v := &s.v
	p := Point{ID: v.IDs[off]}
	p.Dense = make([][]float32, len(s.schema.Dense))
	for i, spec := range s.schema.Dense {
		if vec := v.Vector(i, spec.Dim, off); vec != nil {
			p.Dense[i] = append([]float32(nil), vec...)
		}
	}
	p.Sparse = make([]*Sparse, len(s.schema.Sparse))
	for i := range s.schema.Sparse {
		if b := v.SparseBytes(i, off); b != nil {
			if sp, ok := DecodeSparse(b); ok {
				p.Sparse[i] = &sp
			}
		}
	}
	if pl := v.Payload(off); pl != nil {
		p.Payload = append([]byte(nil), pl...)
	}
	return p
}
