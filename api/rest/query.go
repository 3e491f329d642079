package rest

import (
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/strata-db/strata"
)

// The universal query API and the endpoints built on it: points/query
// (with prefetch, fusion, MMR, recommend), query/batch, query/groups, and
// the older recommend, recommend/batch, recommend/groups and search/groups.
// Every one decodes Qdrant's JSON into a strata.QueryRequest (or
// QueryGroupsRequest) and calls Collection.Query, QueryBatch or
// QueryGroups; the engine logic lives in the root package.

// queryRoutes registers the query endpoints beyond points/query and
// query/batch (registered with the other point reads): groups and
// recommend. All of them only read.
func (s *server) queryRoutes(mux *http.ServeMux) {
	s.route(mux, "POST /collections/{name}/points/query/groups", read, s.queryGroups)
	s.route(mux, "POST /collections/{name}/points/recommend", read, s.recommend)
	s.route(mux, "POST /collections/{name}/points/recommend/batch", read, s.recommendBatch)
	s.route(mux, "POST /collections/{name}/points/recommend/groups", read, s.recommendGroups)
	s.route(mux, "POST /collections/{name}/points/search/groups", read, s.searchGroups)
}

// --- points/query, query/batch ---

// queryRequest is Qdrant's QueryRequest.
type queryRequest struct {
	Prefetch       json.RawMessage `json:"prefetch"`
	Query          json.RawMessage `json:"query"`
	Using          *string         `json:"using"`
	Filter         json.RawMessage `json:"filter"`
	Params         *searchParams   `json:"params"`
	ScoreThreshold *float32        `json:"score_threshold"`
	Limit          *int            `json:"limit"`
	Offset         *int            `json:"offset"`
	WithVector     json.RawMessage `json:"with_vector"`
	WithVectors    json.RawMessage `json:"with_vectors"`
	WithPayload    json.RawMessage `json:"with_payload"`
	LookupFrom     json.RawMessage `json:"lookup_from"`
	ShardKey       json.RawMessage `json:"shard_key"`
}

type queryResponse struct {
	Points []scoredPointJSON `json:"points"`
}

// toQuery converts a QueryRequest; path prefixes error messages.
func (qr *queryRequest) toQuery(path string) (strata.QueryRequest, error) {
	var req strata.QueryRequest
	var err error
	if err := checkNoShardKey(qr.ShardKey, path); err != nil {
		return req, err
	}
	if req.Prefetch, err = parsePrefetches(qr.Prefetch, joinPath(path, "prefetch")); err != nil {
		return req, err
	}
	if req.Query, err = parseQuery(qr.Query, joinPath(path, "query")); err != nil {
		return req, err
	}
	if qr.Using != nil {
		req.Using = *qr.Using
	}
	if req.Limit, err = checkLimit(qr.Limit, 10, joinPath(path, "limit")); err != nil {
		return req, err
	}
	if req.Offset, err = checkOffset(qr.Offset, joinPath(path, "offset")); err != nil {
		return req, err
	}
	err = commonFields{qr.Filter, qr.Params, qr.ScoreThreshold, qr.LookupFrom, qr.WithPayload, qr.WithVector, qr.WithVectors}.apply(&req, path)
	return req, err
}

// commonFields are the fields that query and recommend requests share.
type commonFields struct {
	filter                               json.RawMessage
	params                               *searchParams
	scoreThreshold                       *float32
	lookupFrom                           json.RawMessage
	withPayload, withVector, withVectors json.RawMessage
}

// apply decodes f into req; path prefixes error messages.
func (f commonFields) apply(req *strata.QueryRequest, path string) error {
	var err error
	if req.Filter, err = parseFilter(f.filter, path); err != nil {
		return err
	}
	if req.HnswEf, req.Exact, err = f.params.parse(joinPath(path, "params")); err != nil {
		return err
	}
	req.ScoreThreshold = f.scoreThreshold
	if req.LookupFrom, err = parseLookupFrom(f.lookupFrom, joinPath(path, "lookup_from")); err != nil {
		return err
	}
	if req.WithPayload, err = parseWithPayload(f.withPayload, false, joinPath(path, "with_payload")); err != nil {
		return err
	}
	req.WithVectors, err = parseWithVector(f.withVector, f.withVectors, false, joinPath(path, "with_vector"))
	return err
}

