package hnsw

// Graph encoding, version 1. Little endian throughout. Every section starts
// at a multiple of 8 bytes from the start of the encoding, so an encoding
// placed at an 8-byte-aligned file offset can be used in place from an
// mmap'd file (see unsafe.go).
//
//	+---------------------------------------------------------------+ 0
//	| magic "STRAHNSW" (8 bytes)                                    |
//	+---------------+---------------+---------------+---------------+ 8
//	| version u32   | metric u32    | dim u32       | n u32         |
//	+---------------+---------------+---------------+---------------+ 24
//	| nodes u32     | M u32         | entry u32     | maxLevel u32  |
//	+---------------+---------------+---------------+---------------+ 40
//	| upper blocks u64              | crc32c u32    | reserved u32  |
//	+-------------------------------+---------------+---------------+ 56
//	| levels: n x u8 (0xFF = offset not indexed)     | 0 pad to 8   |
//	+---------------------------------------------------------------+
//	| layer 0: n rows of 2M+1 u32: count, neighbours, 0 fill         |
//	|                                                | 0 pad to 8   |
//	+---------------------------------------------------------------+
//	| upStart: n x u32, first upper block of a node of level > 0,   |
//	|          0 for the others                      | 0 pad to 8   |
//	+---------------------------------------------------------------+
//	| upper: blocks x (M+1) u32, a node of level L owns blocks      |
//	|        upStart..upStart+L-1 for layers 1..L: count, neighbours|
//	|                                                | 0 pad to 8   |
//	+---------------------------------------------------------------+ end
//
// metric is the flat.Metric, n the number of offsets covered (the vectors
// are stored elsewhere: Decode is given them again), nodes the number of
// indexed offsets, entry the entry point (0xFFFFFFFF when nodes is 0) and
// maxLevel its level. The CRC-32C (Castagnoli) covers every byte but its
// own four: bytes 0-47 and 52-end. The length is exact: a longer or shorter
// encoding is corrupt. Decode checks the structure (invariants G1-G4 of the
// package documentation) even when it skips the checksum, so a decoded graph
// is always safe to search.

import (
	"encoding/binary"
	"hash/crc32"
	"slices"

	"github.com/strata-db/strata/internal/base"
	"github.com/strata-db/strata/internal/index/flat"
)

