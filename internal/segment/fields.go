package segment

import (
	"encoding/json"
	"maps"
	"sort"
	"sync/atomic"

	"github.com/strata-db/strata/internal/base"
	"github.com/strata-db/strata/internal/fieldindex"
	"github.com/strata-db/strata/internal/filter"
)

// Payload field indexes. A segment holds at most one index per payload key,
// in an immutable map replaced as a whole (copy on write), so readers load
// it without a lock:
//
//   - an appendable segment's indexes are built when the segment is created
//     or a field index is added (IndexFields) and then follow every Append;
//     payloads never change in place (an update appends a new version), so
//     an index only ever grows at the end;
//   - a sealed segment's indexes are frozen, built by the optimizer when it
//     writes the segment or by the collection's field indexer later, and
//     attached once persisted.
//
// An index may cover offsets beyond a View's N (appends after the view was
// taken): readers ignore them.

// fieldSet is a segment's field indexes by payload key.
type fieldSet = map[string]*fieldindex.Index

type fieldSlot struct {
	cur atomic.Pointer[fieldSet]
}

func (f *fieldSlot) load() fieldSet {
	if p := f.cur.Load(); p != nil {
		return *p
	}
	return nil
}

// Fields returns the segment's field indexes by key (read only).
func (s *Segment) Fields() map[string]*fieldindex.Index { return s.fields.load() }

// Field returns the index of payload key, or nil.
func (s *Segment) Field(key string) *fieldindex.Index { return s.fields.load()[key] }

// AttachField installs x as the index of its key, replacing any other.
func (s *Segment) AttachField(x *fieldindex.Index) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := maps.Clone(s.fields.load())
	if m == nil {
		m = fieldSet{}
	}
	m[x.Key()] = x
	s.fields.cur.Store(&m)
}

// DetachField drops the index of key, if any.
func (s *Segment) DetachField(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := maps.Clone(s.fields.load())
	delete(m, key)
	s.fields.cur.Store(&m)
}

// IndexFields makes an appendable segment's indexes exactly schemas: it
// keeps the indexes whose schema is unchanged, drops the others and builds
// the missing ones over the points appended so far. Appends wait meanwhile.
func (s *Segment) IndexFields(schemas map[string]filter.FieldSchema) error {
	if s.sealed {
		panic("segment: IndexFields on a sealed segment")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.fields.load()
	m := make(fieldSet, len(schemas))
	var build map[string]filter.FieldSchema
	for key, fs := range schemas {
		if x := old[key]; x != nil && SameSchema(x.Schema(), fs) {
			m[key] = x
			continue
		}
		if build == nil {
			build = map[string]filter.FieldSchema{}
		}
		build[key] = fs
	}
	if len(build) > 0 {
		for key, fs := range build {
			x, err := fieldindex.New(key, fs)
			if err != nil {
				return err
			}
			m[key] = x
		}
		for off := 0; off < s.v.N; off++ {
			doc := filter.DecodePayload(s.v.payloads[off])
			if doc == nil {
				continue
			}
			for key := range build {
				m[key].Add(uint32(off), doc)
			}
		}
	}
	s.fields.cur.Store(&m)
	return nil
}

// indexAppended adds the payload of the point just appended at off to the
// appendable segment's indexes. The caller holds s.mu.
func (s *Segment) indexAppended(off uint32, payload []byte) {
	fields := s.fields.load()
	if len(fields) == 0 || len(payload) == 0 {
		return
	}
	doc := filter.DecodePayload(payload)
	if doc == nil {
		return
	}
	for _, x := range fields {
		x.Add(off, doc)
	}
}

// SameSchema reports whether two field schemas build the same index.
func SameSchema(a, b filter.FieldSchema) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return string(ja) == string(jb)
}

// Source returns the filter planner's view of v, a view of s: v's points
// and the segment's field indexes.
func (s *Segment) Source(v *View) filter.Source {
	vs := viewSource{v: v, schema: s.schema, fields: s.fields.load()}
	if s.sealed {
		return &sealedSource{viewSource: vs, perm: s.perm}
	}
	return &vs
}

type viewSource struct {
	v      *View
	schema *Schema
	fields fieldSet
}

func (vs *viewSource) Len() int                   { return vs.v.N }
func (vs *viewSource) ID(off uint32) base.PointID { return vs.v.IDs[off] }
func (vs *viewSource) Payload(off uint32) []byte  { return vs.v.Payload(off) }
func (vs *viewSource) HasVector(name string, off uint32) (has, known bool) {
	if vi := vs.schema.DenseIndex(name); vi >= 0 {
		return vs.v.HasVector(vi, off), true
	}
	if si := vs.schema.SparseIndex(name); si >= 0 {
		return vs.v.SparseBytes(si, off) != nil, true
	}
	return false, false
}

func (vs *viewSource) FieldIndex(key string) filter.FieldIndex {
	if x := vs.fields[key]; x != nil {
		return x
	}
	return nil // not a typed nil
}

// sealedSource also resolves ids to offsets (filter.OffsetSource), from
// the immutable id-sorted permutation, so has_id becomes a bitmap.
type sealedSource struct {
	viewSource
	perm []uint32
}

// Offset returns the offset of id in the segment, deleted or not.
func (ss *sealedSource) Offset(id base.PointID) (uint32, bool) {
	ids := ss.v.IDs
	i := sort.Search(len(ss.perm), func(i int) bool { return ids[ss.perm[i]].Compare(id) >= 0 })
	if i == len(ss.perm) || ids[ss.perm[i]] != id {
		return 0, false
	}
	return ss.perm[i], true
}
