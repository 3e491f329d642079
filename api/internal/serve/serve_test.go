package serve

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"
)

func TestKeys(t *testing.T) {
	none := NewKeys("", "")
	if v := none.Check("", false, Write); v != Allowed {
		t.Errorf("no keys configured: %v", v)
	}
	k := NewKeys("rw-secret", "ro-secret")
	for _, c := range []struct {
		key     string
		offered bool
		acc     Access
		want    Verdict
	}{
		{"", false, Public, Allowed},
		{"wrong", true, Public, Allowed},
		{"", false, Read, Missing},
		{"", true, Read, Invalid}, // an empty bearer token
		{"wrong", true, Read, Invalid},
		{"rw-secret", true, Read, Allowed},
		{"rw-secret", true, Write, Allowed},
		{"ro-secret", true, Read, Allowed},
		{"ro-secret", true, Write, ReadOnly},
		{"rw-secret ", true, Write, Invalid},
		{"ro-secret", false, Read, Missing},
	} {
		if got := k.Check(c.key, c.offered, c.acc); got != c.want {
			t.Errorf("Check(%q, %v, %v) = %v, want %v", c.key, c.offered, c.acc, got, c.want)
		}
	}
	ro := NewKeys("", "ro-only")
	if v := ro.Check("ro-only", true, Write); v != ReadOnly {
		t.Errorf("only a read-only key, a write: %v", v)
	}
}

func TestSlots(t *testing.T) {
	var unbounded *Slots = NewSlots(0)
	if unbounded != nil || unbounded.Cap() != 0 || unbounded.Acquire(context.Background()) != nil {
		t.Fatal("NewSlots(0) must be a nil, unbounded *Slots")
	}
	unbounded.Release() // no-op

	s := NewSlots(2)
	ctx := context.Background()
	if err := s.Acquire(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.Acquire(ctx); err != nil {
		t.Fatal(err)
	}
	if s.InUse() != 2 || s.Cap() != 2 {
		t.Fatalf("in use %d of %d", s.InUse(), s.Cap())
	}
	// Full: a deadline gives ErrBusy, a cancellation the context's error.
	dctx, cancel := context.WithDeadline(ctx, time.Now())
	defer cancel()
	if err := s.Acquire(dctx); !errors.Is(err, ErrBusy) {
		t.Fatalf("full, deadline passed: %v", err)
	}
	cctx, cancel2 := context.WithCancel(ctx)
	cancel2()
	if err := s.Acquire(cctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("full, canceled: %v", err)
	}
	// A waiter gets the slot a release frees.
	got := make(chan error)
	go func() { got <- s.Acquire(ctx) }()
	s.Release()
	if err := <-got; err != nil {
		t.Fatal(err)
	}
	s.Release()
	s.Release()
	if s.InUse() != 0 {
		t.Fatalf("%d still in use", s.InUse())
	}
}

func TestRebase(t *testing.T) {
	sentinel := errors.New("strata: invalid argument")
	err := fmt.Errorf("%w: dimension mismatch: query.prefetch[0].query.nearest: expected dimension 2, got 3", sentinel)
	got := Rebase(err, "query.", "")
	if want := "strata: invalid argument: dimension mismatch: prefetch[0].query.nearest: expected dimension 2, got 3"; got.Error() != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if !errors.Is(got, sentinel) {
		t.Error("the sentinel is lost")
	}
	batch := fmt.Errorf("%w: queries[2].limit: 0 is out of range", sentinel)
	if got := Rebase(batch, "queries[", "searches["); got.Error() != "strata: invalid argument: searches[2].limit: 0 is out of range" {
		t.Errorf("batch: %q", got)
	}
	other := fmt.Errorf("%w: filter.must[0]: bad", sentinel)
	if Rebase(other, "query.", "") != other {
		t.Error("an error without the path was changed")
	}
	if Rebase(nil, "query.", "") != nil {
		t.Error("nil")
	}
}
