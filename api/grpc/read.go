package grpcapi

import (
	"context"
	"fmt"
	"time"

	"github.com/qdrant/go-client/qdrant"
	"google.golang.org/grpc/codes"

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
	if p == nil {
		return nil
	}
	if p.HnswEf != nil {
		if *p.HnswEf == 0 {
			return minErr(joinPath(path, "hnsw_ef"), 0, 1)
		}
		req.HnswEf = clampInt(*p.HnswEf)
	}
	if p.Exact != nil {
		req.Exact = *p.Exact
	}
	return nil
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
	c, err := ps.s.collection(req.GetCollectionName())
	if err != nil {
		return nil, err
	}
	sr, err := toSearch(req, "")
	if err != nil {
		return nil, err
	}
	hits, err := c.Search(ctx, sr)
	if err != nil {
		return nil, err
	}
	return &qdrant.SearchResponse{Result: toScoredList(hits, sr.WithVectors), Time: since(start)}, nil
}

// SearchBatch runs the searches in one pass over the data. The searches'
// own collection_name is ignored, as Qdrant ignores it.
func (ps *pointsService) SearchBatch(ctx context.Context, req *qdrant.SearchBatchPoints) (*qdrant.SearchBatchResponse, error) {
	start := time.Now()
	c, err := ps.s.collection(req.GetCollectionName())
	if err != nil {
		return nil, err
	}
	out := &qdrant.SearchBatchResponse{Result: []*qdrant.BatchResult{}}
	if len(req.GetSearchPoints()) == 0 {
		out.Time = since(start)
		return out, nil
	}
	reqs := make([]strata.SearchRequest, len(req.GetSearchPoints()))
	for i, sp := range req.GetSearchPoints() {
		if reqs[i], err = toSearch(sp, fmt.Sprintf("search_points[%d]", i)); err != nil {
			return nil, err
		}
	}
	res, err := c.SearchBatch(ctx, reqs)
	if err != nil {
		return nil, err
	}
	for i, hits := range res {
		out.Result = append(out.Result, &qdrant.BatchResult{Result: toScoredList(hits, reqs[i].WithVectors)})
	}
	out.Time = since(start)
	return out, nil
}

// --- query (the universal query API) ---

// plannedQuery is a converted query: a search (by vector or by a point's
// vector), or, without a query, a page of points in id order.
type plannedQuery struct {
	search strata.SearchRequest
	byID   *strata.PointID // search by this point's vector, excluding it
	scroll bool            // no query: points in id order
}