const (
	graphMagic      = "STRAHNSW"
	graphVersion    = 1
	graphHeaderSize = 56
	crcOffset       = 48
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func pad8(x uint64) uint64 { return (x + 7) &^ 7 }

// sections returns the byte offsets (from the start of the encoding) of the
// four sections and the total size, for n offsets, M = m and the given
// number of upper blocks. The arithmetic cannot overflow for header values
// that fit their fields (n, m < 2^32, blocks < 2^40 checked by the caller).
func sections(n, m, blocks uint64) (levels, layer0, upStart, upper, end uint64) {
	levels = graphHeaderSize
	layer0 = levels + pad8(n)
	upStart = layer0 + pad8(4*n*(2*m+1))
	upper = upStart + pad8(4*n)
	end = upper + pad8(4*blocks*(m+1))
	return
}

// AppendBinary appends the graph's encoding (format above) to dst. To use
// the encoding in place later, write it at an 8-byte-aligned file offset.
func (g *Graph) AppendBinary(dst []byte) []byte {
	n, m := uint64(g.n), uint64(g.m)
	blocks := uint64(len(g.upper)) / (m + 1)
	_, _, _, _, end := sections(n, m, blocks)
	start := len(dst)
	dst = slices.Grow(dst, int(end))

	dst = append(dst, graphMagic...)
	le := binary.LittleEndian
	for _, v := range []uint32{graphVersion, uint32(g.metric), uint32(g.dim), uint32(g.n),
		uint32(g.nodes), uint32(g.m), g.entry, uint32(g.maxLevel)} {
		dst = le.AppendUint32(dst, v)
	}
	dst = le.AppendUint64(dst, blocks)
	dst = le.AppendUint32(dst, 0) // crc, set below
	dst = le.AppendUint32(dst, 0) // reserved
	padTo := func(dst []byte) []byte {
		for (len(dst)-start)%8 != 0 {
			dst = append(dst, 0)
		}
		return dst
	}
	dst = padTo(append(dst, g.levels...))
	dst = padTo(appendUint32s(dst, g.layer0))
	dst = padTo(appendUint32s(dst, g.upStart))
	dst = padTo(appendUint32s(dst, g.upper))

	enc := dst[start:]
	crc := crc32.Update(0, castagnoli, enc[:crcOffset])
	crc = crc32.Update(crc, castagnoli, enc[crcOffset+4:])
	le.PutUint32(enc[crcOffset:], crc)
	return dst
}

// Decode returns the graph encoded in b (by AppendBinary) over the vectors
// data, for metric m and dimension dim. With verify it checks the CRC; the
// structure is always checked. Any failure, including a metric, dimension
// or vector count that does not match the encoding, is an error matching
// base.ErrCorruption. On little-endian machines the graph aliases b (no
// copy), so b must stay valid and unmodified for the graph's lifetime.
func Decode(b []byte, m flat.Metric, dim int, data []float32, verify bool) (*Graph, error) {
	if len(b) < graphHeaderSize {
		return nil, base.CorruptionErrorf("hnsw: %d bytes are too short for a graph header", len(b))
	}
	if string(b[:8]) != graphMagic {
		return nil, base.CorruptionErrorf("hnsw: bad magic %q", b[:8])
	}
	le := binary.LittleEndian
	version, metric, fdim, n := le.Uint32(b[8:]), le.Uint32(b[12:]), le.Uint32(b[16:]), le.Uint32(b[20:])
	nodes, fm, entry, top := le.Uint32(b[24:]), le.Uint32(b[28:]), le.Uint32(b[32:]), le.Uint32(b[36:])
	blocks, reserved := le.Uint64(b[40:]), le.Uint32(b[52:])
	switch {
	case version != graphVersion:
		return nil, base.CorruptionErrorf("hnsw: unsupported graph version %d", version)
	case reserved != 0:
		return nil, base.CorruptionErrorf("hnsw: reserved header word is %#x", reserved)
	case metric != uint32(m):
		return nil, base.CorruptionErrorf("hnsw: graph metric %d, expected %d", metric, m)
	case dim <= 0 || uint64(fdim) != uint64(dim):
		return nil, base.CorruptionErrorf("hnsw: graph dimension %d, expected %d", fdim, dim)
	case uint64(len(data))/uint64(dim) < uint64(n):
		return nil, base.CorruptionErrorf("hnsw: graph covers %d offsets but only %d vectors were given", n, len(data)/dim)
	case n == noEntry:
		return nil, base.CorruptionErrorf("hnsw: %d offsets exceed the offset space", n)
	case fm < minM || fm > maxM:
		return nil, base.CorruptionErrorf("hnsw: M = %d is outside [%d, %d]", fm, minM, maxM)
	case nodes > n:
		return nil, base.CorruptionErrorf("hnsw: %d nodes among %d offsets", nodes, n)
	case top > maxLevel:
		return nil, base.CorruptionErrorf("hnsw: top level %d exceeds %d", top, maxLevel)
	case blocks > uint64(n)*maxLevel:
		return nil, base.CorruptionErrorf("hnsw: %d upper blocks for %d offsets", blocks, n)
	case nodes == 0 && (entry != noEntry || top != 0 || blocks != 0):
		return nil, base.CorruptionErrorf("hnsw: empty graph with entry %d, top level %d, %d blocks", entry, top, blocks)
	case nodes > 0 && entry >= n:
		return nil, base.CorruptionErrorf("hnsw: entry point %d outside %d offsets", entry, n)
	}
	oLevels, oLayer0, oUpStart, oUpper, end := sections(uint64(n), uint64(fm), blocks)
	if uint64(len(b)) != end {
		return nil, base.CorruptionErrorf("hnsw: graph encoding is %d bytes, header implies %d", len(b), end)
	}
	if verify {
		crc := crc32.Update(0, castagnoli, b[:crcOffset])
		crc = crc32.Update(crc, castagnoli, b[crcOffset+4:])
		if want := le.Uint32(b[crcOffset:]); crc != want {
			return nil, base.CorruptionErrorf("hnsw: graph checksum %#08x, expected %#08x", crc, want)
		}
	}
	mm := int(fm)
	g := &Graph{
		metric:   m,
		dim:      dim,
		data:     data[: int(n)*dim : int(n)*dim],
		n:        int(n),
		m:        mm,
		nodes:    int(nodes),
		entry:    entry,
		maxLevel: int(top),
		levels:   b[oLevels : oLevels+uint64(n) : oLevels+uint64(n)],
		layer0:   uint32s(b[oLayer0 : oLayer0+4*uint64(n)*uint64(2*mm+1)]),
		upStart:  uint32s(b[oUpStart : oUpStart+4*uint64(n)]),
		upper:    uint32s(b[oUpper : oUpper+4*blocks*uint64(mm+1)]),
	}
	if err := g.check(blocks); err != nil {
		return nil, err
	}
	return g, nil
}

// check verifies invariants G1-G4 on a decoded graph.
func (g *Graph) check(blocks uint64) error {
	count, sum := 0, uint64(0)
	for off, lv := range g.levels {
		if lv == notIndexed {
			if g.upStart[off] != 0 {
				return base.CorruptionErrorf("hnsw: offset %d is not indexed but has upper block %d", off, g.upStart[off])
			}
			continue
		}
		if int(lv) > g.maxLevel {
			return base.CorruptionErrorf("hnsw: node %d has level %d above the top level %d", off, lv, g.maxLevel)
		}
		count++
		if lv > 0 {
			if uint64(g.upStart[off])+uint64(lv) > blocks {
				return base.CorruptionErrorf("hnsw: node %d of level %d starts at block %d of %d", off, lv, g.upStart[off], blocks)
			}
			sum += uint64(lv)
		} else if g.upStart[off] != 0 {
			return base.CorruptionErrorf("hnsw: node %d of level 0 has upper block %d", off, g.upStart[off])
		}
	}
	if count != g.nodes {
		return base.CorruptionErrorf("hnsw: %d indexed offsets, header says %d", count, g.nodes)
	}
	if sum != blocks {
		return base.CorruptionErrorf("hnsw: levels add up to %d upper blocks, header says %d", sum, blocks)
	}
	if g.nodes > 0 && int(g.levels[g.entry]) != g.maxLevel {
		return base.CorruptionErrorf("hnsw: entry point %d has level %d, not the top level %d", g.entry, g.levels[g.entry], g.maxLevel)
	}
	checkRow := func(off uint32, l int, row []uint32, width int) error {
		cnt := row[0]
		if cnt > uint32(width) {
			return base.CorruptionErrorf("hnsw: node %d has %d neighbours on layer %d, at most %d allowed", off, cnt, l, width)
		}
		for _, nb := range row[1 : 1+cnt] {
			if nb >= uint32(g.n) || g.levels[nb] == notIndexed || int(g.levels[nb]) < l {
				return base.CorruptionErrorf("hnsw: node %d has an invalid neighbour %d on layer %d", off, nb, l)
			}
		}
		return nil
	}
	for off, lv := range g.levels {
		o := uint32(off)
		if lv == notIndexed {
			if g.layer0[off*g.stride0()] != 0 {
				return base.CorruptionErrorf("hnsw: offset %d is not indexed but has neighbours", off)
			}
			continue
		}
		for l := 0; l <= int(lv); l++ {
			width := g.m
			if l == 0 {
				width = 2 * g.m
			}
			if err := checkRow(o, l, g.row(o, l), width); err != nil {
				return err
			}
		}
	}
	return nil
}
