package strata

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/strata-db/strata/internal/base"
	"github.com/strata-db/strata/internal/collection"
	"github.com/strata-db/strata/internal/filter"
	"github.com/strata-db/strata/internal/index/flat"
)

// This file is the universal query (Qdrant's Query API): prefetch trees,
// rescoring, fusion, MMR, recommendation and grouping. The behaviour
// follows Qdrant's documentation (hybrid queries, search relevance,
// explore, search groups); where it is silent, the choice made is stated
// on the type or function concerned.
//
// Execution: a request is validated into a tree of stages. A request
// without prefetches that is a nearest query by vector runs exactly as
// Search. Everything else runs on one point-in-time snapshot
// (collection.Reader): the ids the request refers to are resolved there,
// every leaf stage that is a single-vector search of every request of a
// batch goes into one batched search (one pass over the data), the other
// leaves scan or scroll, and the inner stages rescore the points their
// prefetches found by scoring exactly those points (their vectors are read
// by location: no search of the whole collection), or fuse their ranks or
// scores. Payloads and vectors are copied only for the final page.

// QueryRequest is one query of the universal query API: rank the points by
// Query, over the whole collection or, with Prefetch, over the points the
// prefetches return. The zero value (no query, no prefetch) returns the
// first 10 points in id order.
type QueryRequest struct {
	// Prefetch lists sub-queries to run first; Query then ranks the union
	// of their results (by a vector query scoring exactly those points) or
	// fuses their rankings (Fusion). A request with prefetches needs a
	// Query.
	Prefetch []Prefetch
	// Query ranks the points; nil returns points in id order, each with
	// score 0 (not allowed with Prefetch).
	Query *Query
	// Using names the dense vector that vector queries compare with ("" for
	// the unnamed one, or the only one). Fusion ignores it.
	Using string
	// Filter restricts the result. As in Qdrant it also applies to every
	// prefetch (at any depth): each prefetch searches only matching points.
	Filter *Filter
	// ScoreThreshold drops results worse than it: lower similarities (and,
	// for recommend best_score / sum_scores and fusion, lower scores),
	// larger distances for Euclid and Manhattan.
	ScoreThreshold *float32
	// Exact and HnswEf tune a search of the whole collection as in
	// SearchRequest; they have no effect on a stage that rescores prefetched
	// points (that scoring is always exact).
	Exact  bool
	HnswEf int
	// Limit is the number of results (default 10); Offset skips the best
	// ones. Offset applies to this top level only: prefetches need a Limit
	// of at least Limit + Offset for the page to be full.
	Limit  int
	Offset int
	// LookupFrom, if set, makes point ids in Query refer to points of
	// another collection (their vector LookupFrom.Vector). Ids looked up
	// there are not excluded from the results.
	LookupFrom  *LookupLocation
	WithPayload PayloadSelector
	WithVectors VectorSelector
}

// Prefetch is a sub-query of a QueryRequest: its fields mean what they mean
// there. Its Limit defaults to 10; it has no offset. Its Filter applies to
// its own prefetches too, and the filters of the stages above it apply to
// it.
type Prefetch struct {
	Prefetch       []Prefetch
	Query          *Query
	Using          string
	Filter         *Filter
	ScoreThreshold *float32
	Exact          bool
	HnswEf         int
	Limit          int
	LookupFrom     *LookupLocation
}

// Query is what a QueryRequest or a Prefetch ranks by. Exactly one field is
// set.
type Query struct {
	// Nearest ranks by similarity to one vector, optionally diversified
	// with MMR.
	Nearest *NearestQuery
	// Recommend ranks by similarity to positive examples and dissimilarity
	// to negative ones.
	Recommend *RecommendQuery
	// Fusion merges the rankings of the prefetches; it needs prefetches.
	Fusion *FusionQuery
}

// NearestVector returns the query "nearest to v".
func NearestVector(v []float32) *Query {
	return &Query{Nearest: &NearestQuery{Target: VectorInput{Vector: v}}}
}

// NearestPoint returns the query "nearest to the vector of point id"; the
// point itself is left out of the results.
func NearestPoint(id PointID) *Query {
	return &Query{Nearest: &NearestQuery{Target: VectorInput{ID: &id}}}
}

// RRF returns the query "fuse the prefetches by reciprocal rank fusion with
// Qdrant's defaults" (k = 2, equal weights).
func RRF() *Query { return &Query{Fusion: &FusionQuery{Method: FusionRRF}} }

// DBSF returns the query "fuse the prefetches by distribution-based score
// fusion".
func DBSF() *Query { return &Query{Fusion: &FusionQuery{Method: FusionDBSF}} }

// VectorInput is a query vector: a vector given as is (Vector), or the
// vector of an existing point (ID; under the request's Using, in the
// request's collection or its LookupFrom). Exactly one is set.
type VectorInput struct {
	Vector []float32
	ID     *PointID
}

// InputVector returns the VectorInput of v.
func InputVector(v []float32) VectorInput { return VectorInput{Vector: v} }

// InputPoint returns the VectorInput of point id's vector.
func InputPoint(id PointID) VectorInput { return VectorInput{ID: &id} }

// NearestQuery ranks by similarity to Target: the score is the similarity
// or the distance, as in Search. Points given by id are left out of the
// results (as in Qdrant, whatever stage of the request refers to them).
type NearestQuery struct {
	Target VectorInput
	// MMR, if set, re-ranks the nearest candidates by maximal marginal
	// relevance.
	MMR *MMR
}

// MMR is maximal marginal relevance (Qdrant's formula): starting from the
// most relevant candidate, it repeatedly selects the candidate that
// maximises λ·sim(candidate, query) − (1−λ)·max sim(candidate, selected),
// with λ = 1 − Diversity. Results come in the order of selection, each
// with its score against the query (similarity or distance), so they are
// not sorted by score. sim is the metric's "higher is better" similarity:
// the dot product (cosine for Cosine vectors), the negated squared
// Euclidean distance, the negated Manhattan distance.
type MMR struct {
	// Diversity, in [0, 1], trades relevance (0) for diversity (1); nil
	// means Qdrant's default 0.5.
	Diversity *float32
	// CandidatesLimit is how many nearest candidates MMR chooses from, at
	// most 16384 (Qdrant's maximum). 0 means the request's Limit (+
	// Offset); a smaller value is raised to it, so MMR never returns fewer
	// points than a plain query would (Strata's choice).
	CandidatesLimit int
}

// FusionMethod is how a FusionQuery merges rankings.
type FusionMethod string

