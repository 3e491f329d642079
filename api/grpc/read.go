package grpcapi

import (
	"context"
	"fmt"
	"time"

	"github.com/qdrant/go-client/qdrant"

	"github.com/strata-db/strata"
)

// --- retrieve ---

// Get returns the points with the given ids that exist, with their payload
// by default (as REST's POST .../points).
func (ps *pointsService) Get(ctx context.Context, req *qdrant.GetPoints) (*qdrant.GetResponse, error) {
	start := time.Now()
	c, err := ps.s.collection(req.GetCollectionName())
	if err != nil {
		return nil, err
	}
	if err := checkNoShardKey(req.GetShardKeySelector(), ""); err != nil {
		return nil, err
	}
	ids, err := pointIDs(req.GetIds(), "ids")
	if err != nil {
		return nil, err
	}
	wp, err := withPayload(req.GetWithPayload(), true, "with_payload")
	if err != nil {
		return nil, err
	}
	wv, err := withVectors(req.GetWithVectors(), "with_vectors")
	if err != nil {
		return nil, err
	}
	out := &qdrant.GetResponse{Result: []*qdrant.RetrievedPoint{}}
	if len(ids) > 0 {
		recs, err := c.Get(ctx, ids, strata.GetOptions{WithPayload: wp, WithVectors: wv})
		if err != nil {
			return nil, err
		}
		for i := range recs {
			out.Result = append(out.Result, toRetrieved(&recs[i], wv))
		}
	}
	out.Time = since(start)
	return out, nil
}

// --- scroll, count ---

func (ps *pointsService) Scroll(ctx context.Context, req *qdrant.ScrollPoints) (*qdrant.ScrollResponse, error) {
	start := time.Now()
	c, err := ps.s.collection(req.GetCollectionName())
	if err != nil {
		return nil, err
	}
	if err := checkNoShardKey(req.GetShardKeySelector(), ""); err != nil {
		return nil, err
	}
	if req.GetOrderBy() != nil {
		return nil, unsupported("order_by")
	}
	sr := strata.ScrollRequest{Limit: 10}
	if req.Limit != nil {
		if *req.Limit == 0 {
			return nil, minErr("limit", 0, 1)
		}
		sr.Limit = int(*req.Limit)
	}
	if req.GetOffset() != nil {
		id, err := pointID(req.GetOffset(), "offset")
		if err != nil {
			return nil, err
		}
		sr.Offset = &id
	}
	if sr.Filter, err = toFilter(req.GetFilter(), ""); err != nil {
		return nil, err
	}
	if sr.WithPayload, err = withPayload(req.GetWithPayload(), true, "with_payload"); err != nil {
		return nil, err
	}
	if sr.WithVectors, err = withVectors(req.GetWithVectors(), "with_vectors"); err != nil {
		return nil, err
	}
	res, err := c.Scroll(ctx, sr)
	if err != nil {
		return nil, err
	}
	out := &qdrant.ScrollResponse{Result: make([]*qdrant.RetrievedPoint, len(res.Points))}
	for i := range res.Points {
		out.Result[i] = toRetrieved(&res.Points[i], sr.WithVectors)
	}
	if res.NextOffset != nil {
		out.NextPageOffset = toPointID(*res.NextOffset)
	}
	out.Time = since(start)
	return out, nil
}

// Count counts the points matching the filter. Counts are always exact.
func (ps *pointsService) Count(ctx context.Context, req *qdrant.CountPoints) (*qdrant.CountResponse, error) {
	start := time.Now()
	c, err := ps.s.collection(req.GetCollectionName())
	if err != nil {
		return nil, err
	}
	if err := checkNoShardKey(req.GetShardKeySelector(), ""); err != nil {
		return nil, err
	}
	f, err := toFilter(req.GetFilter(), "")
	if err != nil {
		return nil, err
	}
	n, err := c.Count(ctx, f)
	if err != nil {
		return nil, err
	}
	return &qdrant.CountResponse{Result: &qdrant.CountResult{Count: uint64(n)}, Time: since(start)}, nil
}

// --- search ---

// applyParams sets SearchParams on req. Quantization, indexed_only and
// acorn are accepted and ignored (as REST).
func applyParams(p *qdrant.SearchParams, req *strata.SearchRequest, path string) error {
	var err error
	req.HnswEf, req.Exact, err = searchParams(p, path)
	return err
}

// searchParams returns hnsw_ef (0: the default) and exact.
func searchParams(p *qdrant.SearchParams, path string) (ef int, exact bool, err error) {
	if p == nil {
		return 0, false, nil
	}
	if p.HnswEf != nil {
		if *p.HnswEf == 0 {
			return 0, false, minErr(joinPath(path, "hnsw_ef"), 0, 1)
		}
		ef = clampInt(*p.HnswEf)
	}
	return ef, p.GetExact(), nil
}

