package grpcapi

import (
	"context"
	"fmt"
	"time"

	"github.com/qdrant/go-client/qdrant"

	"github.com/strata-db/strata"
)

// pointsService is Qdrant's Points service. Discover, Facet and the
// distance matrices are Unimplemented.
type pointsService struct {
	qdrant.UnimplementedPointsServer
	s *server
}

// writeOp is one decoded and checked write, ready to run.
type writeOp func(ctx context.Context, c *strata.Collection) error

// runWrite resolves the collection, decodes the request with parse and
// runs the write. Every write returns once it is durable (its WAL record
// fsynced) and visible, whatever wait says.
func (ps *pointsService) runWrite(ctx context.Context, name string, wait *bool, parse func() (writeOp, error)) (*qdrant.PointsOperationResponse, error) {
	start := time.Now()
	c, err := ps.s.collection(name)
	if err != nil {
		return nil, err
	}
	op, err := parse()
	if err != nil {
		return nil, err
	}
	if err := op(ctx, c); err != nil {
		return nil, err
	}
	return &qdrant.PointsOperationResponse{Result: ps.s.updateResult(wait), Time: since(start)}, nil
}

// checkNoShardKey refuses a shard key selector: Strata has no custom
// sharding.
func checkNoShardKey(s *qdrant.ShardKeySelector, path string) error {
	if s != nil {
		return unsupported("%s (custom sharding)", joinPath(path, "shard_key_selector"))
	}
	return nil
}

// --- upsert ---

func (ps *pointsService) Upsert(ctx context.Context, req *qdrant.UpsertPoints) (*qdrant.PointsOperationResponse, error) {
	return ps.runWrite(ctx, req.GetCollectionName(), req.Wait, func() (writeOp, error) {
		return parseUpsert(req.GetPoints(), req.GetShardKeySelector(), req.GetUpdateFilter(), req.UpdateMode, "")
	})
}

func parseUpsert(pts []*qdrant.PointStruct, shardKey *qdrant.ShardKeySelector, updateFilter *qdrant.Filter, mode *qdrant.UpdateMode, path string) (writeOp, error) {
	if err := checkNoShardKey(shardKey, path); err != nil {
		return nil, err
	}
	if updateFilter != nil {
		return nil, unsupported("%s", joinPath(path, "update_filter"))
	}
	if mode != nil && *mode != qdrant.UpdateMode_Upsert {
		switch *mode {
		case qdrant.UpdateMode_InsertOnly, qdrant.UpdateMode_UpdateOnly:
			return nil, unsupported("%s %s", joinPath(path, "update_mode"), *mode)
		}
		return nil, formatErr("%s: unknown value %d", joinPath(path, "update_mode"), *mode)
	}
	points := make([]strata.Point, len(pts))
	for i, p := range pts {
		ppath := fmt.Sprintf("%s[%d]", joinPath(path, "points"), i)
		var err error
		if points[i].ID, err = pointID(p.GetId(), ppath+".id"); err != nil {
			return nil, err
		}
		if p.GetVectors() == nil {
			return nil, formatErr("%s.vectors: missing", ppath)
		}
		v, err := vectors(p.GetVectors(), ppath+".vectors")
		if err != nil {
			return nil, err
		}
		points[i].Vector, points[i].Vectors, points[i].Sparse = v.vector, v.named, v.sparse
		if points[i].Payload, err = payload(p.GetPayload(), ppath+".payload"); err != nil {
			return nil, err
		}
	}
	return func(ctx context.Context, c *strata.Collection) error {
		if len(points) == 0 {
			return nil // Qdrant accepts an empty upsert
		}
		return c.Upsert(ctx, points)
	}, nil
}

// --- selectors ---

