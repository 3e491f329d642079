package segment

// Sealed segment file format, version 1. Little endian throughout.
//
//	+--------------------------------------------------------------+ 0
//	| "STRATSEG" | version u32 | reserved u32 | zero pad to 64     |
//	+--------------------------------------------------------------+ 64
//	| section 0 data | zero pad to a multiple of 64                |
//	| section 1 data | zero pad ...                                |
//	| ...                                                          |
//	+--------------------------------------------------------------+ footer
//	| section table: nsections entries of 64 bytes:                |
//	|   name [40]byte (NUL padded) | offset u64 | length u64 |     |
//	|   crc32c u32 (of the section's length bytes) | reserved u32  |
//	+--------------------------------------------------------------+
//	| trailer (40 bytes): segment id u64 | points n u64 |          |
//	|   nsections u32 | version u32 | crc32c u32 | reserved u32 |  |
//	|   "STRATSEG"                                                 |
//	+--------------------------------------------------------------+ EOF
//
// The trailer CRC covers the section table and the first 24 bytes of the
// trailer. Sections:
//
//	schema         JSON of the Schema the segment was written with
//	ids            n PointIDs, 24 bytes each (base.AppendPointID), offset order
//	seqs           n uint64: the sequence number that last wrote each point
//	perm           n uint32: offsets ordered by ascending id (ids are unique)
//	dense.<i>      n*dim float32 for dense vector i (zero where absent)
//	present.<i>    bitset words (uint64) of points having vector i; omitted
//	               when every point has it
//	payload.offs   n+1 uint64 offsets into payload.data
//	payload.data   concatenated JSON payloads (empty = no payload)
//	sparse.<i>.offs, sparse.<i>.data: the same for sparse vector i
//
// A file is written to a temporary name, fsynced, renamed into place and its
// directory fsynced, so a crash leaves either no file or a complete one;
// files not named by the manifest are removed when the collection opens. Any
// structural or checksum failure on open is ErrCorruption.

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"path"
	"slices"

	"github.com/strata-db/strata/internal/base"
	"github.com/strata-db/strata/internal/bitset"
	"github.com/strata-db/strata/internal/vfs"
)