func (s *server) query(r *http.Request) (any, error) {
	return runOne(s, r, (*queryRequest).toQuery, (*strata.Collection).Query, "query.",
		func(hits []strata.ScoredPoint, req *strata.QueryRequest) queryResponse {
			return queryResponse{Points: toScoredList(hits, req.WithVectors)}
		})
}

// queryBatch runs the queries with strata.QueryBatch: their single-vector
// searches in one pass over the data.
func (s *server) queryBatch(r *http.Request) (any, error) {
	return runBatch(s, r, (*queryRequest).toQuery, (*strata.Collection).QueryBatch,
		func(hits []strata.ScoredPoint, req *strata.QueryRequest) queryResponse {
			return queryResponse{Points: toScoredList(hits, req.WithVectors)}
		})
}

// --- decoding of queries ---

// prefetchJSON is Qdrant's Prefetch.
type prefetchJSON struct {
	Prefetch       json.RawMessage `json:"prefetch"`
	Query          json.RawMessage `json:"query"`
	Using          *string         `json:"using"`
	Filter         json.RawMessage `json:"filter"`
	Params         *searchParams   `json:"params"`
	ScoreThreshold *float32        `json:"score_threshold"`
	Limit          *int            `json:"limit"`
	LookupFrom     json.RawMessage `json:"lookup_from"`
}