const (
	// FusionRRF is reciprocal rank fusion. A point's score is the sum over
	// the prefetches that returned it of 1 / (k + (r+1)/w − 1), r being its
	// zero-based rank there and w the prefetch's weight; with w = 1 that is
	// 1 / (k + r). k defaults to 2, as in Qdrant.
	FusionRRF FusionMethod = "rrf"
	// FusionDBSF is distribution-based score fusion: each prefetch's
	// scores s are mapped to (s − (μ − 3σ)) / 6σ, μ and σ being their mean
	// and sample standard deviation (not clipped; 0.5 when all are equal
	// or there is one), and summed per point. Strata negates the distances
	// of a Euclid or Manhattan prefetch first, so that better is higher in
	// every list.
	FusionDBSF FusionMethod = "dbsf"
)

// FusionQuery merges the results of the prefetches. Ties keep the order in
// which points were first met (prefetch order, then rank).
type FusionQuery struct {
	// Method is the fusion; "" is FusionRRF.
	Method FusionMethod
	// K is RRF's constant, at least 1; 0 means 2 (Qdrant's default).
	K int
	// Weights, for RRF, weigh each prefetch (one non-negative weight per
	// prefetch, in order); nil weighs them equally (1).
	Weights []float32
}

// RecommendStrategy is how a RecommendQuery uses its examples.
type RecommendStrategy string

const (
	// AverageVector searches with avg(positive) + (avg(positive) −
	// avg(negative)) (avg(positive) without negatives), as a nearest
	// query: scores are similarities or distances. It needs a positive
	// example.
	AverageVector RecommendStrategy = "average_vector"
	// BestScore scores each point against every example with the metric's
	// "higher is better" similarity (the dot product, cosine for Cosine
	// vectors, the negated squared Euclidean distance, the negated
	// Manhattan distance): with p and n the best positive and negative
	// similarities, the score is sigmoid(p) if p > n, else −sigmoid(n),
	// where sigmoid(x) = 0.5·(1 + x/(1+|x|)). Higher is better.
	BestScore RecommendStrategy = "best_score"
	// SumScores scores each point by the sum of its similarities (as for
	// BestScore) to the positive examples minus the sum to the negative
	// ones. Higher is better.
	SumScores RecommendStrategy = "sum_scores"
)

// RecommendQuery ranks by similarity to the positive examples and
// dissimilarity to the negative ones. Examples given by id are left out of
// the results. Without prefetches, BestScore and SumScores score every
// point of the collection exactly (no HNSW graph is used).
type RecommendQuery struct {
	Positive []VectorInput
	Negative []VectorInput
	// Strategy is "" for AverageVector, BestScore or SumScores.
	Strategy RecommendStrategy
}

// LookupLocation names where point ids of a query are looked up: another
// collection and its vector ("" for its unnamed or only vector), which must
// have the dimension of the vector searched.
type LookupLocation struct {
	Collection string
	Vector     string
}

// QueryGroupsRequest groups the results of a query by a payload key, as
// Qdrant's query groups: each group holds the best GroupSize points with
// one value of the key, and groups are ordered by their best point. A point
// whose value is an array is in one group per value; only string and
// integer values make groups (other values are ignored, as are points
// without the key).
type QueryGroupsRequest struct {
	// QueryRequest is the query; its Limit is the number of groups
	// (default 10) and Offset must be 0 (groups are not paged).
	QueryRequest
	// GroupBy is the payload key (a path such as "doc.id"); required.
	GroupBy string
	// GroupSize is the number of points per group (default 3).
	GroupSize int
	// WithLookup, if set, attaches to each group the point of another
	// collection whose id is the group's value.
	WithLookup *GroupLookup
}

// GroupLookup names the collection that QueryGroups looks group ids up in
// and what to return of the points found. A string group id matches a UUID
// point id, an integer one a numeric id.
type GroupLookup struct {
	Collection  string
	WithPayload PayloadSelector
	WithVectors VectorSelector
}

// GroupID is a group's value of the group-by key: a string (IsInt false) or
// an integer.
type GroupID struct {
	Str   string
	Int   int64
	IsInt bool
}

// String returns the value as text.
func (g GroupID) String() string {
	if g.IsInt {
		return fmt.Sprint(g.Int)
	}
	return g.Str
}

// PointGroup is one group of a QueryGroups result: its points best first.
type PointGroup struct {
	ID   GroupID
	Hits []ScoredPoint
	// Lookup is the point looked up with GroupLookup; nil without one or if
	// it does not exist.
	Lookup *Record
}

// Limits of the universal query.
const (
	// maxPrefetchDepth bounds the nesting of prefetches (Qdrant's limit).
	maxPrefetchDepth = 64
	// maxMMRCandidates bounds MMR's candidates (Qdrant's limit).
	maxMMRCandidates = 16384
	// defaultRRFK is Qdrant's default k of reciprocal rank fusion.
	defaultRRFK = 2
	// defaultDiversity is Qdrant's default MMR diversity.
	defaultDiversity = 0.5
	// maxGroupRounds bounds how often QueryGroups widens its search.
	maxGroupRounds = 12
)

// --- entry points ---

// Query runs one query of the universal query API and returns its
// results, best first (for MMR, in the order of selection).
func (c *Collection) Query(ctx context.Context, req QueryRequest) ([]ScoredPoint, error) {
	if err := c.check(ctx); err != nil {
		return nil, err
	}
	if plainQuery(&req) {
		// A nearest query by vector: exactly Search.
		q, f, err := c.plainSearch(&req, "query")
		if err != nil {
			return nil, err
		}
		res, err := c.eng.Search(ctx, []collection.Query{q}, []collection.Fetch{f})
		if err != nil {
			return nil, err
		}
		return c.toScored(res[0], req.WithPayload), nil
	}
	res, err := c.queryBatch(ctx, []QueryRequest{req}, func(int) string { return "query" })
	if err != nil {
		return nil, err
	}
	return res[0], nil
}

// QueryBatch runs several queries and returns their results in order.
// Every single-vector search among them (at any depth of their prefetches)
// runs in one pass over the data, and all of them see the same snapshot.
// Errors name the query as queries[i].
func (c *Collection) QueryBatch(ctx context.Context, reqs []QueryRequest) ([][]ScoredPoint, error) {
	if err := c.check(ctx); err != nil {
		return nil, err
	}
	if len(reqs) == 0 || len(reqs) > MaxSearchBatch {
		return nil, base.InvalidArgumentf("queries: %d in one batch; expected 1..%d", len(reqs), MaxSearchBatch)
	}
	return c.queryBatch(ctx, reqs, func(i int) string { return fmt.Sprintf("queries[%d]", i) })
}

