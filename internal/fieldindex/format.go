package fieldindex

// Field index file format, version 1. Little endian; "uvarint" is
// encoding/binary's unsigned varint.
//
//	+--------------------------------------------------------------+
//	| "STRATFIX" | version u32                                     | header
//	| uvarint len | key                                            |
//	| uvarint len | schema (JSON of filter.FieldSchema)            |
//	| uvarint n (offsets covered) | flags u8 (1 badNum, 2 badStr)  |
//	| present: ceil(n/8) bytes, bit o (byte o/8, LSB first) set    |
//	|          if offset o has a stored value; pad bits zero       |
//	| others: list                                                 |
//	+--------------------------------------------------------------+
//	| body, by type:                                               |
//	|  keyword, uuid, bool, text (terms ascending, no duplicates): |
//	|    uvarint nterms                                            |
//	|    terms: uuid 16 bytes each, bool 1 byte each, else         |
//	|           uvarint len | bytes each                           |
//	|    nterms lists: the offsets having each term                |
//	|    text with phrase matching, then:                          |
//	|      n uvarints: the number of string values of each offset  |
//	|      per value: uvarint nwords (>= 1) | nwords uvarint ids   |
//	|  integer, float, datetime, geo (entries by key, then offset):|
//	|    uvarint m | m keys (uvarint, the first absolute, then     |
//	|    deltas) | m offsets (uvarint)                             |
//	|    geo, then: m longitudes (u64 float64 bits)                |
//	+--------------------------------------------------------------+
//	| crc32c u32 (Castagnoli) of every byte before it              |
//	+--------------------------------------------------------------+
//
// list: uvarint count, then the first offset and the gaps minus one
// between consecutive offsets (strictly increasing), as uvarints.
//
// Keys are the order-preserving uint64 encodings of numeric.go (integers
// and datetime microseconds: intKey; floats and latitudes: floatKey).
//
// Every element the decoder materialises costs at least one byte of input
// and the offsets are bounded by the present bitset, so a decoded index
// takes at most a constant factor more memory than its encoding, whatever
// the input. Decode validates all of the structure (sorted, in range,
// canonical keys, present equal to the offsets actually stored) even
// without verifying the checksum; any failure is base.ErrCorruption.

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"math"
	"slices"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/strata-db/strata/internal/base"
	"github.com/strata-db/strata/internal/filter"
	"github.com/strata-db/strata/internal/vfs"
)

