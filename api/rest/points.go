package rest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/strata-db/strata"
)

// updateResult is Qdrant's UpdateResult.
type updateResult struct {
	OperationID uint64 `json:"operation_id"`
	Status      string `json:"status"`
}

// writeOp is one decoded and checked write, ready to run.
type writeOp func(ctx context.Context, c *strata.Collection) error

// runWrite resolves the collection, decodes the body with parse and runs
// the write. Every write returns once it is durable (its WAL record
// fsynced) and visible, whatever ?wait= says, so wait only changes the
// status answered: "completed" with wait=true, "acknowledged" without;
// both mean the write survives a crash and is visible to the next read.
func (s *server) runWrite(r *http.Request, parse func(body []byte) (writeOp, error)) (any, error) {
	c, err := s.collection(r)
	if err != nil {
		return nil, err
	}
	wait, err := waitParam(r)
	if err != nil {
		return nil, err
	}
	var body json.RawMessage
	if err := decodeBody(r, &body); err != nil {
		return nil, err
	}
	op, err := parse(body)
	if err != nil {
		return nil, err
	}
	if err := op(r.Context(), c); err != nil {
		return nil, err
	}
	return s.result(wait), nil
}

// result is the answer to one write: "completed" with ?wait=true,
// "acknowledged" otherwise (Qdrant's default is wait=false).
func (s *server) result(wait bool) updateResult {
	status := "acknowledged"
	if wait {
		status = "completed"
	}
	return updateResult{OperationID: s.nextOpID(), Status: status}
}

// --- upsert ---

type upsertRequest struct {
	Points       json.RawMessage `json:"points"`
	Batch        json.RawMessage `json:"batch"`
	ShardKey     json.RawMessage `json:"shard_key"`
	UpdateFilter json.RawMessage `json:"update_filter"`
	UpdateMode   *string         `json:"update_mode"`
}

// upsertFields are upsertRequest's keys, for the fast path of parseUpsert.
var upsertFields = []string{"points", "batch", "shard_key", "update_filter", "update_mode"}

type pointJSON struct {
	ID      json.RawMessage `json:"id"`
	Vector  json.RawMessage `json:"vector"`
	Payload json.RawMessage `json:"payload"`
}

type batchJSON struct {
	IDs      json.RawMessage `json:"ids"`
	Vectors  json.RawMessage `json:"vectors"`
	Payloads json.RawMessage `json:"payloads"`
}

func (s *server) upsertPoints(r *http.Request) (any, error) {
	return s.runWrite(r, func(body []byte) (writeOp, error) { return parseUpsert(body, "") })
}

// parseUpsert decodes PointInsertOperations: {"points": [...]} or
// {"batch": {ids, vectors, payloads}}.
func parseUpsert(body json.RawMessage, path string) (writeOp, error) {
	points, err := decodeUpsert(body, path)
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context, c *strata.Collection) error {
		if len(points) == 0 {
			return nil // Qdrant accepts an empty upsert
		}
		return c.Upsert(ctx, points)
	}, nil
}

