package rest

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/strata-db/strata"
)

type createFieldIndexRequest struct {
	FieldName   *string         `json:"field_name"`
	FieldSchema json.RawMessage `json:"field_schema"`
	// FieldType is the name older clients use for field_schema.
	FieldType json.RawMessage `json:"field_type"`
}

// fieldSchemaJSON is Qdrant's PayloadSchemaParams (the union of every
// index type's parameters).
type fieldSchemaJSON struct {
	Type           *string         `json:"type"`
	IsTenant       *bool           `json:"is_tenant"`
	IsPrincipal    *bool           `json:"is_principal"`
	OnDisk         *bool           `json:"on_disk"`
	Memory         json.RawMessage `json:"memory"`
	EnableHNSW     *bool           `json:"enable_hnsw"`
	Prefix         *bool           `json:"prefix"`
	Lookup         *bool           `json:"lookup"`
	Range          *bool           `json:"range"`
	Tokenizer      *string         `json:"tokenizer"`
	MinTokenLen    *int            `json:"min_token_len"`
	MaxTokenLen    *int            `json:"max_token_len"`
	Lowercase      *bool           `json:"lowercase"`
	ASCIIFolding   *bool           `json:"ascii_folding"`
	PhraseMatching *bool           `json:"phrase_matching"`
	Stopwords      json.RawMessage `json:"stopwords"`
	Stemmer        json.RawMessage `json:"stemmer"`
}

// parseFieldSchema decodes PayloadFieldSchema: a type name or an object
// of parameters. The root validates the type and the parameters.
func parseFieldSchema(raw json.RawMessage, path string) (strata.FieldSchema, error) {
	var fs strata.FieldSchema
	switch first(raw) {
	case 0, 'n':
		return fs, formatErr("%s: missing; give a type (keyword, integer, float, geo, text, bool, datetime, uuid) or its parameters", path)
	case '"':
		var t string
		if err := unmarshal(raw, &t, path); err != nil {
			return fs, err
		}
		fs.Type = strata.FieldType(t)
		return fs, nil
	case '{':
	default:
		return fs, formatErr("%s: expected a type name or an object of parameters, got %s", path, jsonKind(raw))
	}
	var p fieldSchemaJSON
	if err := unmarshal(raw, &p, path); err != nil {
		return fs, err
	}
	if p.Type == nil {
		return fs, formatErr("%s: missing field `type`", path)
	}
	if !isNull(p.Stemmer) {
		return fs, unsupported("%s.stemmer", path)
	}
	fs.Type = strata.FieldType(*p.Type)
	fs.Lookup, fs.Range = p.Lookup, p.Range
	fs.Prefix = p.Prefix != nil && *p.Prefix
	fs.IsTenant = p.IsTenant != nil && *p.IsTenant
	fs.IsPrincipal = p.IsPrincipal != nil && *p.IsPrincipal
	fs.OnDisk = p.OnDisk != nil && *p.OnDisk
	if p.Tokenizer != nil {
		fs.Tokenizer = *p.Tokenizer
	}
	for _, n := range []*int{p.MinTokenLen, p.MaxTokenLen} {
		if n != nil && *n < 0 {
			return fs, formatErr("%s: token lengths may not be negative", path)
		}
	}
	fs.MinTokenLen, fs.MaxTokenLen, fs.Lowercase = p.MinTokenLen, p.MaxTokenLen, p.Lowercase
	fs.ASCIIFolding = p.ASCIIFolding != nil && *p.ASCIIFolding
	fs.PhraseMatching = p.PhraseMatching != nil && *p.PhraseMatching
	switch first(p.Stopwords) {
	case 0, 'n':
	case '"': // one language
		var lang string
		if err := unmarshal(p.Stopwords, &lang, path+".stopwords"); err != nil {
			return fs, err
		}
		fs.Stopwords = &strata.Stopwords{Languages: []string{lang}}
	default:
		var sw strata.Stopwords
		if err := unmarshal(p.Stopwords, &sw, path+".stopwords"); err != nil {
			return fs, err
		}
		fs.Stopwords = &sw
	}
	return fs, nil
}

func (s *server) createFieldIndex(r *http.Request) (any, error) {
	c, err := s.collection(r)
	if err != nil {
		return nil, err
	}
	wait, err := waitParam(r)
	if err != nil {
		return nil, err
	}
	var req createFieldIndexRequest
	if err := decodeBody(r, &req); err != nil {
		return nil, err
	}
	if req.FieldName == nil {
		return nil, formatErr("body: missing field `field_name`")
	}
	raw, path := req.FieldSchema, "field_schema"
	if isNull(raw) && !isNull(req.FieldType) {
		raw, path = req.FieldType, "field_type"
	}
	fs, err := parseFieldSchema(raw, path)
	if err != nil {
		return nil, err
	}
	if err := c.CreateFieldIndex(r.Context(), *req.FieldName, fs); err != nil {
		return nil, err
	}
	return s.result(wait), nil
}

// deleteFieldIndex drops a payload index; dropping one that does not
// exist succeeds, as in Qdrant.
func (s *server) deleteFieldIndex(r *http.Request) (any, error) {
	c, err := s.collection(r)
	if err != nil {
		return nil, err
	}
	wait, err := waitParam(r)
	if err != nil {
		return nil, err
	}
	if err := c.DeleteFieldIndex(r.Context(), r.PathValue("field_name")); err != nil && !errors.Is(err, strata.ErrNotFound) {
		return nil, err
	}
	return s.result(wait), nil
}