const (
	fileMagic   = "STRATFIX"
	fileVersion = 1

	flagBadNum = 1 << 0
	flagBadStr = 1 << 1
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// AppendBinary appends the encoding of the frozen index to b.
func (x *Index) AppendBinary(b []byte) ([]byte, error) {
	if !x.frozen.Load() {
		return b, fmt.Errorf("fieldindex: encode index %q: not frozen", x.key)
	}
	js, err := json.Marshal(x.schema)
	if err != nil {
		return b, fmt.Errorf("fieldindex: encode index %q: %w", x.key, err)
	}
	start := len(b)
	b = append(b, fileMagic...)
	b = binary.LittleEndian.AppendUint32(b, fileVersion)
	b = appendBytes(b, []byte(x.key))
	b = appendBytes(b, js)
	b = binary.AppendUvarint(b, uint64(x.n))
	var flags byte
	if x.badNum {
		flags |= flagBadNum
	}
	if x.badStr {
		flags |= flagBadStr
	}
	b = append(b, flags)
	b = appendBitset(b, x.indexed, x.n)
	b = appendBitmapList(b, x.others)
	switch {
	case x.dict != nil:
		b = x.dict.appendBinary(b)
		if x.seq != nil {
			b = x.seq.appendBinary(b, x.n)
		}
	case x.num != nil:
		b = appendEntries(b, x.num)
	case x.geo != nil:
		b = appendEntries(b, x.geo)
		for _, lon := range x.geo.ext {
			b = binary.LittleEndian.AppendUint64(b, math.Float64bits(lon))
		}
	}
	return binary.LittleEndian.AppendUint32(b, crc32.Checksum(b[start:], castagnoli)), nil
}

func appendBytes(b, s []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// appendBitset appends bm as a bitset of n bits.
func appendBitset(b []byte, bm *roaring.Bitmap, n int) []byte {
	start := len(b)
	b = append(b, make([]byte, (n+7)/8)...)
	it := bm.Iterator()
	for it.HasNext() {
		o := it.Next()
		b[start+int(o>>3)] |= 1 << (o & 7)
	}
	return b
}

// listWriter appends a list whose count is known up front.
type listWriter struct {
	b     []byte
	prev  uint32
	first bool
}

func (w *listWriter) add(off uint32) {
	if w.first {
		w.b = binary.AppendUvarint(w.b, uint64(off))
		w.first = false
	} else {
		w.b = binary.AppendUvarint(w.b, uint64(off-w.prev-1))
	}
	w.prev = off
}

func appendList(b []byte, offs []uint32) []byte {
	w := listWriter{b: binary.AppendUvarint(b, uint64(len(offs))), first: true}
	for _, o := range offs {
		w.add(o)
	}
	return w.b
}

func appendBitmapList(b []byte, bm *roaring.Bitmap) []byte {
	w := listWriter{b: binary.AppendUvarint(b, bm.GetCardinality()), first: true}
	it := bm.Iterator()
	for it.HasNext() {
		w.add(it.Next())
	}
	return w.b
}

func (d *dict) appendBinary(b []byte) []byte {
	b = binary.AppendUvarint(b, uint64(d.nterms))
	for t := 0; t < d.nterms; t++ {
		if d.stride > 0 {
			b = append(b, d.term(t)...)
		} else {
			b = binary.AppendUvarint(b, uint64(len(d.term(t))))
			b = append(b, d.term(t)...)
		}
	}
	for t := 0; t < d.nterms; t++ {
		l, bm := d.list(uint32(t))
		if bm != nil {
			b = appendBitmapList(b, bm)
		} else {
			b = appendList(b, l)
		}
	}
	return b
}

func (s *seqCol) appendBinary(b []byte, n int) []byte {
	for o := 0; o < n; o++ {
		b = binary.AppendUvarint(b, uint64(s.valEnd[o+1]-s.valEnd[o]))
	}
	for v := 0; v+1 < len(s.wordEnd); v++ {
		w := s.words[s.wordEnd[v]:s.wordEnd[v+1]]
		b = binary.AppendUvarint(b, uint64(len(w)))
		for _, id := range w {
			b = binary.AppendUvarint(b, uint64(id))
		}
	}
	return b
}

func appendEntries[E any](b []byte, s *sortedCol[E]) []byte {
	b = binary.AppendUvarint(b, uint64(len(s.keys)))
	prev := uint64(0)
	for _, k := range s.keys {
		b = binary.AppendUvarint(b, k-prev)
		prev = k
	}
	for _, o := range s.offs {
		b = binary.AppendUvarint(b, uint64(o))
	}
	return b
}

// decoder reads an encoding; the first failure sticks in err and makes
// every later read return zero values.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail(format string, args ...any) {
	if d.err == nil {
		d.err = base.CorruptionErrorf("fieldindex: "+format, args...)
	}
	d.b = nil
}

func (d *decoder) uvarint(what string) uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail("%s: bad varint", what)
		return 0
	}
	d.b = d.b[n:]
	return v
}

// count reads a number of elements of at least one byte each: it cannot
// exceed the bytes left.
func (d *decoder) count(what string) int {
	v := d.uvarint(what)
	if v > uint64(len(d.b)) {
		d.fail("%s: count %d exceeds the %d bytes left", what, v, len(d.b))
		return 0
	}
	return int(v)
}

func (d *decoder) bytes(n int, what string) []byte {
	if n < 0 || n > len(d.b) {
		d.fail("%s: %d bytes past the end", what, n)
		return nil
	}
	s := d.b[:n]
	d.b = d.b[n:]
	return s
}

// list reads a list of offsets below n, appending them to dst.
func (d *decoder) list(dst []uint32, n int, what string) []uint32 {
	c := d.count(what)
	prev := uint64(0)
	for i := 0; i < c && d.err == nil; i++ {
		v := d.uvarint(what)
		if i > 0 {
			v += prev + 1
		}
		if v >= uint64(n) {
			d.fail("%s: offset %d out of range [0, %d)", what, v, n)
			break
		}
		dst = append(dst, uint32(v))
		prev = v
	}
	return dst
}

