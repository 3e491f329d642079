// Package filter compiles Qdrant-style payload filters and evaluates them
// against a point's id and JSON payload.
//
// This is the scanning evaluator: it decodes a payload once per evaluation
// and walks the condition tree. Payload field indexes and cardinality
// estimates come later; the grammar here is the subset the engine needs now
// (must / should / must_not, nested clauses, has_id, exact match of a
// keyword, integer or bool), with Qdrant's semantics for arrays (a condition
// on an array matches if any element matches) and missing fields (a missing
// field matches no match condition).
package filter

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	
	"github.com/strata-db/strata/internal/base"
)

// Matcher is a compiled, validated filter. It is safe for concurrent use.
type Matcher struct {
	root       node
	needsValue bool // whether any condition reads the payload
}

type node interface {
	eval(id base.PointID, doc any) bool
}

// Compile validates f and returns its matcher. A nil f matches everything
// (Compile returns a nil *Matcher, whose Match reports true). Errors match
// base.ErrInvalidArgument and name the path of the bad part
// ("filter.must[2].match.value: ...").
func Compile(f *Filter) (*Matcher, error) {
	if f == nil {
		return nil, nil
	}
	m := &Matcher{}
	root, err := m.compileFilter(f, "filter")
	if err != nil {
		return nil, err
	}
	m.root = root
	return m, nil
}

// NeedsPayload reports whether evaluation reads the payload.
func (m *Matcher) NeedsPayload() bool { return m != nil && m.needsValue }

// Match evaluates the filter for a point.
func (m *Matcher) Match(id base.PointID, payload []byte) bool {
	if m == nil {
		return true
	}
	var doc any
	if m.needsValue && len(payload) > 0 {
		d := json.NewDecoder(bytes.NewReader(payload))
		d.UseNumber()
		if err := d.Decode(&doc); err != nil {
			doc = nil
		}
	}
	return m.root.eval(id, doc)
}

type boolNode struct {
	must, should, mustNot []node
}

func (b *boolNode) eval(id base.PointID, doc any) bool {
	for _, n := range b.must {
		if !n.eval(id, doc) {
			return false
		}
	}
	for _, n := range b.mustNot {
		if n.eval(id, doc) {
			return false
		}
	}
	if len(b.should) == 0 {
		return true
	}
	for _, n := range b.should {
		if n.eval(id, doc) {
			return true
		}
	}
	return false
}

type hasIDNode struct{ ids map[base.PointID]struct{} }

func (h *hasIDNode) eval(id base.PointID, _ any) bool {
	_, ok := h.ids[id]
	return ok
}

type matchNode struct {
	path Path
	want scalar
}

func (mn *matchNode) eval(_ base.PointID, doc any) bool {
	found := false
	Values(doc, mn.path, func(v any) bool {
		if mn.want.equal(v) {
			found = true
			return false
		}
		return true
	})
	return found
}

func (m *Matcher) compileFilter(f *Filter, path string) (node, error) {
	b := &boolNode{}
	var err error
	if b.must, err = m.compileList(f.Must, path+".must"); err != nil {
		return nil, err
	}
	if b.should, err = m.compileList(f.Should, path+".should"); err != nil {
		return nil, err
	}
	if b.mustNot, err = m.compileList(f.MustNot, path+".must_not"); err != nil {
		return nil, err
	}
	return b, nil
}

func (m *Matcher) compileList(cs []Condition, path string) ([]node, error) {
	out := make([]node, 0, len(cs))
	for i := range cs {
		n, err := m.compileCondition(&cs[i], fmt.Sprintf("%s[%d]", path, i))
		if err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, nil
}

func (m *Matcher) compileCondition(c *Condition, path string) (node, error) {
	set := 0
	if c.Match != nil {
		set++
	}
	if c.HasID != nil {
		set++
	}
	if c.Filter != nil {
		set++
	}
	if set != 1 {
		return nil, base.InvalidArgumentf("%s: a condition needs exactly one of match, has_id or a nested filter", path)
	}
	switch {
	case c.Filter != nil:
		return m.compileFilter(c.Filter, path)
	case c.HasID != nil:
		ids := make(map[base.PointID]struct{}, len(c.HasID))
		for _, id := range c.HasID {
			ids[id] = struct{}{}
		}
		return &hasIDNode{ids: ids}, nil
	}
	steps, err := ParsePath(c.Key)
	if err != nil {
		return nil, base.InvalidArgumentf("%s.key: %v", path, err)
	}
	want, err := toScalar(c.Match.Value)
	if err != nil {
		return nil, base.InvalidArgumentf("%s.match.value: %v", path, err)
	}
	m.needsValue = true
	return &matchNode{path: steps, want: want}, nil
}

type scalarKind uint8

const (
	kindString scalarKind = iota
	kindInt
	kindBool
)

type scalar struct {
	kind scalarKind
	s    string
	i    int64
	b    bool
}

func toScalar(v any) (scalar, error) {
	switch x := v.(type) {
	case string:
		return scalar{kind: kindString, s: x}, nil
	case bool:
		return scalar{kind: kindBool, b: x}, nil
	case int:
		return scalar{kind: kindInt, i: int64(x)}, nil
	case int32:
		return scalar{kind: kindInt, i: int64(x)}, nil
	case int64:
		return scalar{kind: kindInt, i: x}, nil
	case uint32:
		return scalar{kind: kindInt, i: int64(x)}, nil
	case uint64:
		if x > math.MaxInt64 {
			return scalar{}, fmt.Errorf("integer %d out of range", x)
		}
		return scalar{kind: kindInt, i: int64(x)}, nil
	case float64:
		if x != math.Trunc(x) || math.Abs(x) > 1<<53 {
			return scalar{}, fmt.Errorf("expected a keyword, integer or bool, got %v", x)
		}
		return scalar{kind: kindInt, i: int64(x)}, nil
	case json.Number:
		i, err := strconv.ParseInt(string(x), 10, 64)
		if err != nil {
			return scalar{}, fmt.Errorf("expected a keyword, integer or bool, got %s", x)
		}
		return scalar{kind: kindInt, i: i}, nil
	case nil:
		return scalar{}, fmt.Errorf("missing value")
	}
	return scalar{}, fmt.Errorf("expected a keyword, integer or bool, got %T", v)
}

func (s scalar) equal(v any) bool {
	switch s.kind {
	case kindString:
		x, ok := v.(string)
		return ok && x == s.s
	case kindBool:
		x, ok := v.(bool)
		return ok && x == s.b
	case kindInt:
		x, ok := v.(json.Number)
		if !ok {
			return false
		}
		i, err := strconv.ParseInt(string(x), 10, 64)
		return err == nil && i == s.i
	}
	return false
}
