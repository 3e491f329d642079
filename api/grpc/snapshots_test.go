package grpcapi

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"testing"
	"time"

	"github.com/qdrant/go-client/qdrant"
	"google.golang.org/grpc/codes"

	"github.com/strata-db/strata"
)

// Create, List and Delete through Qdrant's Go client; the snapshot they
// describe is the stored file, and it recovers the collection.
func TestSnapshots(t *testing.T) {
	e := newEnv(t, Options{})
	c := ctx(t)
	e.createSimple("s", 2, qdrant.Distance_Dot)
	e.upsert("s",
		&qdrant.PointStruct{Id: qdrant.NewIDNum(1), Vectors: qdrant.NewVectors(1, 0), Payload: qdrant.NewValueMap(map[string]any{"a": 1})},
		&qdrant.PointStruct{Id: qdrant.NewIDNum(2), Vectors: qdrant.NewVectors(0, 1)},
	)
	if got := must(e.client.ListSnapshots(c, "s")); len(got) != 0 {
		t.Fatalf("empty list: %v", got)
	}
	before := time.Now().Add(-time.Second)
	d1 := must(e.client.CreateSnapshot(c, "s"))
	d2 := must(e.client.CreateSnapshot(c, "s"))
	if d1.GetName() == d2.GetName() || d1.GetSize() <= 0 || len(d1.GetChecksum()) != 64 || d1.GetCreationTime().AsTime().Before(before) {
		t.Fatalf("descriptions: %v %v", d1, d2)
	}
	list := must(e.client.ListSnapshots(c, "s"))
	if len(list) != 2 || list[0].GetName() != d1.GetName() || list[1].GetName() != d2.GetName() || list[0].GetChecksum() != d1.GetChecksum() {
		t.Fatalf("list: %v", list)
	}
	// The description matches the stored file.
	rd, err := e.db.OpenSnapshot(c, "s", d1.GetName())
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(rd)
	rd.Close()
	if err != nil {
		t.Fatal(err)
	}
	if sum := sha256.Sum256(b); hex.EncodeToString(sum[:]) != d1.GetChecksum() || int64(len(b)) != d1.GetSize() {
		t.Fatalf("file differs from its description %v", d1)
	}
	if _, err := e.db.RecoverSnapshot(c, "copy", bytes.NewReader(b), strata.RecoverOptions{Checksum: d1.GetChecksum()}); err != nil {
		t.Fatal(err)
	}
	if n := must(e.client.Count(c, &qdrant.CountPoints{CollectionName: "copy"})); n != 2 {
		t.Fatalf("recovered collection has %d points", n)
	}

	if err := e.client.DeleteSnapshot(c, "s", d1.GetName()); err != nil {
		t.Fatal(err)
	}
	if list := must(e.client.ListSnapshots(c, "s")); len(list) != 1 || list[0].GetName() != d2.GetName() {
		t.Fatalf("list after delete: %v", list)
	}
	wantCode(t, e.client.DeleteSnapshot(c, "s", d1.GetName()), codes.NotFound, "snapshot", d1.GetName())
	wantCode(t, e.client.DeleteSnapshot(c, "s", "../x"), codes.InvalidArgument, "path separator")
	wantCode(t, e.client.DeleteSnapshot(c, "s", ""), codes.InvalidArgument, "snapshot_name")
	_, err = e.client.CreateSnapshot(c, "nope")
	wantCode(t, err, codes.NotFound, "Collection `nope` doesn't exist!")
	_, err = e.client.ListSnapshots(c, "nope")
	wantCode(t, err, codes.NotFound, "Collection `nope` doesn't exist!")
	_, err = e.client.CreateSnapshot(c, "a/b")
	wantCode(t, err, codes.InvalidArgument, "path separator")

	// Deleting the collection keeps its snapshots: they can still be
	// deleted by name.
	if err := e.client.DeleteCollection(c, "s"); err != nil {
		t.Fatal(err)
	}
	if err := e.client.DeleteSnapshot(c, "s", d2.GetName()); err != nil {
		t.Fatalf("delete a snapshot of a deleted collection: %v", err)
	}
}

