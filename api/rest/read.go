package rest

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/strata-db/strata"
)

// recordJSON is Qdrant's Record.
type recordJSON struct {
	ID      pointID        `json:"id"`
	Payload strata.Payload `json:"payload"`
	Vector  any            `json:"vector"`
}

// scoredPointJSON is Qdrant's ScoredPoint.
type scoredPointJSON struct {
	ID      pointID        `json:"id"`
	Version uint64         `json:"version"`
	Score   float32        `json:"score"`
	Payload strata.Payload `json:"payload"`
	Vector  any            `json:"vector"`
}

// vectorJSON writes a record's vectors as Qdrant's VectorStructOutput: the
// unnamed vector alone as a list, otherwise an object by name ("" for the
// unnamed one), sparse vectors as {indices, values}. Nothing selected is
// null.
func vectorJSON(rec *strata.Record, sel strata.VectorSelector) any {
	if !sel.All && len(sel.Names) == 0 {
		return nil
	}
	if rec.Vector != nil && len(rec.Vectors) == 0 && len(rec.Sparse) == 0 {
		return rec.Vector
	}
	m := make(map[string]any, len(rec.Vectors)+len(rec.Sparse)+1)
	if rec.Vector != nil {
		m[""] = rec.Vector
	}
	for name, v := range rec.Vectors {
		m[name] = v
	}
	for name, sv := range rec.Sparse {
		out := sparseJSON{Indices: sv.Indices, Values: sv.Values}
		if out.Indices == nil {
			out.Indices = []uint32{}
		}
		if out.Values == nil {
			out.Values = []float32{}
		}
		m[name] = out
	}
	return m
}

func toRecordJSON(rec *strata.Record, vs strata.VectorSelector) recordJSON {
	return recordJSON{ID: pointID(rec.ID), Payload: rec.Payload, Vector: vectorJSON(rec, vs)}
}

func toScoredJSON(sp *strata.ScoredPoint, vs strata.VectorSelector) scoredPointJSON {
	return scoredPointJSON{ID: pointID(sp.ID), Version: sp.Version, Score: sp.Score, Payload: sp.Payload, Vector: vectorJSON(&sp.Record, vs)}
}

func toScoredList(hits []strata.ScoredPoint, vs strata.VectorSelector) []scoredPointJSON {
	out := make([]scoredPointJSON, len(hits))
	for i := range hits {
		out[i] = toScoredJSON(&hits[i], vs)
	}
	return out
}

// --- retrieve ---

// getPoint answers GET .../points/{id} with the point's payload and
// vectors, or 404.
func (s *server) getPoint(r *http.Request) (any, error) {
	c, err := s.collection(r)
	if err != nil {
		return nil, err
	}
	id, err := strata.ParsePointID(r.PathValue("id"))
	if err != nil {
		return nil, &apiError{status: http.StatusBadRequest, msg: "Format error in path parameters: id: " + detail(err)}
	}
	recs, err := c.Get(r.Context(), []strata.PointID{id}, strata.GetOptions{WithPayload: strata.AllPayload, WithVectors: strata.AllVectors})
	if err != nil {
		return nil, err
	}
	if len(recs) == 0 {
		return nil, pointNotFound(id)
	}
	return toRecordJSON(&recs[0], strata.AllVectors), nil
}

type pointRequest struct {
	IDs         json.RawMessage `json:"ids"`
	WithPayload json.RawMessage `json:"with_payload"`
	WithVector  json.RawMessage `json:"with_vector"`
	WithVectors json.RawMessage `json:"with_vectors"`
	ShardKey    json.RawMessage `json:"shard_key"`
}

// getPoints answers POST .../points: the points with the given ids that
// exist, with their payload by default.
func (s *server) getPoints(r *http.Request) (any, error) {
	c, err := s.collection(r)
	if err != nil {
		return nil, err
	}
	var req pointRequest
	if err := decodeBody(r, &req); err != nil {
		return nil, err
	}
	if err := checkNoShardKey(req.ShardKey, ""); err != nil {
		return nil, err
	}
	if isNull(req.IDs) {
		return nil, formatErr("body: missing field `ids`")
	}
	ids, err := parseIDs(req.IDs, "ids")
	if err != nil {
		return nil, err
	}
	wp, err := parseWithPayload(req.WithPayload, true, "with_payload")
	if err != nil {
		return nil, err
	}
	wv, err := parseWithVector(req.WithVector, req.WithVectors, false, "with_vector")
	if err != nil {
		return nil, err
	}
	out := []recordJSON{}
	if len(ids) == 0 {
		return out, nil
	}
	recs, err := c.Get(r.Context(), ids, strata.GetOptions{WithPayload: wp, WithVectors: wv})
	if err != nil {
		return nil, err
	}
	for i := range recs {
		out = append(out, toRecordJSON(&recs[i], wv))
	}
	return out, nil
}