// selector converts a PointsSelector: ids or a filter. empty reports an
// empty id list, which Qdrant accepts as a no-op.
func selector(ps *qdrant.PointsSelector, path string) (sel strata.Selector, empty bool, err error) {
	switch x := ps.GetPointsSelectorOneOf().(type) {
	case *qdrant.PointsSelector_Points:
		ids, err := pointIDs(x.Points.GetIds(), path+".points.ids")
		if err != nil {
			return sel, false, err
		}
		return strata.IDs(ids...), len(ids) == 0, nil
	case *qdrant.PointsSelector_Filter:
		f, err := toFilter(x.Filter, path)
		if err != nil {
			return sel, false, err
		}
		if f == nil {
			f = &strata.Filter{}
		}
		return strata.Where(f), false, nil
	case nil:
		return sel, false, badRequest("%s: either points or filter is required", path)
	}
	return sel, false, formatErr("%s: unknown kind of selector", path)
}

// selectorOp converts a selector and returns the op that applies fn to it.
func selectorOp(s *qdrant.PointsSelector, shardKey *qdrant.ShardKeySelector, path, field string, fn func(ctx context.Context, c *strata.Collection, sel strata.Selector) error) (writeOp, error) {
	if err := checkNoShardKey(shardKey, path); err != nil {
		return nil, err
	}
	sel, empty, err := selector(s, joinPath(path, field))
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context, c *strata.Collection) error {
		if empty {
			return nil
		}
		return fn(ctx, c, sel)
	}, nil
}

// --- delete, payload ---

func (ps *pointsService) Delete(ctx context.Context, req *qdrant.DeletePoints) (*qdrant.PointsOperationResponse, error) {
	return ps.runWrite(ctx, req.GetCollectionName(), req.Wait, func() (writeOp, error) {
		return parseDelete(req.GetPoints(), req.GetShardKeySelector(), "", "points")
	})
}

func parseDelete(s *qdrant.PointsSelector, shardKey *qdrant.ShardKeySelector, path, field string) (writeOp, error) {
	return selectorOp(s, shardKey, path, field, func(ctx context.Context, c *strata.Collection, sel strata.Selector) error {
		return c.Delete(ctx, sel)
	})
}

func (ps *pointsService) ClearPayload(ctx context.Context, req *qdrant.ClearPayloadPoints) (*qdrant.PointsOperationResponse, error) {
	return ps.runWrite(ctx, req.GetCollectionName(), req.Wait, func() (writeOp, error) {
		return parseClearPayload(req.GetPoints(), req.GetShardKeySelector(), "", "points")
	})
}

func parseClearPayload(s *qdrant.PointsSelector, shardKey *qdrant.ShardKeySelector, path, field string) (writeOp, error) {
	return selectorOp(s, shardKey, path, field, func(ctx context.Context, c *strata.Collection, sel strata.Selector) error {
		return c.ClearPayload(ctx, sel)
	})
}

func (ps *pointsService) SetPayload(ctx context.Context, req *qdrant.SetPayloadPoints) (*qdrant.PointsOperationResponse, error) {
	return ps.runWrite(ctx, req.GetCollectionName(), req.Wait, func() (writeOp, error) {
		return parseSetPayload(req.GetPayload(), req.GetPointsSelector(), req.GetShardKeySelector(), req.Key, "", false)
	})
}

func (ps *pointsService) OverwritePayload(ctx context.Context, req *qdrant.SetPayloadPoints) (*qdrant.PointsOperationResponse, error) {
	return ps.runWrite(ctx, req.GetCollectionName(), req.Wait, func() (writeOp, error) {
		return parseSetPayload(req.GetPayload(), req.GetPointsSelector(), req.GetShardKeySelector(), req.Key, "", true)
	})
}

