package bitset

import (
	"sync"
	"testing"
)

func TestAtomic(t *testing.T) {
	b := NewAtomic(130)
	if b.Get(0) || b.Get(129) || b.Get(1000) {
		t.Fatal("fresh bitset has bits set")
	}
	if !b.Set(5) || b.Set(5) {
		t.Fatal("Set must report the first set only")
	}
	b.Set(64)
	b.Set(129)
	if got := b.Count(); got != 3 {
		t.Fatalf("Count = %d, want 3", got)
	}
	g := b.Grown(1000)
	if !g.Get(129) || !g.Get(5) || g.Len() != 1000 {
		t.Fatal("Grown lost bits")
	}
	g.Set(999)
	if b.Get(999) {
		t.Fatal("growth beyond capacity must not alias the old words")
	}
	c := FromWords(b.Words(), b.Len())
	if c.Count() != 3 || !c.Get(64) {
		t.Fatal("FromWords/Words round trip failed")
	}
}

func TestAtomicConcurrentReaders(t *testing.T) {
	b := NewAtomic(1 << 12)
	var wg sync.WaitGroup
	for r := 0; r < 4; r++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 1<<12; i++ {
				_ = b.Get(uint32(i))
			}
		}()
	}
	for i := 0; i < 1<<12; i += 3 {
		b.Set(uint32(i))
	}
	wg.Wait()
	if got, want := b.Count(), (1<<12+2)/3; got != want {
		t.Fatalf("Count = %d, want %d", got, want)
	}
}

func TestCOWSnapshotsAreStable(t *testing.T) {
	b := NewCOW(100)
	b.Set(3)
	s1 := b.Snapshot()
	b.Set(4)
	b.Grow(70000)
	b.Set(69999)
	s2 := b.Snapshot()
	b.Set(5)
	if !s1.Get(3) || s1.Get(4) || s1.Get(69999) || s1.Count() != 1 {
		t.Fatal("snapshot 1 changed after later sets")
	}
	if !s2.Get(4) || !s2.Get(69999) || s2.Get(5) || s2.Count() != 3 {
		t.Fatal("snapshot 2 wrong")
	}
	if !b.Get(5) || b.Count() != 4 || b.Set(5) {
		t.Fatal("current state wrong")
	}
	c := COWFromWords(b.Words(), b.Len())
	if c.Count() != 4 || !c.Get(69999) {
		t.Fatal("Words/COWFromWords round trip")
	}
}

func TestCOWConcurrentSnapshots(t *testing.T) {
	b := NewCOW(1 << 16)
	var mu sync.RWMutex
	var wg sync.WaitGroup
	for r := 0; r < 3; r++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := 0; k < 200; k++ {
				mu.RLock()
				s := b.Snapshot()
				mu.RUnlock()
				c := s.Count()
				for i := 0; i < 1<<16; i += 97 {
					_ = s.Get(uint32(i))
				}
				if s.Count() != c {
					t.Error("a snapshot changed under a reader")
					return
				}
			}
		}()
	}
	for i := 0; i < 1<<16; i += 7 {
		mu.Lock()
		b.Set(uint32(i))
		mu.Unlock()
	}
	wg.Wait()
}

func TestSnapshotEach(t *testing.T) {
	b := NewCOW(3 * chunkBits)
	want := []uint32{0, 63, 64, chunkBits - 1, 2*chunkBits + 5}
	for _, i := range want {
		b.Set(i)
	}
	var got []uint32
	b.Snapshot().Each(func(i uint32) bool { got = append(got, i); return true })
	if len(got) != len(want) {
		t.Fatalf("Each = %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("Each = %v, want %v", got, want)
		}
	}
	n := 0
	b.Snapshot().Each(func(uint32) bool { n++; return n < 2 })
	if n != 2 {
		t.Fatalf("Each did not stop: %d calls", n)
	}
}