// planQuery converts one QueryPoints; path prefixes error messages. Only
// nearest-vector queries (by vector or point id) are supported, as in
// REST.
func planQuery(qp *qdrant.QueryPoints, path string) (plannedQuery, error) {
	var pq plannedQuery
	req := &pq.search
	var err error
	if err := checkNoShardKey(qp.GetShardKeySelector(), path); err != nil {
		return pq, err
	}
	if len(qp.GetPrefetch()) > 0 {
		return pq, unsupported("%s", joinPath(path, "prefetch"))
	}
	if qp.GetLookupFrom() != nil {
		return pq, unsupported("%s", joinPath(path, "lookup_from"))
	}
	req.Using = qp.GetUsing()
	req.Limit = 10
	if qp.Limit != nil {
		if *qp.Limit == 0 {
			return pq, minErr(joinPath(path, "limit"), 0, 1)
		}
		req.Limit = clampInt(*qp.Limit)
	}
	req.Offset = offsetInt(qp.Offset)
	if req.Filter, err = toFilter(qp.GetFilter(), path); err != nil {
		return pq, err
	}
	if err := applyParams(qp.GetParams(), req, joinPath(path, "params")); err != nil {
		return pq, err
	}
	req.ScoreThreshold = qp.ScoreThreshold
	if req.WithPayload, err = withPayload(qp.GetWithPayload(), false, joinPath(path, "with_payload")); err != nil {
		return pq, err
	}
	if req.WithVectors, err = withVectors(qp.GetWithVectors(), joinPath(path, "with_vectors")); err != nil {
		return pq, err
	}
	qpath := joinPath(path, "query")
	switch q := qp.GetQuery().GetVariant().(type) {
	case nil:
		if qp.GetQuery() != nil {
			return pq, formatErr("%s: empty or unknown kind of query", qpath)
		}
		pq.scroll = true
		return pq, nil
	case *qdrant.Query_Nearest:
		return pq, vectorInput(q.Nearest, qpath+".nearest", &pq)
	case *qdrant.Query_NearestWithMmr:
		return pq, unsupported("%s.nearest_with_mmr", qpath)
	case *qdrant.Query_Recommend:
		return pq, unsupported("%s.recommend", qpath)
	case *qdrant.Query_Discover:
		return pq, unsupported("%s.discover", qpath)
	case *qdrant.Query_Context:
		return pq, unsupported("%s.context", qpath)
	case *qdrant.Query_OrderBy:
		return pq, unsupported("%s.order_by", qpath)
	case *qdrant.Query_Fusion:
		return pq, unsupported("%s.fusion", qpath)
	case *qdrant.Query_Rrf:
		return pq, unsupported("%s.rrf", qpath)
	case *qdrant.Query_Sample:
		return pq, unsupported("%s.sample", qpath)
	case *qdrant.Query_Formula:
		return pq, unsupported("%s.formula", qpath)
	case *qdrant.Query_RelevanceFeedback:
		return pq, unsupported("%s.relevance_feedback", qpath)
	}
	return pq, formatErr("%s: unknown kind of query", qpath)
}

// vectorInput converts the target of a nearest query: a dense vector or a
// point id.
func vectorInput(v *qdrant.VectorInput, path string, pq *plannedQuery) error {
	switch x := v.GetVariant().(type) {
	case *qdrant.VectorInput_Dense:
		pq.search.Vector = denseData(x.Dense.GetData())
		return nil
	case *qdrant.VectorInput_Id:
		id, err := pointID(x.Id, path+".id")
		if err != nil {
			return err
		}
		pq.byID = &id
		return nil
	case *qdrant.VectorInput_Sparse:
		return unsupported("%s: search by sparse vector", path)
	case *qdrant.VectorInput_MultiDense:
		return unsupported("%s: multivectors (a list of vectors)", path)
	case *qdrant.VectorInput_Document, *qdrant.VectorInput_Image, *qdrant.VectorInput_Object:
		return unsupported("%s: inference (documents, images, objects to embed)", path)
	case nil:
		return formatErr("%s: empty vector input: expected dense or id", path)
	}
	return formatErr("%s: unknown kind of vector input", path)
}

// runQuery answers one planned query.
func runQuery(ctx context.Context, c *strata.Collection, pq *plannedQuery) ([]strata.ScoredPoint, error) {
	if pq.scroll {
		return queryScroll(ctx, c, pq)
	}
	req := pq.search
	if pq.byID != nil {
		v, err := pointVector(ctx, c, *pq.byID, req.Using)
		if err != nil {
			return nil, err
		}
		req.Vector = v
		// As Qdrant does, leave the point itself out of the results.
		exclude := &strata.Filter{MustNot: []strata.Condition{strata.HasID(*pq.byID)}}
		if req.Filter != nil {
			exclude.Must = []strata.Condition{{Filter: req.Filter}}
		}
		req.Filter = exclude
	}
	return c.Search(ctx, req)
}