// queryBatch runs reqs; pathOf names request i in errors.
func (c *Collection) queryBatch(ctx context.Context, reqs []QueryRequest, pathOf func(int) string) ([][]ScoredPoint, error) {
	plain := true
	for i := range reqs {
		plain = plain && plainQuery(&reqs[i])
	}
	if plain {
		// Plain nearest searches: exactly SearchBatch.
		qs := make([]collection.Query, len(reqs))
		fetches := make([]collection.Fetch, len(reqs))
		for i := range reqs {
			var err error
			if qs[i], fetches[i], err = c.plainSearch(&reqs[i], pathOf(i)); err != nil {
				return nil, err
			}
		}
		res, err := c.eng.Search(ctx, qs, fetches)
		if err != nil {
			return nil, err
		}
		out := make([][]ScoredPoint, len(res))
		for i, rs := range res {
			out[i] = c.toScored(rs, reqs[i].WithPayload)
		}
		return out, nil
	}
	plans := make([]*queryPlan, len(reqs))
	for i := range reqs {
		var err error
		if plans[i], err = c.planQuery(&reqs[i], pathOf(i)); err != nil {
			return nil, err
		}
	}
	x, err := c.startExec(ctx, plans)
	if err != nil {
		return nil, err
	}
	defer x.r.Close()
	if err := x.search(ctx, plans); err != nil {
		return nil, err
	}
	out := make([][]ScoredPoint, len(plans))
	for i, p := range plans {
		l, err := x.eval(ctx, p.root)
		if err != nil {
			return nil, err
		}
		hits := l.hits[min(p.offset, len(l.hits)):]
		out[i] = x.scored(hits, p)
	}
	return out, nil
}

// QueryGroups runs a query and groups its results by a payload key (see
// QueryGroupsRequest). Groups come best first, each with its points best
// first; a group may hold fewer than GroupSize points.
//
// Without prefetches the query is run with a growing limit until the
// groups are complete or the points run out (at most MaxSearchLimit
// points); with prefetches every point they return is grouped.
func (c *Collection) QueryGroups(ctx context.Context, req QueryGroupsRequest) ([]PointGroup, error) {
	if err := c.check(ctx); err != nil {
		return nil, err
	}
	const path = "query"
	switch {
	case req.GroupBy == "":
		return nil, base.InvalidArgumentf("%s.group_by: missing; name the payload key to group by", path)
	case req.GroupSize < 0 || req.GroupSize > MaxSearchLimit:
		return nil, base.InvalidArgumentf("%s.group_size: %d is out of range 1..%d", path, req.GroupSize, MaxSearchLimit)
	case req.Limit < 0 || req.Limit > MaxSearchLimit:
		return nil, base.InvalidArgumentf("%s.limit: %d is out of range 1..%d", path, req.Limit, MaxSearchLimit)
	case req.Offset != 0:
		return nil, base.InvalidArgumentf("%s.offset: groups cannot be paged; offset must be 0", path)
	}
	key, err := filter.ParsePath(req.GroupBy)
	if err != nil {
		return nil, base.InvalidArgumentf("%s.group_by: %v", path, err)
	}
	groupSize, groups := req.GroupSize, req.Limit
	if groupSize == 0 {
		groupSize = 3
	}
	if groups == 0 {
		groups = 10
	}
	if groups*groupSize > MaxSearchLimit {
		return nil, base.InvalidArgumentf("%s.group_size: %d groups of %d points exceed the limit of %d points", path, groups, groupSize, MaxSearchLimit)
	}
	var lookup *Collection
	var lookupFetch collection.Fetch
	if wl := req.WithLookup; wl != nil {
		if lookup, err = c.db.Collection(wl.Collection); err != nil {
			return nil, base.NotFoundf("%s.with_lookup.collection: no collection named %q", path, wl.Collection)
		}
		if lookupFetch, err = lookup.fetch(wl.WithPayload, wl.WithVectors); err != nil {
			return nil, repath(err, path+".with_lookup")
		}
	}
	// Points without the key cannot be in a group: leave them out of the
	// search.
	q := req.QueryRequest
	q.Limit = 1 // replaced below; any valid value
	keyed := &Filter{MustNot: []Condition{{Key: req.GroupBy, IsEmpty: true}}}
	plan, err := c.planQuery(&q, path)
	if err != nil {
		return nil, err
	}
	if err := c.addFilter(plan, keyed, path); err != nil {
		return nil, err
	}
	x, err := c.startExec(ctx, []*queryPlan{plan})
	if err != nil {
		return nil, err
	}
	defer x.r.Close()

	type group struct {
		id   GroupID
		hits []collection.Hit
	}
	keysOf := map[collection.Loc][]GroupID{}
	var (
		byID  map[GroupID]*group
		order []*group
	)
	k := min(groups*groupSize, MaxSearchLimit)
	if len(plan.root.kids) > 0 {
		k = MaxSearchLimit // rank every prefetched point once
	}
	for round := 0; ; round++ {
		plan.root.limit = k
		if plan.root.kind == kindMMR {
			plan.root.limit = min(k, maxMMRCandidates)
			plan.root.pool = max(plan.root.pool, plan.root.limit)
		}
		if err := x.search(ctx, []*queryPlan{plan}); err != nil {
			return nil, err
		}
		l, err := x.eval(ctx, plan.root)
		if err != nil {
			return nil, err
		}
		byID, order = map[GroupID]*group{}, nil
		for _, h := range l.hits {
			ids, ok := keysOf[h.Loc]
			if !ok {
				ids = groupIDs(x.r.Payload(h.Loc), key)
				keysOf[h.Loc] = ids
			}
			for _, id := range ids {
				g := byID[id]
				if g == nil {
					g = &group{id: id}
					byID[id] = g
					order = append(order, g)
				}
				if len(g.hits) < groupSize {
					g.hits = append(g.hits, h)
				}
			}
		}
		done := len(order) >= groups
		for _, g := range order[:min(groups, len(order))] {
			done = done && len(g.hits) == groupSize
		}
		if done || len(l.hits) < k || k >= MaxSearchLimit || round == maxGroupRounds {
			break
		}
		k = min(2*k, MaxSearchLimit)
	}
	order = order[:min(groups, len(order))]
	var all []collection.Hit
	for _, g := range order {
		all = append(all, g.hits...)
	}
	scored := x.scored(all, plan)
	out := make([]PointGroup, len(order))
	for i, g := range order {
		out[i] = PointGroup{ID: g.id, Hits: scored[:len(g.hits):len(g.hits)]}
		scored = scored[len(g.hits):]
	}
	if lookup != nil {
		var ids []PointID
		for _, g := range out {
			if id, ok := g.ID.pointID(); ok {
				ids = append(ids, id)
			}
		}
		recs, err := lookup.eng.Get(ids, lookupFetch)
		if err != nil {
			return nil, err
		}
		found := make(map[PointID]*collection.Record, len(recs))
		for i := range recs {
			found[recs[i].ID] = &recs[i]
		}
		for i := range out {
			if id, ok := out[i].ID.pointID(); ok {
				if r := found[id]; r != nil {
					rec := lookup.toRecord(r, req.WithLookup.WithPayload)
					out[i].Lookup = &rec
				}
			}
		}
	}
	return out, nil
}

