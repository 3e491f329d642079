package dataset

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
)

// npyMagic starts every .npy file.
const npyMagic = "\x93NUMPY"

// maxNpyHeader bounds the header length a file may declare (NumPy itself
// writes a few hundred bytes at most).
const maxNpyHeader = 1 << 20

// npyHeader is the decoded header dictionary of a .npy file.
type npyHeader struct {
	Descr   string // dtype, e.g. "<f4"
	Fortran bool   // fortran_order
	Shape   []int
}

// String formats h as NumPy writes it (without padding).
func (h npyHeader) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "{'descr': %s, 'fortran_order': %s, 'shape': (", pyQuote(h.Descr), pyBool(h.Fortran))
	for i, d := range h.Shape {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(strconv.Itoa(d))
	}
	if len(h.Shape) == 1 {
		b.WriteString(",")
	}
	b.WriteString("), }")
	return b.String()
}

// pyQuote quotes s the way pyParser.str reads it back.
func pyQuote(s string) string {
	var b strings.Builder
	b.WriteByte('\'')
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '\\' || c == '\'' || c == '\n' {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	b.WriteByte('\'')
	return b.String()
}

func pyBool(v bool) string {
	if v {
		return "True"
	}
	return "False"
}

// ReadNpy reads a 2-D NumPy array (format version 1, 2 or 3) of
// little-endian float32 ('<f4') or uint8 ('|u1') in C order and returns its
// rows in one float32 slice.
func ReadNpy(path string) (data []float32, n, dim int, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, 0, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, 0, 0, err
	}
	r := bufio.NewReaderSize(f, 1<<20)
	// The preamble is at most 12 bytes; read it, then the header it sizes.
	pre := make([]byte, 12)
	k, err := io.ReadFull(r, pre)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return nil, 0, 0, fmt.Errorf("%s: %w", path, err)
	}
	pre = pre[:k]
	hlen, start, err := npyPreamble(pre)
	if err != nil {
		return nil, 0, 0, fmt.Errorf("%s: %w", path, err)
	}
	if int64(start)+int64(hlen) > st.Size() {
		return nil, 0, 0, fmt.Errorf("%s: npy header of %d bytes runs past the end of the %d-byte file", path, hlen, st.Size())
	}
	whole := make([]byte, start+hlen)
	copy(whole, pre)
	if len(pre) < len(whole) {
		if _, err := io.ReadFull(r, whole[len(pre):]); err != nil {
			return nil, 0, 0, fmt.Errorf("%s: reading npy header: %w", path, err)
		}
	} else {
		// The preamble read consumed part of the data; start over after the header.
		if _, err := f.Seek(int64(len(whole)), io.SeekStart); err != nil {
			return nil, 0, 0, fmt.Errorf("%s: %w", path, err)
		}
		r.Reset(f)
	}
	h, dataOff, err := decodeNpyHeader(whole)
	if err != nil {
		return nil, 0, 0, fmt.Errorf("%s: %w", path, err)
	}
	elem, err := npyElemSize(h.Descr)
	if err != nil {
		return nil, 0, 0, fmt.Errorf("%s: %w", path, err)
	}
	if h.Fortran {
		return nil, 0, 0, fmt.Errorf("%s: array is in Fortran order; save it with np.ascontiguousarray", path)
	}
	if len(h.Shape) != 2 {
		return nil, 0, 0, fmt.Errorf("%s: shape %v has %d dimensions; expected a 2-D array (rows, dim)", path, h.Shape, len(h.Shape))
	}
	n, dim = h.Shape[0], h.Shape[1]
	if dim < 1 || dim > MaxDim {
		return nil, 0, 0, fmt.Errorf("%s: shape %v: dimension %d is out of range 1..%d", path, h.Shape, dim, MaxDim)
	}
	avail := st.Size() - int64(dataOff)
	if int64(n) > avail/int64(dim*elem)+1 {
		return nil, 0, 0, fmt.Errorf("%s: shape %v needs more data than the %d bytes after the header: truncated", path, h.Shape, avail)
	}
	need := int64(n) * int64(dim) * int64(elem)
	switch {
	case need > avail:
		return nil, 0, 0, fmt.Errorf("%s: shape %v of %s needs %d data bytes, the file has %d: truncated", path, h.Shape, h.Descr, need, avail)
	case need < avail:
		return nil, 0, 0, fmt.Errorf("%s: shape %v of %s needs %d data bytes, the file has %d: %d trailing bytes", path, h.Shape, h.Descr, need, avail, avail-need)
	}
	data = make([]float32, n*dim)
	buf := make([]byte, 64*1024*elem)
	for off := 0; off < len(data); {
		m := min(len(data)-off, len(buf)/elem)
		if _, err := io.ReadFull(r, buf[:m*elem]); err != nil {
			return nil, 0, 0, fmt.Errorf("%s: reading data: %w", path, err)
		}
		if elem == 1 {
			for i, b := range buf[:m] {
				data[off+i] = float32(b)
			}
		} else {
			for i := range m {
				data[off+i] = math.Float32frombits(binary.LittleEndian.Uint32(buf[4*i:]))
			}
		}
		off += m
	}
	return data, n, dim, nil
}