// --- scroll, count ---

type scrollRequest struct {
	Offset      json.RawMessage `json:"offset"`
	Limit       *int            `json:"limit"`
	Filter      json.RawMessage `json:"filter"`
	WithPayload json.RawMessage `json:"with_payload"`
	WithVector  json.RawMessage `json:"with_vector"`
	WithVectors json.RawMessage `json:"with_vectors"`
	OrderBy     json.RawMessage `json:"order_by"`
	ShardKey    json.RawMessage `json:"shard_key"`
}

type scrollResult struct {
	Points         []recordJSON `json:"points"`
	NextPageOffset *pointID     `json:"next_page_offset"`
}

func (s *server) scroll(r *http.Request) (any, error) {
	c, err := s.collection(r)
	if err != nil {
		return nil, err
	}
	var req scrollRequest
	if err := decodeBody(r, &req); err != nil {
		return nil, err
	}
	if err := checkNoShardKey(req.ShardKey, ""); err != nil {
		return nil, err
	}
	if !isNull(req.OrderBy) {
		return nil, unsupported("order_by")
	}
	var sr strata.ScrollRequest
	if sr.Limit, err = checkLimit(req.Limit, 10, "limit"); err != nil {
		return nil, err
	}
	if !isNull(req.Offset) {
		id, err := parseID(req.Offset, "offset")
		if err != nil {
			return nil, err
		}
		sr.Offset = &id
	}
	if sr.Filter, err = parseFilter(req.Filter, ""); err != nil {
		return nil, err
	}
	if sr.WithPayload, err = parseWithPayload(req.WithPayload, true, "with_payload"); err != nil {
		return nil, err
	}
	if sr.WithVectors, err = parseWithVector(req.WithVector, req.WithVectors, false, "with_vector"); err != nil {
		return nil, err
	}
	res, err := c.Scroll(r.Context(), sr)
	if err != nil {
		return nil, err
	}
	out := scrollResult{Points: make([]recordJSON, len(res.Points))}
	for i := range res.Points {
		out.Points[i] = toRecordJSON(&res.Points[i], sr.WithVectors)
	}
	if res.NextOffset != nil {
		next := pointID(*res.NextOffset)
		out.NextPageOffset = &next
	}
	return out, nil
}

type countRequest struct {
	Filter   json.RawMessage `json:"filter"`
	Exact    *bool           `json:"exact"` // counts are always exact
	ShardKey json.RawMessage `json:"shard_key"`
}

func (s *server) count(r *http.Request) (any, error) {
	c, err := s.collection(r)
	if err != nil {
		return nil, err
	}
	var req countRequest
	if err := decodeBody(r, &req); err != nil {
		return nil, err
	}
	if err := checkNoShardKey(req.ShardKey, ""); err != nil {
		return nil, err
	}
	f, err := parseFilter(req.Filter, "")
	if err != nil {
		return nil, err
	}
	n, err := c.Count(r.Context(), f)
	if err != nil {
		return nil, err
	}
	return map[string]int{"count": n}, nil
}

// --- search (the pre-1.10 endpoints, still used by older clients) ---

type searchParams struct {
	HnswEf       *int            `json:"hnsw_ef"`
	Exact        *bool           `json:"exact"`
	Quantization json.RawMessage `json:"quantization"`
	IndexedOnly  *bool           `json:"indexed_only"`
	Acorn        json.RawMessage `json:"acorn"`
	Idf          json.RawMessage `json:"idf"`
}

// apply sets the params on req.
func (p *searchParams) apply(req *strata.SearchRequest, path string) error {
	if p == nil {
		return nil
	}
	if p.HnswEf != nil {
		switch {
		case *p.HnswEf < 0:
			return formatErr("%s: %d is negative", joinPath(path, "hnsw_ef"), *p.HnswEf)
		case *p.HnswEf == 0:
			return minErr(joinPath(path, "hnsw_ef"), 0, 1)
		}
		req.HnswEf = *p.HnswEf
	}
	if p.Exact != nil {
		req.Exact = *p.Exact
	}
	return nil
}