// pointID is the point id a group id looks up: a UUID string or a
// non-negative integer.
func (g GroupID) pointID() (PointID, bool) {
	if g.IsInt {
		return NumID(uint64(g.Int)), g.Int >= 0
	}
	id, err := base.ParseUUID(g.Str)
	return id, err == nil
}

// groupIDs returns the group ids of a payload at key: its string and
// integer values (an array's elements), each once.
func groupIDs(payload []byte, key filter.Path) []GroupID {
	doc := filter.DecodePayload(payload)
	if doc == nil {
		return nil
	}
	var ids []GroupID
	filter.Values(doc, key, func(v any) bool {
		var id GroupID
		switch x := v.(type) {
		case string:
			id = GroupID{Str: x}
		case interface{ Int64() (int64, error) }: // json.Number
			n, err := x.Int64()
			if err != nil {
				return true // a fraction, or beyond int64
			}
			id = GroupID{Int: n, IsInt: true}
		default:
			return true
		}
		if !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
		return true
	})
	return ids
}

// --- validation ---

// plainQuery reports whether req is a nearest query by a given vector
// without prefetches or MMR: a search.
func plainQuery(req *QueryRequest) bool {
	q := req.Query
	return len(req.Prefetch) == 0 && req.LookupFrom == nil && q != nil && q.Nearest != nil && q.Recommend == nil && q.Fusion == nil &&
		q.Nearest.MMR == nil && q.Nearest.Target.ID == nil && q.Nearest.Target.Vector != nil
}

// plainSearch validates a plain query (see plainQuery) into an engine
// search; like Collection.query it builds error paths only on error.
func (c *Collection) plainSearch(req *QueryRequest, path string) (collection.Query, collection.Fetch, error) {
	var f collection.Fetch
	vi, err := c.usingIndex(req.Using, path)
	if err != nil {
		return collection.Query{}, f, err
	}
	q := collection.Query{Index: vi, Limit: req.Limit, Offset: req.Offset, Threshold: req.ScoreThreshold, Exact: req.Exact, Ef: req.HnswEf}
	if q.Vector, err = c.dense(vi, req.Query.Nearest.Target.Vector, false, path, ".query.nearest"); err != nil {
		return q, f, err
	}
	if err := checkStage(path, req.Limit, req.HnswEf, req.ScoreThreshold); err != nil {
		return q, f, err
	}
	if err := checkOffset(path, req.Offset); err != nil {
		return q, f, err
	}
	if q.Limit == 0 {
		q.Limit = 10
	}
	if q.Filter, err = c.compileFilter(req.Filter); err != nil {
		return q, f, repath(err, path)
	}
	if f, err = c.fetch(req.WithPayload, req.WithVectors); err != nil {
		return q, f, repath(err, path)
	}
	return q, f, nil
}

// usingIndex resolves a stage's Using to a dense vector.
func (c *Collection) usingIndex(name, path string) (int, error) {
	if name == "" && len(c.schema.Dense) == 1 {
		name = c.schema.Dense[0].Name
	}
	if name != "" && c.schema.DenseIndex(name) < 0 && c.schema.SparseIndex(name) >= 0 {
		return 0, base.InvalidArgumentf("%s.using: %q is a sparse vector; sparse vectors cannot be searched yet", path, name)
	}
	return c.denseIndex(name, path, ".using")
}

// checkStage checks the limits and parameters a stage shares.
func checkStage(path string, limit, ef int, threshold *float32) error {
	switch {
	case limit < 0 || limit > MaxSearchLimit:
		return base.InvalidArgumentf("%s.limit: %d is out of range 1..%d", path, limit, MaxSearchLimit)
	case ef < 0:
		return base.InvalidArgumentf("%s.hnsw_ef: %d is negative", path, ef)
	case threshold != nil && !finite(*threshold):
		return base.InvalidArgumentf("%s.score_threshold: not a finite number", path)
	}
	return nil
}

func checkOffset(path string, offset int) error {
	if offset < 0 || offset > MaxSearchOffset {
		return base.InvalidArgumentf("%s.offset: %d is out of range 0..%d", path, offset, MaxSearchOffset)
	}
	return nil
}

func finite(f float32) bool { return !math.IsNaN(float64(f)) && !math.IsInf(float64(f), 0) }

// repath prefixes the path that a root validation error names (such as
// "filter.must[0]: ...") with prefix, keeping its sentinel.
func repath(err error, prefix string) error {
	msg := err.Error()
	for _, s := range []struct {
		sentinel error
		wrap     func(string, ...any) error
	}{
		{base.ErrDimensionMismatch, base.DimensionMismatchf},
		{base.ErrInvalidArgument, base.InvalidArgumentf},
		{base.ErrNotFound, base.NotFoundf},
	} {
		if errors.Is(err, s.sentinel) {
			return s.wrap("%s.%s", prefix, strings.TrimPrefix(msg, s.sentinel.Error()+": "))
		}
	}
	return err
}

// stageKind is what a stage does.
type stageKind uint8

const (
	kindScroll  stageKind = iota // no query: points in id order, score 0
	kindNearest                  // one query vector: nearest, or recommend average_vector
	kindMMR                      // nearest candidates re-ranked by MMR
	kindBest                     // recommend best_score
	kindSum                      // recommend sum_scores
	kindRRF                      // reciprocal rank fusion of the prefetches
	kindDBSF                     // distribution-based score fusion of the prefetches
)

// input is one query vector of a stage: given, or a point's (resolved by
// startExec).
type input struct {
	path   string
	vi     int       // the dense vector it is compared with
	vec    []float32 // validated (normalised for Cosine) once known
	id     PointID
	byID   bool
	lookup *LookupLocation // nil: this collection
}

// stage is one validated level of a query tree: the request itself or a
// prefetch.
type stage struct {
	path      string
	kids      []*stage // prefetches; none for a leaf
	kind      stageKind
	vi        int // dense vector compared with (vector kinds)
	target    *input
	pos, neg  []*input
	avg       bool // kindNearest from recommend average_vector
	filters   []*Filter
	matcher   *filter.Matcher // leaves: every filter on the way down, and the exclusions
	threshold *float32
	limit     int // with the offset at the top level
	exact     bool
	ef        int
	diversity float32
	pool      int // MMR candidates
	rrfK      int
	weights   []float32
	search    int // index of the leaf's batched search, -1 if none
}