const (
	segMagic       = "STRATSEG"
	segVersion     = 1
	segHeaderSize  = 64
	segEntrySize   = 64
	segTrailerSize = 40
	segAlign       = 64
	maxSections    = 4096
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Source is a set of live offsets of a view to copy into a new segment.
type Source struct {
	View *View
	Offs []uint32
}

type sectionEntry struct {
	name   string
	offset uint64
	length uint64
	crc    uint32
}

// segWriter writes sections sequentially, tracking offsets and CRCs.
type segWriter struct {
	w       *bufio.Writer
	off     uint64
	entries []sectionEntry
	cur     *sectionEntry
	crc     uint32
	err     error
}

func (sw *segWriter) raw(b []byte) {
	if sw.err != nil {
		return
	}
	_, sw.err = sw.w.Write(b)
	sw.off += uint64(len(b))
}

func (sw *segWriter) begin(name string) {
	if pad := sw.off % segAlign; pad != 0 {
		sw.raw(make([]byte, segAlign-pad))
	}
	sw.entries = append(sw.entries, sectionEntry{name: name, offset: sw.off})
	sw.cur = &sw.entries[len(sw.entries)-1]
	sw.crc = 0
}

func (sw *segWriter) write(b []byte) {
	sw.crc = crc32.Update(sw.crc, castagnoli, b)
	sw.raw(b)
}

func (sw *segWriter) end() {
	sw.cur.length = sw.off - sw.cur.offset
	sw.cur.crc = sw.crc
	sw.cur = nil
}

// WriteSealed writes the points of srcs, in order, as sealed segment id at
// name (atomically: temp file, fsync, rename, fsync of the directory). It
// returns the number of points written.
func WriteSealed(fs vfs.FS, name string, id uint64, schema *Schema, srcs []Source) (n int, err error) {
	for _, s := range srcs {
		n += len(s.Offs)
	}
	tmp := name + ".tmp"
	f, err := fs.Create(tmp)
	if err != nil {
		return 0, fmt.Errorf("segment: create %s: %w", tmp, err)
	}
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = fs.Remove(tmp)
		}
	}()
	sw := &segWriter{w: bufio.NewWriterSize(f, 1<<20)}
	hdr := make([]byte, segHeaderSize)
	copy(hdr, segMagic)
	binary.LittleEndian.PutUint32(hdr[8:], segVersion)
	sw.raw(hdr)

	each := func(fn func(v *View, off uint32)) {
		for _, s := range srcs {
			for _, off := range s.Offs {
				fn(s.View, off)
			}
		}
	}
	var buf []byte

	sw.begin("schema")
	js, _ := json.Marshal(schema)
	sw.write(js)
	sw.end()

	ids := make([]base.PointID, 0, n)
	sw.begin("ids")
	each(func(v *View, off uint32) {
		ids = append(ids, v.IDs[off])
		buf = base.AppendPointID(buf[:0], v.IDs[off])
		sw.write(buf)
	})
	sw.end()

	sw.begin("seqs")
	each(func(v *View, off uint32) {
		buf = binary.LittleEndian.AppendUint64(buf[:0], v.Seqs[off])
		sw.write(buf)
	})
	sw.end()

	perm := make([]uint32, n)
	for i := range perm {
		perm[i] = uint32(i)
	}
	slices.SortFunc(perm, func(a, b uint32) int { return ids[a].Compare(ids[b]) })
	for i := 1; i < n; i++ {
		if ids[perm[i-1]] == ids[perm[i]] {
			return 0, fmt.Errorf("segment: write %s: duplicate point id %s", name, ids[perm[i]])
		}
	}
	sw.begin("perm")
	for _, p := range perm {
		buf = binary.LittleEndian.AppendUint32(buf[:0], p)
		sw.write(buf)
	}
	sw.end()

	for vi, spec := range schema.Dense {
		all := true
		sw.begin(fmt.Sprintf("dense.%d", vi))
		zero := make([]float32, spec.Dim)
		each(func(v *View, off uint32) {
			vec := v.Vector(vi, spec.Dim, off)
			if vec == nil {
				all = false
				vec = zero
			}
			sw.write(float32Bytes(vec))
		})
		sw.end()
		if all {
			continue
		}
		present := bitset.NewAtomic(n)
		i := 0
		each(func(v *View, off uint32) {
			if v.HasVector(vi, off) {
				present.Set(uint32(i))
			}
			i++
		})
		sw.begin(fmt.Sprintf("present.%d", vi))
		for _, w := range present.Words() {
			buf = binary.LittleEndian.AppendUint64(buf[:0], w)
			sw.write(buf)
		}
		sw.end()
	}

	blob := func(prefix string, get func(v *View, off uint32) []byte) {
		sw.begin(prefix + ".offs")
		var pos uint64
		buf = binary.LittleEndian.AppendUint64(buf[:0], 0)
		sw.write(buf)
		each(func(v *View, off uint32) {
			pos += uint64(len(get(v, off)))
			buf = binary.LittleEndian.AppendUint64(buf[:0], pos)
			sw.write(buf)
		})
		sw.end()
		sw.begin(prefix + ".data")
		each(func(v *View, off uint32) { sw.write(get(v, off)) })
		sw.end()
	}
	blob("payload", (*View).Payload)
	for si := range schema.Sparse {
		blob(fmt.Sprintf("sparse.%d", si), func(v *View, off uint32) []byte { return v.SparseBytes(si, off) })
	}

	if pad := sw.off % segAlign; pad != 0 {
		sw.raw(make([]byte, segAlign-pad))
	}
	var footer []byte
	for _, e := range sw.entries {
		var nm [40]byte
		copy(nm[:], e.name)
		footer = append(footer, nm[:]...)
		footer = binary.LittleEndian.AppendUint64(footer, e.offset)
		footer = binary.LittleEndian.AppendUint64(footer, e.length)
		footer = binary.LittleEndian.AppendUint32(footer, e.crc)
		footer = binary.LittleEndian.AppendUint32(footer, 0)
	}
	footer = binary.LittleEndian.AppendUint64(footer, id)
	footer = binary.LittleEndian.AppendUint64(footer, uint64(n))
	footer = binary.LittleEndian.AppendUint32(footer, uint32(len(sw.entries)))
	footer = binary.LittleEndian.AppendUint32(footer, segVersion)
	footer = binary.LittleEndian.AppendUint32(footer, crc32.Checksum(footer, castagnoli))
	footer = binary.LittleEndian.AppendUint32(footer, 0)
	footer = append(footer, segMagic...)
	sw.raw(footer)
	if sw.err == nil {
		sw.err = sw.w.Flush()
	}
	if sw.err != nil {
		return 0, fmt.Errorf("segment: write %s: %w", tmp, sw.err)
	}
	if err = f.Sync(); err != nil {
		return 0, fmt.Errorf("segment: fsync %s: %w", tmp, err)
	}
	if err = f.Close(); err != nil {
		return 0, fmt.Errorf("segment: close %s: %w", tmp, err)
	}
	if err = fs.Rename(tmp, name); err != nil {
		return 0, fmt.Errorf("segment: rename %s: %w", tmp, err)
	}
	if err = fs.SyncDir(path.Dir(name)); err != nil {
		return 0, fmt.Errorf("segment: fsync dir of %s: %w", name, err)
	}
	return n, nil
}

