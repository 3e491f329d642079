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
