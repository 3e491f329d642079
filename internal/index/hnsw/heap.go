package hnsw

import "math"

// Heap entries are uint64 keys: the distance's bits mapped to an unsigned
// integer with the same order, in the high word, and the offset in the low
// word. Comparing two keys is one integer compare, and ties in distance are
// broken by the lower offset, the order flat uses for equal scores.

// key packs a distance and an offset.
func key(d float32, off uint32) uint64 {
	b := math.Float32bits(d)
	// Non-negative floats: set the sign bit; negative: flip every bit.
	b ^= uint32(int32(b)>>31) | 0x80000000
	return uint64(b)<<32 | uint64(off)
}

// keyDist returns the distance packed in k.
func keyDist(k uint64) float32 {
	b := uint32(k >> 32)
	b ^= (b>>31 - 1) | 0x80000000
	return math.Float32frombits(b)
}

// minHeap is a binary min-heap of keys: the root is the closest.
type minHeap struct{ a []uint64 }

func (h *minHeap) reset()      { h.a = h.a[:0] }
func (h *minHeap) len() int    { return len(h.a) }
func (h *minHeap) top() uint64 { return h.a[0] }

func (h *minHeap) push(k uint64) {
	h.a = append(h.a, k)
	a := h.a
	i := len(a) - 1
	for i > 0 {
		p := (i - 1) / 2
		if a[p] <= k {
			break
		}
		a[i] = a[p]
		i = p
	}
	a[i] = k
}

// pop removes the root.
func (h *minHeap) pop() {
	a := h.a
	n := len(a) - 1
	k := a[n]
	a = a[:n]
	h.a = a
	i := 0
	for {
		c := 2*i + 1
		if c >= n {
			break
		}
		if r := c + 1; r < n && a[r] < a[c] {
			c = r
		}
		if k <= a[c] {
			break
		}
		a[i] = a[c]
		i = c
	}
	if n > 0 {
		a[i] = k
	}
}

// maxHeap is a binary max-heap of keys: the root is the farthest, so a
// bounded result set can evict it.
type maxHeap struct{ a []uint64 }

func (h *maxHeap) reset()      { h.a = h.a[:0] }
func (h *maxHeap) len() int    { return len(h.a) }
func (h *maxHeap) top() uint64 { return h.a[0] }

func (h *maxHeap) push(k uint64) {
	h.a = append(h.a, k)
	a := h.a
	i := len(a) - 1
	for i > 0 {
		p := (i - 1) / 2
		if a[p] >= k {
			break
		}
		a[i] = a[p]
		i = p
	}
	a[i] = k
}

// pop removes the root.
func (h *maxHeap) pop() {
	a := h.a
	n := len(a) - 1
	k := a[n]
	a = a[:n]
	h.a = a
	i := 0
	for {
		c := 2*i + 1
		if c >= n {
			break
		}
		if r := c + 1; r < n && a[r] > a[c] {
			c = r
		}
		if k >= a[c] {
			break
		}
		a[i] = a[c]
		i = c
	}
	if n > 0 {
		a[i] = k
	}
}

// replaceTop replaces the root with k (which must not be larger) and
// restores the heap: one sift instead of a push and a pop.
func (h *maxHeap) replaceTop(k uint64) {
	a := h.a
	n := len(a)
	i := 0
	for {
		c := 2*i + 1
		if c >= n {
			break
		}
		if r := c + 1; r < n && a[r] > a[c] {
			c = r
		}
		if k >= a[c] {
			break
		}
		a[i] = a[c]
		i = c
	}
	a[i] = k
}
