package grpcapi

import (
	"context"
	"fmt"
	"time"

	"github.com/qdrant/go-client/qdrant"

	"github.com/strata-db/strata"
)

// The universal query API and the calls built on it: Query (with prefetch,
// fusion, MMR, recommend), QueryBatch, QueryGroups, and the older
// Recommend, RecommendBatch, RecommendGroups and SearchGroups. Each
// converts the request into a strata.QueryRequest (or QueryGroupsRequest)
// and calls Collection.Query, QueryBatch or QueryGroups, as api/rest does.

// --- Query, QueryBatch ---

// queryFields are the fields QueryPoints and QueryPointGroups share.
type queryFields struct {
	prefetch    []*qdrant.PrefetchQuery
	query       *qdrant.Query
	using       *string
	filter      *qdrant.Filter
	params      *qdrant.SearchParams
	threshold   *float32
	limit       *uint64
	offset      *uint64
	withPayload *qdrant.WithPayloadSelector
	withVectors *qdrant.WithVectorsSelector
	lookupFrom  *qdrant.LookupLocation
	shardKey    *qdrant.ShardKeySelector
}

// toQuery converts the fields; path prefixes error messages.
func (f *queryFields) toQuery(path string) (strata.QueryRequest, error) {
	var req strata.QueryRequest
	var err error
	if err := checkNoShardKey(f.shardKey, path); err != nil {
		return req, err
	}
	if req.Prefetch, err = prefetches(f.prefetch, joinPath(path, "prefetch")); err != nil {
		return req, err
	}
	if req.Query, err = query(f.query, joinPath(path, "query")); err != nil {
		return req, err
	}
	if f.using != nil {
		req.Using = *f.using
	}
	if req.Limit, err = limitOf(f.limit, 10, joinPath(path, "limit")); err != nil {
		return req, err
	}
	req.Offset = offsetInt(f.offset)
	err = applyCommon(&req, path, f.filter, f.params, f.threshold, f.lookupFrom, f.withPayload, f.withVectors)
	return req, err
}

// applyCommon decodes the fields that query and recommend requests share
// into req; path prefixes error messages.
func applyCommon(req *strata.QueryRequest, path string, filter *qdrant.Filter, params *qdrant.SearchParams, threshold *float32,
	lookup *qdrant.LookupLocation, payload *qdrant.WithPayloadSelector, vectors *qdrant.WithVectorsSelector) error {
	var err error
	if req.Filter, err = toFilter(filter, path); err != nil {
		return err
	}
	if req.HnswEf, req.Exact, err = searchParams(params, joinPath(path, "params")); err != nil {
		return err
	}
	req.ScoreThreshold = threshold
	if req.LookupFrom, err = lookupFrom(lookup, joinPath(path, "lookup_from")); err != nil {
		return err
	}
	if req.WithPayload, err = withPayload(payload, false, joinPath(path, "with_payload")); err != nil {
		return err
	}
	req.WithVectors, err = withVectors(vectors, joinPath(path, "with_vectors"))
	return err
}

func queryPointsFields(qp *qdrant.QueryPoints) *queryFields {
	return &queryFields{qp.GetPrefetch(), qp.GetQuery(), qp.Using, qp.GetFilter(), qp.GetParams(), qp.ScoreThreshold,
		qp.Limit, qp.Offset, qp.GetWithPayload(), qp.GetWithVectors(), qp.GetLookupFrom(), qp.GetShardKeySelector()}
}

// limitOf converts an optional limit: absent gives def, 0 breaks Qdrant's
// minimum of 1; values above the root's maximum are left for the root.
func limitOf(v *uint64, def int, path string) (int, error) {
	switch {
	case v == nil:
		return def, nil
	case *v == 0:
		return 0, minErr(path, 0, 1)
	}
	return clampInt(*v), nil
}

