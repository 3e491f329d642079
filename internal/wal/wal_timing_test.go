package wal

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/strata-db/strata/internal/vfs"
)

// latencies collects durations of File.Sync calls.
type latencies struct {
	mu      sync.Mutex
	samples []time.Duration
}

func (l *latencies) add(d time.Duration) {
	l.mu.Lock()
	l.samples = append(l.samples, d)
	l.mu.Unlock()
}

func (l *latencies) reset() {
	l.mu.Lock()
	l.samples = l.samples[:0]
	l.mu.Unlock()
}

// report adds the mean and the 99th percentile in microseconds to b.
func (l *latencies) report(b *testing.B, prefix string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.samples) == 0 {
		return
	}
	s := slices.Clone(l.samples)
	slices.Sort(s)
	var sum time.Duration
	for _, d := range s {
		sum += d
	}
	us := func(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }
	b.ReportMetric(us(sum/time.Duration(len(s))), prefix+"-µs")
	b.ReportMetric(us(s[len(s)*99/100]), prefix+"-p99-µs")
}

// timingFS times File.Sync of every file it creates or opens for append.
type timingFS struct {
	vfs.FS
	lat *latencies
}

type timingFile struct {
	vfs.File
	lat *latencies
}

func (f timingFile) Sync() error {
	start := time.Now()
	err := f.File.Sync()
	f.lat.add(time.Since(start))
	return err
}

func (t timingFS) Create(name string) (vfs.File, error) {
	f, err := t.FS.Create(name)
	if err != nil {
		return nil, err
	}
	return timingFile{f, t.lat}, nil
}

func (t timingFS) OpenAppend(name string) (vfs.File, error) {
	f, err := t.FS.OpenAppend(name)
	if err != nil {
		return nil, err
	}
	return timingFile{f, t.lat}, nil
}

// BenchmarkAppendSync measures acknowledged writes on the real disk: each
// writer loops over Append (under a shared lock, as the collection does)
// and Sync. syncs/op below 1 is group commit at work.
func BenchmarkAppendSync(b *testing.B) {
	for _, writers := range []int{1, 4} {
		for _, p := range []struct {
			name string
			size int
		}{{"400KB", 400 << 10}, {"4KB", 4 << 10}} {
			b.Run(fmt.Sprintf("writers=%d/payload=%s", writers, p.name), func(b *testing.B) {
				lat := &latencies{}
				l, err := Open(timingFS{vfs.Default, lat}, b.TempDir(), Options{}, 0, nil)
				if err != nil {
					b.Fatal(err)
				}
				defer l.Close()
				data := make([]byte, p.size)
				for i := range data {
					data[i] = byte(i)
				}
				b.SetBytes(int64(p.size))
				b.ReportAllocs()
				lat.reset()
				syncs0 := l.Stats().Syncs
				var (
					mu   sync.Mutex
					next atomic.Int64
					wg   sync.WaitGroup
				)
				b.ResetTimer()
				for range writers {
					wg.Add(1)
					go func() {
						defer wg.Done()
						for next.Add(1) <= int64(b.N) {
							mu.Lock()
							seq, err := l.Append(1, data)
							mu.Unlock()
							if err == nil {
								err = l.Sync(seq)
							}
							if err != nil {
								b.Error(err)
								return
							}
						}
					}()
				}
				wg.Wait()
				b.StopTimer()
				b.ReportMetric(float64(l.Stats().Syncs-syncs0)/float64(b.N), "syncs/op")
				lat.report(b, "fsync")
			})
		}
	}
}

// BenchmarkFsync measures the raw latency of making a 4 KiB append durable
// on this disk: fdatasync (vfs.Default's Sync, which the WAL uses) and, for
// comparison, fsync.
func BenchmarkFsync(b *testing.B) {
	buf := make([]byte, 4<<10)
	for _, mode := range []string{"fdatasync", "fsync"} {
		b.Run(mode+"/append=4KiB", func(b *testing.B) {
			name := filepath.Join(b.TempDir(), "f")
			var sync func() error
			var write func([]byte) (int, error)
			if mode == "fdatasync" {
				f, err := vfs.Default.Create(name)
				if err != nil {
					b.Fatal(err)
				}
				defer f.Close()
				sync, write = f.Sync, f.Write
			} else {
				f, err := os.Create(name)
				if err != nil {
					b.Fatal(err)
				}
				defer f.Close()
				sync, write = f.Sync, f.Write
			}
			lat := &latencies{}
			b.SetBytes(int64(len(buf)))
			for b.Loop() {
				if _, err := write(buf); err != nil {
					b.Fatal(err)
				}
				start := time.Now()
				if err := sync(); err != nil {
					b.Fatal(err)
				}
				lat.add(time.Since(start))
			}
			lat.report(b, mode)
		})
	}
}
