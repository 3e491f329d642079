package filter

import (
	"encoding/json"
	"time"

	"github.com/strata-db/strata/internal/base"
)

// MarshalJSON encodes f in Qdrant's REST JSON form; ParseJSON decodes it
// back to an equal Filter (condition lists always as arrays).
func (f Filter) MarshalJSON() ([]byte, error) {
	type minShouldJSON struct {
		Conditions []Condition `json:"conditions"`
		MinCount   int         `json:"min_count"`
	}
	out := struct {
		Must      []Condition    `json:"must,omitempty"`
		Should    []Condition    `json:"should,omitempty"`
		MustNot   []Condition    `json:"must_not,omitempty"`
		MinShould *minShouldJSON `json:"min_should,omitempty"`
	}{Must: f.Must, Should: f.Should, MustNot: f.MustNot}
	if ms := f.MinShould; ms != nil {
		out.MinShould = &minShouldJSON{Conditions: ms.Conditions, MinCount: ms.MinCount}
		if out.MinShould.Conditions == nil {
			out.MinShould.Conditions = []Condition{}
		}
	}
	return json.Marshal(out)
}

type keyJSON struct {
	Key string `json:"key"`
}

type matchJSON struct {
	Value   any    `json:"value,omitempty"`
	Any     *[]any `json:"any,omitempty"` // a pointer, so that [] is kept
	Except  *[]any `json:"except,omitempty"`
	Text    string `json:"text,omitempty"`
	TextAny string `json:"text_any,omitempty"`
	Phrase  string `json:"phrase,omitempty"`
	Prefix  string `json:"prefix,omitempty"`
}

type rangeJSON[T any] struct {
	GT  *T `json:"gt,omitempty"`
	GTE *T `json:"gte,omitempty"`
	LT  *T `json:"lt,omitempty"`
	LTE *T `json:"lte,omitempty"`
}

type boxJSON struct {
	TopLeft     GeoPoint `json:"top_left"`
	BottomRight GeoPoint `json:"bottom_right"`
}

type radiusJSON struct {
	Center GeoPoint `json:"center"`
	Radius float64  `json:"radius"`
}

type ringJSON struct {
	Points []GeoPoint `json:"points"`
}

type polygonJSON struct {
	Exterior  ringJSON   `json:"exterior"`
	Interiors []ringJSON `json:"interiors,omitempty"`
}

type fieldJSON struct {
	Key            string          `json:"key"`
	Match          *matchJSON      `json:"match,omitempty"`
	Range          any             `json:"range,omitempty"`
	GeoBoundingBox *boxJSON        `json:"geo_bounding_box,omitempty"`
	GeoRadius      *radiusJSON     `json:"geo_radius,omitempty"`
	GeoPolygon     *polygonJSON    `json:"geo_polygon,omitempty"`
	ValuesCount    *rangeJSON[int] `json:"values_count,omitempty"`
	IsEmpty        bool            `json:"is_empty,omitempty"`
	IsNull         bool            `json:"is_null,omitempty"`
}

