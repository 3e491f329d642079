package collection

// Operation records, the payload of each write-ahead log record. The WAL
// record type byte is the op kind. Little endian; every count is a uint32
// and every list is bounded by the record length, so a decoder never
// allocates more than the record could hold.
//
//	upsert:           count | count × point
//	update_vectors:   count | count × point        (only the vectors given are replaced)
//	delete:           ids
//	set_payload:      ids | key (str) | payload (bytes)
//	overwrite_payload: ids | payload (bytes)
//	delete_payload:   ids | count | count × key (str)
//	clear_payload:    ids
//	delete_vectors:   ids | count | count × (kind u8: 0 dense, 1 sparse | index u16)
//
//	point: id (24 bytes) | ndense u16 | ndense × (index u16 | dim u32 | dim × f32)
//	       | nsparse u16 | nsparse × (index u16 | len u32 | encoded sparse)
//	       | payload (bytes)
//	ids:   count | count × id (24 bytes)
//	bytes, str: len u32 | len bytes

import (
	"encoding/binary"
	"math"

	"github.com/strata-db/strata/internal/base"
	"github.com/strata-db/strata/internal/segment"
)

// OpKind is the type of a write operation (the WAL record type).
type OpKind uint8

const (
	OpUpsert OpKind = iota + 1
	OpDelete
	OpSetPayload
	OpOverwritePayload
	OpDeletePayloadKeys
	OpClearPayload
	OpUpdateVectors
	OpDeleteVectors
)

// VectorRef names one vector of the schema.
type VectorRef struct {
	Sparse bool
	Index  int
}

// Op is one write operation. Points are used by OpUpsert and
// OpUpdateVectors; the others use IDs.
type Op struct {
	Kind    OpKind
	Points  []segment.Point
	IDs     []base.PointID
	Key     string   // OpSetPayload: nested path to merge at ("" = root)
	Payload []byte   // OpSetPayload, OpOverwritePayload: a JSON object
	Keys    []string // OpDeletePayloadKeys
	Vectors []VectorRef
}

func appendBytes(dst, b []byte) []byte {
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(b)))
	return append(dst, b...)
}

func appendIDs(dst []byte, ids []base.PointID) []byte {
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(ids)))
	for _, id := range ids {
		dst = base.AppendPointID(dst, id)
	}
	return dst
}

func appendPoint(dst []byte, p *segment.Point) []byte {
	dst = base.AppendPointID(dst, p.ID)
	n := 0
	for _, v := range p.Dense {
		if v != nil {
			n++
		}
	}
	dst = binary.LittleEndian.AppendUint16(dst, uint16(n))
	for i, v := range p.Dense {
		if v == nil {
			continue
		}
		dst = binary.LittleEndian.AppendUint16(dst, uint16(i))
		dst = binary.LittleEndian.AppendUint32(dst, uint32(len(v)))
		for _, f := range v {
			dst = binary.LittleEndian.AppendUint32(dst, math.Float32bits(f))
		}
	}
	n = 0
	for _, s := range p.Sparse {
		if s != nil {
			n++
		}
	}
	dst = binary.LittleEndian.AppendUint16(dst, uint16(n))
	for i, s := range p.Sparse {
		if s == nil {
			continue
		}
		dst = binary.LittleEndian.AppendUint16(dst, uint16(i))
		dst = appendBytes(dst, segment.AppendSparse(nil, s))
	}
	return appendBytes(dst, p.Payload)
}

// AppendOp encodes op (without its kind, which is the record type).
func AppendOp(dst []byte, op *Op) []byte {
	switch op.Kind {
	case OpUpsert, OpUpdateVectors:
		dst = binary.LittleEndian.AppendUint32(dst, uint32(len(op.Points)))
		for i := range op.Points {
			dst = appendPoint(dst, &op.Points[i])
		}
	case OpDelete, OpClearPayload:
		dst = appendIDs(dst, op.IDs)
	case OpSetPayload:
		dst = appendIDs(dst, op.IDs)
		dst = appendBytes(dst, []byte(op.Key))
		dst = appendBytes(dst, op.Payload)
	case OpOverwritePayload:
		dst = appendIDs(dst, op.IDs)
		dst = appendBytes(dst, op.Payload)
	case OpDeletePayloadKeys:
		dst = appendIDs(dst, op.IDs)
		dst = binary.LittleEndian.AppendUint32(dst, uint32(len(op.Keys)))
		for _, k := range op.Keys {
			dst = appendBytes(dst, []byte(k))
		}
	case OpDeleteVectors:
		dst = appendIDs(dst, op.IDs)
		dst = binary.LittleEndian.AppendUint32(dst, uint32(len(op.Vectors)))
		for _, v := range op.Vectors {
			var k byte
			if v.Sparse {
				k = 1
			}
			dst = append(dst, k)
			dst = binary.LittleEndian.AppendUint16(dst, uint16(v.Index))
		}
	default:
		panic("collection: encode of unknown op kind")
	}
	return dst
}