// queryPlan is one validated request.
type queryPlan struct {
	root        *stage
	offset      int
	withPayload PayloadSelector
	fetch       collection.Fetch
	inputs      []*input  // every input of the tree
	exclude     []PointID // ids of this collection the query refers to
}

// stageSpec is what a QueryRequest and a Prefetch have in common.
type stageSpec struct {
	prefetch  []Prefetch
	query     *Query
	using     string
	filter    *Filter
	threshold *float32
	exact     bool
	ef        int
	limit     int
	lookup    *LookupLocation
}

// planQuery validates req into a plan; path names it in errors.
func (c *Collection) planQuery(req *QueryRequest, path string) (*queryPlan, error) {
	p := &queryPlan{offset: req.Offset, withPayload: req.WithPayload}
	if err := checkOffset(path, req.Offset); err != nil {
		return nil, err
	}
	var err error
	if p.fetch, err = c.fetch(req.WithPayload, req.WithVectors); err != nil {
		return nil, repath(err, path)
	}
	spec := stageSpec{req.Prefetch, req.Query, req.Using, req.Filter, req.ScoreThreshold, req.Exact, req.HnswEf, req.Limit, req.LookupFrom}
	if p.root, err = c.planStage(p, &spec, path, 0, nil); err != nil {
		return nil, err
	}
	p.root.limit += req.Offset
	if p.root.kind == kindMMR {
		if p.root.limit > maxMMRCandidates {
			return nil, base.InvalidArgumentf("%s.limit: with mmr, limit + offset is at most %d", path, maxMMRCandidates)
		}
		p.root.pool = max(p.root.pool, p.root.limit)
	}
	for _, in := range p.inputs {
		if in.byID && in.lookup == nil && !slices.Contains(p.exclude, in.id) {
			p.exclude = append(p.exclude, in.id)
		}
	}
	if err := c.compileLeaves(p, p.root); err != nil {
		return nil, err
	}
	return p, nil
}

// planStage validates one stage and its prefetches. above lists the
// filters of the stages above it.
func (c *Collection) planStage(p *queryPlan, sp *stageSpec, path string, depth int, above []*Filter) (*stage, error) {
	if depth > maxPrefetchDepth {
		return nil, base.InvalidArgumentf("%s: prefetches nested deeper than %d levels", path, maxPrefetchDepth)
	}
	st := &stage{path: path, threshold: sp.threshold, exact: sp.exact, ef: sp.ef, limit: sp.limit, search: -1}
	if err := checkStage(path, sp.limit, sp.ef, sp.threshold); err != nil {
		return nil, err
	}
	if st.limit == 0 {
		st.limit = 10
	}
	st.filters = above
	if sp.filter != nil {
		if _, err := c.compileFilter(sp.filter); err != nil {
			return nil, repath(err, path)
		}
		st.filters = append(slices.Clip(above), sp.filter)
	}
	if sp.lookup != nil {
		if err := c.checkLookup(sp.lookup, path+".lookup_from"); err != nil {
			return nil, err
		}
	}
	for i := range sp.prefetch {
		pf := &sp.prefetch[i]
		kid, err := c.planStage(p, &stageSpec{pf.Prefetch, pf.Query, pf.Using, pf.Filter, pf.ScoreThreshold, pf.Exact, pf.HnswEf, pf.Limit, pf.LookupFrom},
			fmt.Sprintf("%s.prefetch[%d]", path, i), depth+1, st.filters)
		if err != nil {
			return nil, err
		}
		st.kids = append(st.kids, kid)
	}
	q := sp.query
	qpath := path + ".query"
	if q == nil {
		if len(st.kids) > 0 {
			return nil, base.InvalidArgumentf("%s: missing; a query with prefetches needs one to rank their results (nearest, recommend or fusion)", qpath)
		}
		st.kind = kindScroll
		return st, nil
	}
	set := 0
	for _, b := range []bool{q.Nearest != nil, q.Recommend != nil, q.Fusion != nil} {
		if b {
			set++
		}
	}
	if set != 1 {
		return nil, base.InvalidArgumentf("%s: set exactly one of nearest, recommend and fusion (%d are set)", qpath, set)
	}
	if q.Fusion != nil {
		return st, c.planFusion(st, q.Fusion, qpath+".fusion")
	}
	var err error
	if st.vi, err = c.usingIndex(sp.using, path); err != nil {
		return nil, err
	}
	newInput := func(v *VectorInput, ipath string) (*input, error) {
		in := &input{path: ipath, vi: st.vi, lookup: sp.lookup}
		switch {
		case v.ID != nil && v.Vector != nil:
			return nil, base.InvalidArgumentf("%s: give a vector or a point id, not both", ipath)
		case v.ID != nil:
			in.id, in.byID = *v.ID, true
		case v.Vector != nil:
			if in.vec, err = c.dense(st.vi, v.Vector, true, ipath, ""); err != nil {
				return nil, err
			}
			in.lookup = nil
		default:
			return nil, base.InvalidArgumentf("%s: empty; give a vector or a point id", ipath)
		}
		p.inputs = append(p.inputs, in)
		return in, nil
	}
	if n := q.Nearest; n != nil {
		if st.target, err = newInput(&n.Target, qpath+".nearest"); err != nil {
			return nil, err
		}
		st.kind = kindNearest
		if m := n.MMR; m != nil {
			st.kind, st.diversity = kindMMR, defaultDiversity
			if m.Diversity != nil {
				st.diversity = *m.Diversity
				if !finite(st.diversity) || st.diversity < 0 || st.diversity > 1 {
					return nil, base.InvalidArgumentf("%s.mmr.diversity: %v is out of range 0..1", qpath, *m.Diversity)
				}
			}
			if m.CandidatesLimit < 0 || m.CandidatesLimit > maxMMRCandidates {
				return nil, base.InvalidArgumentf("%s.mmr.candidates_limit: %d is out of range 0..%d", qpath, m.CandidatesLimit, maxMMRCandidates)
			}
			if st.limit > maxMMRCandidates {
				return nil, base.InvalidArgumentf("%s.limit: with mmr, limit is at most %d", path, maxMMRCandidates)
			}
			st.pool = max(m.CandidatesLimit, st.limit)
		}
		return st, nil
	}
	r := q.Recommend
	rpath := qpath + ".recommend"
	switch r.Strategy {
	case "", AverageVector:
		if len(r.Positive) == 0 {
			return nil, base.InvalidArgumentf("%s.positive: the average_vector strategy needs at least one positive example", rpath)
		}
		st.kind, st.avg = kindNearest, true
	case BestScore, SumScores:
		if len(r.Positive)+len(r.Negative) == 0 {
			return nil, base.InvalidArgumentf("%s: no examples; give positive or negative ones", rpath)
		}
		st.kind = kindBest
		if r.Strategy == SumScores {
			st.kind = kindSum
		}
	default:
		return nil, base.InvalidArgumentf("%s.strategy: unknown strategy %q; expected average_vector, best_score or sum_scores", rpath, r.Strategy)
	}
	for i := range r.Positive {
		in, err := newInput(&r.Positive[i], fmt.Sprintf("%s.positive[%d]", rpath, i))
		if err != nil {
			return nil, err
		}
		st.pos = append(st.pos, in)
	}
	for i := range r.Negative {
		in, err := newInput(&r.Negative[i], fmt.Sprintf("%s.negative[%d]", rpath, i))
		if err != nil {
			return nil, err
		}
		st.neg = append(st.neg, in)
	}
	return st, nil
}

