package dataset

import (
	"bytes"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// --- file builders ---

func le32(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }

// fvecs encodes rows as .fvecs.
func fvecs(rows ...[]float32) []byte {
	var b []byte
	for _, r := range rows {
		b = append(b, le32(uint32(len(r)))...)
		for _, v := range r {
			b = append(b, le32(math.Float32bits(v))...)
		}
	}
	return b
}

func bvecs(rows ...[]byte) []byte {
	var b []byte
	for _, r := range rows {
		b = append(b, le32(uint32(len(r)))...)
		b = append(b, r...)
	}
	return b
}

func ivecs(rows ...[]int32) []byte {
	var b []byte
	for _, r := range rows {
		b = append(b, le32(uint32(len(r)))...)
		for _, v := range r {
			b = append(b, le32(uint32(v))...)
		}
	}
	return b
}

// npyFile builds a .npy file of the given version with header dict hdr
// (padded as NumPy pads it) followed by data.
func npyFile(major byte, hdr string, data []byte) []byte {
	pre := 10
	if major >= 2 {
		pre = 12
	}
	total := pre + len(hdr) + 1
	pad := (64 - total%64) % 64
	h := hdr + strings.Repeat(" ", pad) + "\n"
	b := []byte(npyMagic)
	b = append(b, major, 0)
	if major >= 2 {
		b = append(b, le32(uint32(len(h)))...)
	} else {
		b = binary.LittleEndian.AppendUint16(b, uint16(len(h)))
	}
	b = append(b, h...)
	return append(b, data...)
}

func f32bytes(vs ...float32) []byte {
	var b []byte
	for _, v := range vs {
		b = append(b, le32(math.Float32bits(v))...)
	}
	return b
}

func writeFile(t *testing.T, dir, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

type vecCase struct {
	name    string
	file    []byte
	n, dim  int
	data    []float32
	wantErr string // substring of the error; "" for success
}

func runVecCases(t *testing.T, ext string, read func(string) ([]float32, int, int, error), cases []vecCase) {
	t.Helper()
	dir := t.TempDir()
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := writeFile(t, dir, strings.Repeat("x", i+1)+ext, tc.file)
			data, n, dim, err := read(p)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tc.wantErr)
				}
				if !strings.Contains(err.Error(), p) {
					t.Errorf("error %q does not name the file", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if n != tc.n || dim != tc.dim || !reflect.DeepEqual(data, tc.data) {
				t.Fatalf("got n=%d dim=%d data=%v, want n=%d dim=%d data=%v", n, dim, data, tc.n, tc.dim, tc.data)
			}
		})
	}
}

func TestReadFvecs(t *testing.T) {
	good := fvecs([]float32{1, 2, 3}, []float32{-4, 5.5, float32(math.Inf(1))})
	runVecCases(t, ".fvecs", ReadFvecs, []vecCase{
		{name: "two rows", file: good, n: 2, dim: 3, data: []float32{1, 2, 3, -4, 5.5, float32(math.Inf(1))}},
		{name: "one row dim 1", file: fvecs([]float32{7}), n: 1, dim: 1, data: []float32{7}},
		{name: "empty", file: nil, wantErr: "empty file"},
		{name: "short header", file: []byte{3, 0}, wantErr: "too short"},
		{name: "truncated", file: good[:len(good)-2], wantErr: "not a multiple of the record size"},
		{name: "extra bytes", file: append(append([]byte{}, good...), 0, 0, 0, 0, 0), wantErr: "not a multiple"},
		{name: "zero dim", file: le32(0), wantErr: "dimension 0"},
		{name: "negative dim", file: append(le32(math.MaxUint32), 0, 0, 0, 0), wantErr: "dimension -1"},
		{name: "huge dim", file: le32(1 << 30), wantErr: "expected 1.."},
		{name: "dim changes", file: append(fvecs([]float32{1, 2}), fvecs([]float32{3})...), wantErr: "not a multiple"},
		{name: "dim header differs", file: append(fvecs([]float32{1, 2}), append(le32(1), f32bytes(3, 4)...)...),
			wantErr: "record 1 declares dimension 1"},
	})
}

