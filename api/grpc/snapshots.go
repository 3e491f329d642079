package grpcapi

import (
	"context"
	"time"

	"github.com/qdrant/go-client/qdrant"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/strata-db/strata"
)

// snapshotsService serves Qdrant's Snapshots service: collection and
// full-storage snapshots are created, listed and deleted through the root
// package (downloading, uploading and recovering them is REST's: gRPC has
// no such calls).
type snapshotsService struct {
	qdrant.UnimplementedSnapshotsServer
	s *server
}

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
	return listResponse(infos, start), nil
}

func listResponse(infos []strata.SnapshotInfo, start time.Time) *qdrant.ListSnapshotsResponse {
	out := &qdrant.ListSnapshotsResponse{SnapshotDescriptions: make([]*qdrant.SnapshotDescription, len(infos))}
	for i, info := range infos {
		out.SnapshotDescriptions[i] = describeSnapshot(info)
	}
	out.Time = time.Since(start).Seconds()
	return out
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

// CreateFull writes a snapshot of every collection into one archive (each
// collection consistent at its own checkpoint) and describes it.
func (ss *snapshotsService) CreateFull(ctx context.Context, _ *qdrant.CreateFullSnapshotRequest) (*qdrant.CreateSnapshotResponse, error) {
	start := time.Now()
	info, err := ss.s.db.CreateFullSnapshot(ctx)
	if err != nil {
		return nil, err
	}
	return &qdrant.CreateSnapshotResponse{SnapshotDescription: describeSnapshot(info), Time: time.Since(start).Seconds()}, nil
}

// ListFull describes the full snapshots, oldest first.
func (ss *snapshotsService) ListFull(ctx context.Context, _ *qdrant.ListFullSnapshotsRequest) (*qdrant.ListSnapshotsResponse, error) {
	start := time.Now()
	infos, err := ss.s.db.ListFullSnapshots(ctx)
	if err != nil {
		return nil, err
	}
	return listResponse(infos, start), nil
}

// DeleteFull deletes a full snapshot (never a collection's).
func (ss *snapshotsService) DeleteFull(ctx context.Context, req *qdrant.DeleteFullSnapshotRequest) (*qdrant.DeleteSnapshotResponse, error) {
	start := time.Now()
	if req.GetSnapshotName() == "" {
		return nil, formatErr("snapshot_name: missing")
	}
	if err := ss.s.db.DeleteFullSnapshot(ctx, req.GetSnapshotName()); err != nil {
		return nil, err
	}
	return &qdrant.DeleteSnapshotResponse{Time: time.Since(start).Seconds()}, nil
}
