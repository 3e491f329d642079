package strata

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/strata-db/strata/internal/vfs"
)

// fullSnapshotBytes reads a stored full snapshot whole.
func fullSnapshotBytes(t *testing.T, db *DB, name string) []byte {
	t.Helper()
	r, err := db.OpenFullSnapshot(ctx, name)
	if err != nil {
		t.Fatalf("OpenFullSnapshot: %v", err)
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(b)) != r.Info().Size {
		t.Fatalf("read %d bytes, info says %d", len(b), r.Info().Size)
	}
	return b
}

// fullTestDB has two collections: "alpha" (snapConfig, HNSW graphs and
// payload indexes) and "beta" (faultConfig, a few points).
func fullTestDB(t *testing.T, dir string) (*DB, *Collection, *Collection) {
	t.Helper()
	db := mustOpen(t, dir)
	a, err := db.CreateCollection(ctx, "alpha", snapConfig())
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(3, 4))
	for lo := 0; lo < 1500; lo += 500 {
		if err := a.Upsert(ctx, snapPoints(r, lo, lo+500)); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.Optimize(ctx); err != nil {
		t.Fatal(err)
	}
	if err := a.CreateFieldIndex(ctx, "i", FieldSchema{Type: "integer"}); err != nil {
		t.Fatal(err)
	}
	if err := a.WaitIndexed(ctx); err != nil {
		t.Fatal(err)
	}
	if err := a.Delete(ctx, IDs(NumID(7))); err != nil {
		t.Fatal(err)
	}
	b, err := db.CreateCollection(ctx, "beta", faultConfig)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Upsert(ctx, pointsRange(0, 50)); err != nil {
		t.Fatal(err)
	}
	return db, a, b
}

