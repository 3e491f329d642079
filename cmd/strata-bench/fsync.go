package main

import (
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"
)

// FsyncResult is the latency of a 4 KiB write followed by fdatasync(2), the
// operation a write-ahead log commit costs: appending (the file grows, as a
// log does, so the file size is journaled too) and overwriting in place.
type FsyncResult struct {
	Dir            string  `json:"dir"`
	Iters          int     `json:"iters"`
	AppendP50Ms    float64 `json:"append_p50_ms"`
	AppendP99Ms    float64 `json:"append_p99_ms"`
	AppendMeanMs   float64 `json:"append_mean_ms"`
	OverwriteP50Ms float64 `json:"overwrite_p50_ms"`
	OverwriteP99Ms float64 `json:"overwrite_p99_ms"`
	// MaxSyncsPerSec is 1000 / AppendP50Ms: the commit rate of one
	// synchronous writer that only waits for the disk.
	MaxSyncsPerSec float64 `json:"max_syncs_per_s"`
}

// measureFsync times iters rounds of each pattern in a scratch file in dir.
func measureFsync(dir string, iters int) (FsyncResult, error) {
	res := FsyncResult{Dir: dir, Iters: iters}
	f, err := os.CreateTemp(dir, "fsync-probe-")
	if err != nil {
		return res, err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	buf := make([]byte, 4096)
	for i := range buf {
		buf[i] = byte(rand.Uint32())
	}
	fd := int(f.Fd())
	timeOne := func(write func() error) (float64, error) {
		t := time.Now()
		if err := write(); err != nil {
			return 0, err
		}
		if err := unix.Fdatasync(fd); err != nil {
			return 0, fmt.Errorf("fdatasync: %w", err)
		}
		return ms(time.Since(t)), nil
	}
	run := func(write func() error) ([]float64, error) {
		var lat []float64
		for i := 0; i < iters+5; i++ {
			buf[0]++
			d, err := timeOne(write)
			if err != nil {
				return nil, err
			}
			if i >= 5 { // the first few warm up the file's metadata
				lat = append(lat, d)
			}
		}
		return lat, nil
	}
	appendLat, err := run(func() error { _, err := f.Write(buf); return err })
	if err != nil {
		return res, err
	}
	overLat, err := run(func() error { _, err := f.WriteAt(buf, 0); return err })
	if err != nil {
		return res, err
	}
	res.AppendP50Ms = median(appendLat)
	res.AppendP99Ms = percentile(appendLat, 99)
	for _, d := range appendLat {
		res.AppendMeanMs += d / float64(len(appendLat))
	}
	res.OverwriteP50Ms = median(overLat)
	res.OverwriteP99Ms = percentile(overLat, 99)
	if res.AppendP50Ms > 0 {
		res.MaxSyncsPerSec = 1000 / res.AppendP50Ms
	}
	return res, nil
}

func (r *FsyncResult) table(w io.Writer, label string) {
	fmt.Fprintf(w, "fsync %s\tdir\titers\tappend p50 ms\tappend p99 ms\toverwrite p50 ms\toverwrite p99 ms\tsyncs/s (1 writer)\t\n", label)
	fmt.Fprintf(w, "\t%s\t%d\t%.3f\t%.3f\t%.3f\t%.3f\t%.0f\t\n", r.Dir, r.Iters,
		r.AppendP50Ms, r.AppendP99Ms, r.OverwriteP50Ms, r.OverwriteP99Ms, r.MaxSyncsPerSec)
}

func runFsync(args []string) error {
	fs := flag.NewFlagSet("fsync", flag.ExitOnError)
	var c common
	c.register(fs)
	iters := fs.Int("iters", 200, "timed write+fdatasync rounds per pattern")
	_ = fs.Parse(args)
	env := newEnv()
	dir, err := c.tempDir("fsync")
	if err != nil {
		return err
	}
	defer c.cleanup(dir)
	r, err := measureFsync(dir, *iters)
	if err != nil {
		return err
	}
	r.Dir = filepath.Dir(dir)
	env.finish()
	return c.emit(struct {
		Env   Env         `json:"env"`
		Fsync FsyncResult `json:"fsync"`
	}{env, r}, func(w io.Writer) {
		env.table(w)
		r.table(w, "")
	})
}