// pointVector returns the vector named using ("" for the default) of the
// point id: NotFound if there is no such point.
func pointVector(ctx context.Context, c *strata.Collection, id strata.PointID, using string) ([]float32, error) {
	if using == "" {
		if cfg := c.Config(); len(cfg.Vectors) == 1 {
			for name := range cfg.Vectors {
				using = name
			}
		}
	}
	recs, err := c.Get(ctx, []strata.PointID{id}, strata.GetOptions{WithVectors: strata.VectorSelector{Names: []string{using}}})
	if err != nil {
		return nil, err
	}
	if len(recs) == 0 {
		return nil, pointNotFound(id)
	}
	v := recs[0].Vector
	if using != "" {
		v = recs[0].Vectors[using]
	}
	if v == nil {
		return nil, badRequest("point %s has no vector %q", id, using)
	}
	return v, nil
}

// queryScroll answers a query without a query: points in id order, each
// with score 0, after skipping offset of them.
func queryScroll(ctx context.Context, c *strata.Collection, pq *plannedQuery) ([]strata.ScoredPoint, error) {
	req := pq.search
	if req.Offset+req.Limit > strata.MaxSearchLimit {
		return nil, &apiError{code: codes.InvalidArgument, msg: fmt.Sprintf("Wrong input: offset + limit: %d is out of range 1..%d", req.Offset+req.Limit, strata.MaxSearchLimit)}
	}
	res, err := c.Scroll(ctx, strata.ScrollRequest{Filter: req.Filter, Limit: req.Offset + req.Limit, WithPayload: req.WithPayload, WithVectors: req.WithVectors})
	if err != nil {
		return nil, err
	}
	pts := res.Points[min(req.Offset, len(res.Points)):]
	out := make([]strata.ScoredPoint, len(pts))
	for i := range pts {
		out[i] = strata.ScoredPoint{Record: pts[i]}
	}
	return out, nil
}

func (ps *pointsService) Query(ctx context.Context, req *qdrant.QueryPoints) (*qdrant.QueryResponse, error) {
	start := time.Now()
	c, err := ps.s.collection(req.GetCollectionName())
	if err != nil {
		return nil, err
	}
	pq, err := planQuery(req, "")
	if err != nil {
		return nil, err
	}
	hits, err := runQuery(ctx, c, &pq)
	if err != nil {
		return nil, err
	}
	return &qdrant.QueryResponse{Result: toScoredList(hits, pq.search.WithVectors), Time: since(start)}, nil
}

// QueryBatch runs the vector searches of the batch in one pass over the
// data (strata.SearchBatch) and the others one by one.
func (ps *pointsService) QueryBatch(ctx context.Context, req *qdrant.QueryBatchPoints) (*qdrant.QueryBatchResponse, error) {
	start := time.Now()
	c, err := ps.s.collection(req.GetCollectionName())
	if err != nil {
		return nil, err
	}
	pqs := make([]plannedQuery, len(req.GetQueryPoints()))
	for i, qp := range req.GetQueryPoints() {
		if pqs[i], err = planQuery(qp, fmt.Sprintf("query_points[%d]", i)); err != nil {
			return nil, err
		}
	}
	results := make([][]strata.ScoredPoint, len(pqs))
	var batch []strata.SearchRequest
	var batchIdx []int
	for i := range pqs {
		if pqs[i].scroll || pqs[i].byID != nil {
			if results[i], err = runQuery(ctx, c, &pqs[i]); err != nil {
				return nil, prefixErr(err, fmt.Sprintf("query_points[%d]", i))
			}
			continue
		}
		batch = append(batch, pqs[i].search)
		batchIdx = append(batchIdx, i)
	}
	if len(batch) > 0 {
		res, err := c.SearchBatch(ctx, batch)
		if err != nil {
			return nil, err
		}
		for j, hits := range res {
			results[batchIdx[j]] = hits
		}
	}
	out := &qdrant.QueryBatchResponse{Result: make([]*qdrant.BatchResult, len(pqs))}
	for i := range pqs {
		out.Result[i] = &qdrant.BatchResult{Result: toScoredList(results[i], pqs[i].search.WithVectors)}
	}
	out.Time = since(start)
	return out, nil
}