// planFusion validates a fusion stage.
func (c *Collection) planFusion(st *stage, f *FusionQuery, path string) error {
	if len(st.kids) == 0 {
		return base.InvalidArgumentf("%s: fusion needs prefetches to fuse", path)
	}
	switch f.Method {
	case "", FusionRRF:
		st.kind = kindRRF
		switch {
		case f.K < 0:
			return base.InvalidArgumentf("%s.k: %d is negative", path, f.K)
		case f.K == 0:
			st.rrfK = defaultRRFK
		default:
			st.rrfK = f.K
		}
		if f.Weights != nil {
			if len(f.Weights) != len(st.kids) {
				return base.InvalidArgumentf("%s.weights: %d weights for %d prefetches; give one per prefetch", path, len(f.Weights), len(st.kids))
			}
			for i, w := range f.Weights {
				if !finite(w) || w < 0 {
					return base.InvalidArgumentf("%s.weights[%d]: %v is not a non-negative number", path, i, w)
				}
			}
			st.weights = f.Weights
		}
	case FusionDBSF:
		st.kind = kindDBSF
		if f.K != 0 || f.Weights != nil {
			return base.InvalidArgumentf("%s: k and weights apply to rrf only", path)
		}
	default:
		return base.InvalidArgumentf("%s.method: unknown fusion %q; expected rrf or dbsf", path, f.Method)
	}
	return nil
}

// checkLookup checks a lookup location: the collection and its vector
// exist.
func (c *Collection) checkLookup(l *LookupLocation, path string) error {
	other, err := c.db.Collection(l.Collection)
	if err != nil {
		return base.NotFoundf("%s.collection: no collection named %q", path, l.Collection)
	}
	name := l.Vector
	if name == "" && len(other.schema.Dense) == 1 {
		name = other.schema.Dense[0].Name
	}
	if _, err := other.denseIndex(name, path, ".vector"); err != nil {
		return repathOther(err, l.Collection)
	}
	return nil
}

// repathOther names the other collection in an error about it.
func repathOther(err error, coll string) error {
	return fmt.Errorf("%w (in collection %q)", err, coll)
}

// addFilter adds f to every stage of p (as the request's own filter
// would) and recompiles the leaves.
func (c *Collection) addFilter(p *queryPlan, f *Filter, path string) error {
	var walk func(st *stage)
	walk = func(st *stage) {
		st.filters = append(slices.Clip(st.filters), f)
		for _, k := range st.kids {
			walk(k)
		}
	}
	walk(p.root)
	return c.compileLeaves(p, p.root)
}

// compileLeaves compiles each leaf's filter: every filter on the way down
// to it and the exclusion of the points the query refers to.
func (c *Collection) compileLeaves(p *queryPlan, st *stage) error {
	if len(st.kids) > 0 {
		for _, k := range st.kids {
			if err := c.compileLeaves(p, k); err != nil {
				return err
			}
		}
		return nil
	}
	var f *Filter
	switch {
	case len(st.filters) == 1 && len(p.exclude) == 0:
		f = st.filters[0]
	case len(st.filters) > 0 || len(p.exclude) > 0:
		f = &Filter{}
		for _, g := range st.filters {
			f.Must = append(f.Must, Condition{Filter: g})
		}
		if len(p.exclude) > 0 {
			f.MustNot = []Condition{HasID(p.exclude...)}
		}
	}
	m, err := c.compileFilter(f)
	if err != nil {
		return repath(err, st.path)
	}
	st.matcher = m
	return nil
}

// --- execution ---

// queryRun runs plans on one snapshot.
type queryRun struct {
	c        *Collection
	r        *collection.Reader
	searches []collection.Query
	results  [][]collection.Hit
}

// startExec resolves the inputs of plans (point ids to vectors: in other
// collections first, then in a snapshot of this one, which the returned
// queryRun holds) and computes the average vectors of recommendations.
func (c *Collection) startExec(ctx context.Context, plans []*queryPlan) (*queryRun, error) {
	var ids []PointID
	var local []*input
	for _, p := range plans {
		for _, in := range p.inputs {
			if !in.byID {
				continue
			}
			if in.lookup != nil {
				if err := c.lookupInput(ctx, in); err != nil {
					return nil, err
				}
				continue
			}
			ids = append(ids, in.id)
			local = append(local, in)
		}
	}
	r, locs, found, err := c.eng.NewReader(ids)
	if err != nil {
		return nil, err
	}
	x := &queryRun{c: c, r: r}
	for i, in := range local {
		if !found[i] {
			r.Close()
			return nil, base.NotFoundf("%s: point %s not found", in.path, in.id)
		}
		v := r.Vector(in.vi, locs[i])
		if v == nil {
			r.Close()
			return nil, base.InvalidArgumentf("%s: point %s has no vector %q", in.path, in.id, c.schema.Dense[in.vi].Name)
		}
		in.vec = v // stored vectors are valid and normalised
	}
	for _, p := range plans {
		x.average(p.root)
	}
	return x, nil
}

// lookupInput resolves an input from another collection.
func (c *Collection) lookupInput(ctx context.Context, in *input) error {
	other, err := c.db.Collection(in.lookup.Collection)
	if err != nil {
		return base.NotFoundf("%s: no collection named %q to look point %s up in", in.path, in.lookup.Collection, in.id)
	}
	name := in.lookup.Vector
	if name == "" && len(other.schema.Dense) == 1 {
		name = other.schema.Dense[0].Name
	}
	recs, err := other.Get(ctx, []PointID{in.id}, GetOptions{WithVectors: VectorSelector{Names: []string{name}}})
	if err != nil {
		return repath(err, in.path)
	}
	if len(recs) == 0 {
		return base.NotFoundf("%s: point %s not found in collection %q", in.path, in.id, in.lookup.Collection)
	}
	v := recs[0].Vector
	if name != "" {
		v = recs[0].Vectors[name]
	}
	if v == nil {
		return base.InvalidArgumentf("%s: point %s of collection %q has no vector %q", in.path, in.id, in.lookup.Collection, name)
	}
	if in.vec, err = c.dense(in.vi, v, false, in.path, ""); err != nil {
		return err
	}
	return nil
}