// A full snapshot holds one collection snapshot per collection; each
// recovers (through RecoverSnapshot) to the same points and search
// answers. Listing, downloading and deleting work on full snapshots only.
func TestFullSnapshotRoundTrip(t *testing.T) {
	dir := t.TempDir()
	db, a, b := fullTestDB(t, dir)
	defer db.Close()
	collInfo, err := a.CreateSnapshot(ctx) // a collection snapshot, which full snapshots leave alone
	if err != nil {
		t.Fatal(err)
	}
	wantA, wantB := allRecords(t, a), allRecords(t, b)
	r := rand.New(rand.NewPCG(9, 9))
	queries := [][]float32{vec(r, 8), vec(r, 8), vec(r, 8)}
	filter := &Filter{Must: []Condition{MatchValue("tag", "t3")}}
	var wantSearch [][]ScoredPoint
	for _, q := range queries {
		wantSearch = append(wantSearch, searchBoth(t, a, q, nil), searchBoth(t, a, q, filter))
	}

	if l, err := db.ListFullSnapshots(ctx); err != nil || len(l) != 0 {
		t.Fatalf("list before: %v %v", l, err)
	}
	info, err := db.CreateFullSnapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(info.Name, "full-") || !strings.HasSuffix(info.Name, SnapshotExt) || info.Collection != "" || info.Size <= 0 {
		t.Fatalf("info: %+v", info)
	}
	if _, err := os.Stat(filepath.Join(dir, "snapshots", ".full", info.Name)); err != nil {
		t.Fatalf("stored file: %v", err)
	}
	list, err := db.ListFullSnapshots(ctx)
	if err != nil || len(list) != 1 || !reflect.DeepEqual(list[0], info) {
		t.Fatalf("list: %+v %v, want [%+v]", list, err, info)
	}
	// The collection snapshots are not listed as full ones, nor the other
	// way round.
	if l, err := db.ListSnapshots(ctx, "alpha"); err != nil || len(l) != 1 || l[0].Name != collInfo.Name {
		t.Fatalf("collection snapshots: %+v %v", l, err)
	}

	data := fullSnapshotBytes(t, db, info.Name)
	sum := sha256.Sum256(data)
	if hex.EncodeToString(sum[:]) != info.Checksum {
		t.Fatal("downloaded bytes do not match the checksum")
	}
	side, err := os.ReadFile(filepath.Join(dir, "snapshots", ".full", info.Name+".checksum"))
	if err != nil || string(side) != info.Checksum {
		t.Fatalf("checksum file: %q %v", side, err)
	}

	names, files := readArchive(t, data)
	if !reflect.DeepEqual(names, []string{"strata-full-snapshot.json", "collections/alpha.snapshot", "collections/beta.snapshot"}) {
		t.Fatalf("entries: %v", names)
	}
	var hdr fullSnapshotHeader
	if err := json.Unmarshal(files[names[0]], &hdr); err != nil {
		t.Fatal(err)
	}
	if hdr.Format != 1 || len(hdr.Collections) != 2 {
		t.Fatalf("header: %+v", hdr)
	}
	for i, m := range hdr.Collections {
		s := sha256.Sum256(files[m.Name])
		if m.Name != names[i+1] || m.Size != int64(len(files[m.Name])) || m.SHA256 != hex.EncodeToString(s[:]) || m.Checkpoint == 0 {
			t.Fatalf("member %d %+v does not match the archive", i, m)
		}
	}
	if hdr.Collections[0].Points != len(wantA) || hdr.Collections[1].Points != len(wantB) {
		t.Fatalf("points: %+v", hdr.Collections)
	}

	// Every inner snapshot recovers to identical data and answers.
	ra, err := db.RecoverSnapshot(ctx, "alpha-copy", bytes.NewReader(files["collections/alpha.snapshot"]), RecoverOptions{Checksum: hdr.Collections[0].SHA256})
	if err != nil {
		t.Fatal(err)
	}
	rb, err := db.RecoverSnapshot(ctx, "beta-copy", bytes.NewReader(files["collections/beta.snapshot"]), RecoverOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := allRecords(t, ra); !reflect.DeepEqual(got, wantA) {
		t.Fatalf("alpha recovered: %d records, want %d", len(got), len(wantA))
	}
	if got := allRecords(t, rb); !reflect.DeepEqual(got, wantB) {
		t.Fatalf("beta recovered: %d records, want %d", len(got), len(wantB))
	}
	for i, q := range queries {
		if got := searchBoth(t, ra, q, nil); !reflect.DeepEqual(got, wantSearch[2*i]) {
			t.Fatalf("search %d differs after recovery", i)
		}
		if got := searchBoth(t, ra, q, filter); !reflect.DeepEqual(got, wantSearch[2*i+1]) {
			t.Fatalf("filtered search %d differs after recovery", i)
		}
	}
	if ci, err := ra.Info(ctx); err != nil || len(ci.PayloadSchema) != 2 {
		t.Fatalf("payload indexes after recovery: %+v %v", ci.PayloadSchema, err)
	}

	// Bad names change nothing.
	for _, n := range []string{"../x", "", ".hidden.snapshot", "a/b.snapshot", "x\x00.snapshot"} {
		if err := db.DeleteFullSnapshot(ctx, n); !errors.Is(err, ErrInvalidArgument) {
			t.Fatalf("delete %q: %v, want ErrInvalidArgument", n, err)
		}
		if _, err := db.OpenFullSnapshot(ctx, n); !errors.Is(err, ErrInvalidArgument) {
			t.Fatalf("open %q: %v, want ErrInvalidArgument", n, err)
		}
	}
	for _, n := range []string{"unknown.snapshot", "unknown", info.Name + ".checksum", collInfo.Name} {
		if err := db.DeleteFullSnapshot(ctx, n); !errors.Is(err, ErrNotFound) {
			t.Fatalf("delete %q: %v, want ErrNotFound", n, err)
		}
		if _, err := db.OpenFullSnapshot(ctx, n); !errors.Is(err, ErrNotFound) {
			t.Fatalf("open %q: %v, want ErrNotFound", n, err)
		}
	}
	// A collection snapshot is not deleted through the full snapshot API,
	// nor a full one through a collection's.
	if err := db.DeleteSnapshot(ctx, "alpha", info.Name); !errors.Is(err, ErrNotFound) {
		t.Fatalf("DeleteSnapshot of a full snapshot's name: %v", err)
	}
	if l, _ := db.ListFullSnapshots(ctx); len(l) != 1 {
		t.Fatalf("list after bad deletes: %v", l)
	}

	if err := db.DeleteFullSnapshot(ctx, info.Name); err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteFullSnapshot(ctx, info.Name); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second delete: %v", err)
	}
	if l, err := db.ListFullSnapshots(ctx); err != nil || len(l) != 0 {
		t.Fatalf("list after delete: %v %v", l, err)
	}
	left, _ := os.ReadDir(filepath.Join(dir, "snapshots", ".full"))
	if len(left) != 0 {
		t.Fatalf("files left after delete: %v", left)
	}
	if l, err := db.ListSnapshots(ctx, "alpha"); err != nil || len(l) != 1 {
		t.Fatalf("collection snapshot after deleting the full one: %+v %v", l, err)
	}
	noLeftovers(t, dir)
}