// Decode decodes an index encoded by AppendBinary into a frozen Index.
// With verify it checks the checksum first. It validates the structure
// either way: any failure is an error matching base.ErrCorruption, and no
// input makes it panic.
func Decode(b []byte, verify bool) (*Index, error) {
	const minLen = len(fileMagic) + 4 + 4
	if len(b) < minLen || string(b[:len(fileMagic)]) != fileMagic {
		return nil, base.CorruptionErrorf("fieldindex: bad magic or %d bytes too short", len(b))
	}
	if v := binary.LittleEndian.Uint32(b[len(fileMagic):]); v != fileVersion {
		return nil, base.CorruptionErrorf("fieldindex: unknown format version %d", v)
	}
	body := b[:len(b)-4]
	if verify {
		if got, want := crc32.Checksum(body, castagnoli), binary.LittleEndian.Uint32(b[len(b)-4:]); got != want {
			return nil, base.CorruptionErrorf("fieldindex: checksum mismatch (%08x, want %08x)", got, want)
		}
	}
	d := &decoder{b: body[len(fileMagic)+4:]}
	key := string(d.bytes(d.count("key"), "key"))
	js := d.bytes(d.count("schema"), "schema")
	if d.err != nil {
		return nil, d.err
	}
	var schema filter.FieldSchema
	if err := json.Unmarshal(js, &schema); err != nil {
		return nil, base.CorruptionErrorf("fieldindex: schema: %v", err)
	}
	x, err := New(key, schema)
	if err != nil {
		return nil, base.CorruptionErrorf("fieldindex: schema of %q: %v", key, err)
	}
	nn := d.uvarint("n")
	flags := d.bytes(1, "flags")
	if d.err != nil {
		return nil, d.err
	}
	if nn > math.MaxUint32 || (nn+7)/8 > uint64(len(d.b)) {
		return nil, base.CorruptionErrorf("fieldindex: n %d exceeds the input", nn)
	}
	n := int(nn)
	if flags[0]&^(flagBadNum|flagBadStr) != 0 {
		return nil, base.CorruptionErrorf("fieldindex: unknown flags %#x", flags[0])
	}
	x.n, x.badNum, x.badStr = n, flags[0]&flagBadNum != 0, flags[0]&flagBadStr != 0
	present := d.bitset(n)
	x.others = roaring.New()
	x.others.AddMany(d.list(nil, n, "others"))
	switch {
	case x.dict != nil:
		d.dict(x.dict, n)
		if x.seq != nil {
			d.seq(x.seq, n, x.dict.nterms)
		}
	case x.num != nil:
		d.entries(x.num, n, x.typ == filter.TypeFloat, false)
	case x.geo != nil:
		d.entries(x.geo, n, true, true)
		x.geo.ext = make([]float64, len(x.geo.keys))
		for i := range x.geo.ext {
			raw := d.bytes(8, "longitude")
			if d.err != nil {
				break
			}
			lon := math.Float64frombits(binary.LittleEndian.Uint64(raw))
			if !(lon >= -180 && lon <= 180) {
				d.fail("longitude %v out of range", lon)
				break
			}
			x.geo.ext[i] = lon
		}
	}
	if d.err == nil && len(d.b) != 0 {
		d.fail("%d trailing bytes", len(d.b))
	}
	if d.err != nil {
		return nil, d.err
	}
	switch {
	case x.dict != nil:
		x.dict.finish(n)
	case x.num != nil:
		x.num.finish(n)
	case x.geo != nil:
		x.geo.finish(n)
	}
	x.finish()
	if !x.indexed.Equals(present) {
		return nil, base.CorruptionErrorf("fieldindex: present offsets disagree with the stored values")
	}
	return x, nil
}

// bitset reads a bitset of n bits.
func (d *decoder) bitset(n int) *roaring.Bitmap {
	raw := d.bytes((n+7)/8, "present")
	bm := roaring.New()
	var offs []uint32
	for i, c := range raw {
		for ; c != 0; c &= c - 1 {
			o := uint32(i)*8 + uint32(bitsTrailing(c))
			if int(o) >= n {
				d.fail("present: bit %d set past n %d", o, n)
				return bm
			}
			offs = append(offs, o)
		}
	}
	bm.AddMany(offs)
	return bm
}

func bitsTrailing(c byte) int {
	n := 0
	for c&1 == 0 {
		c >>= 1
		n++
	}
	return n
}

