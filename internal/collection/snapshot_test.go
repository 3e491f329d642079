package collection

import (
	"context"
	"errors"
	"io"
	"path"
	"testing"

	"github.com/strata-db/strata/internal/base"
	"github.com/strata-db/strata/internal/segment"
	"github.com/strata-db/strata/internal/vfs"
)

func snapTestOpts() Options {
	return Options{
		Optimizer:       OptimizerConfig{Interval: -1, MaxSegments: 1, VacuumMinPoints: 10},
		Index:           IndexConfig{IndexingThresholdKB: -1},
		VerifyChecksums: true,
	}
}

func upsertRange(t *testing.T, c *Collection, lo, hi int) {
	t.Helper()
	op := &Op{Kind: OpUpsert}
	for i := lo; i < hi; i++ {
		op.Points = append(op.Points, segment.Point{
			ID:      base.NumID(uint64(i)),
			Dense:   [][]float32{{float32(i), 1, 0}, nil},
			Sparse:  []*segment.Sparse{nil},
			Payload: []byte(`{"i":1}`),
		})
	}
	if err := c.Write(context.Background(), op, nil); err != nil {
		t.Fatal(err)
	}
}

func deleteIDs(t *testing.T, c *Collection, ids ...uint64) {
	t.Helper()
	op := &Op{Kind: OpDelete}
	for _, id := range ids {
		op.IDs = append(op.IDs, base.NumID(id))
	}
	if err := c.Write(context.Background(), op, nil); err != nil {
		t.Fatal(err)
	}
}

// copySnapshot writes a snapshot's files into dir, as recovery does.
func copySnapshot(t *testing.T, fs vfs.FS, s *Snapshot, dir string) {
	t.Helper()
	if err := vfs.MkdirAllSync(fs, path.Join(dir, "segments"), 0o755); err != nil {
		t.Fatal(err)
	}
	for i := range s.Files {
		b, err := io.ReadAll(s.Files[i].Reader())
		if err != nil {
			t.Fatal(err)
		}
		if int64(len(b)) != s.Files[i].Size {
			t.Fatalf("%s: read %d bytes, size %d", s.Files[i].Name, len(b), s.Files[i].Size)
		}
		if err := vfs.WriteFileAtomic(fs, path.Join(dir, s.Files[i].Name), b); err != nil {
			t.Fatal(err)
		}
	}
}

// A snapshot's files stay readable after later rounds remove them (merged
// segments, superseded tombstone files), and they reflect exactly the state
// at the snapshot's checkpoint, whatever was written afterwards.
func TestSnapshotFilesOutliveLaterRounds(t *testing.T) {
	for name, fs := range map[string]vfs.FS{"mem": vfs.NewMem(), "os": vfs.Default} {
		t.Run(name, func(t *testing.T) {
			dir := "c"
			if name == "os" {
				dir = t.TempDir()
			}
			c, err := Open(fs, dir, testSchema, snapTestOpts())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			upsertRange(t, c, 0, 100)
			if err := c.Optimize(true); err != nil {
				t.Fatal(err)
			}
			upsertRange(t, c, 100, 150) // appendable only
			deleteIDs(t, c, 1, 2, 3)    // tombstones on the sealed segment
			s, err := c.Snapshot()
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if s.Points != 147 || s.Checkpoint != c.appliedSeq.Load() {
				t.Fatalf("snapshot: %d points at %d, want 147 at %d", s.Points, s.Checkpoint, c.appliedSeq.Load())
			}
			// Later rounds: merge (MaxSegments 1) and vacuum remove every file
			// the snapshot named.
			deleteIDs(t, c, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40)
			upsertRange(t, c, 200, 260)
			for i := 0; i < 3; i++ {
				if err := c.Optimize(true); err != nil {
					t.Fatal(err)
				}
			}
			for _, f := range s.Files[1:] {
				if _, err := fs.Stat(path.Join(dir, f.Name)); err == nil {
					t.Fatalf("%s still exists; the test wants it removed by later rounds", f.Name)
				}
			}
			out := dir + "-copy"
			if name == "os" {
				out = t.TempDir()
			}
			copySnapshot(t, fs, s, out)
			res, err := Verify(fs, out, testSchema, snapTestOpts())
			if err != nil {
				t.Fatal(err)
			}
			if res.Points != 147 || res.Checkpoint != s.Checkpoint {
				t.Fatalf("copy: %+v, want 147 points at %d", res, s.Checkpoint)
			}
			// Verify wrote no segment or manifest of its own.
			names, _ := fs.List(path.Join(out, "segments"))
			if len(names) != len(s.Files)-1 {
				t.Fatalf("copy has %v, snapshot had %d files", names, len(s.Files)-1)
			}
		})
	}
}

// Without new operations a snapshot writes nothing: the manifest already
// reflects the applied state. After Close, Snapshot is ErrClosed.
func TestSnapshotIdleAndClosed(t *testing.T) {
	fs := vfs.NewMem()
	c, err := Open(fs, "c", testSchema, snapTestOpts())
	if err != nil {
		t.Fatal(err)
	}
	s, err := c.Snapshot() // a new, empty collection
	if err != nil {
		t.Fatal(err)
	}
	if s.Checkpoint != 0 || s.Points != 0 || len(s.Files) != 1 || s.Files[0].Name != "MANIFEST" {
		t.Fatalf("empty snapshot: %+v", s)
	}
	s.Close()
	upsertRange(t, c, 0, 10)
	s1, err := c.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	s1.Close()
	man1, _ := vfs.ReadFile(fs, "c/MANIFEST")
	s2, err := c.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	s2.Close()
	man2, _ := vfs.ReadFile(fs, "c/MANIFEST")
	if s1.Checkpoint != s2.Checkpoint || string(man1) != string(man2) {
		t.Fatalf("an idle snapshot ran a round: checkpoints %d, %d", s1.Checkpoint, s2.Checkpoint)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Snapshot(); !errors.Is(err, base.ErrClosed) {
		t.Fatalf("after Close: %v", err)
	}
}
