// Package bitset provides dense bitsets indexed by segment offsets.
//
// Atomic is safe for one writer and many concurrent readers without a lock:
// every word is read and written with sync/atomic. Readers may observe a bit
// set after they started; that is the only visibility guarantee.
package bitset

import (
	"math/bits"
	"sync/atomic"
)

// Atomic is a fixed-size bitset whose bits may be set while others read.
type Atomic struct {
	words []uint64
	n     int
}

// NewAtomic returns a bitset of n bits, all clear.
func NewAtomic(n int) *Atomic {
	return &Atomic{words: make([]uint64, (n+63)/64), n: n}
}

// FromWords wraps words (copied) as a bitset of n bits.
func FromWords(words []uint64, n int) *Atomic {
	b := NewAtomic(n)
	copy(b.words, words)
	return b
}

// Len returns the number of bits.
func (b *Atomic) Len() int { return b.n }

// Get reports whether bit i is set. Out-of-range bits read as clear.
func (b *Atomic) Get(i uint32) bool {
	w := int(i >> 6)
	if w >= len(b.words) {
		return false
	}
	return atomic.LoadUint64(&b.words[w])&(1<<(i&63)) != 0
}

// Set sets bit i and reports whether it was clear before. Only one goroutine
// may call Set (or Grow) at a time.
func (b *Atomic) Set(i uint32) bool {
	p := &b.words[i>>6]
	old := atomic.LoadUint64(p)
	mask := uint64(1) << (i & 63)
	if old&mask != 0 {
		return false
	}
	atomic.StoreUint64(p, old|mask)
	return true
}

// Count returns the number of set bits.
func (b *Atomic) Count() int {
	c := 0
	for i := range b.words {
		c += bits.OnesCount64(atomic.LoadUint64(&b.words[i]))
	}
	return c
}

// Words returns a copy of the words: a consistent-enough snapshot for
// persistence when the caller excludes writers.
func (b *Atomic) Words() []uint64 {
	out := make([]uint64, len(b.words))
	for i := range b.words {
		out[i] = atomic.LoadUint64(&b.words[i])
	}
	return out
}

// Grown returns a bitset of n bits (n >= Len) holding the same bits: b itself
// when its capacity suffices, otherwise a copy. Readers holding b keep a
// valid, if older, view.
func (b *Atomic) Grown(n int) *Atomic {
	need := (n + 63) / 64
	if need <= cap(b.words) {
		return &Atomic{words: b.words[:need], n: n}
	}
	words := make([]uint64, need, need*2)
	for i := range b.words {
		words[i] = atomic.LoadUint64(&b.words[i])
	}
	return &Atomic{words: words, n: n}
}
