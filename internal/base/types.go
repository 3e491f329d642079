package base

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strconv"
)

// Offset is a point's dense position inside one segment. Hot structures
// (vectors, graphs, bitsets) are indexed by Offset, never by PointID.
type Offset = uint32

// SeqNum is the write-ahead log sequence number of an operation. Every point
// remembers the SeqNum that last wrote it, which makes replay idempotent.
type SeqNum = uint64

// PointID identifies a point: an unsigned 64-bit integer or a UUID, as in
// Qdrant. The zero value is the numeric id 0.
//
// Ordering (Compare) puts every numeric id before every UUID; numeric ids
// compare as integers and UUIDs as their 16 bytes, which is Qdrant's order.
type PointID struct {
	uuid   bool
	hi, lo uint64 // numeric: lo holds the number; UUID: big-endian halves
}

// NumID returns the numeric point id n.
func NumID(n uint64) PointID { return PointID{lo: n} }

// UUIDID returns the point id for the 16 bytes of a UUID.
func UUIDID(b [16]byte) PointID {
	return PointID{uuid: true, hi: binary.BigEndian.Uint64(b[:8]), lo: binary.BigEndian.Uint64(b[8:])}
}

// ParseUUID parses the canonical 36-character form (8-4-4-4-12 hex digits),
// also accepting 32 bare hex digits and an optional "urn:uuid:" prefix or
// braces, as Qdrant does.
func ParseUUID(s string) (PointID, error) {
	orig := s
	if len(s) == 45 && s[:9] == "urn:uuid:" {
		s = s[9:]
	} else if len(s) == 38 && s[0] == '{' && s[37] == '}' {
		s = s[1:37]
	}
	var hexs [32]byte
	switch len(s) {
	case 36:
		if s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
			return PointID{}, InvalidArgumentf("invalid UUID %q", orig)
		}
		copy(hexs[0:8], s[0:8])
		copy(hexs[8:12], s[9:13])
		copy(hexs[12:16], s[14:18])
		copy(hexs[16:20], s[19:23])
		copy(hexs[20:32], s[24:36])
	case 32:
		copy(hexs[:], s)
	default:
		return PointID{}, InvalidArgumentf("invalid UUID %q", orig)
	}
	var b [16]byte
	if _, err := hex.Decode(b[:], hexs[:]); err != nil {
		return PointID{}, InvalidArgumentf("invalid UUID %q", orig)
	}
	return UUIDID(b), nil
}

// ParsePointID parses a decimal unsigned integer or a UUID.
func ParsePointID(s string) (PointID, error) {
	if n, err := strconv.ParseUint(s, 10, 64); err == nil {
		return NumID(n), nil
	}
	id, err := ParseUUID(s)
	if err != nil {
		return PointID{}, InvalidArgumentf("invalid point id %q: expected an unsigned integer or a UUID", s)
	}
	return id, nil
}

// IsUUID reports whether the id is a UUID.
func (id PointID) IsUUID() bool { return id.uuid }

// Num returns the numeric id; it is meaningful only when !IsUUID().
func (id PointID) Num() uint64 { return id.lo }

// UUID returns the 16 bytes of a UUID id; zero for a numeric id.
func (id PointID) UUID() (b [16]byte) {
	if id.uuid {
		binary.BigEndian.PutUint64(b[:8], id.hi)
		binary.BigEndian.PutUint64(b[8:], id.lo)
	}
	return b
}

// String returns the decimal number or the canonical lower-case UUID.
func (id PointID) String() string {
	if !id.uuid {
		return strconv.FormatUint(id.lo, 10)
	}
	b := id.UUID()
	var buf [36]byte
	hex.Encode(buf[0:8], b[0:4])
	buf[8] = '-'
	hex.Encode(buf[9:13], b[4:6])
	buf[13] = '-'
	hex.Encode(buf[14:18], b[6:8])
	buf[18] = '-'
	hex.Encode(buf[19:23], b[8:10])
	buf[23] = '-'
	hex.Encode(buf[24:36], b[10:16])
	return string(buf[:])
}

// GoString makes %#v readable in test failures.
func (id PointID) GoString() string { return fmt.Sprintf("PointID(%s)", id) }

// Compare orders ids: numeric before UUID, then by value.
func (id PointID) Compare(o PointID) int {
	switch {
	case id.uuid != o.uuid:
		if !id.uuid {
			return -1
		}
		return 1
	case id.hi != o.hi:
		if id.hi < o.hi {
			return -1
		}
		return 1
	case id.lo != o.lo:
		if id.lo < o.lo {
			return -1
		}
		return 1
	}
	return 0
}

// PointIDSize is the encoded size of a PointID: kind, hi, lo as three
// little-endian uint64 words, so that an mmap'd array of ids is 8-aligned.
const PointIDSize = 24

// AppendPointID appends the fixed-size encoding of id to dst.
func AppendPointID(dst []byte, id PointID) []byte {
	var kind uint64
	if id.uuid {
		kind = 1
	}
	dst = binary.LittleEndian.AppendUint64(dst, kind)
	dst = binary.LittleEndian.AppendUint64(dst, id.hi)
	return binary.LittleEndian.AppendUint64(dst, id.lo)
}

// DecodePointID decodes PointIDSize bytes. It reports false for a kind other
// than 0 or 1, or a numeric id with a non-zero high word.
func DecodePointID(b []byte) (PointID, bool) {
	_ = b[PointIDSize-1]
	kind := binary.LittleEndian.Uint64(b)
	hi := binary.LittleEndian.Uint64(b[8:])
	lo := binary.LittleEndian.Uint64(b[16:])
	switch {
	case kind == 0 && hi == 0:
		return PointID{lo: lo}, true
	case kind == 1:
		return PointID{uuid: true, hi: hi, lo: lo}, true
	}
	return PointID{}, false
}

// Distance is a similarity function for dense vectors, named as in Qdrant.
type Distance uint8

const (
	Cosine Distance = iota + 1
	Dot
	Euclid
	Manhattan
)

// String returns Qdrant's name for the distance.
func (d Distance) String() string {
	switch d {
	case Cosine:
		return "Cosine"
	case Dot:
		return "Dot"
	case Euclid:
		return "Euclid"
	case Manhattan:
		return "Manhattan"
	}
	return fmt.Sprintf("Distance(%d)", uint8(d))
}

// ParseDistance accepts Qdrant's names (case-insensitively).
func ParseDistance(s string) (Distance, error) {
	switch s {
	case "Cosine", "cosine", "COSINE":
		return Cosine, nil
	case "Dot", "dot", "DOT":
		return Dot, nil
	case "Euclid", "euclid", "EUCLID":
		return Euclid, nil
	case "Manhattan", "manhattan", "MANHATTAN":
		return Manhattan, nil
	}
	return 0, InvalidArgumentf("unknown distance %q: expected Cosine, Dot, Euclid or Manhattan", s)
}

// Valid reports whether d is one of the defined distances.
func (d Distance) Valid() bool { return d >= Cosine && d <= Manhattan }

// HigherIsBetter reports whether a larger score means a closer match
// (similarities: Cosine, Dot) rather than a smaller one (distances).
func (d Distance) HigherIsBetter() bool { return d == Cosine || d == Dot }

// MarshalText encodes the distance as Qdrant's name.
func (d Distance) MarshalText() ([]byte, error) {
	if !d.Valid() {
		return nil, InvalidArgumentf("invalid distance %d", uint8(d))
	}
	return []byte(d.String()), nil
}

// UnmarshalText accepts Qdrant's names.
func (d *Distance) UnmarshalText(b []byte) error {
	v, err := ParseDistance(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}
