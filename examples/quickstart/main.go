// Command quickstart is Strata's main job on an embedded default: it opens
// a database in a local directory, creates a collection, inserts points
// with payloads, searches with and without a filter, closes the database,
// reopens it and searches again to show the data survived.
//
//	go run ./examples/quickstart [-dir ./strata-data]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"math/rand/v2"

	"github.com/strata-db/strata"
)

func main() {
	dir := flag.String("dir", "./strata-data", "data directory")
	n := flag.Int("n", 10000, "points to insert on the first run")
	flag.Parse()
	ctx := context.Background()

	db, err := strata.Open(*dir, nil)
	if err != nil {
		log.Fatal(err)
	}
	coll, err := db.Collection("articles")
	if errors.Is(err, strata.ErrNotFound) {
		coll, err = db.CreateCollection(ctx, "articles", strata.CollectionConfig{
			Vectors: map[string]strata.VectorParams{"": {Size: 64, Distance: strata.Cosine}},
		})
	}
	if err != nil {
		log.Fatal(err)
	}

	r := rand.New(rand.NewPCG(1, 2))
	topics := []string{"databases", "search", "networks", "compilers"}
	if cnt, _ := coll.Count(ctx, nil); cnt == 0 {
		batch := make([]strata.Point, 0, 256)
		for i := 0; i < *n; i++ {
			batch = append(batch, strata.Point{
				ID:      strata.NumID(uint64(i)),
				Vector:  randomVector(r, 64),
				Payload: strata.Payload{"title": fmt.Sprintf("article %d", i), "topic": topics[i%len(topics)]},
			})
			if len(batch) == cap(batch) || i == *n-1 {
				if err := coll.Upsert(ctx, batch); err != nil { // durable when it returns
					log.Fatal(err)
				}
				batch = batch[:0]
			}
		}
		fmt.Printf("inserted %d points\n", *n)
	}

	query := randomVector(rand.New(rand.NewPCG(7, 7)), 64)
	search := func(label string, c *strata.Collection, f *strata.Filter) {
		hits, err := c.Search(ctx, strata.SearchRequest{Vector: query, Limit: 3, Filter: f, WithPayload: strata.AllPayload})
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(label)
		for _, h := range hits {
			fmt.Printf("  id=%-6v score=%.4f title=%v topic=%v\n", h.ID, h.Score, h.Payload["title"], h.Payload["topic"])
		}
	}
	search("top 3:", coll, nil)
	search("top 3 about search:", coll, &strata.Filter{Must: []strata.Condition{strata.MatchValue("topic", "search")}})

	if err := db.Close(); err != nil {
		log.Fatal(err)
	}
	db, err = strata.Open(*dir, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	coll, err = db.Collection("articles")
	if err != nil {
		log.Fatal(err)
	}
	info, err := coll.Info(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("after reopen: %d points in %d segments, status %s\n", info.PointsCount, info.SegmentsCount, info.Status)
	search("top 3 after reopen:", coll, nil)
}

func randomVector(r *rand.Rand, dim int) []float32 {
	v := make([]float32, dim)
	for i := range v {
		v[i] = r.Float32()*2 - 1
	}
	return v
}