// parseSetPayload converts SetPayload, for set (merge, optionally at key)
// or overwrite.
func parseSetPayload(pl map[string]*qdrant.Value, s *qdrant.PointsSelector, shardKey *qdrant.ShardKeySelector, keyp *string, path string, overwrite bool) (writeOp, error) {
	p, err := payload(pl, joinPath(path, "payload"))
	if err != nil {
		return nil, err
	}
	key := ""
	if keyp != nil {
		key = *keyp
	}
	if overwrite && key != "" {
		return nil, unsupported("%s with overwrite_payload", joinPath(path, "key"))
	}
	return selectorOp(s, shardKey, path, "points_selector", func(ctx context.Context, c *strata.Collection, sel strata.Selector) error {
		switch {
		case overwrite:
			return c.OverwritePayload(ctx, sel, p)
		case len(p) == 0:
			return nil // merging nothing changes nothing
		case key != "":
			return c.SetPayloadAt(ctx, sel, key, p)
		}
		return c.SetPayload(ctx, sel, p)
	})
}

func (ps *pointsService) DeletePayload(ctx context.Context, req *qdrant.DeletePayloadPoints) (*qdrant.PointsOperationResponse, error) {
	return ps.runWrite(ctx, req.GetCollectionName(), req.Wait, func() (writeOp, error) {
		return parseDeletePayload(req.GetKeys(), req.GetPointsSelector(), req.GetShardKeySelector(), "")
	})
}

func parseDeletePayload(keys []string, s *qdrant.PointsSelector, shardKey *qdrant.ShardKeySelector, path string) (writeOp, error) {
	return selectorOp(s, shardKey, path, "points_selector", func(ctx context.Context, c *strata.Collection, sel strata.Selector) error {
		if len(keys) == 0 {
			return nil
		}
		return c.DeletePayload(ctx, sel, keys)
	})
}

// --- vectors ---

func (ps *pointsService) UpdateVectors(ctx context.Context, req *qdrant.UpdatePointVectors) (*qdrant.PointsOperationResponse, error) {
	return ps.runWrite(ctx, req.GetCollectionName(), req.Wait, func() (writeOp, error) {
		return parseUpdateVectors(req.GetPoints(), req.GetShardKeySelector(), req.GetUpdateFilter(), "")
	})
}

func parseUpdateVectors(pts []*qdrant.PointVectors, shardKey *qdrant.ShardKeySelector, updateFilter *qdrant.Filter, path string) (writeOp, error) {
	if err := checkNoShardKey(shardKey, path); err != nil {
		return nil, err
	}
	if updateFilter != nil {
		return nil, unsupported("%s", joinPath(path, "update_filter"))
	}
	if len(pts) == 0 {
		return nil, validationErr(joinPath(path, "points"), "must contain at least 1 item")
	}
	pvs := make([]strata.PointVectors, len(pts))
	for i, p := range pts {
		ppath := fmt.Sprintf("%s[%d]", joinPath(path, "points"), i)
		id, err := pointID(p.GetId(), ppath+".id")
		if err != nil {
			return nil, err
		}
		if p.GetVectors() == nil {
			return nil, formatErr("%s.vectors: missing", ppath)
		}
		v, err := vectors(p.GetVectors(), ppath+".vectors")
		if err != nil {
			return nil, err
		}
		pvs[i] = strata.PointVectors{ID: id, Vector: v.vector, Vectors: v.named, Sparse: v.sparse}
	}
	return func(ctx context.Context, c *strata.Collection) error {
		return c.UpdateVectors(ctx, pvs)
	}, nil
}

func (ps *pointsService) DeleteVectors(ctx context.Context, req *qdrant.DeletePointVectors) (*qdrant.PointsOperationResponse, error) {
	return ps.runWrite(ctx, req.GetCollectionName(), req.Wait, func() (writeOp, error) {
		return parseDeleteVectors(req.GetPointsSelector(), req.GetVectors(), req.GetShardKeySelector(), "")
	})
}

func parseDeleteVectors(s *qdrant.PointsSelector, vs *qdrant.VectorsSelector, shardKey *qdrant.ShardKeySelector, path string) (writeOp, error) {
	names := vs.GetNames()
	if len(names) == 0 {
		return nil, validationErr(joinPath(path, "vectors.names"), "must contain at least 1 item")
	}
	return selectorOp(s, shardKey, path, "points_selector", func(ctx context.Context, c *strata.Collection, sel strata.Selector) error {
		return c.DeleteVectors(ctx, sel, names)
	})
}