// average computes the query vector of each average_vector recommendation
// of st's tree: avg(positive) + (avg(positive) − avg(negative)), as Qdrant.
func (x *queryRun) average(st *stage) {
	for _, k := range st.kids {
		x.average(k)
	}
	if !st.avg {
		return
	}
	dim := x.c.schema.Dense[st.vi].Dim
	avg := func(ins []*input) []float64 {
		out := make([]float64, dim)
		for _, in := range ins {
			for i, f := range in.vec {
				out[i] += float64(f)
			}
		}
		for i := range out {
			out[i] /= float64(len(ins))
		}
		return out
	}
	pos := avg(st.pos)
	v := make([]float32, dim)
	if len(st.neg) == 0 {
		for i := range v {
			v[i] = float32(pos[i])
		}
	} else {
		neg := avg(st.neg)
		for i := range v {
			v[i] = float32(pos[i] + pos[i] - neg[i])
		}
	}
	if x.c.schema.Dense[st.vi].Distance == Cosine {
		normalize(v)
	}
	st.target = &input{vi: st.vi, vec: v}
}

func normalize(v []float32) {
	var s float64
	for _, f := range v {
		s += float64(f) * float64(f)
	}
	if s == 0 {
		return
	}
	n := math.Sqrt(s)
	for i := range v {
		v[i] = float32(float64(v[i]) / n)
	}
}

// search runs, in one batched search, every leaf of plans that searches
// with one vector (nearest, average_vector, MMR candidates).
func (x *queryRun) search(ctx context.Context, plans []*queryPlan) error {
	x.searches = x.searches[:0]
	var walk func(st *stage)
	walk = func(st *stage) {
		for _, k := range st.kids {
			walk(k)
		}
		if len(st.kids) > 0 || (st.kind != kindNearest && st.kind != kindMMR) {
			return
		}
		limit := st.limit
		if st.kind == kindMMR {
			limit = st.pool
		}
		st.search = len(x.searches)
		x.searches = append(x.searches, collection.Query{
			Vector: st.target.vec, Index: st.vi, Limit: limit, Threshold: st.threshold,
			Filter: st.matcher, Exact: st.exact, Ef: st.ef,
		})
	}
	for _, p := range plans {
		walk(p.root)
	}
	x.results = nil
	if len(x.searches) == 0 {
		return nil
	}
	var err error
	x.results, err = x.r.Search(ctx, x.searches)
	return err
}

// hitList is one stage's results, best first (for MMR, in the order of
// selection); higher says whether higher scores are better.
type hitList struct {
	hits   []collection.Hit
	higher bool
}

// eval returns the results of st (its limit of them).
func (x *queryRun) eval(ctx context.Context, st *stage) (hitList, error) {
	if err := ctx.Err(); err != nil {
		return hitList{}, err
	}
	if len(st.kids) == 0 {
		switch st.kind {
		case kindScroll:
			hits, err := x.r.Scroll(ctx, st.matcher, st.limit)
			return hitList{hits, true}, err
		case kindNearest:
			return hitList{x.results[st.search], x.higher(st)}, nil
		case kindMMR:
			hits, err := x.mmr(ctx, st, x.results[st.search])
			return hitList{hits, x.higher(st)}, err
		case kindBest, kindSum:
			floor := float32(math.Inf(-1))
			if st.threshold != nil {
				floor = *st.threshold
			}
			hits, err := x.r.Scan(ctx, st.vi, st.matcher, st.limit, floor, x.recommendScore(st))
			return hitList{hits, true}, err
		}
		panic("strata: a leaf stage of unexpected kind")
	}
	lists := make([]hitList, len(st.kids))
	for i, k := range st.kids {
		var err error
		if lists[i], err = x.eval(ctx, k); err != nil {
			return hitList{}, err
		}
	}
	switch st.kind {
	case kindRRF:
		return hitList{fuseRRF(lists, st.rrfK, st.weights, st.threshold, st.limit), true}, nil
	case kindDBSF:
		return hitList{fuseDBSF(lists, st.threshold, st.limit), true}, nil
	case kindBest, kindSum:
		score := x.recommendScore(st)
		hits := x.rescore(lists, st.vi, st.limit, st.threshold, func(v []float32) float32 { return score(v) })
		return hitList{hits, true}, nil
	}
	// kindNearest, kindMMR: score the prefetched points against the target.
	d := x.c.schema.Dense[st.vi].Distance
	m := flat.MetricFor(d)
	q := st.target.vec
	floor := float32(math.Inf(-1))
	if st.threshold != nil {
		floor = flat.Internal(d, *st.threshold)
	}
	limit := st.limit
	if st.kind == kindMMR {
		limit = st.pool
	}
	hits := x.rescore(lists, st.vi, limit, &floor, func(v []float32) float32 { return flat.Score(m, q, v) })
	n := 0
	for _, h := range hits {
		h.Score = flat.External(d, h.Score)
		if st.threshold != nil && !flat.Passes(d, h.Score, *st.threshold) {
			break
		}
		hits[n] = h
		n++
	}
	hits = hits[:n]
	if st.kind == kindMMR {
		var err error
		if hits, err = x.mmr(ctx, st, hits); err != nil {
			return hitList{}, err
		}
	}
	return hitList{hits, d.HigherIsBetter()}, nil
}

// higher reports whether higher scores are better for a vector stage.
func (x *queryRun) higher(st *stage) bool { return x.c.schema.Dense[st.vi].Distance.HigherIsBetter() }

// rescore scores the union of lists' points that have vector vi with
// score (higher is better) and returns the best limit of them scoring at
// least *floor (if floor is set), best first; ties keep the order in which
// points were first met.
func (x *queryRun) rescore(lists []hitList, vi, limit int, floor *float32, score func([]float32) float32) []collection.Hit {
	seen := map[collection.Loc]bool{}
	var out []collection.Hit
	for _, l := range lists {
		for _, h := range l.hits {
			if seen[h.Loc] {
				continue
			}
			seen[h.Loc] = true
			v := x.r.Vector(vi, h.Loc)
			if v == nil {
				continue // cannot be compared: as in Qdrant, not a result
			}
			s := score(v)
			if floor != nil && s < *floor {
				continue
			}
			out = append(out, collection.Hit{Loc: h.Loc, Score: s})
		}
	}
	slices.SortStableFunc(out, func(a, b collection.Hit) int { return cmpDesc(a.Score, b.Score) })
	return out[:min(limit, len(out))]
}

