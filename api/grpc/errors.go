package grpcapi

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/strata-db/strata"
	"github.com/strata-db/strata/api/internal/serve"
)

// apiError is an error with its gRPC code and the exact message to answer.
// Handlers return it for problems found in the adapter (missing fields,
// Qdrant's validation rules, unsupported options); errors from the root
// package are mapped by toStatus. Messages are REST's, so that both
// protocols explain a problem in the same words.
type apiError struct {
	code codes.Code
	msg  string
}

func (e *apiError) Error() string { return e.msg }

// errPanic answers a call whose handler panicked; the panic itself is
// only logged.
var errPanic = status.Error(codes.Internal, "Service internal error: the request failed unexpectedly; see the server log")

// formatErr is a malformed request: a missing field, an empty oneof, a
// value of the wrong kind. REST's "Format error in JSON body" (400).
func formatErr(format string, args ...any) error {
	return &apiError{code: codes.InvalidArgument, msg: "Format error in request: " + fmt.Sprintf(format, args...)}
}

// validationErr is a well-formed value that breaks one of Qdrant's
// validation rules (a minimum). REST's 422.
func validationErr(field, format string, args ...any) error {
	return &apiError{code: codes.InvalidArgument, msg: "Validation error in request: [" + field + ": " + fmt.Sprintf(format, args...) + "]"}
}

// minErr is validationErr for a number below its minimum, worded as Qdrant
// words it.
func minErr(field string, value uint64, min int) error {
	return validationErr(field, "value %d invalid, must be %d or larger", value, min)
}

// unsupported is a Qdrant feature Strata does not implement (yet): REST's
// 400 "not supported".
func unsupported(format string, args ...any) error {
	return &apiError{code: codes.InvalidArgument, msg: "Bad request: " + fmt.Sprintf(format, args...) + " is not supported by Strata"}
}

// badRequest is a request Qdrant refuses as "Bad request".
func badRequest(format string, args ...any) error {
	return &apiError{code: codes.InvalidArgument, msg: "Bad request: " + fmt.Sprintf(format, args...)}
}

// collectionNotFound is Qdrant's NotFound for a missing collection.
func collectionNotFound(name string) error {
	return &apiError{code: codes.NotFound, msg: fmt.Sprintf("Not found: Collection `%s` doesn't exist!", name)}
}

// toStatus maps an error to a gRPC status: the one table from Strata's
// sentinel errors to Qdrant's codes (those of Qdrant's tonic server:
// InvalidArgument for bad input, NotFound, AlreadyExists, Unavailable
// for a collection that refuses writes, Internal for the rest). req, the
// call's request, names the collection when the error is ErrClosed.
func (s *server) toStatus(req any, err error) error {
	if _, ok := status.FromError(err); ok {
		return err // already a status (authentication, errPanic)
	}
	var ae *apiError
	switch {
	case errors.As(err, &ae):
		return status.Error(ae.code, ae.msg)
	case errors.Is(err, strata.ErrInvalidArgument): // also ErrDimensionMismatch
		return status.Error(codes.InvalidArgument, "Wrong input: "+detail(err))
	case errors.Is(err, strata.ErrNotFound):
		return status.Error(codes.NotFound, "Not found: "+detail(err))
	case errors.Is(err, strata.ErrAlreadyExists):
		return status.Error(codes.AlreadyExists, "Wrong input: "+detail(err)+" already exists")
	case errors.Is(err, strata.ErrClosed):
		// A collection deleted while the call ran is gone, not closed.
		if r, ok := req.(interface{ GetCollectionName() string }); ok && r.GetCollectionName() != "" {
			name := r.GetCollectionName()
			if _, err := s.db.Collection(name); errors.Is(err, strata.ErrNotFound) {
				return status.Error(codes.NotFound, fmt.Sprintf("Not found: Collection `%s` doesn't exist!", name))
			}
		}
		return status.Error(codes.Unavailable, "Service unavailable: the database is shutting down")
	case errors.Is(err, strata.ErrReadOnly):
		return status.Error(codes.Unavailable, "Service unavailable: "+detail(err))
	case errors.Is(err, context.DeadlineExceeded):
		return status.Error(codes.DeadlineExceeded, "Timeout error: the request did not finish within its timeout")
	case errors.Is(err, context.Canceled):
		return status.Error(codes.Canceled, "Request canceled")
	}
	return status.Error(codes.Internal, "Service internal error: "+strings.TrimPrefix(err.Error(), "strata: "))
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

// joinPath joins two parts of a field path with a dot.
func joinPath(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + "." + b
}

// rebase is serve.Rebase: errors name the request's parts as the request
// does.
func rebase(err error, from, to string) error { return serve.Rebase(err, from, to) }
