package grpcapi

import (
	"context"
	"time"

	"github.com/qdrant/go-client/qdrant"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/strata-db/strata"
)

// snapshotsService serves Qdrant's Snapshots service: collection snapshots
// are created, listed and deleted through the root package (downloading,
// uploading and recovering them is REST's: gRPC has no such calls).
// Full-storage snapshots are Unimplemented.
type snapshotsService struct {
	qdrant.UnimplementedSnapshotsServer
	s *server
}

var errFullSnapshots = status.Error(codes.Unimplemented, "full storage snapshots are not supported by Strata; snapshot each collection instead")

func describeSnapshot(info strata.SnapshotInfo) *qdrant.SnapshotDescription {
	d := &qdrant.SnapshotDescription{
		Name:         info.Name,
		CreationTime: timestamppb.New(info.CreationTime),
		Size:         info.Size,
	}
	if info.Checksum != "" {
		sum := info.Checksum
		d.Checksum = &sum
	}
	return d
}

// Create writes a snapshot of the collection and describes it.
func (ss *snapshotsService) Create(ctx context.Context, req *qdrant.CreateSnapshotRequest) (*qdrant.CreateSnapshotResponse, error) {
	start := time.Now()
	c, err := ss.s.collection(req.GetCollectionName())
	if err != nil {
		return nil, err
	}
	info, err := c.CreateSnapshot(ctx)
	if err != nil {
		return nil, err
	}
	return &qdrant.CreateSnapshotResponse{SnapshotDescription: describeSnapshot(info), Time: time.Since(start).Seconds()}, nil
}

// List describes the collection's snapshots, oldest first.
func (ss *snapshotsService) List(ctx context.Context, req *qdrant.ListSnapshotsRequest) (*qdrant.ListSnapshotsResponse, error) {
	start := time.Now()
	c, err := ss.s.collection(req.GetCollectionName())
	if err != nil {
		return nil, err
	}
	infos, err := ss.s.db.ListSnapshots(ctx, c.Name())
	if err != nil {
		return nil, err
	}
	out := &qdrant.ListSnapshotsResponse{SnapshotDescriptions: make([]*qdrant.SnapshotDescription, len(infos))}
	for i, info := range infos {
		out.SnapshotDescriptions[i] = describeSnapshot(info)
	}
	out.Time = time.Since(start).Seconds()
	return out, nil
}

// Delete deletes a snapshot of the collection; the collection itself need
// not exist any more (deleting a collection keeps its snapshots).
func (ss *snapshotsService) Delete(ctx context.Context, req *qdrant.DeleteSnapshotRequest) (*qdrant.DeleteSnapshotResponse, error) {
	start := time.Now()
	if req.GetSnapshotName() == "" {
		return nil, formatErr("snapshot_name: missing")
	}
	if err := ss.s.db.DeleteSnapshot(ctx, req.GetCollectionName(), req.GetSnapshotName()); err != nil {
		return nil, err
	}
	return &qdrant.DeleteSnapshotResponse{Time: time.Since(start).Seconds()}, nil
}

func (*snapshotsService) CreateFull(context.Context, *qdrant.CreateFullSnapshotRequest) (*qdrant.CreateSnapshotResponse, error) {
	return nil, errFullSnapshots
}

func (*snapshotsService) ListFull(context.Context, *qdrant.ListFullSnapshotsRequest) (*qdrant.ListSnapshotsResponse, error) {
	return nil, errFullSnapshots
}

func (*snapshotsService) DeleteFull(context.Context, *qdrant.DeleteFullSnapshotRequest) (*qdrant.DeleteSnapshotResponse, error) {
	return nil, errFullSnapshots
}