// dict reads the terms and lists of a dictionary into its frozen CSR form
// (finish completes it).
func (d *decoder) dict(dc *dict, n int) {
	nt := d.count("terms")
	dc.nterms = nt
	var data []byte
	if dc.stride == 0 {
		dc.termEnd = make([]uint32, 0, nt)
	}
	prev := ""
	for t := 0; t < nt && d.err == nil; t++ {
		var term []byte
		if dc.stride > 0 {
			term = d.bytes(dc.stride, "term")
		} else {
			term = d.bytes(d.count("term"), "term")
		}
		if d.err != nil {
			break
		}
		if t > 0 && string(term) <= prev {
			d.fail("term %d out of order", t)
			break
		}
		prev = string(term)
		data = append(data, term...)
		if dc.stride == 0 {
			if len(data) > math.MaxUint32 {
				d.fail("terms too long")
				break
			}
			dc.termEnd = append(dc.termEnd, uint32(len(data)))
		}
	}
	if d.err != nil {
		return
	}
	if dc.stride == 1 && (nt != 2 || string(data) != "\x00\x01") {
		d.fail("bool terms %q", data)
		return
	}
	dc.termData = string(data)
	dc.postEnd = make([]uint32, nt+1)
	for t := 0; t < nt && d.err == nil; t++ {
		dc.post = d.list(dc.post, n, "postings")
		if len(dc.post) > math.MaxUint32 {
			d.fail("too many postings")
		}
		dc.postEnd[t+1] = uint32(len(dc.post))
	}
	dc.ids, dc.terms, dc.posts = nil, nil, nil
}

// seq reads the word sequences of a text index over n offsets and nt
// terms.
func (d *decoder) seq(s *seqCol, n, nt int) {
	s.valEnd = make([]uint32, 1, n+1)
	total := uint64(0)
	for o := 0; o < n && d.err == nil; o++ {
		total += d.uvarint("values")
		if total > uint64(len(d.b)) {
			d.fail("values: %d exceeds the input", total)
			return
		}
		s.valEnd = append(s.valEnd, uint32(total))
	}
	s.wordEnd = make([]uint32, 1, total+1)
	s.words = s.words[:0]
	for v := uint64(0); v < total && d.err == nil; v++ {
		c := d.count("words")
		if c == 0 && d.err == nil {
			d.fail("value without words")
		}
		for i := 0; i < c && d.err == nil; i++ {
			id := d.uvarint("word")
			if id >= uint64(nt) {
				d.fail("word id %d out of range [0, %d)", id, nt)
			}
			s.words = append(s.words, uint32(id))
		}
		s.wordEnd = append(s.wordEnd, uint32(len(s.words)))
	}
}

// entries reads the sorted entries of a numeric or geo column. floats:
// keys must be canonical floatKeys of non-NaN values; lat: latitudes in
// [-90, 90], equal (key, offset) pairs allowed (a geo offset may hold the
// same point twice).
func (d *decoder) entries(s entryCol, n int, floats, lat bool) {
	m := d.count("entries")
	keys := make([]uint64, m)
	k := uint64(0)
	for i := 0; i < m && d.err == nil; i++ {
		delta := d.uvarint("key")
		if i > 0 && k+delta < k {
			d.fail("key %d overflows", i)
			break
		}
		k += delta
		if floats {
			f := keyFloat(k)
			if math.IsNaN(f) || floatKey(f) != k || (lat && !(f >= -90 && f <= 90)) {
				d.fail("key %d: %#x is not a valid value", i, k)
				break
			}
		}
		keys[i] = k
	}
	if d.err != nil {
		return
	}
	if len(d.b) < m {
		d.fail("offsets: %d past the end", m)
		return
	}
	offs := make([]uint32, m)
	for i := 0; i < m && d.err == nil; i++ {
		o := d.uvarint("offset")
		if o >= uint64(n) {
			d.fail("offset %d out of range [0, %d)", o, n)
			break
		}
		offs[i] = uint32(o)
		if i > 0 && keys[i] == keys[i-1] && (offs[i] < offs[i-1] || (!lat && offs[i] == offs[i-1])) {
			d.fail("entry %d out of order", i)
		}
	}
	s.setSorted(keys, offs)
}

// entryCol is a sortedCol of any ext, for the decoder.
type entryCol interface {
	setSorted(keys []uint64, offs []uint32)
}

func (s *sortedCol[E]) setSorted(keys []uint64, offs []uint32) {
	s.keys, s.offs = keys, offs
	s.ext = slices.Grow(s.ext[:0], len(keys))[:len(keys)]
}

// WriteFile writes the frozen index x to name atomically
// (vfs.WriteFileAtomic).
func WriteFile(fs vfs.FS, name string, x *Index) error {
	b, err := x.AppendBinary(nil)
	if err != nil {
		return err
	}
	return vfs.WriteFileAtomic(fs, name, b)
}

// ReadFile reads and decodes the index file name (see Decode).
func ReadFile(fs vfs.FS, name string, verify bool) (*Index, error) {
	b, err := vfs.ReadFile(fs, name)
	if err != nil {
		return nil, fmt.Errorf("fieldindex: read %s: %w", name, err)
	}
	x, err := Decode(b, verify)
	if err != nil {
		return nil, fmt.Errorf("fieldindex: %s: %w", name, err)
	}
	return x, nil
}