// npyElemSize returns the item size of a supported dtype.
func npyElemSize(descr string) (int, error) {
	switch descr {
	case "<f4":
		return 4, nil
	case "|u1", "<u1", ">u1":
		return 1, nil
	case ">f4":
		return 0, fmt.Errorf("dtype %q is big-endian float32; only little-endian '<f4' and '|u1' are supported", descr)
	}
	return 0, fmt.Errorf("unsupported dtype %q: expected '<f4' (float32) or '|u1' (uint8); convert with arr.astype(np.float32)", descr)
}

// npyPreamble checks the magic and version in the first bytes of a file
// and returns the header length and where the header starts.
func npyPreamble(b []byte) (hlen, start int, err error) {
	if len(b) < 8 || string(b[:6]) != npyMagic {
		return 0, 0, errors.New("not a .npy file (missing \\x93NUMPY magic)")
	}
	switch major := b[6]; major {
	case 1:
		if len(b) < 10 {
			return 0, 0, errors.New("npy preamble truncated")
		}
		return int(binary.LittleEndian.Uint16(b[8:])), 10, nil
	case 2, 3:
		if len(b) < 12 {
			return 0, 0, errors.New("npy preamble truncated")
		}
		l := binary.LittleEndian.Uint32(b[8:])
		if l > maxNpyHeader {
			return 0, 0, fmt.Errorf("npy header length %d exceeds the limit %d", l, maxNpyHeader)
		}
		return int(l), 12, nil
	default:
		return 0, 0, fmt.Errorf("unsupported npy format version %d.%d (expected 1, 2 or 3)", major, b[7])
	}
}

// decodeNpyHeader parses the preamble and header dictionary at the start
// of b (which must hold the whole header) and returns the header and the
// offset of the array data.
func decodeNpyHeader(b []byte) (npyHeader, int, error) {
	hlen, start, err := npyPreamble(b)
	if err != nil {
		return npyHeader{}, 0, err
	}
	if len(b) < start+hlen {
		return npyHeader{}, 0, fmt.Errorf("npy header truncated: %d bytes declared, %d present", hlen, len(b)-start)
	}
	h, err := parseNpyDict(string(b[start : start+hlen]))
	if err != nil {
		return npyHeader{}, 0, fmt.Errorf("bad npy header: %w", err)
	}
	return h, start + hlen, nil
}