// opDecoder reads an encoded op; the first malformed read sets bad.
type opDecoder struct {
	b   []byte
	bad bool
}

func (d *opDecoder) take(n int) []byte {
	if d.bad || n < 0 || n > len(d.b) {
		d.bad = true
		return nil
	}
	out := d.b[:n:n]
	d.b = d.b[n:]
	return out
}

func (d *opDecoder) u8() byte {
	b := d.take(1)
	if b == nil {
		return 0
	}
	return b[0]
}

func (d *opDecoder) u16() int {
	b := d.take(2)
	if b == nil {
		return 0
	}
	return int(binary.LittleEndian.Uint16(b))
}

func (d *opDecoder) u32() int {
	b := d.take(4)
	if b == nil {
		return 0
	}
	return int(binary.LittleEndian.Uint32(b))
}

// count reads a list length and checks that the rest of the record could
// hold that many elements of at least min bytes each.
func (d *opDecoder) count(min int) int {
	n := d.u32()
	if n*min > len(d.b) {
		d.bad = true
		return 0
	}
	return n
}

func (d *opDecoder) bytes() []byte {
	return d.take(d.u32())
}

func (d *opDecoder) id() base.PointID {
	b := d.take(base.PointIDSize)
	if b == nil {
		return base.PointID{}
	}
	id, ok := base.DecodePointID(b)
	if !ok {
		d.bad = true
	}
	return id
}

func (d *opDecoder) ids() []base.PointID {
	n := d.count(base.PointIDSize)
	out := make([]base.PointID, 0, n)
	for i := 0; i < n && !d.bad; i++ {
		out = append(out, d.id())
	}
	return out
}

func (d *opDecoder) point(schema *segment.Schema) segment.Point {
	p := segment.Point{ID: d.id()}
	p.Dense = make([][]float32, len(schema.Dense))
	p.Sparse = make([]*segment.Sparse, len(schema.Sparse))
	nd := d.u16()
	for i := 0; i < nd && !d.bad; i++ {
		idx, dim := d.u16(), d.u32()
		raw := d.take(dim * 4)
		if d.bad || idx >= len(schema.Dense) || dim != schema.Dense[idx].Dim || p.Dense[idx] != nil {
			d.bad = true
			break
		}
		v := make([]float32, dim)
		for j := range v {
			v[j] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*j:]))
		}
		p.Dense[idx] = v
	}
	ns := d.u16()
	for i := 0; i < ns && !d.bad; i++ {
		idx := d.u16()
		raw := d.bytes()
		if d.bad || idx >= len(schema.Sparse) || p.Sparse[idx] != nil {
			d.bad = true
			break
		}
		sp, ok := segment.DecodeSparse(raw)
		if !ok {
			d.bad = true
			break
		}
		p.Sparse[idx] = &sp
	}
	if pl := d.bytes(); len(pl) > 0 {
		p.Payload = pl
	}
	return p
}

// DecodeOp decodes a record of the given kind for schema. Any malformed
// input is an error matching base.ErrCorruption.
func DecodeOp(kind OpKind, b []byte, schema *segment.Schema) (*Op, error) {
	d := &opDecoder{b: b}
	op := &Op{Kind: kind}
	switch kind {
	case OpUpsert, OpUpdateVectors:
		n := d.count(base.PointIDSize + 8)
		op.Points = make([]segment.Point, 0, n)
		for i := 0; i < n && !d.bad; i++ {
			op.Points = append(op.Points, d.point(schema))
		}
	case OpDelete, OpClearPayload:
		op.IDs = d.ids()
	case OpSetPayload:
		op.IDs = d.ids()
		op.Key = string(d.bytes())
		op.Payload = d.bytes()
	case OpOverwritePayload:
		op.IDs = d.ids()
		op.Payload = d.bytes()
	case OpDeletePayloadKeys:
		op.IDs = d.ids()
		n := d.count(4)
		for i := 0; i < n && !d.bad; i++ {
			op.Keys = append(op.Keys, string(d.bytes()))
		}
	case OpDeleteVectors:
		op.IDs = d.ids()
		n := d.count(3)
		for i := 0; i < n && !d.bad; i++ {
			k, idx := d.u8(), d.u16()
			ref := VectorRef{Sparse: k == 1, Index: idx}
			if k > 1 || (!ref.Sparse && idx >= len(schema.Dense)) || (ref.Sparse && idx >= len(schema.Sparse)) {
				d.bad = true
			}
			op.Vectors = append(op.Vectors, ref)
		}
	default:
		return nil, base.CorruptionErrorf("unknown operation kind %d", kind)
	}
	if d.bad || len(d.b) != 0 {
		return nil, base.CorruptionErrorf("malformed %d-byte operation of kind %d", len(b), kind)
	}
	return op, nil
}