// OpenSealed maps the sealed segment file name, checks its structure and, if
// verify is set, every section checksum. The file must have been written for
// segment id with the given schema.
func OpenSealed(fs vfs.FS, name string, id uint64, schema *Schema, verify bool) (*Segment, error) {
	data, closer, err := fs.Map(name)
	if err != nil {
		return nil, fmt.Errorf("segment: map %s: %w", name, err)
	}
	s, err := decodeSealed(data, id, schema, verify)
	if err != nil {
		_ = closer.Close()
		return nil, fmt.Errorf("segment %s: %w", name, err)
	}
	s.closer = closer
	return s, nil
}

// decodeSealed builds a segment over data (the whole file).
func decodeSealed(data []byte, id uint64, schema *Schema, verify bool) (*Segment, error) {
	corrupt := base.CorruptionErrorf
	if len(data) < segHeaderSize+segTrailerSize {
		return nil, corrupt("file of %d bytes is too short", len(data))
	}
	if string(data[:8]) != segMagic {
		return nil, corrupt("bad magic")
	}
	if v := binary.LittleEndian.Uint32(data[8:]); v != segVersion {
		return nil, corrupt("unsupported format version %d", v)
	}
	tr := data[len(data)-segTrailerSize:]
	if string(tr[32:40]) != segMagic {
		return nil, corrupt("bad trailer magic")
	}
	fileID := binary.LittleEndian.Uint64(tr)
	n64 := binary.LittleEndian.Uint64(tr[8:])
	nsec := binary.LittleEndian.Uint32(tr[16:])
	if v := binary.LittleEndian.Uint32(tr[20:]); v != segVersion {
		return nil, corrupt("unsupported trailer version %d", v)
	}
	if nsec > maxSections || uint64(nsec)*segEntrySize > uint64(len(data)-segHeaderSize-segTrailerSize) {
		return nil, corrupt("section count %d out of range", nsec)
	}
	footStart := len(data) - segTrailerSize - int(nsec)*segEntrySize
	if got, want := crc32.Checksum(data[footStart:len(data)-segTrailerSize+24], castagnoli), binary.LittleEndian.Uint32(tr[24:]); got != want {
		return nil, corrupt("footer checksum mismatch")
	}
	if fileID != id {
		return nil, corrupt("file holds segment %d, expected %d", fileID, id)
	}
	if n64 >= 1<<32-1 {
		return nil, corrupt("point count %d out of range", n64)
	}
	n := int(n64)
	sections := make(map[string][]byte, nsec)
	for i := 0; i < int(nsec); i++ {
		e := data[footStart+i*segEntrySize:]
		nm := string(bytes.TrimRight(e[:40], "\x00"))
		off := binary.LittleEndian.Uint64(e[40:])
		ln := binary.LittleEndian.Uint64(e[48:])
		crc := binary.LittleEndian.Uint32(e[56:])
		if off < segHeaderSize || off%segAlign != 0 || off > uint64(footStart) || ln > uint64(footStart)-off {
			return nil, corrupt("section %q at %d+%d out of bounds", nm, off, ln)
		}
		b := data[off : off+ln : off+ln]
		if verify && crc32.Checksum(b, castagnoli) != crc {
			return nil, corrupt("section %q checksum mismatch", nm)
		}
		if _, dup := sections[nm]; dup {
			return nil, corrupt("duplicate section %q", nm)
		}
		sections[nm] = b
	}
	need := func(name string, size int) ([]byte, error) {
		b, ok := sections[name]
		if !ok {
			return nil, corrupt("missing section %q", name)
		}
		if size >= 0 && len(b) != size {
			return nil, corrupt("section %q has %d bytes, want %d", name, len(b), size)
		}
		return b, nil
	}
	var fileSchema Schema
	b, err := need("schema", -1)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(b, &fileSchema); err != nil {
		return nil, corrupt("schema: %v", err)
	}
	if !fileSchema.Equal(schema) {
		return nil, corrupt("segment schema differs from the collection's")
	}

	s := &Segment{id: id, schema: schema, sealed: true}
	s.v.N = n
	if b, err = need("ids", n*base.PointIDSize); err != nil {
		return nil, err
	}
	var ok bool
	if s.v.IDs, ok = pointIDs(b); !ok {
		return nil, corrupt("malformed point id")
	}
	if b, err = need("seqs", n*8); err != nil {
		return nil, err
	}
	s.v.Seqs = uint64s(b)
	if b, err = need("perm", n*4); err != nil {
		return nil, err
	}
	s.perm = uint32s(b)
	for i, p := range s.perm {
		if int(p) >= n || (i > 0 && s.v.IDs[s.perm[i-1]].Compare(s.v.IDs[p]) >= 0) {
			return nil, corrupt("id order broken at %d", i)
		}
	}
	s.v.Dense = make([][]float32, len(schema.Dense))
	s.v.Present = make([]*bitset.Atomic, len(schema.Dense))
	words := (n + 63) / 64
	for vi, spec := range schema.Dense {
		if b, err = need(fmt.Sprintf("dense.%d", vi), n*spec.Dim*4); err != nil {
			return nil, err
		}
		s.v.Dense[vi] = float32s(b)
		if pb, ok := sections[fmt.Sprintf("present.%d", vi)]; ok {
			if len(pb) != words*8 {
				return nil, corrupt("present.%d has %d bytes, want %d", vi, len(pb), words*8)
			}
			s.v.Present[vi] = bitset.FromWords(uint64s(pb), n)
		}
	}
	blob := func(prefix string) ([]uint64, []byte, error) {
		ob, err := need(prefix+".offs", (n+1)*8)
		if err != nil {
			return nil, nil, err
		}
		db, err := need(prefix+".data", -1)
		if err != nil {
			return nil, nil, err
		}
		offs := uint64s(ob)
		if offs[0] != 0 || offs[n] != uint64(len(db)) {
			return nil, nil, corrupt("%s offsets do not span the data", prefix)
		}
		for i := 1; i <= n; i++ {
			if offs[i] < offs[i-1] {
				return nil, nil, corrupt("%s offsets decrease at %d", prefix, i)
			}
		}
		return offs, db, nil
	}
	if s.v.payloadOffs, s.v.payloadData, err = blob("payload"); err != nil {
		return nil, err
	}
	s.v.sparseOffs = make([][]uint64, len(schema.Sparse))
	s.v.sparseData = make([][]byte, len(schema.Sparse))
	for si := range schema.Sparse {
		if s.v.sparseOffs[si], s.v.sparseData[si], err = blob(fmt.Sprintf("sparse.%d", si)); err != nil {
			return nil, err
		}
	}
	s.del = bitset.NewCOW(n)
	s.graphs = make([]graphSlot, len(schema.Dense))
	s.live.Store(int64(n))
	s.refs.Store(1)
	return s, nil
}