// parseNpyDict parses the Python literal dictionary of a .npy header:
// exactly the keys 'descr' (a string), 'fortran_order' (a bool) and 'shape'
// (a tuple of non-negative integers).
func parseNpyDict(s string) (npyHeader, error) {
	p := &pyParser{s: s}
	var h npyHeader
	p.space()
	if !p.eat('{') {
		return h, p.errorf("expected '{'")
	}
	seen := map[string]bool{}
	for {
		p.space()
		if p.eat('}') {
			break
		}
		key, err := p.str()
		if err != nil {
			return h, err
		}
		if seen[key] {
			return h, p.errorf("key %q given twice", key)
		}
		seen[key] = true
		p.space()
		if !p.eat(':') {
			return h, p.errorf("expected ':' after key %q", key)
		}
		p.space()
		switch key {
		case "descr":
			if p.peek() == '[' {
				return h, p.errorf("descr is a list: structured dtypes are not supported")
			}
			if h.Descr, err = p.str(); err != nil {
				return h, err
			}
		case "fortran_order":
			if h.Fortran, err = p.boolean(); err != nil {
				return h, err
			}
		case "shape":
			if h.Shape, err = p.tuple(); err != nil {
				return h, err
			}
		default:
			return h, p.errorf("unexpected key %q", key)
		}
		p.space()
		if p.eat(',') {
			continue
		}
		p.space()
		if !p.eat('}') {
			return h, p.errorf("expected ',' or '}'")
		}
		break
	}
	p.space()
	if p.i != len(p.s) {
		return h, p.errorf("unexpected text after the dictionary")
	}
	for _, k := range []string{"descr", "fortran_order", "shape"} {
		if !seen[k] {
			return h, fmt.Errorf("missing key %q", k)
		}
	}
	return h, nil
}

// pyParser scans a Python literal.
type pyParser struct {
	s string
	i int
}

func (p *pyParser) errorf(format string, args ...any) error {
	return fmt.Errorf("at byte %d: %s", p.i, fmt.Sprintf(format, args...))
}

func (p *pyParser) space() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t' || p.s[p.i] == '\n' || p.s[p.i] == '\r') {
		p.i++
	}
}

func (p *pyParser) peek() byte {
	if p.i < len(p.s) {
		return p.s[p.i]
	}
	return 0
}

func (p *pyParser) eat(c byte) bool {
	if p.peek() == c && p.i < len(p.s) {
		p.i++
		return true
	}
	return false
}

// str parses a quoted string (single or double quotes, backslash escapes
// taken literally).
func (p *pyParser) str() (string, error) {
	q := p.peek()
	if q != '\'' && q != '"' {
		return "", p.errorf("expected a quoted string")
	}
	p.i++
	var b strings.Builder
	for p.i < len(p.s) {
		c := p.s[p.i]
		p.i++
		switch {
		case c == q:
			return b.String(), nil
		case c == '\\' && p.i < len(p.s):
			b.WriteByte(p.s[p.i])
			p.i++
		case c == '\n':
			return "", p.errorf("unterminated string (newline)")
		default:
			b.WriteByte(c)
		}
	}
	return "", p.errorf("unterminated string")
}

func (p *pyParser) boolean() (bool, error) {
	switch {
	case strings.HasPrefix(p.s[p.i:], "True"):
		p.i += 4
		return true, nil
	case strings.HasPrefix(p.s[p.i:], "False"):
		p.i += 5
		return false, nil
	}
	return false, p.errorf("expected True or False")
}

// tuple parses "(a, b, ...)" of non-negative integers ("()", "(n,)" too).
// A trailing L (Python 2 long) is accepted.
func (p *pyParser) tuple() ([]int, error) {
	if !p.eat('(') {
		return nil, p.errorf("expected '(' to start the shape tuple")
	}
	dims := []int{}
	for {
		p.space()
		if p.eat(')') {
			return dims, nil
		}
		start := p.i
		for p.i < len(p.s) && p.s[p.i] >= '0' && p.s[p.i] <= '9' {
			p.i++
		}
		if p.i == start {
			return nil, p.errorf("expected a non-negative integer in the shape tuple")
		}
		v, err := strconv.ParseInt(p.s[start:p.i], 10, 64)
		if err != nil || v > math.MaxInt32*int64(MaxDim) {
			return nil, p.errorf("shape value %s is too large", p.s[start:p.i])
		}
		dims = append(dims, int(v))
		if p.peek() == 'L' || p.peek() == 'l' {
			p.i++
		}
		p.space()
		if p.eat(',') {
			continue
		}
		p.space()
		if !p.eat(')') {
			return nil, p.errorf("expected ',' or ')' in the shape tuple")
		}
		if len(dims) == 1 {
			// "(5)" is an int in Python, not a tuple.
			return nil, p.errorf("one-element shape needs a trailing comma")
		}
		return dims, nil
	}
}
