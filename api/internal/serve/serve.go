// Package serve holds what Strata's two server adapters, api/rest and
// api/grpc, share beyond the root package: the API key check and the bound
// on requests handled at once. Each adapter maps the outcomes to its own
// protocol's answers (401/403/503, Unauthenticated/PermissionDenied/
// ResourceExhausted).
package serve

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"strings"
)

// Access is what a request needs from the caller's key.
type Access int

const (
	Public Access = iota // no key needed
	Read                 // the read-only or the read-write key
	Write                // the read-write key
)

// Verdict is the outcome of a key check.
type Verdict int

const (
	Allowed  Verdict = iota
	Missing          // no key offered where one is needed
	Invalid          // a key that is neither of the configured ones
	ReadOnly         // the read-only key, for a write
)

// Keys are the configured API keys, kept as SHA-256 digests so that a
// comparison takes the same time whatever the length of the offered key.
type Keys struct {
	rw, ro       [32]byte
	hasRW, hasRO bool
}

// NewKeys returns the keys; an empty key is not configured.
func NewKeys(readWrite, readOnly string) Keys {
	var k Keys
	if readWrite != "" {
		k.rw, k.hasRW = sha256.Sum256([]byte(readWrite)), true
	}
	if readOnly != "" {
		k.ro, k.hasRO = sha256.Sum256([]byte(readOnly)), true
	}
	return k
}

// Check judges the key a caller offered (offered reports whether it
// offered one) for a request needing acc. Without configured keys every
// request is allowed.
func (k *Keys) Check(key string, offered bool, acc Access) Verdict {
	if acc == Public || (!k.hasRW && !k.hasRO) {
		return Allowed
	}
	if !offered {
		return Missing
	}
	sum := sha256.Sum256([]byte(key))
	isRW := k.hasRW && subtle.ConstantTimeCompare(sum[:], k.rw[:]) == 1
	isRO := k.hasRO && subtle.ConstantTimeCompare(sum[:], k.ro[:]) == 1
	switch {
	case isRW, isRO && acc == Read:
		return Allowed
	case isRO:
		return ReadOnly
	}
	return Invalid
}

// ErrBusy is Slots.Acquire's error when no slot freed up before the
// request's deadline.
var ErrBusy = errors.New("no free request slot before the deadline")

// Slots bounds the requests handled at once. A nil *Slots has no bound.
type Slots struct {
	ch chan struct{}
}

// NewSlots returns n slots, or nil (no bound) when n <= 0.
func NewSlots(n int) *Slots {
	if n <= 0 {
		return nil
	}
	return &Slots{ch: make(chan struct{}, n)}
}

// Cap returns the number of slots (0 for no bound).
func (s *Slots) Cap() int {
	if s == nil {
		return 0
	}
	return cap(s.ch)
}

// Acquire takes a slot, waiting until ctx is done for one to free up:
// ErrBusy when ctx's deadline passes first, ctx's error when it is
// canceled (the client went away).
func (s *Slots) Acquire(ctx context.Context) error {
	if s == nil {
		return nil
	}
	select {
	case s.ch <- struct{}{}:
		return nil
	default:
	}
	select {
	case s.ch <- struct{}{}:
		return nil
	case <-ctx.Done():
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return ErrBusy
		}
		return ctx.Err()
	}
}

// InUse returns the number of slots taken.
func (s *Slots) InUse() int {
	if s == nil {
		return 0
	}
	return len(s.ch)
}

// Release frees a slot taken by Acquire.
func (s *Slots) Release() {
	if s != nil {
		<-s.ch
	}
}

// rebasedError is a root error whose message names the request's parts as
// the protocol's request does; it keeps the root error's sentinels.
type rebasedError struct {
	err error
	msg string
}

func (e *rebasedError) Error() string { return e.msg }
func (e *rebasedError) Unwrap() error { return e.err }

// Rebase rewrites the name the root package gives a request in its error
// messages into the protocol's: the root calls a single query "query"
// ("query.limit", "query.query.fusion") and the entries of a batch
// "queries[i]"; a REST body or a gRPC request is the request itself
// ("limit", "query.fusion"), and its batch entries are "searches[i]" or
// "query_points[i]". Only the first path after the sentinel's text is
// rewritten; err's sentinels still match with errors.Is.
func Rebase(err error, from, to string) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	i := strings.Index(msg, ": "+from)
	if i < 0 {
		return err
	}
	return &rebasedError{err: err, msg: msg[:i+2] + to + msg[i+2+len(from):]}
}