// offsetInt converts an optional offset (absent is 0), leaving values
// above the root's maximum for the root to refuse.
func offsetInt(v *uint64) int {
	if v == nil {
		return 0
	}
	return clampInt(*v)
}

// toSearch converts SearchPoints; path prefixes error messages.
func toSearch(sp *qdrant.SearchPoints, path string) (strata.SearchRequest, error) {
	var req strata.SearchRequest
	var err error
	if err := checkNoShardKey(sp.GetShardKeySelector(), path); err != nil {
		return req, err
	}
	if sp.GetSparseIndices() != nil {
		return req, unsupported("%s: search by sparse vector", joinPath(path, "vector"))
	}
	req.Vector = denseData(sp.GetVector())
	req.Using = sp.GetVectorName()
	if sp.GetLimit() == 0 {
		return req, minErr(joinPath(path, "limit"), 0, 1)
	}
	req.Limit = clampInt(sp.GetLimit())
	req.Offset = offsetInt(sp.Offset)
	if req.Filter, err = toFilter(sp.GetFilter(), path); err != nil {
		return req, err
	}
	if err := applyParams(sp.GetParams(), &req, joinPath(path, "params")); err != nil {
		return req, err
	}
	req.ScoreThreshold = sp.ScoreThreshold
	if req.WithPayload, err = withPayload(sp.GetWithPayload(), false, joinPath(path, "with_payload")); err != nil {
		return req, err
	}
	if req.WithVectors, err = withVectors(sp.GetWithVectors(), joinPath(path, "with_vectors")); err != nil {
		return req, err
	}
	return req, nil
}

func (ps *pointsService) Search(ctx context.Context, req *qdrant.SearchPoints) (*qdrant.SearchResponse, error) {
	start := time.Now()
	hits, err := runOne(ctx, ps.s, req.GetCollectionName(), req, toSearch, (*strata.Collection).Search, "search.",
		func(q *strata.SearchRequest) strata.VectorSelector { return q.WithVectors })
	if err != nil {
		return nil, err
	}
	return &qdrant.SearchResponse{Result: hits, Time: since(start)}, nil
}

// runOne converts one request, runs it, and returns its scored points.
// root is the root's name for the request in its error messages
// ("query."), which the gRPC request does not have.
func runOne[P, Q any](ctx context.Context, s *server, collection string, item P,
	conv func(P, string) (Q, error),
	run func(*strata.Collection, context.Context, Q) ([]strata.ScoredPoint, error),
	root string,
	vectors func(*Q) strata.VectorSelector,
) ([]*qdrant.ScoredPoint, error) {
	c, err := s.collection(collection)
	if err != nil {
		return nil, err
	}
	q, err := conv(item, "")
	if err != nil {
		return nil, err
	}
	hits, err := run(c, ctx, q)
	if err != nil {
		return nil, rebase(err, root, "")
	}
	return toScoredList(hits, vectors(&q)), nil
}

// SearchBatch runs the searches in one pass over the data. The searches'
// own collection_name is ignored, as Qdrant ignores it.
func (ps *pointsService) SearchBatch(ctx context.Context, req *qdrant.SearchBatchPoints) (*qdrant.SearchBatchResponse, error) {
	start := time.Now()
	c, err := ps.s.collection(req.GetCollectionName())
	if err != nil {
		return nil, err
	}
	res, err := runBatch(ctx, c, req.GetSearchPoints(), "search_points", toSearch, (*strata.Collection).SearchBatch,
		func(q *strata.SearchRequest) strata.VectorSelector { return q.WithVectors })
	if err != nil {
		return nil, err
	}
	return &qdrant.SearchBatchResponse{Result: res, Time: since(start)}, nil
}

// runBatch converts every request of a batch (errors name field[i]), runs
// them in one engine call (one pass over the data for their vector
// searches), and returns one BatchResult per request.
func runBatch[P, Q any](ctx context.Context, c *strata.Collection, items []P, field string,
	conv func(P, string) (Q, error),
	run func(*strata.Collection, context.Context, []Q) ([][]strata.ScoredPoint, error),
	vectors func(*Q) strata.VectorSelector,
) ([]*qdrant.BatchResult, error) {
	out := make([]*qdrant.BatchResult, 0, len(items))
	if len(items) == 0 {
		return out, nil
	}
	reqs := make([]Q, len(items))
	for i, item := range items {
		var err error
		if reqs[i], err = conv(item, fmt.Sprintf("%s[%d]", field, i)); err != nil {
			return nil, err
		}
	}
	res, err := run(c, ctx, reqs)
	if err != nil {
		// The root names the entries queries[i] (QueryBatch), or search
		// when a SearchBatch has one entry.
		if len(reqs) == 1 {
			err = rebase(err, "search.", field+"[0].")
		}
		return nil, rebase(err, "queries[", field+"[")
	}
	for i, hits := range res {
		out = append(out, &qdrant.BatchResult{Result: toScoredList(hits, vectors(&reqs[i]))})
	}
	return out, nil
}
