package rest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/strata-db/strata"
	"github.com/strata-db/strata/api/internal/serve"
)

// apiError is an error with its HTTP status and the exact message to
// answer. Handlers return it for problems found in the adapter (JSON
// format, Qdrant's validation rules, unsupported options); errors from the
// root package are mapped by errorStatus.
type apiError struct {
	status int
	msg    string
}

func (e *apiError) Error() string { return e.msg }

var errPanic = errors.New("panic")

// formatErr is a malformed body: invalid JSON, a wrong type, a missing
// field. 400, as Qdrant's "Format error in JSON body".
func formatErr(format string, args ...any) error {
	return &apiError{status: http.StatusBadRequest, msg: "Format error in JSON body: " + fmt.Sprintf(format, args...)}
}

// validationErr is a well-formed value that breaks one of the rules of
// Qdrant's OpenAPI schema (a minimum, minItems). 422, as Qdrant's
// "Validation error in JSON body".
func validationErr(field, format string, args ...any) error {
	return &apiError{status: http.StatusUnprocessableEntity, msg: "Validation error in JSON body: [" + field + ": " + fmt.Sprintf(format, args...) + "]"}
}

// minErr is validationErr for a number below its minimum, worded as
// Qdrant words it.
func minErr(field string, value, min int) error {
	return validationErr(field, "value %d invalid, must be %d or larger", value, min)
}

// unsupported is a Qdrant feature Strata does not implement (yet). 400.
func unsupported(format string, args ...any) error {
	return &apiError{status: http.StatusBadRequest, msg: "Bad request: " + fmt.Sprintf(format, args...) + " is not supported by Strata"}
}

// badRequest is a request Qdrant refuses as "Bad request" (400).
func badRequest(format string, args ...any) error {
	return &apiError{status: http.StatusBadRequest, msg: "Bad request: " + fmt.Sprintf(format, args...)}
}

// collectionNotFound is Qdrant's 404 for a missing collection.
func collectionNotFound(name string) error {
	return &apiError{status: http.StatusNotFound, msg: fmt.Sprintf("Not found: Collection `%s` doesn't exist!", name)}
}

// pointNotFound is Qdrant's 404 for a missing point.
func pointNotFound(id strata.PointID) error {
	return &apiError{status: http.StatusNotFound, msg: fmt.Sprintf("Not found: No point with id %s found", id)}
}

// errorStatus maps an error to its HTTP status and message: the one table
// from Strata's sentinel errors to Qdrant's status codes.
func (s *server) errorStatus(r *http.Request, err error) (int, string) {
	var ae *apiError
	switch {
	case errors.As(err, &ae):
		return ae.status, ae.msg
	case errors.Is(err, strata.ErrInvalidArgument): // also ErrDimensionMismatch
		return http.StatusBadRequest, "Wrong input: " + detail(err)
	case errors.Is(err, strata.ErrNotFound):
		return http.StatusNotFound, "Not found: " + detail(err)
	case errors.Is(err, strata.ErrAlreadyExists):
		return http.StatusConflict, "Wrong input: " + detail(err) + " already exists"
	case errors.Is(err, strata.ErrClosed):
		// A collection deleted while the request ran is gone, not closed.
		if name := r.PathValue("name"); name != "" {
			if _, err := s.db.Collection(name); errors.Is(err, strata.ErrNotFound) {
				return http.StatusNotFound, fmt.Sprintf("Not found: Collection `%s` doesn't exist!", name)
			}
		}
		return http.StatusServiceUnavailable, "Service unavailable: the database is shutting down"
	case errors.Is(err, strata.ErrReadOnly):
		return http.StatusServiceUnavailable, "Service unavailable: " + detail(err)
	case errors.Is(err, context.DeadlineExceeded):
		return http.StatusRequestTimeout, "Timeout error: the request did not finish within its timeout"
	case errors.Is(err, context.Canceled):
		// The client went away; nobody reads this (nginx's 499).
		return 499, "Request canceled"
	}
	return http.StatusInternalServerError, "Service internal error: " + strings.TrimPrefix(err.Error(), "strata: ")
}

// detail strips the sentinel's text from a root error's message, leaving
// what was wrong: "strata: invalid argument: limit: ..." → "limit: ...".
func detail(err error) string {
	msg := err.Error()
	for _, sentinel := range []error{strata.ErrInvalidArgument, strata.ErrNotFound, strata.ErrAlreadyExists} {
		if rest, ok := strings.CutPrefix(msg, sentinel.Error()+": "); ok {
			return rest
		}
	}
	return strings.TrimPrefix(msg, "strata: ")
}

// envelope is Qdrant's answer: result, status, time.
type envelope struct {
	Result any     `json:"result"`
	Status string  `json:"status"`
	Time   float64 `json:"time"`
}

type errorEnvelope struct {
	Status errorStatusJSON `json:"status"`
	Time   float64         `json:"time"`
}

type errorStatusJSON struct {
	Error string `json:"error"`
}

// rawResult is written as is, without the envelope (GET /).
type rawResult struct{ v any }

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeResult(w http.ResponseWriter, res any, seconds float64) {
	if raw, ok := res.(rawResult); ok {
		writeJSON(w, http.StatusOK, raw.v)
		return
	}
	writeJSON(w, http.StatusOK, envelope{Result: res, Status: "ok", Time: seconds})
}

func writeError(w http.ResponseWriter, status int, msg string, seconds float64) {
	writeJSON(w, status, errorEnvelope{Status: errorStatusJSON{Error: msg}, Time: seconds})
}

// rebase is serve.Rebase: errors name the request's parts as the request
// does.
func rebase(err error, from, to string) error { return serve.Rebase(err, from, to) }