// decodeUpsert decodes the points of a PointInsertOperations body.
func decodeUpsert(body json.RawMessage, path string) ([]strata.Point, error) {
	var req upsertRequest
	var (
		f        [5]json.RawMessage
		inPlace  []strata.Point // the points list, parsed while it was found
		parsedOK bool
	)
	end, ok := eachField(body, 0, func(key []byte, vs int) (int, bool) {
		n, ok := matchKey(key, upsertFields...)
		if n == 0 && body[vs] == '[' {
			pts, ve, ok := fastPointListAt(body, vs, joinPath(path, "points"))
			inPlace, parsedOK, f[0] = pts, ok, body[vs:ve]
			return ve, ok
		}
		ve := skipValue(body, vs)
		if n >= 0 {
			f[n] = body[vs:ve]
			if n == 0 {
				parsedOK = false
			}
		}
		return ve, ok
	})
	if ok && skipSpace(body, end) == len(body) && isNull(f[4]) {
		req = upsertRequest{Points: f[0], Batch: f[1], ShardKey: f[2], UpdateFilter: f[3]}
	} else if err := unmarshalObject(body, &req, path); err != nil {
		return nil, err
	} else {
		parsedOK = false
	}
	if err := checkNoShardKey(req.ShardKey, path); err != nil {
		return nil, err
	}
	if !isNull(req.UpdateFilter) {
		return nil, unsupported("%s", joinPath(path, "update_filter"))
	}
	if m := req.UpdateMode; m != nil && *m != "upsert" {
		switch *m {
		case "insert_only", "update_only":
			return nil, unsupported("%s %q", joinPath(path, "update_mode"), *m)
		}
		return nil, formatErr("%s: unknown variant %q, expected one of insert_only, upsert, update_only", joinPath(path, "update_mode"), *m)
	}
	var (
		points []strata.Point
		err    error
	)
	switch {
	case !isNull(req.Points) && !isNull(req.Batch):
		return nil, formatErr("%s: give either points or batch, not both", orBody(path))
	case parsedOK:
		points = inPlace
	case !isNull(req.Points):
		points, err = parsePointList(req.Points, joinPath(path, "points"))
	case !isNull(req.Batch):
		points, err = parseBatch(req.Batch, joinPath(path, "batch"))
	default:
		return nil, formatErr("%s: missing field `points` or `batch`", orBody(path))
	}
	return points, err
}

func orBody(path string) string {
	if path == "" {
		return "body"
	}
	return path
}

// unmarshalObject decodes a JSON object into v, refusing other JSON types
// with a message naming path.
func unmarshalObject(raw json.RawMessage, v any, path string) error {
	switch first(raw) {
	case 0:
		raw = json.RawMessage("{}")
	case '{':
	default:
		return formatErr("%s: expected an object, got %s", orBody(path), jsonKind(raw))
	}
	return unmarshal(raw, v, path)
}

func parsePointList(raw json.RawMessage, path string) ([]strata.Point, error) {
	if points, ok := fastPointList(raw, path); ok {
		return points, nil
	}
	var items []pointJSON
	if err := unmarshal(raw, &items, path); err != nil {
		return nil, err
	}
	points := make([]strata.Point, len(items))
	for i := range items {
		p, err := items[i].point(fmt.Sprintf("%s[%d]", path, i))
		if err != nil {
			return nil, err
		}
		points[i] = p
	}
	return points, nil
}

func (pj *pointJSON) point(path string) (strata.Point, error) {
	var p strata.Point
	var err error
	if p.ID, err = parseID(pj.ID, path+".id"); err != nil {
		return p, err
	}
	pv, err := parseVectorStruct(pj.Vector, path+".vector")
	if err != nil {
		return p, err
	}
	p.Vector, p.Vectors, p.Sparse = pv.vector, pv.named, pv.sparse
	if p.Payload, err = parsePayload(pj.Payload, path+".payload"); err != nil {
		return p, err
	}
	return p, nil
}

// parseBatch decodes the column form: ids, vectors (a list per point, or
// an object of named columns) and payloads.
func parseBatch(raw json.RawMessage, path string) ([]strata.Point, error) {
	var b batchJSON
	if err := unmarshalObject(raw, &b, path); err != nil {
		return nil, err
	}
	if isNull(b.IDs) {
		return nil, formatErr("%s: missing field `ids`", path)
	}
	ids, err := parseIDs(b.IDs, path+".ids")
	if err != nil {
		return nil, err
	}
	points := make([]strata.Point, len(ids))
	for i, id := range ids {
		points[i].ID = id
	}
	vpath := path + ".vectors"
	switch first(b.Vectors) {
	case 0, 'n':
		return nil, formatErr("%s: missing field `vectors`", path)
	case '[':
		var cols []json.RawMessage
		if err := unmarshal(b.Vectors, &cols, vpath); err != nil {
			return nil, err
		}
		if len(cols) != len(ids) {
			return nil, badRequest("%s: %d vectors for %d ids", vpath, len(cols), len(ids))
		}
		for i, v := range cols {
			epath := fmt.Sprintf("%s[%d]", vpath, i)
			if first(v) != '[' {
				return nil, unsupportedVectorInput(v, epath)
			}
			if points[i].Vector, err = parseDense(v, epath); err != nil {
				return nil, err
			}
		}
	case '{':
		var named map[string][]json.RawMessage
		if err := unmarshal(b.Vectors, &named, vpath); err != nil {
			return nil, err
		}
		for _, name := range sortedKeys(named) {
			col := named[name]
			cpath := vpath + "." + name
			if len(col) != len(ids) {
				return nil, badRequest("%s: %d vectors for %d ids", cpath, len(col), len(ids))
			}
			for i, v := range col {
				epath := fmt.Sprintf("%s[%d]", cpath, i)
				pv, err := parseVectorStruct(json.RawMessage(`{`+quoteKey(name)+`:`+string(v)+`}`), epath)
				if err != nil {
					return nil, err
				}
				mergeVectors(&points[i], pv)
			}
		}
	default:
		return nil, formatErr("%s: expected a list of vectors or an object of named vector lists, got %s", vpath, jsonKind(b.Vectors))
	}
	if !isNull(b.Payloads) {
		var payloads []json.RawMessage
		if err := unmarshal(b.Payloads, &payloads, path+".payloads"); err != nil {
			return nil, err
		}
		if len(payloads) != len(ids) {
			return nil, badRequest("%s.payloads: %d payloads for %d ids", path, len(payloads), len(ids))
		}
		for i, raw := range payloads {
			if points[i].Payload, err = parsePayload(raw, fmt.Sprintf("%s.payloads[%d]", path, i)); err != nil {
				return nil, err
			}
		}
	}
	return points, nil
}