func TestReadBvecs(t *testing.T) {
	good := bvecs([]byte{0, 1, 255}, []byte{9, 8, 7})
	runVecCases(t, ".bvecs", ReadBvecs, []vecCase{
		{name: "two rows", file: good, n: 2, dim: 3, data: []float32{0, 1, 255, 9, 8, 7}},
		{name: "truncated", file: good[:len(good)-1], wantErr: "not a multiple"},
		{name: "fvecs read as bvecs", file: fvecs([]float32{1, 2, 3}), wantErr: "not a multiple"},
		{name: "dim header differs", file: append(bvecs([]byte{1, 2}), 3, 0, 0, 0, 1, 2), wantErr: "record 1 declares dimension 3"},
		{name: "empty", file: []byte{}, wantErr: "empty"},
	})
}

func TestReadIvecs(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		name    string
		file    []byte
		want    [][]int32
		wantErr string
	}{
		{name: "rows", file: ivecs([]int32{1, 2, 3}, []int32{-1, 0, 7}), want: [][]int32{{1, 2, 3}, {-1, 0, 7}}},
		{name: "ragged rows", file: ivecs([]int32{1}, []int32{}, []int32{2, 3}), want: [][]int32{{1}, {}, {2, 3}}},
		{name: "empty", file: nil, wantErr: "empty file"},
		{name: "truncated row", file: ivecs([]int32{1, 2, 3})[:14], wantErr: "record 0 (offset 0) is truncated"},
		{name: "trailing bytes", file: append(ivecs([]int32{1}), 1, 0), wantErr: "record 1: 2 trailing bytes"},
		{name: "negative length", file: le32(math.MaxUint32 - 4), wantErr: "declares length -5"},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := writeFile(t, dir, strings.Repeat("i", i+1)+".ivecs", tc.file)
			got, err := ReadIvecs(p)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestReadNpy(t *testing.T) {
	const f4x23 = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }"
	six := f32bytes(1, 2, 3, 4, 5, 6)
	// Exactly what numpy 1.24 np.save writes for np.arange(6, dtype=np.uint8).reshape(3, 2).
	numpyU1 := append([]byte("\x93NUMPY\x01\x00v\x00{'descr': '|u1', 'fortran_order': False, 'shape': (3, 2), }"+
		strings.Repeat(" ", 58)+"\n"), 0, 1, 2, 3, 4, 5)
	// What write_array(..., version=(2, 0)) writes for np.zeros((2, 3), np.float32).
	numpyV2 := append([]byte("\x93NUMPY\x02\x00t\x00\x00\x00{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }"+
		strings.Repeat(" ", 56)+"\n"), make([]byte, 24)...)
	runVecCases(t, ".npy", ReadNpy, []vecCase{
		{name: "v1 f4", file: npyFile(1, f4x23, six), n: 2, dim: 3, data: []float32{1, 2, 3, 4, 5, 6}},
		{name: "v2 f4", file: npyFile(2, f4x23, six), n: 2, dim: 3, data: []float32{1, 2, 3, 4, 5, 6}},
		{name: "v3 f4", file: npyFile(3, f4x23, six), n: 2, dim: 3, data: []float32{1, 2, 3, 4, 5, 6}},
		{name: "numpy u1", file: numpyU1, n: 3, dim: 2, data: []float32{0, 1, 2, 3, 4, 5}},
		{name: "numpy v2", file: numpyV2, n: 2, dim: 3, data: make([]float32, 6)},
		{name: "zero rows", file: npyFile(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (0, 3), }", nil), n: 0, dim: 3, data: []float32{}},
		{name: "double quotes, key order, no spaces", file: npyFile(1, `{"shape":(1,2),"fortran_order":False,"descr":"<f4"}`, f32bytes(1, 2)),
			n: 1, dim: 2, data: []float32{1, 2}},
		{name: "python2 longs", file: npyFile(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1L, 2L), }", f32bytes(1, 2)),
			n: 1, dim: 2, data: []float32{1, 2}},
		{name: "truncated data", file: npyFile(1, f4x23, six[:20]), wantErr: "truncated"},
		{name: "trailing data", file: npyFile(1, f4x23, append(six, 0)), wantErr: "1 trailing bytes"},
		{name: "huge shape", file: npyFile(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1000000000000, 1000), }", six), wantErr: "truncated"},
		{name: "shape overflow", file: npyFile(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999, 1), }", six), wantErr: "too large"},
		{name: "fortran", file: npyFile(1, "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }", six), wantErr: "Fortran order"},
		{name: "1-D", file: npyFile(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (6,), }", six), wantErr: "expected a 2-D array"},
		{name: "3-D", file: npyFile(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2, 3), }", six), wantErr: "expected a 2-D array"},
		{name: "zero dim", file: npyFile(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 0), }", nil), wantErr: "dimension 0"},
		{name: "big endian", file: npyFile(1, "{'descr': '>f4', 'fortran_order': False, 'shape': (2, 3), }", six), wantErr: "big-endian"},
		{name: "float64", file: npyFile(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (1, 3), }", six), wantErr: `unsupported dtype "<f8"`},
		{name: "structured", file: npyFile(1, "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2, 3), }", six), wantErr: "structured"},
		{name: "bad magic", file: append([]byte("\x93NUMPZ\x01\x00"), six...), wantErr: "not a .npy file"},
		{name: "tiny", file: []byte("\x93NU"), wantErr: "not a .npy file"},
		{name: "bad version", file: append([]byte("\x93NUMPY\x07\x00\x00\x00"), six...), wantErr: "version 7.0"},
		{name: "header past end", file: []byte("\x93NUMPY\x01\x00\xff\x00{'descr'"), wantErr: "runs past the end"},
		{name: "v2 header limit", file: append([]byte("\x93NUMPY\x02\x00\xff\xff\xff\x7f"), six...), wantErr: "exceeds the limit"},
		{name: "missing key", file: npyFile(1, "{'descr': '<f4', 'shape': (2, 3), }", six), wantErr: `missing key "fortran_order"`},
		{name: "unknown key", file: npyFile(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), 'x': 1}", six), wantErr: `unexpected key "x"`},
		{name: "duplicate key", file: npyFile(1, "{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (2, 3)}", six), wantErr: "given twice"},
		{name: "not a dict", file: npyFile(1, "['descr']", six), wantErr: "expected '{'"},
		{name: "unterminated", file: npyFile(1, "{'descr': '<f4", six), wantErr: "unterminated string"},
		{name: "garbage after", file: npyFile(1, f4x23+" x", six), wantErr: "unexpected text"},
		{name: "bad bool", file: npyFile(1, "{'descr': '<f4', 'fortran_order': 0, 'shape': (2, 3), }", six), wantErr: "True or False"},
		{name: "paren int", file: npyFile(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (6), }", six), wantErr: "trailing comma"},
		{name: "negative shape", file: npyFile(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (-2, 3), }", six), wantErr: "non-negative integer"},
	})
}

func TestNpyHeaderString(t *testing.T) {
	for _, h := range []npyHeader{
		{Descr: "<f4", Shape: []int{2, 3}},
		{Descr: "|u1", Fortran: true, Shape: []int{5}},
		{Descr: `it's \ odd` + "\n", Shape: []int{}},
	} {
		got, err := parseNpyDict(h.String())
		if err != nil {
			t.Fatalf("%s: %v", h, err)
		}
		if !reflect.DeepEqual(got, h) {
			t.Fatalf("round trip of %s: got %+v", h, got)
		}
	}
}

// FuzzNpyHeader feeds arbitrary bytes to the header decoder: it must not
// panic, must report an offset inside its input, and what it accepts must
// survive a format / parse round trip.
func FuzzNpyHeader(f *testing.F) {
	f.Add(npyFile(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", nil))
	f.Add(npyFile(2, "{'descr': '|u1', 'fortran_order': True, 'shape': (7,), }", nil))
	f.Add(npyFile(1, `{"shape":(1L,2L),"descr":"<f4","fortran_order":False}`, nil))
	f.Add(npyFile(1, "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (), }", nil))
	f.Add([]byte("\x93NUMPY\x03\x00\x05\x00\x00\x00{}   "))
	f.Add([]byte("\x93NUMPY\x01\x00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		h, off, err := decodeNpyHeader(b)
		if err != nil {
			return
		}
		if off > len(b) || off < 10 {
			t.Fatalf("data offset %d outside the %d-byte input", off, len(b))
		}
		for _, d := range h.Shape {
			if d < 0 {
				t.Fatalf("negative dimension in %v", h.Shape)
			}
		}
		h2, err := parseNpyDict(h.String())
		if err != nil {
			t.Fatalf("re-parse of %q: %v", h.String(), err)
		}
		if !reflect.DeepEqual(h, h2) {
			t.Fatalf("round trip: %+v != %+v", h, h2)
		}
	})
}

// --- Load ---

type dsFiles map[string][]byte

func writeSet(t *testing.T, files dsFiles) string {
	t.Helper()
	dir := t.TempDir()
	for name, b := range files {
		if b != nil {
			writeFile(t, dir, name, b)
		}
	}
	return dir
}

func goodSet() dsFiles {
	return dsFiles{
		"meta.json":     []byte(`{"name": "tiny", "metric": "cos", "n_base": 3, "n_query": 2, "dim": 2}`),
		"base.fvecs":    fvecs([]float32{1, 0}, []float32{0, 1}, []float32{1, 1}),
		"query.fvecs":   fvecs([]float32{1, 0.1}, []float32{0.1, 1}),
		"gt.ivecs":      ivecs([]int32{0, 2}, []int32{1, 2}),
		"gt_dist.fvecs": fvecs([]float32{0.005, 0.22}, []float32{0.005, 0.22}),
	}
}

func TestLoad(t *testing.T) {
	s, err := Load(writeSet(t, goodSet()))
	if err != nil {
		t.Fatal(err)
	}
	if s.Name != "tiny" || s.Metric != MetricCosine || s.N != 3 || s.Dim != 2 || s.NQ != 2 {
		t.Fatalf("got %+v", s)
	}
	if !reflect.DeepEqual(s.Row(2), []float32{1, 1}) || !reflect.DeepEqual(s.Query(1), []float32{0.1, 1}) {
		t.Fatalf("rows: %v %v", s.Row(2), s.Query(1))
	}
	if !reflect.DeepEqual(s.GT, [][]int32{{0, 2}, {1, 2}}) || len(s.GTDist) != 2 || s.GTDist[1][1] != 0.22 {
		t.Fatalf("gt %v dist %v", s.GT, s.GTDist)
	}

	// .bvecs base with .npy queries, names from meta.json, no gt_dist.
	fs := goodSet()
	delete(fs, "base.fvecs")
	delete(fs, "query.fvecs")
	delete(fs, "gt_dist.fvecs")
	fs["meta.json"] = []byte(`{"metric": "euclidean", "base_file": "b.bvecs", "query_file": "q.npy"}`)
	fs["b.bvecs"] = bvecs([]byte{1, 0}, []byte{0, 1}, []byte{1, 1})
	fs["q.npy"] = npyFile(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }", f32bytes(1, 0, 0, 1))
	dir := writeSet(t, fs)
	s, err = Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if s.Name != filepath.Base(dir) || s.Metric != MetricL2 || s.N != 3 || s.NQ != 2 || s.GTDist != nil {
		t.Fatalf("got %+v", s)
	}
}

func TestLoadErrors(t *testing.T) {
	cases := []struct {
		name    string
		edit    func(dsFiles)
		wantErr string
	}{
		{"no meta", func(f dsFiles) { delete(f, "meta.json") }, "meta.json"},
		{"bad meta", func(f dsFiles) { f["meta.json"] = []byte(`{"metric": `) }, "meta.json"},
		{"no metric", func(f dsFiles) { f["meta.json"] = []byte(`{}`) }, `no string "metric"`},
		{"unknown metric", func(f dsFiles) { f["meta.json"] = []byte(`{"metric": "hamming"}`) }, `unknown metric "hamming"`},
		{"no base", func(f dsFiles) { delete(f, "base.fvecs") }, "no base.fvecs"},
		{"two bases", func(f dsFiles) { f["base.bvecs"] = bvecs([]byte{1, 2}) }, "several base files"},
		{"no gt", func(f dsFiles) { delete(f, "gt.ivecs") }, "gt.ivecs"},
		{"query dim", func(f dsFiles) { f["query.fvecs"] = fvecs([]float32{1, 2, 3}, []float32{1, 2, 3}) }, "queries have dimension 3"},
		{"gt rows", func(f dsFiles) { f["gt.ivecs"] = ivecs([]int32{0}) }, "1 rows for 2 queries"},
		{"gt id", func(f dsFiles) { f["gt.ivecs"] = ivecs([]int32{0}, []int32{3}) }, "id 3 is outside the base"},
		{"meta count", func(f dsFiles) {
			f["meta.json"] = []byte(`{"metric": "l2", "n_base": 4}`)
		}, "n_base = 4, the files hold 3"},
		{"gt_dist rows", func(f dsFiles) { f["gt_dist.fvecs"] = fvecs([]float32{1}) }, "gt_dist.fvecs has 1 rows"},
		{"bad base", func(f dsFiles) { f["base.fvecs"] = f["base.fvecs"][:7] }, "not a multiple"},
		{"meta path", func(f dsFiles) { f["meta.json"] = []byte(`{"metric": "l2", "base_file": "../x.fvecs"}`) }, "plain file name"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fs := goodSet()
			tc.edit(fs)
			_, err := Load(writeSet(t, fs))
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err = %v, want one containing %q", err, tc.wantErr)
			}
		})
	}
}

func TestNormalizeMetric(t *testing.T) {
	for in, want := range map[string]string{"L2": MetricL2, "euclidean": MetricL2, "angular": MetricCosine,
		"cosine": MetricCosine, "cos": MetricCosine, "ip": MetricDot, "dot": MetricDot} {
		if got, err := NormalizeMetric(in); err != nil || got != want {
			t.Errorf("NormalizeMetric(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := NormalizeMetric("jaccard"); err == nil {
		t.Error("jaccard accepted")
	}
}

func TestReadVectorsExt(t *testing.T) {
	dir := t.TempDir()
	p := writeFile(t, dir, "x.txt", []byte("1 2 3"))
	if _, _, _, err := ReadVectors(p); err == nil || !strings.Contains(err.Error(), "unknown vector file type") {
		t.Fatalf("err = %v", err)
	}
	// A large file goes through the buffered path in several reads.
	rows := make([][]float32, 3000)
	for i := range rows {
		rows[i] = make([]float32, 100)
		for j := range rows[i] {
			rows[i][j] = float32(i*100 + j)
		}
	}
	p = writeFile(t, dir, "big.fvecs", fvecs(rows...))
	data, n, dim, err := ReadVectors(p)
	if err != nil || n != 3000 || dim != 100 {
		t.Fatalf("n=%d dim=%d err=%v", n, dim, err)
	}
	for i, v := range data {
		if v != float32(i) {
			t.Fatalf("data[%d] = %v", i, v)
		}
	}
	// The same values as a v1 .npy larger than one read buffer.
	var raw bytes.Buffer
	for _, v := range data {
		raw.Write(le32(math.Float32bits(v)))
	}
	p = writeFile(t, dir, "big.npy", npyFile(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (3000, 100), }", raw.Bytes()))
	data2, n, dim, err := ReadVectors(p)
	if err != nil || n != 3000 || dim != 100 || !reflect.DeepEqual(data, data2) {
		t.Fatalf("npy: n=%d dim=%d err=%v equal=%v", n, dim, err, reflect.DeepEqual(data, data2))
	}
}