func cmpDesc(a, b float32) int {
	switch {
	case a > b:
		return -1
	case a < b:
		return 1
	}
	return 0
}

// recommendScore returns the score of a best_score or sum_scores stage.
func (x *queryRun) recommendScore(st *stage) collection.ScoreFunc {
	m := flat.MetricFor(x.c.schema.Dense[st.vi].Distance)
	pos := make([][]float32, len(st.pos))
	for i, in := range st.pos {
		pos[i] = in.vec
	}
	neg := make([][]float32, len(st.neg))
	for i, in := range st.neg {
		neg[i] = in.vec
	}
	if st.kind == kindSum {
		return func(v []float32) float32 {
			var s float32
			for _, p := range pos {
				s += flat.Score(m, p, v)
			}
			for _, n := range neg {
				s -= flat.Score(m, n, v)
			}
			return s
		}
	}
	return func(v []float32) float32 {
		bestPos, bestNeg := float32(math.Inf(-1)), float32(math.Inf(-1))
		for _, p := range pos {
			bestPos = max(bestPos, flat.Score(m, p, v))
		}
		for _, n := range neg {
			bestNeg = max(bestNeg, flat.Score(m, n, v))
		}
		if bestPos > bestNeg {
			return sigmoid(bestPos)
		}
		return -sigmoid(bestNeg)
	}
}

// sigmoid is Qdrant's scaled fast sigmoid, 0.5·(1 + x/(1+|x|)).
func sigmoid(x float32) float32 {
	return 0.5 * (1 + x/(1+float32(math.Abs(float64(x)))))
}

// mmr selects up to st.limit of cands (the nearest candidates, best first,
// with their scores against the target) by maximal marginal relevance.
func (x *queryRun) mmr(ctx context.Context, st *stage, cands []collection.Hit) ([]collection.Hit, error) {
	k := min(st.limit, len(cands))
	if k == 0 {
		return nil, nil
	}
	m := flat.MetricFor(x.c.schema.Dense[st.vi].Distance)
	lambda := 1 - float64(st.diversity)
	vecs := make([][]float32, len(cands))
	rel := make([]float64, len(cands))
	for i, h := range cands {
		vecs[i] = x.r.Vector(st.vi, h.Loc)
		rel[i] = float64(flat.Score(m, st.target.vec, vecs[i]))
	}
	// maxSim[i]: the best similarity of candidate i to a selected point.
	maxSim := make([]float64, len(cands))
	taken := make([]bool, len(cands))
	out := make([]collection.Hit, 0, k)
	last := 0 // the most relevant candidate comes first
	for {
		taken[last] = true
		out = append(out, cands[last])
		if len(out) == k {
			return out, nil
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		best, bestScore := -1, math.Inf(-1)
		for i := range cands {
			if taken[i] {
				continue
			}
			s := float64(flat.Score(m, vecs[last], vecs[i]))
			if len(out) == 1 || s > maxSim[i] {
				maxSim[i] = s
			}
			if v := lambda*rel[i] - (1-lambda)*maxSim[i]; best < 0 || v > bestScore {
				best, bestScore = i, v
			}
		}
		last = best
	}
}

// fuseRRF merges lists by reciprocal rank fusion (see FusionRRF).
func fuseRRF(lists []hitList, k int, weights []float32, threshold *float32, limit int) []collection.Hit {
	acc := newFusion()
	for li, l := range lists {
		w := 1.0
		if weights != nil {
			w = float64(weights[li])
		}
		for r, h := range l.hits {
			acc.add(h.Loc, 1/(float64(k)+float64(r+1)/w-1))
		}
	}
	return acc.top(threshold, limit)
}

// fuseDBSF merges lists by distribution-based score fusion (see
// FusionDBSF).
func fuseDBSF(lists []hitList, threshold *float32, limit int) []collection.Hit {
	acc := newFusion()
	for _, l := range lists {
		n := len(l.hits)
		if n == 0 {
			continue
		}
		sign := 1.0
		if !l.higher {
			sign = -1
		}
		var mean float64
		for _, h := range l.hits {
			mean += sign * float64(h.Score)
		}
		mean /= float64(n)
		var sd float64
		if n > 1 {
			for _, h := range l.hits {
				d := sign*float64(h.Score) - mean
				sd += d * d
			}
			sd = math.Sqrt(sd / float64(n-1))
		}
		for _, h := range l.hits {
			s := 0.5
			if sd > 0 {
				s = (sign*float64(h.Score) - (mean - 3*sd)) / (6 * sd)
			}
			acc.add(h.Loc, s)
		}
	}
	return acc.top(threshold, limit)
}

// fusion accumulates fused scores, remembering the order in which points
// were first met.
type fusion struct {
	index  map[collection.Loc]int
	locs   []collection.Loc
	scores []float64
}

func newFusion() *fusion { return &fusion{index: map[collection.Loc]int{}} }

func (f *fusion) add(l collection.Loc, s float64) {
	i, ok := f.index[l]
	if !ok {
		i = len(f.locs)
		f.index[l] = i
		f.locs = append(f.locs, l)
		f.scores = append(f.scores, 0)
	}
	f.scores[i] += s
}

// top returns the best limit points scoring at least threshold.
func (f *fusion) top(threshold *float32, limit int) []collection.Hit {
	out := make([]collection.Hit, 0, len(f.locs))
	for i, l := range f.locs {
		s := float32(f.scores[i])
		if threshold != nil && s < *threshold {
			continue
		}
		out = append(out, collection.Hit{Loc: l, Score: s})
	}
	slices.SortStableFunc(out, func(a, b collection.Hit) int { return cmpDesc(a.Score, b.Score) })
	return out[:min(limit, len(out))]
}

// scored copies out the final hits of p with what it asked for.
func (x *queryRun) scored(hits []collection.Hit, p *queryPlan) []ScoredPoint {
	return x.c.toScored(x.r.Records(hits, p.fetch), p.withPayload)
}

// toScored converts engine records to scored points.
func (c *Collection) toScored(recs []collection.Record, ps PayloadSelector) []ScoredPoint {
	out := make([]ScoredPoint, len(recs))
	for i := range recs {
		out[i] = ScoredPoint{Record: c.toRecord(&recs[i], ps), Score: recs[i].Score}
	}
	return out
}
