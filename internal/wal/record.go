package wal

// On-disk format, version 1.
//
// The log is a directory of files, each named "%016x.log" after the
// sequence number of the first record it holds (or will hold, while it has
// none), so that the lexical order of the names is the order of the log.
// All integers are little endian. CRCs are CRC-32C (Castagnoli).
//
// A file is a 16-byte header followed by records:
//
//	 0                   8           12          16
//	+-------------------+-----------+-----------+----------+----------+-- -
//	| magic             | version   | crc32c of | record   | record   |
//	| "STRAWAL\x00"     | uint32 =1 | bytes 0-11| seq=name | name+1   | ...
//	+-------------------+-----------+-----------+----------+----------+-- -
//
// A record is a 17-byte header and a payload:
//
//	 0         4         8      9                  17
//	+---------+---------+------+------------------+-------------------+
//	| crc32c  | length  | type | seq              | payload           |
//	| uint32  | uint32  | u8   | uint64           | length bytes      |
//	+---------+---------+------+------------------+-------------------+
//	          \_______________ covered by crc32c ______________________/
//
// Sequence numbers increase by exactly one from record to record, within a
// file and from the last record of one file to the first of the next (W1).
//
// What a bad record means: records are only ever appended, and only the
// last file is appended to (all others were fsynced before the next was
// created, W5), so a crash can only damage the end of the last file. There,
// a record that is cut short (fewer than 17 header bytes, or fewer payload
// bytes than length says), zero-filled, or fails its CRC is a torn tail,
// provided no valid record (matching CRC, seq beyond the last good one)
// starts anywhere after it; recovery truncates it away (W6). Any other bad
// record, a bad file header, or a seq out of order, is corruption.

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"strconv"
	"strings"
)

const (
	fileMagic      = "STRAWAL\x00"
	fileVersion    = 1
	fileHeaderSize = 16
	recHeaderSize  = 17
	fileSuffix     = ".log"
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// appendFileHeader appends the 16-byte file header to dst.
func appendFileHeader(dst []byte) []byte {
	start := len(dst)
	dst = append(dst, fileMagic...)
	dst = binary.LittleEndian.AppendUint32(dst, fileVersion)
	return binary.LittleEndian.AppendUint32(dst, crc32.Checksum(dst[start:], castagnoli))
}

// checkFileHeader reports what is wrong with a file header, or nil. b must
// hold at least fileHeaderSize bytes.
func checkFileHeader(b []byte) error {
	b = b[:fileHeaderSize]
	if got, want := binary.LittleEndian.Uint32(b[12:]), crc32.Checksum(b[:12], castagnoli); got != want {
		return fmt.Errorf("file header checksum mismatch (stored %#08x, computed %#08x)", got, want)
	}
	if string(b[:8]) != fileMagic {
		return fmt.Errorf("bad magic %q", b[:8])
	}
	if v := binary.LittleEndian.Uint32(b[8:]); v != fileVersion {
		return fmt.Errorf("unsupported version %d (want %d)", v, fileVersion)
	}
	return nil
}

// putRecordHeader fills h (recHeaderSize bytes) with the header of a record
// whose payload is data.
func putRecordHeader(h []byte, seq uint64, typ uint8, data []byte) {
	h = h[:recHeaderSize]
	binary.LittleEndian.PutUint32(h[4:], uint32(len(data)))
	h[8] = typ
	binary.LittleEndian.PutUint64(h[9:], seq)
	crc := crc32.Update(crc32.Checksum(h[4:], castagnoli), castagnoli, data)
	binary.LittleEndian.PutUint32(h[0:], crc)
}

// appendRecord appends a whole framed record to dst.
func appendRecord(dst []byte, seq uint64, typ uint8, data []byte) []byte {
	var h [recHeaderSize]byte
	putRecordHeader(h[:], seq, typ, data)
	dst = append(dst, h[:]...)
	return append(dst, data...)
}

// record is a decoded record; data aliases the buffer it was decoded from.
type record struct {
	seq  uint64
	typ  uint8
	data []byte
}

// badRecord says why decodeRecord rejected the bytes at some offset.
type badRecord uint8

const (
	recOK          badRecord = iota
	recShortHeader           // fewer than recHeaderSize bytes left
	recShortData             // length runs past the end of the file
	recChecksum              // CRC mismatch (zero-filled bytes land here too)
)

func (b badRecord) String() string {
	switch b {
	case recShortHeader:
		return "truncated record header"
	case recShortData:
		return "truncated record payload"
	case recChecksum:
		return "record checksum mismatch"
	}
	return "ok"
}

// decodeRecord decodes the record at the start of b and returns it with its
// framed size.
func decodeRecord(b []byte) (record, int, badRecord) {
	if len(b) < recHeaderSize {
		return record{}, 0, recShortHeader
	}
	length := binary.LittleEndian.Uint32(b[4:])
	if uint64(length) > uint64(len(b)-recHeaderSize) {
		return record{}, 0, recShortData
	}
	n := recHeaderSize + int(length)
	if binary.LittleEndian.Uint32(b) != crc32.Checksum(b[4:n], castagnoli) {
		return record{}, 0, recChecksum
	}
	return record{
		seq:  binary.LittleEndian.Uint64(b[9:]),
		typ:  b[8],
		data: b[recHeaderSize:n:n],
	}, n, recOK
}

// findRecord looks for a valid record with seq >= minSeq starting at any
// offset in data[from:], and returns its offset and seq. It is how recovery
// tells a torn tail (nothing valid follows) from damage inside the log.
func findRecord(data []byte, from int, minSeq uint64) (off int, seq uint64, found bool) {
	for p := from; p+recHeaderSize <= len(data); p++ {
		// Cheap checks before the CRC: the seq must be plausible and the
		// length must fit.
		s := binary.LittleEndian.Uint64(data[p+9:])
		if s < minSeq {
			continue
		}
		length := binary.LittleEndian.Uint32(data[p+4:])
		if uint64(length) > uint64(len(data)-p-recHeaderSize) {
			continue
		}
		if _, _, bad := decodeRecord(data[p:]); bad == recOK {
			return p, s, true
		}
	}
	return 0, 0, false
}

// fileName returns the name of the file whose first record is seq.
func fileName(seq uint64) string { return fmt.Sprintf("%016x%s", seq, fileSuffix) }

// parseFileName returns the seq in a log file name; ok is false for names
// that are not log files (they are ignored).
func parseFileName(name string) (seq uint64, ok bool) {
	hex, found := strings.CutSuffix(name, fileSuffix)
	if !found || len(hex) != 16 || strings.ToLower(hex) != hex {
		return 0, false
	}
	seq, err := strconv.ParseUint(hex, 16, 64)
	return seq, err == nil
}
