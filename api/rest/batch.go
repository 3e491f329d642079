package rest

import (
	"context"
	"fmt"
	"net/http"

	"github.com/strata-db/strata"
)

// runOne answers a single search, query or recommend: the body J,
// converted by conv into an engine request Q, run by run, the answer shaped
// by answer. root is the root's name for the request in its error messages
// ("query."), which the body does not have.
func runOne[J, Q, A any](s *server, r *http.Request,
	conv func(*J, string) (Q, error),
	run func(*strata.Collection, context.Context, Q) ([]strata.ScoredPoint, error),
	root string,
	answer func([]strata.ScoredPoint, *Q) A,
) (any, error) {
	c, err := s.collection(r)
	if err != nil {
		return nil, err
	}
	var body J
	if err := decodeBody(r, &body); err != nil {
		return nil, err
	}
	req, err := conv(&body, "")
	if err != nil {
		return nil, err
	}
	hits, err := run(c, r.Context(), req)
	if err != nil {
		return nil, rebase(err, root, "")
	}
	return answer(hits, &req), nil
}

// runBatch answers a batch endpoint (search, query and recommend batches):
// a body {"searches": [...]} of requests J, each converted by conv into an
// engine request Q (errors name "searches[i]"), all run by one engine call
// (one pass over the data for their vector searches), each answer shaped
// by answer.
func runBatch[J, Q, A any](s *server, r *http.Request,
	conv func(*J, string) (Q, error),
	run func(*strata.Collection, context.Context, []Q) ([][]strata.ScoredPoint, error),
	answer func([]strata.ScoredPoint, *Q) A,
) (any, error) {
	c, err := s.collection(r)
	if err != nil {
		return nil, err
	}
	var body struct {
		Searches *[]J `json:"searches"`
	}
	if err := decodeBody(r, &body); err != nil {
		return nil, err
	}
	if body.Searches == nil {
		return nil, formatErr("body: missing field `searches`")
	}
	out := make([]A, 0, len(*body.Searches))
	if len(*body.Searches) == 0 {
		return out, nil
	}
	reqs := make([]Q, len(*body.Searches))
	for i := range *body.Searches {
		if reqs[i], err = conv(&(*body.Searches)[i], fmt.Sprintf("searches[%d]", i)); err != nil {
			return nil, err
		}
	}
	res, err := run(c, r.Context(), reqs)
	if err != nil {
		// The root names the entries queries[i] (QueryBatch), or search
		// when a SearchBatch has one entry; the body calls them searches[i].
		if len(reqs) == 1 {
			err = rebase(err, "search.", "searches[0].")
		}
		return nil, rebase(err, "queries[", "searches[")
	}
	for i, hits := range res {
		out = append(out, answer(hits, &reqs[i]))
	}
	return out, nil
}
