package grpcapi

import (
	"context"

	"github.com/qdrant/go-client/qdrant"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// snapshotsService answers every snapshot call with Unimplemented.
type snapshotsService struct {
	qdrant.UnimplementedSnapshotsServer
}

var errSnapshots = status.Error(codes.Unimplemented, "snapshots are not supported by Strata yet")

func (snapshotsService) Create(context.Context, *qdrant.CreateSnapshotRequest) (*qdrant.CreateSnapshotResponse, error) {
	return nil, errSnapshots
}

func (snapshotsService) List(context.Context, *qdrant.ListSnapshotsRequest) (*qdrant.ListSnapshotsResponse, error) {
	return nil, errSnapshots
}

func (snapshotsService) Delete(context.Context, *qdrant.DeleteSnapshotRequest) (*qdrant.DeleteSnapshotResponse, error) {
	return nil, errSnapshots
}

func (snapshotsService) CreateFull(context.Context, *qdrant.CreateFullSnapshotRequest) (*qdrant.CreateSnapshotResponse, error) {
	return nil, errSnapshots
}

func (snapshotsService) ListFull(context.Context, *qdrant.ListFullSnapshotsRequest) (*qdrant.ListSnapshotsResponse, error) {
	return nil, errSnapshots
}

func (snapshotsService) DeleteFull(context.Context, *qdrant.DeleteFullSnapshotRequest) (*qdrant.DeleteSnapshotResponse, error) {
	return nil, errSnapshots
}