func quoteKey(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func mergeVectors(p *strata.Point, pv pointVectors) {
	if pv.vector != nil {
		p.Vector = pv.vector
	}
	for name, v := range pv.named {
		if p.Vectors == nil {
			p.Vectors = map[string][]float32{}
		}
		p.Vectors[name] = v
	}
	for name, v := range pv.sparse {
		if p.Sparse == nil {
			p.Sparse = map[string]strata.SparseVector{}
		}
		p.Sparse[name] = v
	}
}

// unsupportedVectorInput explains why raw is not a dense vector.
func unsupportedVectorInput(raw json.RawMessage, path string) error {
	if first(raw) == '{' {
		var m map[string]json.RawMessage
		if json.Unmarshal(raw, &m) == nil && isInferenceObject(m) {
			return unsupported("%s: inference (documents, images, objects to embed)", path)
		}
	}
	return formatErr("%s: expected a vector (array of numbers), got %s", path, jsonKind(raw))
}

// --- selectors ---

// selectorJSON holds the ways writes select points.
type selectorJSON struct {
	Points   json.RawMessage `json:"points"`
	Filter   json.RawMessage `json:"filter"`
	ShardKey json.RawMessage `json:"shard_key"`
}

// selector decodes points (ids) or filter. empty reports an empty id list,
// which Qdrant accepts as a no-op.
func (sj *selectorJSON) selector(path string) (sel strata.Selector, empty bool, err error) {
	if err := checkNoShardKey(sj.ShardKey, path); err != nil {
		return sel, false, err
	}
	switch {
	case !isNull(sj.Points) && !isNull(sj.Filter):
		return sel, false, badRequest("%s: give either points or filter, not both", orBody(path))
	case !isNull(sj.Points):
		ids, err := parseIDs(sj.Points, joinPath(path, "points"))
		if err != nil {
			return sel, false, err
		}
		return strata.IDs(ids...), len(ids) == 0, nil
	case !isNull(sj.Filter):
		f, err := parseFilter(sj.Filter, path)
		if err != nil {
			return sel, false, err
		}
		return strata.Where(f), false, nil
	}
	return sel, false, badRequest("%s: either points or filter is required", orBody(path))
}

// parseSelectorOp decodes a PointsSelector body and returns the op that
// applies fn to it.
func parseSelectorOp(body json.RawMessage, path string, fn func(ctx context.Context, c *strata.Collection, sel strata.Selector) error) (writeOp, error) {
	var sj selectorJSON
	if err := unmarshalObject(body, &sj, path); err != nil {
		return nil, err
	}
	sel, empty, err := sj.selector(path)
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

func (s *server) deletePoints(r *http.Request) (any, error) {
	return s.runWrite(r, func(body []byte) (writeOp, error) { return parseDelete(body, "") })
}

func parseDelete(body json.RawMessage, path string) (writeOp, error) {
	return parseSelectorOp(body, path, func(ctx context.Context, c *strata.Collection, sel strata.Selector) error {
		return c.Delete(ctx, sel)
	})
}

func (s *server) clearPayload(r *http.Request) (any, error) {
	return s.runWrite(r, func(body []byte) (writeOp, error) { return parseClearPayload(body, "") })
}

func parseClearPayload(body json.RawMessage, path string) (writeOp, error) {
	return parseSelectorOp(body, path, func(ctx context.Context, c *strata.Collection, sel strata.Selector) error {
		return c.ClearPayload(ctx, sel)
	})
}

type setPayloadRequest struct {
	selectorJSON
	Payload json.RawMessage `json:"payload"`
	Key     *string         `json:"key"`
}

func (s *server) setPayload(r *http.Request) (any, error) {
	return s.runWrite(r, func(body []byte) (writeOp, error) { return parseSetPayload(body, "", false) })
}

func (s *server) overwritePayload(r *http.Request) (any, error) {
	return s.runWrite(r, func(body []byte) (writeOp, error) { return parseSetPayload(body, "", true) })
}

// parseSetPayload decodes SetPayload, for set (merge, optionally at key)
// or overwrite.
func parseSetPayload(body json.RawMessage, path string, overwrite bool) (writeOp, error) {
	var req setPayloadRequest
	if err := unmarshalObject(body, &req, path); err != nil {
		return nil, err
	}
	if isNull(req.Payload) {
		return nil, formatErr("%s: missing field `payload`", orBody(path))
	}
	payload, err := parsePayload(req.Payload, joinPath(path, "payload"))
	if err != nil {
		return nil, err
	}
	sel, empty, err := req.selector(path)
	if err != nil {
		return nil, err
	}
	key := ""
	if req.Key != nil {
		key = *req.Key
	}
	if overwrite && key != "" {
		return nil, unsupported("%s with overwrite_payload", joinPath(path, "key"))
	}
	return func(ctx context.Context, c *strata.Collection) error {
		switch {
		case empty:
			return nil
		case overwrite:
			return c.OverwritePayload(ctx, sel, payload)
		case len(payload) == 0:
			return nil // merging nothing changes nothing
		case key != "":
			return c.SetPayloadAt(ctx, sel, key, payload)
		}
		return c.SetPayload(ctx, sel, payload)
	}, nil
}

type deletePayloadRequest struct {
	selectorJSON
	Keys *[]string `json:"keys"`
}

func (s *server) deletePayload(r *http.Request) (any, error) {
	return s.runWrite(r, func(body []byte) (writeOp, error) { return parseDeletePayload(body, "") })
}

func parseDeletePayload(body json.RawMessage, path string) (writeOp, error) {
	var req deletePayloadRequest
	if err := unmarshalObject(body, &req, path); err != nil {
		return nil, err
	}
	if req.Keys == nil {
		return nil, formatErr("%s: missing field `keys`", orBody(path))
	}
	keys := *req.Keys
	sel, empty, err := req.selector(path)
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context, c *strata.Collection) error {
		if empty || len(keys) == 0 {
			return nil
		}
		return c.DeletePayload(ctx, sel, keys)
	}, nil
}

// --- vectors ---

type updateVectorsRequest struct {
	Points       *[]pointVectorsJSON `json:"points"`
	ShardKey     json.RawMessage     `json:"shard_key"`
	UpdateFilter json.RawMessage     `json:"update_filter"`
}

type pointVectorsJSON struct {
	ID     json.RawMessage `json:"id"`
	Vector json.RawMessage `json:"vector"`
}

func (s *server) updateVectors(r *http.Request) (any, error) {
	return s.runWrite(r, func(body []byte) (writeOp, error) { return parseUpdateVectors(body, "") })
}

func parseUpdateVectors(body json.RawMessage, path string) (writeOp, error) {
	var req updateVectorsRequest
	if err := unmarshalObject(body, &req, path); err != nil {
		return nil, err
	}
	if err := checkNoShardKey(req.ShardKey, path); err != nil {
		return nil, err
	}
	if !isNull(req.UpdateFilter) {
		return nil, unsupported("%s", joinPath(path, "update_filter"))
	}
	if req.Points == nil {
		return nil, formatErr("%s: missing field `points`", orBody(path))
	}
	if len(*req.Points) == 0 {
		return nil, validationErr(joinPath(path, "points"), "must contain at least 1 item")
	}
	pvs := make([]strata.PointVectors, len(*req.Points))
	for i, pj := range *req.Points {
		ppath := fmt.Sprintf("%s[%d]", joinPath(path, "points"), i)
		id, err := parseID(pj.ID, ppath+".id")
		if err != nil {
			return nil, err
		}
		if isNull(pj.Vector) {
			return nil, formatErr("%s: missing field `vector`", ppath)
		}
		v, err := parseVectorStruct(pj.Vector, ppath+".vector")
		if err != nil {
			return nil, err
		}
		pvs[i] = strata.PointVectors{ID: id, Vector: v.vector, Vectors: v.named, Sparse: v.sparse}
	}
	return func(ctx context.Context, c *strata.Collection) error {
		return c.UpdateVectors(ctx, pvs)
	}, nil
}

type deleteVectorsRequest struct {
	selectorJSON
	Vector *[]string `json:"vector"`
}

func (s *server) deleteVectors(r *http.Request) (any, error) {
	return s.runWrite(r, func(body []byte) (writeOp, error) { return parseDeleteVectors(body, "") })
}

func parseDeleteVectors(body json.RawMessage, path string) (writeOp, error) {
	var req deleteVectorsRequest
	if err := unmarshalObject(body, &req, path); err != nil {
		return nil, err
	}
	if req.Vector == nil {
		return nil, formatErr("%s: missing field `vector`", orBody(path))
	}
	if len(*req.Vector) == 0 {
		return nil, validationErr(joinPath(path, "vector"), "must contain at least 1 item")
	}
	names := *req.Vector
	sel, empty, err := req.selector(path)
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context, c *strata.Collection) error {
		if empty {
			return nil
		}
		return c.DeleteVectors(ctx, sel, names)
	}, nil
}

