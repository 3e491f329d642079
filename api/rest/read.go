package rest

import (
	"encoding/json"
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
	ef, exact, err := p.parse(path)
	req.HnswEf, req.Exact = ef, exact
	return err
}

// parse returns hnsw_ef (0: the default) and exact.
func (p *searchParams) parse(path string) (ef int, exact bool, err error) {
	if p == nil {
		return 0, false, nil
	}
	if p.HnswEf != nil {
		switch {
		case *p.HnswEf < 0:
			return 0, false, formatErr("%s: %d is negative", joinPath(path, "hnsw_ef"), *p.HnswEf)
		case *p.HnswEf == 0:
			return 0, false, minErr(joinPath(path, "hnsw_ef"), 0, 1)
		}
		ef = *p.HnswEf
	}
	if p.Exact != nil {
		exact = *p.Exact
	}
	return ef, exact, nil
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
	if req.Vector, req.Using, err = parseNamedVector(sr.Vector, path); err != nil {
		return req, err
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
	return runOne(s, r, (*searchRequest).toSearch, (*strata.Collection).Search, "search.",
		func(hits []strata.ScoredPoint, req *strata.SearchRequest) []scoredPointJSON {
			return toScoredList(hits, req.WithVectors)
		})
}

func (s *server) searchBatch(r *http.Request) (any, error) {
	return runBatch(s, r, (*searchRequest).toSearch, (*strata.Collection).SearchBatch,
		func(hits []strata.ScoredPoint, req *strata.SearchRequest) []scoredPointJSON {
			return toScoredList(hits, req.WithVectors)
		})
}

// parseNamedVector decodes the "vector" of a search request (path names
// the request): a dense vector, or Qdrant's NamedVectorStruct {"name":
// ..., "vector": [...]}; it returns the vector and its name.
func parseNamedVector(raw json.RawMessage, path string) ([]float32, string, error) {
	vpath := joinPath(path, "vector")
	switch first(raw) {
	case 0, 'n':
		return nil, "", formatErr("%s: missing field `vector`", orBody(path))
	case '[':
		v, err := parseDense(raw, vpath)
		return v, "", err
	case '{':
		var nv struct {
			Name   *string         `json:"name"`
			Vector json.RawMessage `json:"vector"`
		}
		if err := unmarshal(raw, &nv, vpath); err != nil {
			return nil, "", err
		}
		if nv.Name == nil || isNull(nv.Vector) {
			return nil, "", formatErr("%s: expected a vector or {\"name\": ..., \"vector\": [...]}", vpath)
		}
		if first(nv.Vector) == '{' {
			return nil, "", unsupported("%s: search by sparse vector", vpath)
		}
		v, err := parseDense(nv.Vector, vpath+".vector")
		return v, *nv.Name, err
	}
	return nil, "", formatErr("%s: expected a vector or {\"name\": ..., \"vector\": [...]}, got %s", vpath, jsonKind(raw))
}
