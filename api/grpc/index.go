package grpcapi

import (
	"context"
	"errors"
	"time"

	"github.com/qdrant/go-client/qdrant"

	"github.com/strata-db/strata"
)

// fieldTypes maps Qdrant's FieldType (the type of CreateFieldIndex) to
// Strata's.
var fieldTypes = map[qdrant.FieldType]strata.FieldType{
	qdrant.FieldType_FieldTypeKeyword:  strata.FieldKeyword,
	qdrant.FieldType_FieldTypeInteger:  strata.FieldInteger,
	qdrant.FieldType_FieldTypeFloat:    strata.FieldFloat,
	qdrant.FieldType_FieldTypeGeo:      strata.FieldGeo,
	qdrant.FieldType_FieldTypeText:     strata.FieldText,
	qdrant.FieldType_FieldTypeBool:     strata.FieldBool,
	qdrant.FieldType_FieldTypeDatetime: strata.FieldDatetime,
	qdrant.FieldType_FieldTypeUuid:     strata.FieldUUID,
}

// schemaTypes maps Strata's types to Qdrant's PayloadSchemaType (the type
// reported in collection info).
var schemaTypes = map[strata.FieldType]qdrant.PayloadSchemaType{
	strata.FieldKeyword:  qdrant.PayloadSchemaType_Keyword,
	strata.FieldInteger:  qdrant.PayloadSchemaType_Integer,
	strata.FieldFloat:    qdrant.PayloadSchemaType_Float,
	strata.FieldGeo:      qdrant.PayloadSchemaType_Geo,
	strata.FieldText:     qdrant.PayloadSchemaType_Text,
	strata.FieldBool:     qdrant.PayloadSchemaType_Bool,
	strata.FieldDatetime: qdrant.PayloadSchemaType_Datetime,
	strata.FieldUUID:     qdrant.PayloadSchemaType_Uuid,
}

func toSchemaType(t strata.FieldType) qdrant.PayloadSchemaType {
	return schemaTypes[t] // UnknownType for a type this package does not know
}

var tokenizers = map[qdrant.TokenizerType]string{
	qdrant.TokenizerType_Unknown:      "",
	qdrant.TokenizerType_Prefix:       "prefix",
	qdrant.TokenizerType_Whitespace:   "whitespace",
	qdrant.TokenizerType_Word:         "word",
	qdrant.TokenizerType_Multilingual: "multilingual",
}

// fieldSchema converts CreateFieldIndex's field_type and
// field_index_params. The type may be given by either; when both are
// given they must agree. The root validates the parameters.
func fieldSchema(ft *qdrant.FieldType, params *qdrant.PayloadIndexParams) (strata.FieldSchema, error) {
	var fs strata.FieldSchema
	if ft != nil {
		t, ok := fieldTypes[*ft]
		if !ok {
			return fs, formatErr("field_type: unknown value %d", *ft)
		}
		fs.Type = t
	}
	var t strata.FieldType
	switch p := params.GetIndexParams().(type) {
	case nil:
		if params != nil {
			return fs, formatErr("field_index_params: empty: expected the parameters of one index type")
		}
		if ft == nil {
			return fs, formatErr("field_type: missing; give a type (keyword, integer, float, geo, text, bool, datetime, uuid) or its parameters")
		}
		return fs, nil
	case *qdrant.PayloadIndexParams_KeywordIndexParams:
		t = strata.FieldKeyword
		fs.IsTenant, fs.OnDisk = p.KeywordIndexParams.GetIsTenant(), p.KeywordIndexParams.GetOnDisk()
	case *qdrant.PayloadIndexParams_IntegerIndexParams:
		t = strata.FieldInteger
		ip := p.IntegerIndexParams
		fs.Lookup, fs.Range = ip.Lookup, ip.Range
		fs.IsPrincipal, fs.OnDisk = ip.GetIsPrincipal(), ip.GetOnDisk()
	case *qdrant.PayloadIndexParams_FloatIndexParams:
		t = strata.FieldFloat
		fs.IsPrincipal, fs.OnDisk = p.FloatIndexParams.GetIsPrincipal(), p.FloatIndexParams.GetOnDisk()
	case *qdrant.PayloadIndexParams_GeoIndexParams:
		t = strata.FieldGeo
		fs.OnDisk = p.GeoIndexParams.GetOnDisk()
	case *qdrant.PayloadIndexParams_BoolIndexParams:
		t = strata.FieldBool
		fs.OnDisk = p.BoolIndexParams.GetOnDisk()
	case *qdrant.PayloadIndexParams_DatetimeIndexParams:
		t = strata.FieldDatetime
		fs.IsPrincipal, fs.OnDisk = p.DatetimeIndexParams.GetIsPrincipal(), p.DatetimeIndexParams.GetOnDisk()
	case *qdrant.PayloadIndexParams_UuidIndexParams:
		t = strata.FieldUUID
		fs.IsTenant, fs.OnDisk = p.UuidIndexParams.GetIsTenant(), p.UuidIndexParams.GetOnDisk()
	case *qdrant.PayloadIndexParams_TextIndexParams:
		t = strata.FieldText
		tp := p.TextIndexParams
		if tp.GetStemmer() != nil {
			return fs, unsupported("field_index_params.text_index_params.stemmer")
		}
		tok, ok := tokenizers[tp.GetTokenizer()]
		if !ok {
			return fs, formatErr("field_index_params.text_index_params.tokenizer: unknown value %d", tp.GetTokenizer())
		}
		fs.Tokenizer = tok
		fs.Lowercase = tp.Lowercase
		if tp.MinTokenLen != nil {
			n := clampInt(*tp.MinTokenLen)
			fs.MinTokenLen = &n
		}
		if tp.MaxTokenLen != nil {
			n := clampInt(*tp.MaxTokenLen)
			fs.MaxTokenLen = &n
		}
		fs.OnDisk = tp.GetOnDisk()
		fs.PhraseMatching = tp.GetPhraseMatching()
		fs.ASCIIFolding = tp.GetAsciiFolding()
		if sw := tp.GetStopwords(); sw != nil {
			fs.Stopwords = &strata.Stopwords{Languages: sw.GetLanguages(), Custom: sw.GetCustom()}
		}
	default:
		return fs, formatErr("field_index_params: unknown kind of parameters")
	}
	if fs.Type != "" && fs.Type != t {
		return fs, badRequest("field_index_params: %s parameters for a %s index", t, fs.Type)
	}
	fs.Type = t
	return fs, nil
}