// SetDeleted installs a persisted deleted bitset (from ReadDeleted) on a
// freshly opened sealed segment.
func (s *Segment) SetDeleted(words []uint64) {
	s.del = bitset.COWFromWords(words, s.v.N)
	s.live.Store(int64(s.v.N - s.del.Count()))
}

// Deleted file format, version 1 (little endian), written atomically:
//
//	"STRATDEL" | version u32 | reserved u32 | segment id u64 | n u64 |
//	ceil(n/64) words u64 | crc32c u32 of everything before it

// WriteDeleted persists a segment's deleted bitset.
func WriteDeleted(fs vfs.FS, name string, id uint64, n int, words []uint64) error {
	b := make([]byte, 0, 32+8*len(words)+4)
	b = append(b, "STRATDEL"...)
	b = binary.LittleEndian.AppendUint32(b, 1)
	b = binary.LittleEndian.AppendUint32(b, 0)
	b = binary.LittleEndian.AppendUint64(b, id)
	b = binary.LittleEndian.AppendUint64(b, uint64(n))
	for _, w := range words {
		b = binary.LittleEndian.AppendUint64(b, w)
	}
	b = binary.LittleEndian.AppendUint32(b, crc32.Checksum(b, castagnoli))
	return vfs.WriteFileAtomic(fs, name, b)
}

// ReadDeleted reads a bitset written by WriteDeleted for segment id of n
// points.
func ReadDeleted(fs vfs.FS, name string, id uint64, n int) ([]uint64, error) {
	b, err := vfs.ReadFile(fs, name)
	if err != nil {
		return nil, err
	}
	return decodeDeleted(b, id, n)
}

func decodeDeleted(b []byte, id uint64, n int) ([]uint64, error) {
	words := (n + 63) / 64
	if len(b) != 32+8*words+4 || string(b[:8]) != "STRATDEL" {
		return nil, base.CorruptionErrorf("deleted bitset: bad size or magic")
	}
	if crc32.Checksum(b[:len(b)-4], castagnoli) != binary.LittleEndian.Uint32(b[len(b)-4:]) {
		return nil, base.CorruptionErrorf("deleted bitset: checksum mismatch")
	}
	if binary.LittleEndian.Uint32(b[8:]) != 1 || binary.LittleEndian.Uint64(b[16:]) != id || binary.LittleEndian.Uint64(b[24:]) != uint64(n) {
		return nil, base.CorruptionErrorf("deleted bitset: header does not match segment %d of %d points", id, n)
	}
	out := make([]uint64, words)
	for i := range out {
		out[i] = binary.LittleEndian.Uint64(b[32+8*i:])
	}
	if n%64 != 0 && words > 0 && out[words-1]>>(n%64) != 0 {
		return nil, base.CorruptionErrorf("deleted bitset: bits set past the end")
	}
	return out, nil
}