func (ps *pointsService) Query(ctx context.Context, req *qdrant.QueryPoints) (*qdrant.QueryResponse, error) {
	start := time.Now()
	toQuery := func(qp *qdrant.QueryPoints, path string) (strata.QueryRequest, error) {
		return queryPointsFields(qp).toQuery(path)
	}
	hits, err := runOne(ctx, ps.s, req.GetCollectionName(), req, toQuery, (*strata.Collection).Query, "query.", queryVectors)
	if err != nil {
		return nil, err
	}
	return &qdrant.QueryResponse{Result: hits, Time: since(start)}, nil
}

// QueryBatch runs the queries with strata.QueryBatch: their single-vector
// searches in one pass over the data. The queries' own collection_name is
// ignored, as Qdrant ignores it.
func (ps *pointsService) QueryBatch(ctx context.Context, req *qdrant.QueryBatchPoints) (*qdrant.QueryBatchResponse, error) {
	start := time.Now()
	c, err := ps.s.collection(req.GetCollectionName())
	if err != nil {
		return nil, err
	}
	toQuery := func(qp *qdrant.QueryPoints, path string) (strata.QueryRequest, error) {
		return queryPointsFields(qp).toQuery(path)
	}
	res, err := runBatch(ctx, c, req.GetQueryPoints(), "query_points", toQuery, (*strata.Collection).QueryBatch, queryVectors)
	if err != nil {
		return nil, err
	}
	return &qdrant.QueryBatchResponse{Result: res, Time: since(start)}, nil
}

// queryVectors is what runBatch needs of a QueryRequest.
func queryVectors(q *strata.QueryRequest) strata.VectorSelector { return q.WithVectors }

// --- conversion of queries ---