// --- batch ---

type batchUpdateRequest struct {
	Operations *[]map[string]json.RawMessage `json:"operations"`
}

// batchParsers decode the operations of a batch by their key.
var batchParsers = map[string]func(body json.RawMessage, path string) (writeOp, error){
	"upsert":            parseUpsert,
	"delete":            parseDelete,
	"set_payload":       func(b json.RawMessage, p string) (writeOp, error) { return parseSetPayload(b, p, false) },
	"overwrite_payload": func(b json.RawMessage, p string) (writeOp, error) { return parseSetPayload(b, p, true) },
	"delete_payload":    parseDeletePayload,
	"clear_payload":     parseClearPayload,
	"update_vectors":    parseUpdateVectors,
	"delete_vectors":    parseDeleteVectors,
}

// batchUpdate decodes and checks every operation first, then runs them in
// order. As in Qdrant the batch is not atomic: if one fails, the ones
// before it stay applied.
func (s *server) batchUpdate(r *http.Request) (any, error) {
	c, err := s.collection(r)
	if err != nil {
		return nil, err
	}
	wait, err := waitParam(r)
	if err != nil {
		return nil, err
	}
	var req batchUpdateRequest
	if err := decodeBody(r, &req); err != nil {
		return nil, err
	}
	if req.Operations == nil {
		return nil, formatErr("body: missing field `operations`")
	}
	ops := make([]writeOp, len(*req.Operations))
	for i, m := range *req.Operations {
		path := fmt.Sprintf("operations[%d]", i)
		if len(m) != 1 {
			return nil, formatErr("%s: expected an object with one operation (upsert, delete, set_payload, overwrite_payload, delete_payload, clear_payload, update_vectors, delete_vectors)", path)
		}
		for kind, body := range m {
			parse, ok := batchParsers[kind]
			if !ok {
				return nil, formatErr("%s: unknown operation %q", path, kind)
			}
			if ops[i], err = parse(body, path+"."+kind); err != nil {
				return nil, err
			}
		}
	}
	results := make([]updateResult, 0, len(ops))
	for _, op := range ops {
		if err := op(r.Context(), c); err != nil {
			return nil, err
		}
		results = append(results, s.result(wait))
	}
	return results, nil
}
