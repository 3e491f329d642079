package filter

// FieldType is a payload index type, named as in Qdrant.
type FieldType string

const (
	TypeKeyword  FieldType = "keyword"
	TypeInteger  FieldType = "integer"
	TypeFloat    FieldType = "float"
	TypeBool     FieldType = "bool"
	TypeGeo      FieldType = "geo"
	TypeDatetime FieldType = "datetime"
	TypeUUID     FieldType = "uuid"
	TypeText     FieldType = "text"
)

// FieldSchema describes a payload field index: its type and the parameters
// of that type (Qdrant's PayloadSchemaParams). Nil pointers take the
// documented defaults. It is persisted as JSON in the collection config.
type FieldSchema struct {
	Type FieldType `json:"type"`

	// integer: which queries the index serves (both default true).
	Lookup *bool `json:"lookup,omitempty"`
	Range  *bool `json:"range,omitempty"`

	// keyword: serve match.prefix from the index (default false).
	Prefix bool `json:"prefix,omitempty"`

	// Accepted for compatibility; they do not change how Strata stores
	// the index.
	IsTenant    bool `json:"is_tenant,omitempty"`
	IsPrincipal bool `json:"is_principal,omitempty"`
	OnDisk      bool `json:"on_disk,omitempty"`

	// text: see package text.
	Tokenizer      string     `json:"tokenizer,omitempty"` // word (default), whitespace, prefix, multilingual
	MinTokenLen    *int       `json:"min_token_len,omitempty"`
	MaxTokenLen    *int       `json:"max_token_len,omitempty"`
	Lowercase      *bool      `json:"lowercase,omitempty"` // default true
	ASCIIFolding   bool       `json:"ascii_folding,omitempty"`
	PhraseMatching bool       `json:"phrase_matching,omitempty"`
	Stopwords      *Stopwords `json:"stopwords,omitempty"`
}

// Stopwords are tokens a text index ignores: the built-in lists of
// Languages plus Custom.
type Stopwords struct {
	Languages []string `json:"languages,omitempty"`
	Custom    []string `json:"custom,omitempty"`
}