// prefetches converts PrefetchQuery messages.
func prefetches(ps []*qdrant.PrefetchQuery, path string) ([]strata.Prefetch, error) {
	if len(ps) == 0 {
		return nil, nil
	}
	out := make([]strata.Prefetch, len(ps))
	for i, p := range ps {
		ppath := fmt.Sprintf("%s[%d]", path, i)
		if p == nil {
			return nil, formatErr("%s: missing prefetch", ppath)
		}
		if err := checkNoShardKey(p.GetLookupFrom().GetShardKeySelector(), ppath+".lookup_from"); err != nil {
			return nil, err
		}
		pf := &out[i]
		var err error
		if pf.Prefetch, err = prefetches(p.GetPrefetch(), ppath+".prefetch"); err != nil {
			return nil, err
		}
		if pf.Query, err = query(p.GetQuery(), ppath+".query"); err != nil {
			return nil, err
		}
		pf.Using = p.GetUsing()
		if pf.Limit, err = limitOf(p.Limit, 10, ppath+".limit"); err != nil {
			return nil, err
		}
		if pf.Filter, err = toFilter(p.GetFilter(), ppath); err != nil {
			return nil, err
		}
		if pf.HnswEf, pf.Exact, err = searchParams(p.GetParams(), ppath+".params"); err != nil {
			return nil, err
		}
		pf.ScoreThreshold = p.ScoreThreshold
		if pf.LookupFrom, err = lookupFrom(p.GetLookupFrom(), ppath+".lookup_from"); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// query converts a Query; nil is no query.
func query(q *qdrant.Query, path string) (*strata.Query, error) {
	if q == nil {
		return nil, nil
	}
	switch x := q.GetVariant().(type) {
	case *qdrant.Query_Nearest:
		in, err := vectorInput(x.Nearest, path+".nearest")
		if err != nil {
			return nil, err
		}
		return &strata.Query{Nearest: &strata.NearestQuery{Target: in}}, nil
	case *qdrant.Query_NearestWithMmr:
		m := x.NearestWithMmr
		in, err := vectorInput(m.GetNearest(), path+".nearest_with_mmr.nearest")
		if err != nil {
			return nil, err
		}
		mmr := &strata.MMR{Diversity: m.GetMmr().Diversity}
		if cl := m.GetMmr().CandidatesLimit; cl != nil {
			mmr.CandidatesLimit = int(*cl)
		}
		return &strata.Query{Nearest: &strata.NearestQuery{Target: in, MMR: mmr}}, nil
	case *qdrant.Query_Recommend:
		r, err := recommendInput(x.Recommend.GetPositive(), x.Recommend.GetNegative(), x.Recommend.Strategy, path+".recommend")
		if err != nil {
			return nil, err
		}
		return &strata.Query{Recommend: r}, nil
	case *qdrant.Query_Fusion:
		switch x.Fusion {
		case qdrant.Fusion_RRF:
			return strata.RRF(), nil
		case qdrant.Fusion_DBSF:
			return strata.DBSF(), nil
		}
		return nil, formatErr("%s.fusion: unknown fusion %d", path, x.Fusion)
	case *qdrant.Query_Rrf:
		f := &strata.FusionQuery{Method: strata.FusionRRF, Weights: x.Rrf.GetWeights()}
		if k := x.Rrf.K; k != nil {
			if *k == 0 {
				return nil, minErr(path+".rrf.k", 0, 1)
			}
			f.K = int(*k)
		}
		return &strata.Query{Fusion: f}, nil
	case *qdrant.Query_Discover:
		return nil, unsupported("%s.discover", path)
	case *qdrant.Query_Context:
		return nil, unsupported("%s.context", path)
	case *qdrant.Query_OrderBy:
		return nil, unsupported("%s.order_by", path)
	case *qdrant.Query_Sample:
		return nil, unsupported("%s.sample", path)
	case *qdrant.Query_Formula:
		return nil, unsupported("%s.formula", path)
	case *qdrant.Query_RelevanceFeedback:
		return nil, unsupported("%s.relevance_feedback", path)
	case nil:
		return nil, formatErr("%s: empty or unknown kind of query", path)
	}
	return nil, formatErr("%s: unknown kind of query", path)
}

// vectorInput converts a VectorInput: a dense vector or a point id.
func vectorInput(v *qdrant.VectorInput, path string) (strata.VectorInput, error) {
	switch x := v.GetVariant().(type) {
	case *qdrant.VectorInput_Dense:
		return strata.VectorInput{Vector: denseData(x.Dense.GetData())}, nil
	case *qdrant.VectorInput_Id:
		id, err := pointID(x.Id, path+".id")
		if err != nil {
			return strata.VectorInput{}, err
		}
		return strata.VectorInput{ID: &id}, nil
	case *qdrant.VectorInput_Sparse:
		return strata.VectorInput{}, unsupported("%s: search by sparse vector", path)
	case *qdrant.VectorInput_MultiDense:
		return strata.VectorInput{}, unsupported("%s: multivectors (a list of vectors)", path)
	case *qdrant.VectorInput_Document, *qdrant.VectorInput_Image, *qdrant.VectorInput_Object:
		return strata.VectorInput{}, unsupported("%s: inference (documents, images, objects to embed)", path)
	case nil:
		return strata.VectorInput{}, formatErr("%s: empty vector input: expected dense or id", path)
	}
	return strata.VectorInput{}, formatErr("%s: unknown kind of vector input", path)
}

// recommendInput converts the examples and strategy of a recommendation.
func recommendInput(pos, neg []*qdrant.VectorInput, strategy *qdrant.RecommendStrategy, path string) (*strata.RecommendQuery, error) {
	r := &strata.RecommendQuery{}
	for i, v := range pos {
		in, err := vectorInput(v, fmt.Sprintf("%s.positive[%d]", path, i))
		if err != nil {
			return nil, err
		}
		r.Positive = append(r.Positive, in)
	}
	for i, v := range neg {
		in, err := vectorInput(v, fmt.Sprintf("%s.negative[%d]", path, i))
		if err != nil {
			return nil, err
		}
		r.Negative = append(r.Negative, in)
	}
	var err error
	r.Strategy, err = recommendStrategy(strategy, path+".strategy")
	return r, err
}

func recommendStrategy(s *qdrant.RecommendStrategy, path string) (strata.RecommendStrategy, error) {
	if s == nil {
		return "", nil
	}
	switch *s {
	case qdrant.RecommendStrategy_AverageVector:
		return strata.AverageVector, nil
	case qdrant.RecommendStrategy_BestScore:
		return strata.BestScore, nil
	case qdrant.RecommendStrategy_SumScores:
		return strata.SumScores, nil
	}
	return "", formatErr("%s: unknown strategy %d", path, *s)
}

// lookupFrom converts a LookupLocation.
func lookupFrom(l *qdrant.LookupLocation, path string) (*strata.LookupLocation, error) {
	if l == nil {
		return nil, nil
	}
	if err := checkNoShardKey(l.GetShardKeySelector(), path); err != nil {
		return nil, err
	}
	return &strata.LookupLocation{Collection: l.GetCollectionName(), Vector: l.GetVectorName()}, nil
}

// --- groups ---

// groups converts the grouping fields onto req: group_by, group_size
// (default 3) and limit (the number of groups, default 10; as REST's
// query/groups, whatever the proto comments say), with_lookup.
func groups(req *strata.QueryGroupsRequest, groupBy string, groupSize, limit *uint64, wl *qdrant.WithLookup) error {
	if groupBy == "" {
		return validationErr("group_by", "must not be empty")
	}
	req.GroupBy = groupBy
	var err error
	if req.GroupSize, err = limitOf(groupSize, 3, "group_size"); err != nil {
		return err
	}
	if req.Limit, err = limitOf(limit, 10, "limit"); err != nil {
		return err
	}
	if wl == nil {
		return nil
	}
	req.WithLookup = &strata.GroupLookup{Collection: wl.GetCollection()}
	if req.WithLookup.WithPayload, err = withPayload(wl.WithPayload, true, "with_lookup.with_payload"); err != nil {
		return err
	}
	req.WithLookup.WithVectors, err = withVectors(wl.WithVectors, "with_lookup.with_vectors")
	return err
}

// required turns a required uint32 field into the optional form, 0 being
// below Qdrant's minimum of 1.
func required(v uint32) *uint64 {
	n := uint64(v)
	return &n
}

func toGroupsResult(gs []strata.PointGroup, req *strata.QueryGroupsRequest) *qdrant.GroupsResult {
	out := &qdrant.GroupsResult{Groups: make([]*qdrant.PointGroup, len(gs))}
	for i, g := range gs {
		pg := &qdrant.PointGroup{Id: toGroupID(g.ID), Hits: toScoredList(g.Hits, req.WithVectors)}
		if g.Lookup != nil {
			pg.Lookup = toRetrieved(g.Lookup, req.WithLookup.WithVectors)
		}
		out.Groups[i] = pg
	}
	return out
}

// toGroupID writes a group id as Qdrant does: a string, a non-negative
// integer as unsigned, a negative one as signed.
func toGroupID(id strata.GroupID) *qdrant.GroupId {
	switch {
	case !id.IsInt:
		return &qdrant.GroupId{Kind: &qdrant.GroupId_StringValue{StringValue: id.Str}}
	case id.Int >= 0:
		return &qdrant.GroupId{Kind: &qdrant.GroupId_UnsignedValue{UnsignedValue: uint64(id.Int)}}
	}
	return &qdrant.GroupId{Kind: &qdrant.GroupId_IntegerValue{IntegerValue: id.Int}}
}

func (ps *pointsService) QueryGroups(ctx context.Context, req *qdrant.QueryPointGroups) (*qdrant.QueryGroupsResponse, error) {
	start := time.Now()
	c, err := ps.s.collection(req.GetCollectionName())
	if err != nil {
		return nil, err
	}
	f := &queryFields{req.GetPrefetch(), req.GetQuery(), req.Using, req.GetFilter(), req.GetParams(), req.ScoreThreshold,
		nil, nil, req.GetWithPayload(), req.GetWithVectors(), req.GetLookupFrom(), req.GetShardKeySelector()}
	var gr strata.QueryGroupsRequest
	if gr.QueryRequest, err = f.toQuery(""); err != nil {
		return nil, err
	}
	if err := groups(&gr, req.GetGroupBy(), req.GroupSize, req.Limit, req.GetWithLookup()); err != nil {
		return nil, err
	}
	res, err := c.QueryGroups(ctx, gr)
	if err != nil {
		return nil, rebase(err, "query.", "")
	}
	return &qdrant.QueryGroupsResponse{Result: toGroupsResult(res, &gr), Time: since(start)}, nil
}

func (ps *pointsService) SearchGroups(ctx context.Context, req *qdrant.SearchPointGroups) (*qdrant.SearchGroupsResponse, error) {
	start := time.Now()
	c, err := ps.s.collection(req.GetCollectionName())
	if err != nil {
		return nil, err
	}
	if err := checkNoShardKey(req.GetShardKeySelector(), ""); err != nil {
		return nil, err
	}
	if req.GetSparseIndices() != nil {
		return nil, unsupported("vector: search by sparse vector")
	}
	var gr strata.QueryGroupsRequest
	gr.Query, gr.Using = strata.NearestVector(denseData(req.GetVector())), req.GetVectorName()
	if err := groups(&gr, req.GetGroupBy(), required(req.GetGroupSize()), required(req.GetLimit()), req.GetWithLookup()); err != nil {
		return nil, err
	}
	if gr.Filter, err = toFilter(req.GetFilter(), ""); err != nil {
		return nil, err
	}
	if gr.HnswEf, gr.Exact, err = searchParams(req.GetParams(), "params"); err != nil {
		return nil, err
	}
	gr.ScoreThreshold = req.ScoreThreshold
	if gr.WithPayload, err = withPayload(req.GetWithPayload(), false, "with_payload"); err != nil {
		return nil, err
	}
	if gr.WithVectors, err = withVectors(req.GetWithVectors(), "with_vectors"); err != nil {
		return nil, err
	}
	res, err := c.QueryGroups(ctx, gr)
	if err != nil {
		return nil, rebase(err, "query.", "")
	}
	return &qdrant.SearchGroupsResponse{Result: toGroupsResult(res, &gr), Time: since(start)}, nil
}

// --- recommend (the pre-1.10 calls) ---

// recommendFields are the fields RecommendPoints and RecommendPointGroups
// share.
type recommendFields struct {
	positive, negative            []*qdrant.PointId
	positiveVectors, negativeVecs []*qdrant.Vector
	strategy                      *qdrant.RecommendStrategy
	filter                        *qdrant.Filter
	params                        *qdrant.SearchParams
	threshold                     *float32
	using                         *string
	withPayload                   *qdrant.WithPayloadSelector
	withVectors                   *qdrant.WithVectorsSelector
	lookupFrom                    *qdrant.LookupLocation
	shardKey                      *qdrant.ShardKeySelector
}

// toQuery converts the fields (without limit and offset); path prefixes
// error messages. Examples by id come before examples by vector.
func (f *recommendFields) toQuery(path string) (strata.QueryRequest, error) {
	var req strata.QueryRequest
	var err error
	if err := checkNoShardKey(f.shardKey, path); err != nil {
		return req, err
	}
	r := &strata.RecommendQuery{}
	examples := func(ids []*qdrant.PointId, vecs []*qdrant.Vector, field string) ([]strata.VectorInput, error) {
		var out []strata.VectorInput
		for i, pid := range ids {
			id, err := pointID(pid, fmt.Sprintf("%s[%d]", joinPath(path, field), i))
			if err != nil {
				return nil, err
			}
			out = append(out, strata.VectorInput{ID: &id})
		}
		for i, v := range vecs {
			vpath := fmt.Sprintf("%s_vectors[%d]", joinPath(path, field), i)
			dense, sparse, err := vector(v, vpath)
			if err != nil {
				return nil, err
			}
			if sparse != nil {
				return nil, unsupported("%s: search by sparse vector", vpath)
			}
			out = append(out, strata.VectorInput{Vector: dense})
		}
		return out, nil
	}
	if r.Positive, err = examples(f.positive, f.positiveVectors, "positive"); err != nil {
		return req, err
	}
	if r.Negative, err = examples(f.negative, f.negativeVecs, "negative"); err != nil {
		return req, err
	}
	if r.Strategy, err = recommendStrategy(f.strategy, joinPath(path, "strategy")); err != nil {
		return req, err
	}
	req.Query = &strata.Query{Recommend: r}
	if f.using != nil {
		req.Using = *f.using
	}
	err = applyCommon(&req, path, f.filter, f.params, f.threshold, f.lookupFrom, f.withPayload, f.withVectors)
	return req, err
}

// toRecommend converts RecommendPoints; path prefixes error messages.
func toRecommend(rp *qdrant.RecommendPoints, path string) (strata.QueryRequest, error) {
	f := &recommendFields{rp.GetPositive(), rp.GetNegative(), rp.GetPositiveVectors(), rp.GetNegativeVectors(), rp.Strategy,
		rp.GetFilter(), rp.GetParams(), rp.ScoreThreshold, rp.Using, rp.GetWithPayload(), rp.GetWithVectors(), rp.GetLookupFrom(), rp.GetShardKeySelector()}
	req, err := f.toQuery(path)
	if err != nil {
		return req, err
	}
	if rp.GetLimit() == 0 {
		return req, minErr(joinPath(path, "limit"), 0, 1)
	}
	req.Limit = clampInt(rp.GetLimit())
	req.Offset = offsetInt(rp.Offset)
	return req, nil
}

func (ps *pointsService) Recommend(ctx context.Context, req *qdrant.RecommendPoints) (*qdrant.RecommendResponse, error) {
	start := time.Now()
	hits, err := runOne(ctx, ps.s, req.GetCollectionName(), req, toRecommend, (*strata.Collection).Query, "query.", queryVectors)
	if err != nil {
		return nil, err
	}
	return &qdrant.RecommendResponse{Result: hits, Time: since(start)}, nil
}

// RecommendBatch runs the recommendations with strata.QueryBatch.
func (ps *pointsService) RecommendBatch(ctx context.Context, req *qdrant.RecommendBatchPoints) (*qdrant.RecommendBatchResponse, error) {
	start := time.Now()
	c, err := ps.s.collection(req.GetCollectionName())
	if err != nil {
		return nil, err
	}
	res, err := runBatch(ctx, c, req.GetRecommendPoints(), "recommend_points", toRecommend, (*strata.Collection).QueryBatch, queryVectors)
	if err != nil {
		return nil, err
	}
	return &qdrant.RecommendBatchResponse{Result: res, Time: since(start)}, nil
}

func (ps *pointsService) RecommendGroups(ctx context.Context, req *qdrant.RecommendPointGroups) (*qdrant.RecommendGroupsResponse, error) {
	start := time.Now()
	c, err := ps.s.collection(req.GetCollectionName())
	if err != nil {
		return nil, err
	}
	f := &recommendFields{req.GetPositive(), req.GetNegative(), req.GetPositiveVectors(), req.GetNegativeVectors(), req.Strategy,
		req.GetFilter(), req.GetParams(), req.ScoreThreshold, req.Using, req.GetWithPayload(), req.GetWithVectors(), req.GetLookupFrom(), req.GetShardKeySelector()}
	var gr strata.QueryGroupsRequest
	if gr.QueryRequest, err = f.toQuery(""); err != nil {
		return nil, err
	}
	if err := groups(&gr, req.GetGroupBy(), required(req.GetGroupSize()), required(req.GetLimit()), req.GetWithLookup()); err != nil {
		return nil, err
	}
	res, err := c.QueryGroups(ctx, gr)
	if err != nil {
		return nil, rebase(err, "query.", "")
	}
	return &qdrant.RecommendGroupsResponse{Result: toGroupsResult(res, &gr), Time: since(start)}, nil
}