// toIndexParams reports a schema's parameters as Qdrant's
// PayloadIndexParams when it has options beyond its type, else nil.
func toIndexParams(fs strata.FieldSchema) *qdrant.PayloadIndexParams {
	b := func(v bool) *bool {
		if !v {
			return nil
		}
		return &v
	}
	u := func(v *int) *uint64 {
		if v == nil {
			return nil
		}
		x := uint64(max(*v, 0))
		return &x
	}
	switch fs.Type {
	case strata.FieldKeyword:
		if fs.IsTenant || fs.OnDisk {
			return qdrant.NewPayloadIndexParamsKeyword(&qdrant.KeywordIndexParams{IsTenant: b(fs.IsTenant), OnDisk: b(fs.OnDisk)})
		}
	case strata.FieldInteger:
		if fs.Lookup != nil || fs.Range != nil || fs.IsPrincipal || fs.OnDisk {
			return qdrant.NewPayloadIndexParamsInt(&qdrant.IntegerIndexParams{Lookup: fs.Lookup, Range: fs.Range, IsPrincipal: b(fs.IsPrincipal), OnDisk: b(fs.OnDisk)})
		}
	case strata.FieldFloat:
		if fs.IsPrincipal || fs.OnDisk {
			return qdrant.NewPayloadIndexParamsFloat(&qdrant.FloatIndexParams{IsPrincipal: b(fs.IsPrincipal), OnDisk: b(fs.OnDisk)})
		}
	case strata.FieldGeo:
		if fs.OnDisk {
			return qdrant.NewPayloadIndexParamsGeo(&qdrant.GeoIndexParams{OnDisk: b(fs.OnDisk)})
		}
	case strata.FieldBool:
		if fs.OnDisk {
			return qdrant.NewPayloadIndexParamsBool(&qdrant.BoolIndexParams{OnDisk: b(fs.OnDisk)})
		}
	case strata.FieldDatetime:
		if fs.IsPrincipal || fs.OnDisk {
			return qdrant.NewPayloadIndexParamsDatetime(&qdrant.DatetimeIndexParams{IsPrincipal: b(fs.IsPrincipal), OnDisk: b(fs.OnDisk)})
		}
	case strata.FieldUUID:
		if fs.IsTenant || fs.OnDisk {
			return qdrant.NewPayloadIndexParamsUUID(&qdrant.UuidIndexParams{IsTenant: b(fs.IsTenant), OnDisk: b(fs.OnDisk)})
		}
	case strata.FieldText:
		tp := &qdrant.TextIndexParams{
			Lowercase:      fs.Lowercase,
			MinTokenLen:    u(fs.MinTokenLen),
			MaxTokenLen:    u(fs.MaxTokenLen),
			OnDisk:         b(fs.OnDisk),
			PhraseMatching: b(fs.PhraseMatching),
			AsciiFolding:   b(fs.ASCIIFolding),
		}
		for t, name := range tokenizers {
			if name == fs.Tokenizer && name != "" {
				tp.Tokenizer = t
			}
		}
		if fs.Tokenizer == "" {
			tp.Tokenizer = qdrant.TokenizerType_Word
		}
		if fs.Stopwords != nil {
			tp.Stopwords = &qdrant.StopwordsSet{Languages: fs.Stopwords.Languages, Custom: fs.Stopwords.Custom}
		}
		return qdrant.NewPayloadIndexParamsText(tp)
	}
	return nil
}

func (ps *pointsService) CreateFieldIndex(ctx context.Context, req *qdrant.CreateFieldIndexCollection) (*qdrant.PointsOperationResponse, error) {
	start := time.Now()
	c, err := ps.s.collection(req.GetCollectionName())
	if err != nil {
		return nil, err
	}
	fs, err := fieldSchema(req.FieldType, req.GetFieldIndexParams())
	if err != nil {
		return nil, err
	}
	if err := c.CreateFieldIndex(ctx, req.GetFieldName(), fs); err != nil {
		return nil, err
	}
	return &qdrant.PointsOperationResponse{Result: ps.s.updateResult(req.Wait), Time: since(start)}, nil
}

// DeleteFieldIndex drops a payload index; dropping one that does not exist
// succeeds, as in Qdrant.
func (ps *pointsService) DeleteFieldIndex(ctx context.Context, req *qdrant.DeleteFieldIndexCollection) (*qdrant.PointsOperationResponse, error) {
	start := time.Now()
	c, err := ps.s.collection(req.GetCollectionName())
	if err != nil {
		return nil, err
	}
	if err := c.DeleteFieldIndex(ctx, req.GetFieldName()); err != nil && !errors.Is(err, strata.ErrNotFound) {
		return nil, err
	}
	return &qdrant.PointsOperationResponse{Result: ps.s.updateResult(req.Wait), Time: since(start)}, nil
}
