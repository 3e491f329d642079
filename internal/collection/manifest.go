package collection

// The manifest names the sealed segments of a collection and the WAL
// checkpoint they reflect. It is rewritten atomically (temp file, fsync,
// rename, fsync of the directory) each time the optimizer publishes a new
// segment set; that rename is the commit point of the optimization.
//
//	"STRATMAN" | version u32 | length u32 | JSON body (length bytes) | crc32c u32
//
// The CRC covers the magic, version, length and body.

import (
	"encoding/binary"
	"encoding/json"
	"hash/crc32"

	"github.com/strata-db/strata/internal/base"
	"github.com/strata-db/strata/internal/filter"
)

const manifestMagic = "STRATMAN"

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Manifest is the persisted segment set.
type Manifest struct {
	// Checkpoint: every operation with seq <= Checkpoint is reflected in the
	// segments and deleted files below, and none after it.
	Checkpoint uint64 `json:"checkpoint"`
	// NextSegmentID is the id the next new segment gets.
	NextSegmentID uint64            `json:"next_segment_id"`
	Segments      []ManifestSegment `json:"segments"`
}

// ManifestSegment is one sealed segment.
type ManifestSegment struct {
	ID     uint64 `json:"id"`
	Points int    `json:"points"`
	// Deleted names the file with the segment's tombstones as of the
	// checkpoint, "" if it has none.
	Deleted string `json:"deleted,omitempty"`
	// Graphs are the segment's HNSW graph files, one per indexed vector.
	Graphs []ManifestGraph `json:"graphs,omitempty"`
	// Fields are the segment's payload index files, one per payload key.
	Fields []ManifestField `json:"fields,omitempty"`
}

// ManifestField is one persisted payload index of a segment.
type ManifestField struct {
	Key    string             `json:"key"`
	File   string             `json:"file"`
	Schema filter.FieldSchema `json:"schema"`
}

// ManifestGraph is one persisted HNSW graph of a segment.
type ManifestGraph struct {
	Vector      int    `json:"vector"` // schema index of the dense vector
	File        string `json:"file"`
	M           int    `json:"m"`
	EfConstruct int    `json:"ef_construct"`
}

func encodeManifest(m *Manifest) []byte {
	body, _ := json.Marshal(m)
	b := make([]byte, 0, 16+len(body)+4)
	b = append(b, manifestMagic...)
	b = binary.LittleEndian.AppendUint32(b, 1)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(body)))
	b = append(b, body...)
	return binary.LittleEndian.AppendUint32(b, crc32.Checksum(b, castagnoli))
}

func decodeManifest(b []byte) (*Manifest, error) {
	if len(b) < 20 || string(b[:8]) != manifestMagic {
		return nil, base.CorruptionErrorf("manifest: bad magic or size")
	}
	if v := binary.LittleEndian.Uint32(b[8:]); v != 1 {
		return nil, base.CorruptionErrorf("manifest: unsupported version %d", v)
	}
	n := binary.LittleEndian.Uint32(b[12:])
	if uint64(n)+20 != uint64(len(b)) {
		return nil, base.CorruptionErrorf("manifest: length %d does not match file size %d", n, len(b))
	}
	if crc32.Checksum(b[:len(b)-4], castagnoli) != binary.LittleEndian.Uint32(b[len(b)-4:]) {
		return nil, base.CorruptionErrorf("manifest: checksum mismatch")
	}
	var m Manifest
	if err := json.Unmarshal(b[16:16+n], &m); err != nil {
		return nil, base.CorruptionErrorf("manifest: %v", err)
	}
	seen := make(map[uint64]bool, len(m.Segments))
	for _, s := range m.Segments {
		if s.ID >= m.NextSegmentID || seen[s.ID] || s.Points < 0 {
			return nil, base.CorruptionErrorf("manifest: bad segment entry %d", s.ID)
		}
		seen[s.ID] = true
		for _, g := range s.Graphs {
			if g.Vector < 0 || g.File == "" || g.M <= 0 || g.EfConstruct <= 0 {
				return nil, base.CorruptionErrorf("manifest: bad graph entry of segment %d", s.ID)
			}
		}
		keys := make(map[string]bool, len(s.Fields))
		for _, f := range s.Fields {
			if f.Key == "" || f.File == "" || keys[f.Key] {
				return nil, base.CorruptionErrorf("manifest: bad payload index entry of segment %d", s.ID)
			}
			keys[f.Key] = true
		}
	}
	return &m, nil
}