type searchRequest struct {
	Vector         json.RawMessage `json:"vector"`
	Filter         json.RawMessage `json:"filter"`
	Params         *searchParams   `json:"params"`
	Limit          *int            `json:"limit"`
	Offset         *int            `json:"offset"`
	WithPayload    json.RawMessage `json:"with_payload"`
	WithVector     json.RawMessage `json:"with_vector"`
	WithVectors    json.RawMessage `json:"with_vectors"`
	ScoreThreshold *float32        `json:"score_threshold"`
	ShardKey       json.RawMessage `json:"shard_key"`
}

// toSearch converts a SearchRequest; path prefixes error messages.
func (sr *searchRequest) toSearch(path string) (strata.SearchRequest, error) {
	var req strata.SearchRequest
	var err error
	if err := checkNoShardKey(sr.ShardKey, path); err != nil {
		return req, err
	}
	vpath := joinPath(path, "vector")
	switch first(sr.Vector) {
	case 0, 'n':
		return req, formatErr("%s: missing field `vector`", orBody(path))
	case '[':
		if req.Vector, err = parseDense(sr.Vector, vpath); err != nil {
			return req, err
		}
	case '{':
		// NamedVectorStruct: {"name": ..., "vector": [...] or sparse}.
		var nv struct {
			Name   *string         `json:"name"`
			Vector json.RawMessage `json:"vector"`
		}
		if err := unmarshal(sr.Vector, &nv, vpath); err != nil {
			return req, err
		}
		if nv.Name == nil || isNull(nv.Vector) {
			return req, formatErr("%s: expected a vector or {\"name\": ..., \"vector\": [...]}", vpath)
		}
		if first(nv.Vector) == '{' {
			return req, unsupported("%s: search by sparse vector", vpath)
		}
		req.Using = *nv.Name
		if req.Vector, err = parseDense(nv.Vector, vpath+".vector"); err != nil {
			return req, err
		}
	default:
		return req, formatErr("%s: expected a vector or {\"name\": ..., \"vector\": [...]}, got %s", vpath, jsonKind(sr.Vector))
	}
	if sr.Limit == nil {
		return req, formatErr("%s: missing field `limit`", orBody(path))
	}
	if req.Limit, err = checkLimit(sr.Limit, 10, joinPath(path, "limit")); err != nil {
		return req, err
	}
	if req.Offset, err = checkOffset(sr.Offset, joinPath(path, "offset")); err != nil {
		return req, err
	}
	if req.Filter, err = parseFilter(sr.Filter, path); err != nil {
		return req, err
	}
	if err := sr.Params.apply(&req, joinPath(path, "params")); err != nil {
		return req, err
	}
	req.ScoreThreshold = sr.ScoreThreshold
	if req.WithPayload, err = parseWithPayload(sr.WithPayload, false, joinPath(path, "with_payload")); err != nil {
		return req, err
	}
	if req.WithVectors, err = parseWithVector(sr.WithVector, sr.WithVectors, false, joinPath(path, "with_vector")); err != nil {
		return req, err
	}
	return req, nil
}

func (s *server) search(r *http.Request) (any, error) {
	c, err := s.collection(r)
	if err != nil {
		return nil, err
	}
	var sr searchRequest
	if err := decodeBody(r, &sr); err != nil {
		return nil, err
	}
	req, err := sr.toSearch("")
	if err != nil {
		return nil, err
	}
	hits, err := c.Search(r.Context(), req)
	if err != nil {
		return nil, err
	}
	return toScoredList(hits, req.WithVectors), nil
}