// MarshalJSON encodes c in Qdrant's REST JSON form. A field condition with
// IsEmpty or IsNull alone uses the {"is_empty": {"key": k}} form. It fails
// for a condition that is not exactly one kind or that has both a Range
// and a DatetimeRange (one JSON object has one "range").
func (c Condition) MarshalJSON() ([]byte, error) {
	ks := kinds(&c)
	if len(ks) != 1 {
		return nil, base.InvalidArgumentf("condition: cannot encode a condition of %d kinds", len(ks))
	}
	switch ks[0] {
	case "has_id":
		ids := make([]any, len(c.HasID))
		for i, id := range c.HasID {
			if id.IsUUID() {
				ids[i] = id.String()
			} else {
				ids[i] = id.Num()
			}
		}
		return json.Marshal(struct {
			HasID []any `json:"has_id"`
		}{ids})
	case "has_vector":
		return json.Marshal(struct {
			HasVector string `json:"has_vector"`
		}{*c.HasVector})
	case "nested":
		return json.Marshal(struct {
			Nested struct {
				Key    string `json:"key"`
				Filter Filter `json:"filter"`
			} `json:"nested"`
		}{Nested: struct {
			Key    string `json:"key"`
			Filter Filter `json:"filter"`
		}{c.Nested.Key, c.Nested.Filter}})
	case "filter":
		return c.Filter.MarshalJSON()
	}
	alone := c.Match == nil && c.Range == nil && c.DatetimeRange == nil && c.GeoBoundingBox == nil &&
		c.GeoRadius == nil && c.GeoPolygon == nil && c.ValuesCount == nil
	switch {
	case alone && c.IsEmpty && !c.IsNull:
		return json.Marshal(struct {
			IsEmpty keyJSON `json:"is_empty"`
		}{keyJSON{c.Key}})
	case alone && c.IsNull && !c.IsEmpty:
		return json.Marshal(struct {
			IsNull keyJSON `json:"is_null"`
		}{keyJSON{c.Key}})
	}
	out := fieldJSON{Key: c.Key, IsEmpty: c.IsEmpty, IsNull: c.IsNull}
	if m := c.Match; m != nil {
		mj, err := encodeMatch(m)
		if err != nil {
			return nil, err
		}
		out.Match = mj
	}
	switch {
	case c.Range != nil && c.DatetimeRange != nil:
		return nil, base.InvalidArgumentf("condition: cannot encode both range and datetime range on %q", c.Key)
	case c.Range != nil:
		out.Range = rangeJSON[float64]{c.Range.GT, c.Range.GTE, c.Range.LT, c.Range.LTE}
	case c.DatetimeRange != nil:
		r := c.DatetimeRange
		out.Range = rangeJSON[string]{timeString(r.GT), timeString(r.GTE), timeString(r.LT), timeString(r.LTE)}
	}
	if b := c.GeoBoundingBox; b != nil {
		out.GeoBoundingBox = &boxJSON{b.TopLeft, b.BottomRight}
	}
	if r := c.GeoRadius; r != nil {
		out.GeoRadius = &radiusJSON{r.Center, r.Radius}
	}
	if g := c.GeoPolygon; g != nil {
		out.GeoPolygon = &polygonJSON{Exterior: ringJSON{g.Exterior.Points}}
		if out.GeoPolygon.Exterior.Points == nil {
			out.GeoPolygon.Exterior.Points = []GeoPoint{}
		}
		for _, in := range g.Interiors {
			out.GeoPolygon.Interiors = append(out.GeoPolygon.Interiors, ringJSON{in.Points})
		}
	}
	if v := c.ValuesCount; v != nil {
		out.ValuesCount = &rangeJSON[int]{v.GT, v.GTE, v.LT, v.LTE}
	}
	return json.Marshal(out)
}

func timeString(t *time.Time) *string {
	if t == nil {
		return nil
	}
	s := t.UTC().Format(time.RFC3339Nano)
	return &s
}

func encodeMatch(m *Match) (*matchJSON, error) {
	out := &matchJSON{Text: m.Text, TextAny: m.TextAny, Phrase: m.Phrase, Prefix: m.Prefix}
	if m.Value != nil {
		v, err := normScalar(m.Value)
		if err != nil {
			return nil, base.InvalidArgumentf("match.value: %v", err)
		}
		out.Value = v
	}
	list := func(vs []any, name string) ([]any, error) {
		out := make([]any, len(vs))
		for i, v := range vs {
			s, err := normScalar(v)
			if err != nil {
				return nil, base.InvalidArgumentf("match.%s[%d]: %v", name, i, err)
			}
			out[i] = s
		}
		return out, nil
	}
	if m.Any != nil {
		l, err := list(m.Any, "any")
		if err != nil {
			return nil, err
		}
		out.Any = &l
	}
	if m.Except != nil {
		l, err := list(m.Except, "except")
		if err != nil {
			return nil, err
		}
		out.Except = &l
	}
	return out, nil
}