// A collection whose name looks like a full snapshot's does not collide
// with full snapshots, either way.
func TestFullSnapshotNameCollision(t *testing.T) {
	dir := t.TempDir()
	db := mustOpen(t, dir)
	defer db.Close()
	info, err := db.CreateFullSnapshot(ctx) // no collections: an empty archive
	if err != nil {
		t.Fatal(err)
	}
	c, err := db.CreateCollection(ctx, info.Name, faultConfig)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Upsert(ctx, pointsRange(0, 5)); err != nil {
		t.Fatal(err)
	}
	cs, err := c.CreateSnapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	full2, err := db.CreateFullSnapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if l, _ := db.ListFullSnapshots(ctx); len(l) != 2 || l[0].Name != info.Name || l[1].Name != full2.Name {
		t.Fatalf("full list: %+v", l)
	}
	if err := db.DeleteFullSnapshot(ctx, info.Name); err != nil {
		t.Fatal(err)
	}
	if l, _ := db.ListSnapshots(ctx, info.Name); len(l) != 1 || l[0].Name != cs.Name {
		t.Fatalf("collection snapshots after deleting the full one: %+v", l)
	}
	if err := db.DeleteSnapshot(ctx, info.Name, cs.Name); err != nil {
		t.Fatal(err)
	}
	if l, _ := db.ListFullSnapshots(ctx); len(l) != 1 || l[0].Name != full2.Name {
		t.Fatalf("full list after deleting the collection snapshot: %+v", l)
	}
	// The empty archive made first recovers nothing and changes nothing.
	_, names := readArchive(t, fullSnapshotBytes(t, db, full2.Name))
	if len(names) != 2 {
		t.Fatalf("entries of a one-collection full snapshot: %v", names)
	}
}