func (s *server) searchBatch(r *http.Request) (any, error) {
	c, err := s.collection(r)
	if err != nil {
		return nil, err
	}
	var body struct {
		Searches *[]searchRequest `json:"searches"`
	}
	if err := decodeBody(r, &body); err != nil {
		return nil, err
	}
	if body.Searches == nil {
		return nil, formatErr("body: missing field `searches`")
	}
	out := [][]scoredPointJSON{}
	if len(*body.Searches) == 0 {
		return out, nil
	}
	reqs := make([]strata.SearchRequest, len(*body.Searches))
	for i := range *body.Searches {
		if reqs[i], err = (*body.Searches)[i].toSearch(fmt.Sprintf("searches[%d]", i)); err != nil {
			return nil, err
		}
	}
	res, err := c.SearchBatch(r.Context(), reqs)
	if err != nil {
		return nil, err
	}
	for i, hits := range res {
		out = append(out, toScoredList(hits, reqs[i].WithVectors))
	}
	return out, nil
}

// --- query (the universal query API) ---

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

// plannedQuery is a decoded query: a search (by vector or by a point's
// vector), or, without a query, a page of points in id order.
type plannedQuery struct {
	search strata.SearchRequest
	byID   *strata.PointID // search by this point's vector, excluding it
	scroll bool            // no query: points in id order
}

type queryResponse struct {
	Points []scoredPointJSON `json:"points"`
}

// plan decodes one QueryRequest; path prefixes error messages.
func (qr *queryRequest) plan(path string) (plannedQuery, error) {
	var pq plannedQuery
	req := &pq.search
	var err error
	if err := checkNoShardKey(qr.ShardKey, path); err != nil {
		return pq, err
	}
	if !isNull(qr.Prefetch) {
		var list []json.RawMessage
		if first(qr.Prefetch) != '[' || json.Unmarshal(qr.Prefetch, &list) != nil || len(list) > 0 {
			return pq, unsupported("%s", joinPath(path, "prefetch"))
		}
	}
	if !isNull(qr.LookupFrom) {
		return pq, unsupported("%s", joinPath(path, "lookup_from"))
	}
	if qr.Using != nil {
		req.Using = *qr.Using
	}
	if req.Limit, err = checkLimit(qr.Limit, 10, joinPath(path, "limit")); err != nil {
		return pq, err
	}
	if req.Offset, err = checkOffset(qr.Offset, joinPath(path, "offset")); err != nil {
		return pq, err
	}
	if req.Filter, err = parseFilter(qr.Filter, path); err != nil {
		return pq, err
	}
	if err := qr.Params.apply(req, joinPath(path, "params")); err != nil {
		return pq, err
	}
	req.ScoreThreshold = qr.ScoreThreshold
	if req.WithPayload, err = parseWithPayload(qr.WithPayload, false, joinPath(path, "with_payload")); err != nil {
		return pq, err
	}
	if req.WithVectors, err = parseWithVector(qr.WithVector, qr.WithVectors, false, joinPath(path, "with_vector")); err != nil {
		return pq, err
	}
	if isNull(qr.Query) {
		pq.scroll = true
		return pq, nil
	}
	err = parseVectorInput(qr.Query, joinPath(path, "query"), &pq, true)
	return pq, err
}

// queryKinds are the query objects other than nearest, none supported yet.
var queryKinds = []string{"recommend", "discover", "context", "order_by", "fusion", "rrf", "formula", "sample", "relevance_feedback"}

// parseVectorInput decodes a query: a dense vector, a point id, or (when
// top) {"nearest": ...}.
func parseVectorInput(raw json.RawMessage, path string, pq *plannedQuery, top bool) error {
	switch first(raw) {
	case '[':
		v, err := parseDense(raw, path)
		pq.search.Vector = v
		return err
	case '"', '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		id, err := parseID(raw, path)
		if err != nil {
			return err
		}
		pq.byID = &id
		return nil
	case '{':
		var m map[string]json.RawMessage
		if err := unmarshal(raw, &m, path); err != nil {
			return err
		}
		if isInferenceObject(m) {
			return unsupported("%s: inference (documents, images, objects to embed)", path)
		}
		if _, ok := m["indices"]; ok {
			return unsupported("%s: search by sparse vector", path)
		}
		if nearest, ok := m["nearest"]; ok && top {
			if mmr, ok := m["mmr"]; ok && !isNull(mmr) {
				return unsupported("%s.mmr", path)
			}
			return parseVectorInput(nearest, path+".nearest", pq, false)
		}
		for _, k := range queryKinds {
			if _, ok := m[k]; ok && top {
				return unsupported("%s.%s", path, k)
			}
		}
	}
	return formatErr("%s: expected a vector, a point id or {\"nearest\": ...}, got %s", path, jsonKind(raw))
}