// parsePrefetches decodes "prefetch": one Prefetch object, a list of them,
// or null.
func parsePrefetches(raw json.RawMessage, path string) ([]strata.Prefetch, error) {
	var items []json.RawMessage
	switch first(raw) {
	case 0, 'n':
		return nil, nil
	case '{':
		var p strata.Prefetch
		if err := parsePrefetchInto(raw, path, &p); err != nil {
			return nil, err
		}
		return []strata.Prefetch{p}, nil
	case '[':
		if err := unmarshal(raw, &items, path); err != nil {
			return nil, err
		}
	default:
		return nil, formatErr("%s: expected a prefetch object or a list of them, got %s", path, jsonKind(raw))
	}
	out := make([]strata.Prefetch, len(items))
	for i, item := range items {
		if err := parsePrefetchInto(item, fmt.Sprintf("%s[%d]", path, i), &out[i]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// parsePrefetchInto decodes one Prefetch into p.
func parsePrefetchInto(raw json.RawMessage, path string, p *strata.Prefetch) error {
	if first(raw) != '{' {
		return formatErr("%s: expected a prefetch object, got %s", path, jsonKind(raw))
	}
	var pj prefetchJSON
	if err := unmarshal(raw, &pj, path); err != nil {
		return err
	}
	var err error
	if p.Prefetch, err = parsePrefetches(pj.Prefetch, path+".prefetch"); err != nil {
		return err
	}
	if p.Query, err = parseQuery(pj.Query, path+".query"); err != nil {
		return err
	}
	if pj.Using != nil {
		p.Using = *pj.Using
	}
	if p.Limit, err = checkLimit(pj.Limit, 10, path+".limit"); err != nil {
		return err
	}
	if p.Filter, err = parseFilter(pj.Filter, path); err != nil {
		return err
	}
	if p.HnswEf, p.Exact, err = pj.Params.parse(path + ".params"); err != nil {
		return err
	}
	p.ScoreThreshold = pj.ScoreThreshold
	p.LookupFrom, err = parseLookupFrom(pj.LookupFrom, path+".lookup_from")
	return err
}

// unsupportedQueries are Qdrant's query kinds that Strata does not
// implement.
var unsupportedQueries = []string{"discover", "context", "order_by", "formula", "sample", "relevance_feedback"}

// parseQuery decodes Qdrant's QueryInterface: a vector input (a dense
// vector or a point id: nearest) or a query object ({nearest, mmr},
// {recommend}, {fusion}, {rrf}). Absent or null is no query.
func parseQuery(raw json.RawMessage, path string) (*strata.Query, error) {
	if isNull(raw) {
		return nil, nil
	}
	if first(raw) != '{' {
		in, err := parseVectorInput(raw, path)
		if err != nil {
			return nil, err
		}
		return &strata.Query{Nearest: &strata.NearestQuery{Target: in}}, nil
	}
	var m map[string]json.RawMessage
	if err := unmarshal(raw, &m, path); err != nil {
		return nil, err
	}
	if isInferenceObject(m) || m["indices"] != nil {
		_, err := parseVectorInput(raw, path) // says what is unsupported
		return nil, err
	}
	for _, k := range unsupportedQueries {
		if _, ok := m[k]; ok {
			return nil, unsupported("%s.%s", path, k)
		}
	}
	if nearest, ok := m["nearest"]; ok {
		in, err := parseVectorInput(nearest, path+".nearest")
		if err != nil {
			return nil, err
		}
		q := &strata.NearestQuery{Target: in}
		if q.MMR, err = parseMMR(m["mmr"], path+".mmr"); err != nil {
			return nil, err
		}
		return &strata.Query{Nearest: q}, nil
	}
	if rec, ok := m["recommend"]; ok {
		r, err := parseRecommendInput(rec, path+".recommend")
		if err != nil {
			return nil, err
		}
		return &strata.Query{Recommend: r}, nil
	}
	if f, ok := m["fusion"]; ok {
		var name string
		if err := unmarshal(f, &name, path+".fusion"); err != nil {
			return nil, err
		}
		switch name {
		case "rrf":
			return strata.RRF(), nil
		case "dbsf":
			return strata.DBSF(), nil
		}
		return nil, formatErr("%s.fusion: unknown variant %q, expected rrf or dbsf", path, name)
	}
	if rrf, ok := m["rrf"]; ok {
		var p struct {
			K       *int      `json:"k"`
			Weights []float32 `json:"weights"`
		}
		if first(rrf) != '{' {
			return nil, formatErr("%s.rrf: expected an object {k, weights}, got %s", path, jsonKind(rrf))
		}
		if err := unmarshal(rrf, &p, path+".rrf"); err != nil {
			return nil, err
		}
		f := &strata.FusionQuery{Method: strata.FusionRRF, Weights: p.Weights}
		if p.K != nil {
			switch {
			case *p.K < 0:
				return nil, formatErr("%s.rrf.k: %d is negative; expected a positive integer", path, *p.K)
			case *p.K == 0:
				return nil, minErr(path+".rrf.k", 0, 1)
			}
			f.K = *p.K
		}
		return &strata.Query{Fusion: f}, nil
	}
	return nil, formatErr("%s: expected a vector, a point id or a query ({\"nearest\": ...}, {\"recommend\": ...}, {\"fusion\": ...}, {\"rrf\": ...})", path)
}

// parseVectorInput decodes Qdrant's VectorInput: a dense vector or a point
// id. Sparse vectors, multivectors and inference objects are refused as
// unsupported.
func parseVectorInput(raw json.RawMessage, path string) (strata.VectorInput, error) {
	switch first(raw) {
	case '[':
		v, err := parseDense(raw, path)
		return strata.VectorInput{Vector: v}, err
	case '"', '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		id, err := parseID(raw, path)
		if err != nil {
			return strata.VectorInput{}, err
		}
		return strata.VectorInput{ID: &id}, nil
	case '{':
		var m map[string]json.RawMessage
		if err := unmarshal(raw, &m, path); err != nil {
			return strata.VectorInput{}, err
		}
		if isInferenceObject(m) {
			return strata.VectorInput{}, unsupported("%s: inference (documents, images, objects to embed)", path)
		}
		if _, ok := m["indices"]; ok {
			return strata.VectorInput{}, unsupported("%s: search by sparse vector", path)
		}
	}
	return strata.VectorInput{}, formatErr("%s: expected a vector, a point id or a query object, got %s", path, jsonKind(raw))
}

// parseMMR decodes Qdrant's Mmr; the root checks the ranges.
func parseMMR(raw json.RawMessage, path string) (*strata.MMR, error) {
	if isNull(raw) {
		return nil, nil
	}
	if first(raw) != '{' {
		return nil, formatErr("%s: expected an object {diversity, candidates_limit}, got %s", path, jsonKind(raw))
	}
	var m struct {
		Diversity       *float32 `json:"diversity"`
		CandidatesLimit *int     `json:"candidates_limit"`
	}
	if err := unmarshal(raw, &m, path); err != nil {
		return nil, err
	}
	out := &strata.MMR{Diversity: m.Diversity}
	if m.CandidatesLimit != nil {
		if *m.CandidatesLimit < 0 {
			return nil, formatErr("%s.candidates_limit: %d is negative", path, *m.CandidatesLimit)
		}
		out.CandidatesLimit = *m.CandidatesLimit
	}
	return out, nil
}

// parseRecommendInput decodes Qdrant's RecommendInput.
func parseRecommendInput(raw json.RawMessage, path string) (*strata.RecommendQuery, error) {
	if first(raw) != '{' {
		return nil, formatErr("%s: expected an object {positive, negative, strategy}, got %s", path, jsonKind(raw))
	}
	var ri struct {
		Positive json.RawMessage `json:"positive"`
		Negative json.RawMessage `json:"negative"`
		Strategy *string         `json:"strategy"`
	}
	if err := unmarshal(raw, &ri, path); err != nil {
		return nil, err
	}
	return parseRecommend(ri.Positive, ri.Negative, ri.Strategy, path)
}

// parseRecommend decodes the examples and strategy of a recommendation.
func parseRecommend(pos, neg json.RawMessage, strategy *string, path string) (*strata.RecommendQuery, error) {
	q := &strata.RecommendQuery{}
	var err error
	if q.Positive, err = parseExamples(pos, joinPath(path, "positive")); err != nil {
		return nil, err
	}
	if q.Negative, err = parseExamples(neg, joinPath(path, "negative")); err != nil {
		return nil, err
	}
	if strategy != nil {
		switch s := strata.RecommendStrategy(*strategy); s {
		case strata.AverageVector, strata.BestScore, strata.SumScores:
			q.Strategy = s
		default:
			return nil, formatErr("%s: unknown variant %q, expected one of average_vector, best_score, sum_scores", joinPath(path, "strategy"), *strategy)
		}
	}
	return q, nil
}

// parseExamples decodes a list of examples (vector inputs); null is none.
func parseExamples(raw json.RawMessage, path string) ([]strata.VectorInput, error) {
	if isNull(raw) {
		return nil, nil
	}
	var items []json.RawMessage
	if err := unmarshal(raw, &items, path); err != nil {
		return nil, err
	}
	out := make([]strata.VectorInput, len(items))
	for i, item := range items {
		var err error
		if out[i], err = parseVectorInput(item, fmt.Sprintf("%s[%d]", path, i)); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// parseLookupFrom decodes Qdrant's LookupLocation.
func parseLookupFrom(raw json.RawMessage, path string) (*strata.LookupLocation, error) {
	if isNull(raw) {
		return nil, nil
	}
	if first(raw) != '{' {
		return nil, formatErr("%s: expected an object {collection, vector}, got %s", path, jsonKind(raw))
	}
	var l struct {
		Collection *string         `json:"collection"`
		Vector     *string         `json:"vector"`
		ShardKey   json.RawMessage `json:"shard_key"`
	}
	if err := unmarshal(raw, &l, path); err != nil {
		return nil, err
	}
	if err := checkNoShardKey(l.ShardKey, path); err != nil {
		return nil, err
	}
	if l.Collection == nil {
		return nil, formatErr("%s: missing field `collection`", path)
	}
	out := &strata.LookupLocation{Collection: *l.Collection}
	if l.Vector != nil {
		out.Vector = *l.Vector
	}
	return out, nil
}

// --- groups ---

// groupsFields are the fields every groups request has.
type groupsFields struct {
	GroupBy    *string         `json:"group_by"`
	GroupSize  *int            `json:"group_size"`
	WithLookup json.RawMessage `json:"with_lookup"`
}

// apply validates the fields onto req; required says whether group_size
// and limit are required (the older endpoints) or default to 3 and 10
// (query/groups). limit is the request's limit.
func (g *groupsFields) apply(req *strata.QueryGroupsRequest, limit *int, required bool) error {
	switch {
	case g.GroupBy == nil:
		return formatErr("body: missing field `group_by`")
	case *g.GroupBy == "":
		return validationErr("group_by", "must not be empty")
	case required && g.GroupSize == nil:
		return formatErr("body: missing field `group_size`")
	case required && limit == nil:
		return formatErr("body: missing field `limit`")
	}
	req.GroupBy = *g.GroupBy
	var err error
	if req.GroupSize, err = checkLimit(g.GroupSize, 3, "group_size"); err != nil {
		return err
	}
	if req.Limit, err = checkLimit(limit, 10, "limit"); err != nil {
		return err
	}
	req.WithLookup, err = parseWithLookup(g.WithLookup, "with_lookup")
	return err
}

// parseWithLookup decodes Qdrant's WithLookupInterface: a collection name,
// or {collection, with_payload (default true), with_vectors (default
// false)}.
func parseWithLookup(raw json.RawMessage, path string) (*strata.GroupLookup, error) {
	switch first(raw) {
	case 0, 'n':
		return nil, nil
	case '"':
		var name string
		if err := unmarshal(raw, &name, path); err != nil {
			return nil, err
		}
		return &strata.GroupLookup{Collection: name, WithPayload: strata.AllPayload}, nil
	case '{':
		var wl struct {
			Collection  *string         `json:"collection"`
			WithPayload json.RawMessage `json:"with_payload"`
			WithVectors json.RawMessage `json:"with_vectors"`
			WithVector  json.RawMessage `json:"with_vector"`
		}
		if err := unmarshal(raw, &wl, path); err != nil {
			return nil, err
		}
		if wl.Collection == nil {
			return nil, formatErr("%s: missing field `collection`", path)
		}
		out := &strata.GroupLookup{Collection: *wl.Collection}
		var err error
		if out.WithPayload, err = parseWithPayload(wl.WithPayload, true, path+".with_payload"); err != nil {
			return nil, err
		}
		if out.WithVectors, err = parseWithVector(wl.WithVectors, wl.WithVector, false, path+".with_vectors"); err != nil {
			return nil, err
		}
		return out, nil
	}
	return nil, formatErr("%s: expected a collection name or {collection, with_payload, with_vectors}, got %s", path, jsonKind(raw))
}

// groupJSON is Qdrant's PointGroup.
type groupJSON struct {
	ID     any               `json:"id"`
	Hits   []scoredPointJSON `json:"hits"`
	Lookup *recordJSON       `json:"lookup,omitempty"`
}

// groupsResult is Qdrant's GroupsResult.
type groupsResult struct {
	Groups []groupJSON `json:"groups"`
}

func toGroupsResult(groups []strata.PointGroup, req *strata.QueryGroupsRequest) groupsResult {
	out := groupsResult{Groups: make([]groupJSON, len(groups))}
	for i, g := range groups {
		var id any = g.ID.Str
		if g.ID.IsInt {
			id = g.ID.Int
		}
		out.Groups[i] = groupJSON{ID: id, Hits: toScoredList(g.Hits, req.WithVectors)}
		if g.Lookup != nil {
			rec := toRecordJSON(g.Lookup, req.WithLookup.WithVectors)
			out.Groups[i].Lookup = &rec
		}
	}
	return out
}

// queryGroupsRequest is Qdrant's QueryGroupsRequest.
type queryGroupsRequest struct {
	queryRequest
	groupsFields
}

func (s *server) queryGroups(r *http.Request) (any, error) {
	c, err := s.collection(r)
	if err != nil {
		return nil, err
	}
	var qg queryGroupsRequest
	if err := decodeBody(r, &qg); err != nil {
		return nil, err
	}
	qg.Offset = nil // not a field of Qdrant's request: ignored, as Qdrant ignores it
	var req strata.QueryGroupsRequest
	if req.QueryRequest, err = qg.toQuery(""); err != nil {
		return nil, err
	}
	if err := qg.groupsFields.apply(&req, qg.Limit, false); err != nil {
		return nil, err
	}
	return s.runGroups(r, c, &req)
}

func (s *server) runGroups(r *http.Request, c *strata.Collection, req *strata.QueryGroupsRequest) (any, error) {
	groups, err := c.QueryGroups(r.Context(), *req)
	if err != nil {
		return nil, rebase(err, "query.", "")
	}
	return toGroupsResult(groups, req), nil
}

// --- search/groups ---

// searchGroupsRequest is Qdrant's SearchGroupsRequest.
type searchGroupsRequest struct {
	Vector         json.RawMessage `json:"vector"`
	Filter         json.RawMessage `json:"filter"`
	Params         *searchParams   `json:"params"`
	WithPayload    json.RawMessage `json:"with_payload"`
	WithVector     json.RawMessage `json:"with_vector"`
	WithVectors    json.RawMessage `json:"with_vectors"`
	ScoreThreshold *float32        `json:"score_threshold"`
	Limit          *int            `json:"limit"`
	ShardKey       json.RawMessage `json:"shard_key"`
	groupsFields
}

func (s *server) searchGroups(r *http.Request) (any, error) {
	c, err := s.collection(r)
	if err != nil {
		return nil, err
	}
	var sg searchGroupsRequest
	if err := decodeBody(r, &sg); err != nil {
		return nil, err
	}
	if err := checkNoShardKey(sg.ShardKey, ""); err != nil {
		return nil, err
	}
	var req strata.QueryGroupsRequest
	v, using, err := parseNamedVector(sg.Vector, "")
	if err != nil {
		return nil, err
	}
	req.Query, req.Using = strata.NearestVector(v), using
	if err := sg.groupsFields.apply(&req, sg.Limit, true); err != nil {
		return nil, err
	}
	if req.Filter, err = parseFilter(sg.Filter, ""); err != nil {
		return nil, err
	}
	if req.HnswEf, req.Exact, err = sg.Params.parse("params"); err != nil {
		return nil, err
	}
	req.ScoreThreshold = sg.ScoreThreshold
	if req.WithPayload, err = parseWithPayload(sg.WithPayload, false, "with_payload"); err != nil {
		return nil, err
	}
	if req.WithVectors, err = parseWithVector(sg.WithVector, sg.WithVectors, false, "with_vector"); err != nil {
		return nil, err
	}
	return s.runGroups(r, c, &req)
}

// --- recommend (the pre-1.10 endpoints) ---

// recommendRequest is Qdrant's RecommendRequest: a recommend query with
// the search options.
type recommendRequest struct {
	Positive       json.RawMessage `json:"positive"`
	Negative       json.RawMessage `json:"negative"`
	Strategy       *string         `json:"strategy"`
	Filter         json.RawMessage `json:"filter"`
	Params         *searchParams   `json:"params"`
	Limit          *int            `json:"limit"`
	Offset         *int            `json:"offset"`
	WithPayload    json.RawMessage `json:"with_payload"`
	WithVector     json.RawMessage `json:"with_vector"`
	WithVectors    json.RawMessage `json:"with_vectors"`
	ScoreThreshold *float32        `json:"score_threshold"`
	Using          *string         `json:"using"`
	LookupFrom     json.RawMessage `json:"lookup_from"`
	ShardKey       json.RawMessage `json:"shard_key"`
}

// toQuery converts a RecommendRequest; path prefixes error messages. limit
// is required unless groups (where the groups fields check it).
func (rr *recommendRequest) toQuery(path string, groups bool) (strata.QueryRequest, error) {
	var req strata.QueryRequest
	var err error
	if err := checkNoShardKey(rr.ShardKey, path); err != nil {
		return req, err
	}
	reco, err := parseRecommend(rr.Positive, rr.Negative, rr.Strategy, path)
	if err != nil {
		return req, err
	}
	req.Query = &strata.Query{Recommend: reco}
	if rr.Using != nil {
		req.Using = *rr.Using
	}
	if !groups {
		if rr.Limit == nil {
			return req, formatErr("%s: missing field `limit`", orBody(path))
		}
		if req.Limit, err = checkLimit(rr.Limit, 10, joinPath(path, "limit")); err != nil {
			return req, err
		}
		if req.Offset, err = checkOffset(rr.Offset, joinPath(path, "offset")); err != nil {
			return req, err
		}
	}
	err = commonFields{rr.Filter, rr.Params, rr.ScoreThreshold, rr.LookupFrom, rr.WithPayload, rr.WithVector, rr.WithVectors}.apply(&req, path)
	return req, err
}

func (s *server) recommend(r *http.Request) (any, error) {
	toQuery := func(rr *recommendRequest, path string) (strata.QueryRequest, error) { return rr.toQuery(path, false) }
	return runOne(s, r, toQuery, (*strata.Collection).Query, "query.",
		func(hits []strata.ScoredPoint, req *strata.QueryRequest) []scoredPointJSON {
			return toScoredList(hits, req.WithVectors)
		})
}

func (s *server) recommendBatch(r *http.Request) (any, error) {
	toQuery := func(rr *recommendRequest, path string) (strata.QueryRequest, error) { return rr.toQuery(path, false) }
	return runBatch(s, r, toQuery, (*strata.Collection).QueryBatch,
		func(hits []strata.ScoredPoint, req *strata.QueryRequest) []scoredPointJSON {
			return toScoredList(hits, req.WithVectors)
		})
}

// recommendGroupsRequest is Qdrant's RecommendGroupsRequest.
type recommendGroupsRequest struct {
	recommendRequest
	groupsFields
}

func (s *server) recommendGroups(r *http.Request) (any, error) {
	c, err := s.collection(r)
	if err != nil {
		return nil, err
	}
	var rg recommendGroupsRequest
	if err := decodeBody(r, &rg); err != nil {
		return nil, err
	}
	var req strata.QueryGroupsRequest
	if req.QueryRequest, err = rg.toQuery("", true); err != nil {
		return nil, err
	}
	if err := rg.groupsFields.apply(&req, rg.Limit, true); err != nil {
		return nil, err
	}
	return s.runGroups(r, c, &req)
}