// A failed fsync, write or rename fails the full snapshot with the
// injected error; nothing is listed or left behind, and the next one works.
func TestFullSnapshotFaults(t *testing.T) {
	for _, tc := range []struct {
		op   vfs.Op
		path string
	}{
		{vfs.OpSync, "/snapshots/.full/"},
		{vfs.OpSyncDir, "/snapshots/.full"},
		{vfs.OpWrite, "/snapshots/.full/"},
		{vfs.OpRename, "/snapshots/.full/"},
	} {
		t.Run(tc.op.String(), func(t *testing.T) {
			mem := vfs.NewMem()
			inj := &switchInjector{op: tc.op, path: tc.path}
			db := openOn(t, vfs.NewErrorFS(mem, inj))
			defer db.Close()
			for _, n := range []string{"s", "t"} {
				c, err := db.CreateCollection(ctx, n, faultConfig)
				if err != nil {
					t.Fatal(err)
				}
				if err := c.Upsert(ctx, pointsRange(0, 20)); err != nil {
					t.Fatal(err)
				}
			}
			first, err := db.CreateFullSnapshot(ctx) // creates the directory
			if err != nil {
				t.Fatal(err)
			}
			inj.armed.Store(true)
			_, err = db.CreateFullSnapshot(ctx)
			inj.armed.Store(false)
			if !errors.Is(err, vfs.ErrInjected) || inj.hits.Load() != 1 {
				t.Fatalf("CreateFullSnapshot: %v (%d injected failures), want the injected error once", err, inj.hits.Load())
			}
			after, err := db.ListFullSnapshots(ctx)
			if err != nil || len(after) != 1 || after[0] != first {
				t.Fatalf("list after a failed snapshot: %v %v, want [%v]", after, err, first)
			}
			names, _ := mem.List("db/snapshots/.full")
			if len(names) != 2 { // the first snapshot and its checksum
				t.Fatalf("files after a failed snapshot: %v", names)
			}
			if _, err := db.CreateFullSnapshot(ctx); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// Open removes what an interrupted full snapshot left.
func TestFullSnapshotCrashLeftovers(t *testing.T) {
	mem := vfs.NewMem()
	db := openOn(t, mem)
	c, err := db.CreateCollection(ctx, "k", faultConfig)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Upsert(ctx, pointsRange(0, 10)); err != nil {
		t.Fatal(err)
	}
	info, err := db.CreateFullSnapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{".full-x.snapshot.tmp", "orphan.snapshot.checksum", ".tmp-0123/0.snapshot"} {
		if err := vfs.MkdirAllSync(mem, "db/snapshots/.full/.tmp-0123", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := vfs.WriteFileAtomic(mem, "db/snapshots/.full/"+n, []byte("x")); err != nil {
			t.Fatal(err)
		}
	}
	db = openOn(t, mem)
	defer db.Close()
	names, _ := mem.List("db/snapshots/.full")
	if !reflect.DeepEqual(names, []string{info.Name, info.Name + ".checksum"}) {
		t.Fatalf("after Open: %v", names)
	}
}

// RecoverFullSnapshot restores every collection of a full snapshot; a
// damaged archive or a wrong checksum changes nothing.
func TestFullSnapshotRecover(t *testing.T) {
	dir := t.TempDir()
	db, a, b := fullTestDB(t, dir)
	defer db.Close()
	wantA, wantB := allRecords(t, a), allRecords(t, b)
	info, err := db.CreateFullSnapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	data := fullSnapshotBytes(t, db, info.Name)

	// Change both collections, and add one the snapshot does not have.
	if err := a.Delete(ctx, IDs(NumID(1), NumID(2))); err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteCollection(ctx, "beta"); err != nil {
		t.Fatal(err)
	}
	other, err := db.CreateCollection(ctx, "other", faultConfig)
	if err != nil {
		t.Fatal(err)
	}
	if err := other.Upsert(ctx, pointsRange(0, 3)); err != nil {
		t.Fatal(err)
	}
	changedA := allRecords(t, a)

	// Damaged archives and checksum mismatches change nothing.
	names, files := readArchive(t, data)
	bad := cloneFiles(files)
	bad["collections/beta.snapshot"] = append([]byte(nil), bad["collections/beta.snapshot"]...)
	bad["collections/beta.snapshot"][100] ^= 1
	truncated := writeArchiveBytes(t, names[:2], files)
	wrongFirst := writeArchiveBytes(t, []string{names[1], names[0], names[2]}, files)
	for i, tc := range []struct {
		data []byte
		sum  string
	}{
		{data[:len(data)/2], ""},
		{writeArchiveBytes(t, names, bad), ""},
		{truncated, ""},
		{wrongFirst, ""},
		{data, strings.Repeat("0", 64)},
		{data, "nonsense"},
		{files["collections/alpha.snapshot"], ""}, // a collection snapshot
	} {
		got, err := db.RecoverFullSnapshot(ctx, bytes.NewReader(tc.data), RecoverOptions{Checksum: tc.sum})
		if !errors.Is(err, ErrInvalidArgument) || got != nil {
			t.Fatalf("case %d: %v, want ErrInvalidArgument", i, err)
		}
		if l, _ := db.ListCollections(ctx); !reflect.DeepEqual(l, []string{"alpha", "other"}) {
			t.Fatalf("case %d: collections %v", i, l)
		}
		if got := allRecords(t, a); !reflect.DeepEqual(got, changedA) {
			t.Fatalf("case %d: alpha changed by a failed recovery", i)
		}
	}
	// A full snapshot is not a collection snapshot.
	if _, err := db.RecoverSnapshot(ctx, "x", bytes.NewReader(data), RecoverOptions{}); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("RecoverSnapshot of a full snapshot: %v", err)
	}

	got, err := db.RecoverFullSnapshot(ctx, bytes.NewReader(data), RecoverOptions{Checksum: strings.ToUpper(info.Checksum)})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Name() != "alpha" || got[1].Name() != "beta" {
		t.Fatalf("recovered: %v", got)
	}
	if l, _ := db.ListCollections(ctx); !reflect.DeepEqual(l, []string{"alpha", "beta", "other"}) {
		t.Fatalf("collections after recovery: %v", l)
	}
	if r := allRecords(t, got[0]); !reflect.DeepEqual(r, wantA) {
		t.Fatal("alpha differs after recovery")
	}
	if r := allRecords(t, got[1]); !reflect.DeepEqual(r, wantB) {
		t.Fatal("beta differs after recovery")
	}
	if _, err := a.Count(ctx, nil); !errors.Is(err, ErrClosed) {
		t.Fatalf("old handle after recovery: %v", err)
	}
	if n, err := other.Count(ctx, nil); err != nil || n != 3 {
		t.Fatalf("other collection: %d %v", n, err)
	}
	noLeftovers(t, dir)
	if m, _ := filepath.Glob(filepath.Join(dir, "snapshots", ".full", ".*")); len(m) != 0 {
		t.Fatalf("leftovers: %v", m)
	}
}
