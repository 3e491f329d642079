package bitset

import (
	"math/bits"
	"sync/atomic"
)

// COW is a growable bitset with cheap point-in-time snapshots, used for
// tombstones. Bits live in 4 KiB chunks; a nil chunk is all clear.
//
// Concurrency contract: one writer (Set, Grow) at a time, excluded from
// Snapshot by the caller's lock (the collection's state lock: writers hold
// it exclusively, snapshotters shared). A snapshot copies the chunk
// pointers and bumps the epoch; the writer then copies any chunk created
// before the latest snapshot instead of modifying it, so a chunk reachable
// from a snapshot never changes and snapshots read without atomics.
type COW struct {
	chunks []*chunk
	n      int
	epoch  atomic.Uint64
}

const (
	chunkWords = 512
	chunkBits  = chunkWords * 64
)

type chunk struct {
	epoch uint64
	w     [chunkWords]uint64
}

// NewCOW returns a bitset of n clear bits.
func NewCOW(n int) *COW {
	return &COW{chunks: make([]*chunk, (n+chunkBits-1)/chunkBits), n: n}
}

// COWFromWords builds a bitset of n bits from words (as Words returns).
func COWFromWords(words []uint64, n int) *COW {
	b := NewCOW(n)
	for i, w := range words {
		if w == 0 {
			continue
		}
		c := b.chunks[i/chunkWords]
		if c == nil {
			c = &chunk{}
			b.chunks[i/chunkWords] = c
		}
		c.w[i%chunkWords] = w
	}
	return b
}

// Len returns the number of bits.
func (b *COW) Len() int { return b.n }

// Get reports bit i of the current state (writer side).
func (b *COW) Get(i uint32) bool { return get(b.chunks, i) }

func get(chunks []*chunk, i uint32) bool {
	ci := int(i / chunkBits)
	if ci >= len(chunks) {
		return false
	}
	c := chunks[ci]
	return c != nil && c.w[(i%chunkBits)>>6]&(1<<(i&63)) != 0
}

// Set sets bit i (which must be < Len) and reports whether it was clear.
func (b *COW) Set(i uint32) bool {
	ci := int(i / chunkBits)
	wi, mask := (i%chunkBits)>>6, uint64(1)<<(i&63)
	c := b.chunks[ci]
	if c != nil && c.w[wi]&mask != 0 {
		return false
	}
	e := b.epoch.Load()
	switch {
	case c == nil:
		c = &chunk{epoch: e}
		b.chunks[ci] = c
	case c.epoch != e: // a snapshot may share it: copy on write
		nc := *c
		nc.epoch = e
		c = &nc
		b.chunks[ci] = c
	}
	c.w[wi] |= mask
	return true
}

// Grow extends the bitset to n bits (n >= Len) with clear bits.
func (b *COW) Grow(n int) {
	if n <= b.n {
		return
	}
	need := (n + chunkBits - 1) / chunkBits
	if need > len(b.chunks) {
		// Snapshots hold the old slice header; appending past its length
		// never touches elements they can see.
		b.chunks = append(b.chunks, make([]*chunk, need-len(b.chunks))...)
	}
	b.n = n
}

// Snapshot returns the current bits, unaffected by later Sets.
func (b *COW) Snapshot() Snapshot {
	b.epoch.Add(1)
	return Snapshot{chunks: append([]*chunk(nil), b.chunks...), n: b.n}
}

// Count returns the number of set bits.
func (b *COW) Count() int { return count(b.chunks) }

// Words returns the bits as uint64 words (ceil(Len/64) of them).
func (b *COW) Words() []uint64 { return words(b.chunks, b.n) }

func count(chunks []*chunk) int {
	n := 0
	for _, c := range chunks {
		if c == nil {
			continue
		}
		for _, w := range c.w {
			n += bits.OnesCount64(w)
		}
	}
	return n
}

func words(chunks []*chunk, n int) []uint64 {
	out := make([]uint64, (n+63)/64)
	for i := range out {
		if c := chunks[i/chunkWords]; c != nil {
			out[i] = c.w[i%chunkWords]
		}
	}
	return out
}

// Snapshot is an immutable view of a COW bitset.
type Snapshot struct {
	chunks []*chunk
	n      int
}

// Get reports whether bit i is set.
func (s Snapshot) Get(i uint32) bool { return get(s.chunks, i) }

// Len returns the number of bits.
func (s Snapshot) Len() int { return s.n }

// Empty reports whether no bit is set, in O(chunks) without reading words
// when no chunk was ever written.
func (s Snapshot) Empty() bool {
	for _, c := range s.chunks {
		if c != nil {
			return false
		}
	}
	return true
}

// Count returns the number of set bits.
func (s Snapshot) Count() int { return count(s.chunks) }

// Words returns the bits as uint64 words.
func (s Snapshot) Words() []uint64 { return words(s.chunks, s.n) }

// Each calls fn with every set bit in ascending order until fn returns
// false.
func (s Snapshot) Each(fn func(i uint32) bool) {
	for ci, c := range s.chunks {
		if c == nil {
			continue
		}
		for wi, w := range c.w {
			for w != 0 {
				b := bits.TrailingZeros64(w)
				w &= w - 1
				if !fn(uint32(ci*chunkBits + wi*64 + b)) {
					return
				}
			}
		}
	}
}