// run answers one planned query.
func (s *server) runQuery(r *http.Request, c *strata.Collection, pq *plannedQuery) ([]strata.ScoredPoint, error) {
	if pq.scroll {
		return s.queryScroll(r, c, pq)
	}
	req := pq.search
	if pq.byID != nil {
		v, err := pointVector(r, c, *pq.byID, req.Using)
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
	return c.Search(r.Context(), req)
}

// pointVector returns the vector named using ("" for the default) of the
// point id: 404 if there is no such point.
func pointVector(r *http.Request, c *strata.Collection, id strata.PointID, using string) ([]float32, error) {
	if using == "" {
		if cfg := c.Config(); len(cfg.Vectors) == 1 {
			for name := range cfg.Vectors {
				using = name
			}
		}
	}
	recs, err := c.Get(r.Context(), []strata.PointID{id}, strata.GetOptions{WithVectors: strata.VectorSelector{Names: []string{using}}})
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

// queryScroll answers a query without "query": points in id order, each
// with score 0, after skipping offset of them.
func (s *server) queryScroll(r *http.Request, c *strata.Collection, pq *plannedQuery) ([]strata.ScoredPoint, error) {
	req := pq.search
	if req.Offset+req.Limit > strata.MaxSearchLimit {
		return nil, &apiError{status: http.StatusBadRequest, msg: fmt.Sprintf("Wrong input: offset + limit: %d is out of range 1..%d", req.Offset+req.Limit, strata.MaxSearchLimit)}
	}
	res, err := c.Scroll(r.Context(), strata.ScrollRequest{Filter: req.Filter, Limit: req.Offset + req.Limit, WithPayload: req.WithPayload, WithVectors: req.WithVectors})
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

func (s *server) query(r *http.Request) (any, error) {
	c, err := s.collection(r)
	if err != nil {
		return nil, err
	}
	var qr queryRequest
	if err := decodeBody(r, &qr); err != nil {
		return nil, err
	}
	pq, err := qr.plan("")
	if err != nil {
		return nil, err
	}
	hits, err := s.runQuery(r, c, &pq)
	if err != nil {
		return nil, err
	}
	return queryResponse{Points: toScoredList(hits, pq.search.WithVectors)}, nil
}

// queryBatch runs the vector searches of the batch in one pass over the
// data (strata.SearchBatch) and the others one by one.
func (s *server) queryBatch(r *http.Request) (any, error) {
	c, err := s.collection(r)
	if err != nil {
		return nil, err
	}
	var body struct {
		Searches *[]queryRequest `json:"searches"`
	}
	if err := decodeBody(r, &body); err != nil {
		return nil, err
	}
	if body.Searches == nil {
		return nil, formatErr("body: missing field `searches`")
	}
	pqs := make([]plannedQuery, len(*body.Searches))
	for i := range *body.Searches {
		if pqs[i], err = (*body.Searches)[i].plan(fmt.Sprintf("searches[%d]", i)); err != nil {
			return nil, err
		}
	}
	results := make([][]strata.ScoredPoint, len(pqs))
	var batch []strata.SearchRequest
	var batchIdx []int
	for i := range pqs {
		if pqs[i].scroll || pqs[i].byID != nil {
			if results[i], err = s.runQuery(r, c, &pqs[i]); err != nil {
				return nil, prefixErr(err, fmt.Sprintf("searches[%d]", i))
			}
			continue
		}
		batch = append(batch, pqs[i].search)
		batchIdx = append(batchIdx, i)
	}
	if len(batch) > 0 {
		res, err := c.SearchBatch(r.Context(), batch)
		if err != nil {
			return nil, err
		}
		for j, hits := range res {
			results[batchIdx[j]] = hits
		}
	}
	out := make([]queryResponse, len(pqs))
	for i := range pqs {
		out[i] = queryResponse{Points: toScoredList(results[i], pqs[i].search.WithVectors)}
	}
	return out, nil
}

// prefixErr names the batch entry in a root error's message.
func prefixErr(err error, prefix string) error {
	var ae *apiError
	if errors.As(err, &ae) {
		return err
	}
	if errors.Is(err, strata.ErrInvalidArgument) {
		return &apiError{status: http.StatusBadRequest, msg: "Wrong input: " + prefix + ": " + detail(err)}
	}
	return err
}