// --- batch ---

// UpdateBatch converts and checks every operation first, then runs them in
// order. As in Qdrant the batch is not atomic: if one fails, the ones
// before it stay applied.
func (ps *pointsService) UpdateBatch(ctx context.Context, req *qdrant.UpdateBatchPoints) (*qdrant.UpdateBatchResponse, error) {
	start := time.Now()
	c, err := ps.s.collection(req.GetCollectionName())
	if err != nil {
		return nil, err
	}
	ops := make([]writeOp, len(req.GetOperations()))
	for i, o := range req.GetOperations() {
		path := fmt.Sprintf("operations[%d]", i)
		if ops[i], err = parseBatchOp(o, path); err != nil {
			return nil, err
		}
	}
	results := make([]*qdrant.UpdateResult, 0, len(ops))
	for _, op := range ops {
		if err := op(ctx, c); err != nil {
			return nil, err
		}
		results = append(results, ps.s.updateResult(req.Wait))
	}
	return &qdrant.UpdateBatchResponse{Result: results, Time: since(start)}, nil
}

func parseBatchOp(o *qdrant.PointsUpdateOperation, path string) (writeOp, error) {
	switch x := o.GetOperation().(type) {
	case *qdrant.PointsUpdateOperation_Upsert:
		u := x.Upsert
		return parseUpsert(u.GetPoints(), u.GetShardKeySelector(), u.GetUpdateFilter(), u.UpdateMode, path+".upsert")
	case *qdrant.PointsUpdateOperation_DeleteDeprecated:
		return parseDelete(x.DeleteDeprecated, nil, path, "delete_deprecated")
	case *qdrant.PointsUpdateOperation_DeletePoints_:
		d := x.DeletePoints
		return parseDelete(d.GetPoints(), d.GetShardKeySelector(), path+".delete_points", "points")
	case *qdrant.PointsUpdateOperation_SetPayload_:
		s := x.SetPayload
		return parseSetPayload(s.GetPayload(), s.GetPointsSelector(), s.GetShardKeySelector(), s.Key, path+".set_payload", false)
	case *qdrant.PointsUpdateOperation_OverwritePayload_:
		s := x.OverwritePayload
		return parseSetPayload(s.GetPayload(), s.GetPointsSelector(), s.GetShardKeySelector(), s.Key, path+".overwrite_payload", true)
	case *qdrant.PointsUpdateOperation_DeletePayload_:
		d := x.DeletePayload
		return parseDeletePayload(d.GetKeys(), d.GetPointsSelector(), d.GetShardKeySelector(), path+".delete_payload")
	case *qdrant.PointsUpdateOperation_ClearPayloadDeprecated:
		return parseClearPayload(x.ClearPayloadDeprecated, nil, path, "clear_payload_deprecated")
	case *qdrant.PointsUpdateOperation_ClearPayload_:
		cp := x.ClearPayload
		return parseClearPayload(cp.GetPoints(), cp.GetShardKeySelector(), path+".clear_payload", "points")
	case *qdrant.PointsUpdateOperation_UpdateVectors_:
		u := x.UpdateVectors
		return parseUpdateVectors(u.GetPoints(), u.GetShardKeySelector(), u.GetUpdateFilter(), path+".update_vectors")
	case *qdrant.PointsUpdateOperation_DeleteVectors_:
		d := x.DeleteVectors
		return parseDeleteVectors(d.GetPointsSelector(), d.GetVectors(), d.GetShardKeySelector(), path+".delete_vectors")
	case nil:
		return nil, formatErr("%s: empty operation: expected upsert, delete_points, set_payload, overwrite_payload, delete_payload, clear_payload, update_vectors or delete_vectors", path)
	}
	return nil, formatErr("%s: unknown kind of operation", path)
}
