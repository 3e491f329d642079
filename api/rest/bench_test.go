package rest

import (
	"bytes"
	"context"
	"encoding/json"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/strata-db/strata"
)

// benchServer is a REST handler over a real database with one collection of
// n random dim-dimensional cosine points, called in process (no network),
// so the profile shows the adapter's own costs.
func benchServer(b *testing.B, n, dim int) (http.Handler, *rand.Rand) {
	b.Helper()
	db, err := strata.Open(b.TempDir(), nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	ctx := context.Background()
	c, err := db.CreateCollection(ctx, "c", strata.CollectionConfig{Vectors: map[string]strata.VectorParams{"": {Size: dim, Distance: strata.Cosine}}})
	if err != nil {
		b.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < n; i += 256 {
		pts := make([]strata.Point, 0, 256)
		for j := i; j < min(i+256, n); j++ {
			pts = append(pts, strata.Point{ID: strata.NumID(uint64(j)), Vector: randVec(r, dim)})
		}
		if err := c.Upsert(ctx, pts); err != nil {
			b.Fatal(err)
		}
	}
	return New(db, Options{}), r
}

func randVec(r *rand.Rand, dim int) []float32 {
	v := make([]float32, dim)
	for i := range v {
		v[i] = float32(r.NormFloat64())
	}
	return v
}

func serveBench(b *testing.B, h http.Handler, method, url string, body []byte) {
	req := httptest.NewRequest(method, url, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	if w.Code != http.StatusOK {
		b.Fatalf("%s %s: %d %s", method, url, w.Code, w.Body.String())
	}
}

// BenchmarkUpsert256 upserts batches of 256 384-dim points through the
// REST handler.
func BenchmarkUpsert256(b *testing.B) {
	h, r := benchServer(b, 0, 384)
	type pt struct {
		ID     int       `json:"id"`
		Vector []float32 `json:"vector"`
	}
	var bodies [][]byte
	for k := range 16 {
		var req struct {
			Points []pt `json:"points"`
		}
		for j := range 256 {
			req.Points = append(req.Points, pt{ID: k*256 + j, Vector: randVec(r, 384)})
		}
		body, _ := json.Marshal(req)
		bodies = append(bodies, body)
	}
	b.SetBytes(int64(len(bodies[0])))
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		serveBench(b, h, http.MethodPut, "/collections/c/points?wait=true", bodies[i%len(bodies)])
	}
}

// BenchmarkQuery is a top-10 query of a 384-dim vector over 2,000 points
// (an exact scan: the adapter's overhead is what matters here).
func BenchmarkQuery(b *testing.B) {
	h, r := benchServer(b, 2000, 384)
	var bodies [][]byte
	for range 16 {
		body, _ := json.Marshal(map[string]any{"query": randVec(r, 384), "limit": 10})
		bodies = append(bodies, body)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		serveBench(b, h, http.MethodPost, "/collections/c/points/query", bodies[i%len(bodies)])
	}
}