// The read-only key may list snapshots but not create or delete them.
func TestSnapshotsAuth(t *testing.T) {
	e := newEnv(t, Options{APIKey: "rw", ReadOnlyAPIKey: "ro"})
	c := ctx(t)
	e.createSimple("s", 2, qdrant.Distance_Dot)
	d := must(e.client.CreateSnapshot(c, "s"))
	ro := e.newClient("ro")
	if list := must(ro.ListSnapshots(c, "s")); len(list) != 1 {
		t.Fatalf("read-only list: %v", list)
	}
	_, err := ro.CreateSnapshot(c, "s")
	wantCode(t, err, codes.PermissionDenied)
	wantCode(t, ro.DeleteSnapshot(c, "s", d.GetName()), codes.PermissionDenied)
	_, err = e.newClient("").ListSnapshots(c, "s")
	wantCode(t, err, codes.Unauthenticated)
}

// CreateFull, ListFull and DeleteFull through Qdrant's Go client: the full
// snapshot holds every collection and leaves collection snapshots alone;
// the read-only key may list, not create or delete.
func TestFullSnapshots(t *testing.T) {
	e := newEnv(t, Options{APIKey: "rw", ReadOnlyAPIKey: "ro"})
	c := ctx(t)
	e.createSimple("s", 2, qdrant.Distance_Dot)
	e.createSimple("t", 2, qdrant.Distance_Cosine)
	e.upsert("s", &qdrant.PointStruct{Id: qdrant.NewIDNum(1), Vectors: qdrant.NewVectors(1, 0)})
	e.upsert("t", &qdrant.PointStruct{Id: qdrant.NewIDNum(2), Vectors: qdrant.NewVectors(0, 1)})
	coll := must(e.client.CreateSnapshot(c, "s"))
	if got := must(e.client.ListFullSnapshots(c)); len(got) != 0 {
		t.Fatalf("empty list: %v", got)
	}
	d1 := must(e.client.CreateFullSnapshot(c))
	d2 := must(e.client.CreateFullSnapshot(c))
	if d1.GetName() == d2.GetName() || d1.GetSize() <= 0 || len(d1.GetChecksum()) != 64 {
		t.Fatalf("descriptions: %v %v", d1, d2)
	}
	list := must(e.client.ListFullSnapshots(c))
	if len(list) != 2 || list[0].GetName() != d1.GetName() || list[1].GetName() != d2.GetName() || list[0].GetChecksum() != d1.GetChecksum() {
		t.Fatalf("list: %v", list)
	}
	rd, err := e.db.OpenFullSnapshot(c, d1.GetName())
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(rd)
	rd.Close()
	if err != nil {
		t.Fatal(err)
	}
	if sum := sha256.Sum256(b); hex.EncodeToString(sum[:]) != d1.GetChecksum() || int64(len(b)) != d1.GetSize() {
		t.Fatalf("file differs from its description %v", d1)
	}

	ro := e.newClient("ro")
	if list := must(ro.ListFullSnapshots(c)); len(list) != 2 {
		t.Fatalf("read-only list: %v", list)
	}
	_, err = ro.CreateFullSnapshot(c)
	wantCode(t, err, codes.PermissionDenied)
	wantCode(t, ro.DeleteFullSnapshot(c, d1.GetName()), codes.PermissionDenied)
	_, err = e.newClient("").ListFullSnapshots(c)
	wantCode(t, err, codes.Unauthenticated)

	if err := e.client.DeleteFullSnapshot(c, d1.GetName()); err != nil {
		t.Fatal(err)
	}
	if list := must(e.client.ListFullSnapshots(c)); len(list) != 1 || list[0].GetName() != d2.GetName() {
		t.Fatalf("list after delete: %v", list)
	}
	wantCode(t, e.client.DeleteFullSnapshot(c, d1.GetName()), codes.NotFound, "full snapshot", d1.GetName())
	wantCode(t, e.client.DeleteFullSnapshot(c, coll.GetName()), codes.NotFound, "full snapshot")
	wantCode(t, e.client.DeleteFullSnapshot(c, "../x"), codes.InvalidArgument, "path separator")
	wantCode(t, e.client.DeleteFullSnapshot(c, ""), codes.InvalidArgument, "snapshot_name")
	if list := must(e.client.ListSnapshots(c, "s")); len(list) != 1 || list[0].GetName() != coll.GetName() {
		t.Fatalf("collection snapshots: %v", list)
	}
	if err := e.client.DeleteFullSnapshot(c, d2.GetName()); err != nil {
		t.Fatal(err)
	}
	if got := must(e.client.ListFullSnapshots(c)); len(got) != 0 {
		t.Fatalf("list after deleting both: %v", got)
	}
}
