package vector

import (
	"math/rand/v2"
	"syscall"
	"testing"
	"unsafe"
)

// guardedSlice returns a float32 slice of length n whose last element ends
// exactly at a PROT_NONE page: any read past the end faults.
func guardedSlice(t *testing.T, n int) []float32 {
	t.Helper()
	page := syscall.Getpagesize()
	size := (4*n+page-1)/page*page + page
	mem, err := syscall.Mmap(-1, 0, size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		t.Skipf("mmap: %v", err)
	}
	t.Cleanup(func() { syscall.Munmap(mem) })
	if err := syscall.Mprotect(mem[size-page:], syscall.PROT_NONE); err != nil {
		t.Skipf("mprotect: %v", err)
	}
	end := size - page
	return unsafe.Slice((*float32)(unsafe.Pointer(&mem[end-4*n])), n)
}

// TestTailsDoNotReadPastEnd runs every kernel on inputs that end right
// before an unmapped page, for every tail length.
func TestTailsDoNotReadPastEnd(t *testing.T) {
	r := rand.New(rand.NewPCG(17, 18))
	for _, n := range []int{1, 2, 3, 5, 7, 8, 9, 15, 16, 17, 31, 33, 63, 65, 100} {
		a, b := guardedSlice(t, n), guardedSlice(t, n)
		copy(a, randVec(r, n, 1))
		copy(b, randVec(r, n, 1))
		for _, m := range impls() {
			for _, k := range kernels {
				checkClose(t, m.name+" "+k.name, k.pair(m)(a, b), k.pair(genericImpl)(a, b), tolerance(k, a, b))
				out := make([]float32, 1)
				k.batch(m)(a, b, out)
			}
			if got := m.isFinite(a); got != -1 {
				t.Errorf("%s: IsFinite = %d", m.name, got)
			}
		}
		// Batches of several vectors, the last one ending at the guard page.
		for _, dim := range []int{1, 3, 7, 9, 17, 33} {
			if n%dim != 0 {
				continue
			}
			q := guardedSlice(t, dim)
			copy(q, randVec(r, dim, 1))
			out := make([]float32, n/dim)
			for _, m := range impls() {
				for _, k := range kernels {
					k.batch(m)(q, b, out)
				}
			}
		}
	}
}
