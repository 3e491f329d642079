package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// common holds the flags every subcommand takes.
type common struct {
	json       bool
	cpuprofile string
	dir        string
	keep       bool
}

func (c *common) register(fs *flag.FlagSet) {
	fs.BoolVar(&c.json, "json", false, "print the results as JSON instead of a table")
	fs.StringVar(&c.cpuprofile, "cpuprofile", "", "write a CPU profile of the measured phase to this file")
	fs.StringVar(&c.dir, "dir", "", "parent directory for the temporary database (default: os.TempDir())")
	fs.BoolVar(&c.keep, "keep", false, "keep the temporary database directory")
}

// tempDir makes a fresh directory for a database under -dir.
func (c *common) tempDir(prefix string) (string, error) {
	parent := c.dir
	if parent == "" {
		parent = os.TempDir()
	}
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return "", err
	}
	return os.MkdirTemp(parent, "strata-bench-"+prefix+"-")
}

func (c *common) cleanup(dir string) {
	if c.keep {
		logf("kept %s", dir)
		return
	}
	if err := os.RemoveAll(dir); err != nil {
		logf("remove %s: %v", dir, err)
	}
}

// startProfile starts the CPU profile if -cpuprofile was given; the
// returned function stops it.
func (c *common) startProfile() (stop func(), err error) {
	if c.cpuprofile == "" {
		return func() {}, nil
	}
	f, err := os.Create(c.cpuprofile)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() {
		pprof.StopCPUProfile()
		if err := f.Close(); err != nil {
			logf("cpuprofile: %v", err)
		}
		logf("wrote CPU profile %s", c.cpuprofile)
	}, nil
}

// emit prints res as JSON (with -json) or calls table.
func (c *common) emit(res any, table func(w io.Writer)) error {
	if c.json {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(res)
	}
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	table(tw)
	return tw.Flush()
}

// logf reports progress on stderr.
func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "strata-bench: "+format+"\n", args...)
}

// Env describes the machine and the moment of a measurement.
type Env struct {
	Date       string     `json:"date"`
	Command    string     `json:"command"`
	GoVersion  string     `json:"go_version"`
	GOOS       string     `json:"goos"`
	GOARCH     string     `json:"goarch"`
	CPU        string     `json:"cpu"`
	NumCPU     int        `json:"num_cpu"`
	GOMAXPROCS int        `json:"gomaxprocs"`
	LoadStart  [3]float64 `json:"loadavg_start"`
	LoadEnd    [3]float64 `json:"loadavg_end"`
}

func newEnv() Env {
	return Env{
		Date:       time.Now().Format(time.RFC3339),
		Command:    strings.Join(append([]string{filepath.Base(os.Args[0])}, os.Args[1:]...), " "),
		GoVersion:  runtime.Version(),
		GOOS:       runtime.GOOS,
		GOARCH:     runtime.GOARCH,
		CPU:        cpuModel(),
		NumCPU:     runtime.NumCPU(),
		GOMAXPROCS: runtime.GOMAXPROCS(0),
		LoadStart:  loadAvg(),
	}
}

func (e *Env) finish() { e.LoadEnd = loadAvg() }

func (e *Env) table(w io.Writer) {
	fmt.Fprintf(w, "# %s\n# %s, %d CPUs (GOMAXPROCS %d), %s %s/%s, load %.2f -> %.2f\n",
		e.Command, e.CPU, e.NumCPU, e.GOMAXPROCS, e.GoVersion, e.GOOS, e.GOARCH, e.LoadStart[0], e.LoadEnd[0])
	fmt.Fprintf(w, "# %s\n", e.Date)
}

func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return runtime.GOARCH
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if k, v, ok := strings.Cut(s.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return runtime.GOARCH
}

func loadAvg() (l [3]float64) {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return l
	}
	for i, f := range strings.Fields(string(b)) {
		if i >= 3 {
			break
		}
		l[i], _ = strconv.ParseFloat(f, 64)
	}
	return l
}

// procStatus returns fields of /proc/self/status in bytes (VmRSS,
// RssAnon, RssFile, VmHWM, ...).
func procStatus() map[string]int64 {
	out := map[string]int64{}
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return out
	}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		f := strings.Fields(v)
		if len(f) == 2 && f[1] == "kB" {
			if n, err := strconv.ParseInt(f[0], 10, 64); err == nil {
				out[k] = n * 1024
			}
		}
	}
	return out
}

// --- statistics ---

// median of xs (0 if empty).
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// percentile returns the p-th percentile (0..100) of xs by the
// nearest-rank method.
func percentile(xs []float64, p float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	r := int(math.Ceil(p/100*float64(len(s)))) - 1
	return s[max(0, min(r, len(s)-1))]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// parseInts parses a comma-separated list of positive integers.
func parseInts(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("%q is not a positive integer", f)
		}
		out = append(out, n)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("empty list")
	}
	return out, nil
}

// dirSize sums the sizes of the regular files under dir.
func dirSize(dir string) int64 {
	var total int64
	_ = filepath.WalkDir(dir, func(_ string, d os.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if fi, err := d.Info(); err == nil {
				total += fi.Size()
			}
		}
		return nil
	})
	return total
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }
