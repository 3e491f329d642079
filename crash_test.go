package strata

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The kill -9 test: a child process (this test binary, re-executed) writes
// through the public API from several goroutines at once and reports each
// operation before issuing it ("B") and after it is acknowledged ("A").
// The parent kills the child with SIGKILL at a random moment, reopens the
// database and checks, writer by writer, that the recovered points equal
// the state after every acknowledged operation, possibly plus the one
// operation that writer had in flight: acknowledged writes are all there,
// byte for byte, and nothing else appeared. Writers own disjoint id ranges,
// so their in-flight operations are independent. The collection's flush
// threshold is tiny so the optimizer seals, merges and vacuums segments
// (and truncates the WAL) while the child is being killed.

var crashCycles = flag.Int("crash.cycles", 20, "kill -9 cycles in TestCrashRecovery")

const (
	crashEnvDir  = "STRATA_CRASH_CHILD_DIR"
	crashEnvSeed = "STRATA_CRASH_CHILD_SEED"
	crashWriters = 4
	crashIDs     = 300 // ids per writer
	crashDim     = 8
)

var crashConfig = CollectionConfig{
	Vectors: map[string]VectorParams{"": {Size: crashDim, Distance: Dot}},
	Optimizers: OptimizersConfig{
		FlushThreshold: 150, MaxSegments: 3, VacuumMinPoints: 50,
		Interval: 20 * time.Millisecond,
		// 1 KiB is 32 vectors here: every sealed segment gets an HNSW graph,
		// so graph files and their manifest commits are killed mid-way too.
		IndexingThresholdKB: 1,
	},
	HNSW: HnswConfig{M: 8, EfConstruct: 32},
	// Every segment written gets this payload index; the child also creates
	// or drops an index on "s" at each start, so the background field
	// indexer's builds and manifest commits are killed mid-way too.
	PayloadSchema: map[string]FieldSchema{"w": {Type: FieldInteger}},
}

// crashOp is one logged operation, enough for the parent to replay it on
// its model.
type crashOp struct {
	Kind    string            `json:"k"`
	IDs     []uint64          `json:"ids"`
	Vectors [][]uint32        `json:"v,omitempty"` // float32 bits, per id (upsert)
	Payload []json.RawMessage `json:"p,omitempty"` // per id (upsert) or one (set/overwrite)
}

type crashPoint struct {
	vec     []uint32
	payload string // canonical JSON ("" = none)
}

func canonical(raw []byte) string {
	if len(raw) == 0 {
		return ""
	}
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		panic(err)
	}
	if len(m) == 0 {
		return ""
	}
	b, _ := json.Marshal(m)
	return string(b)
}

// applyCrashOp applies op to a model of one writer's points.
func applyCrashOp(model map[uint64]crashPoint, op *crashOp) {
	for i, id := range op.IDs {
		switch op.Kind {
		case "upsert":
			model[id] = crashPoint{vec: op.Vectors[i], payload: canonical(op.Payload[i])}
		case "delete":
			delete(model, id)
		case "set":
			p := model[id]
			var m map[string]any
			if p.payload != "" {
				d := json.NewDecoder(strings.NewReader(p.payload))
				d.UseNumber()
				_ = d.Decode(&m)
			} else {
				m = map[string]any{}
			}
			var add map[string]any
			d := json.NewDecoder(bytes.NewReader(op.Payload[0]))
			d.UseNumber()
			_ = d.Decode(&add)
			maps.Copy(m, add)
			b, _ := json.Marshal(m)
			p.payload = canonical(b)
			model[id] = p
		case "overwrite":
			p := model[id]
			p.payload = canonical(op.Payload[0])
			model[id] = p
		}
	}
}

func TestCrashChild(t *testing.T) {
	dir := os.Getenv(crashEnvDir)
	if dir == "" {
		t.Skip("helper process for TestCrashRecovery")
	}
	seed, _ := strconv.ParseUint(os.Getenv(crashEnvSeed), 10, 64)
	db, err := Open(dir, nil)
	if err != nil {
		fmt.Printf("X open: %v\n", err)
		os.Exit(3)
	}
	c, err := db.Collection("crash")
	if err != nil {
		if c, err = db.CreateCollection(ctx, "crash", crashConfig); err != nil {
			fmt.Printf("X create: %v\n", err)
			os.Exit(3)
		}
	}
	if seed%2 == 0 {
		err = c.CreateFieldIndex(ctx, "s", FieldSchema{Type: FieldKeyword})
	} else if err = c.DeleteFieldIndex(ctx, "s"); errors.Is(err, ErrNotFound) {
		err = nil
	}
	if err != nil {
		fmt.Printf("X field index: %v\n", err)
		os.Exit(3)
	}
	fmt.Println("R") // ready
	var outMu sync.Mutex
	emit := func(s string) {
		outMu.Lock()
		os.Stdout.WriteString(s + "\n")
		outMu.Unlock()
	}
	deadline := time.Now().Add(30 * time.Second) // never outlive a lost parent
	var wg sync.WaitGroup
	for w := 0; w < crashWriters; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(seed, uint64(w)))
			base := uint64(w * crashIDs)
			// Existing ids of this writer, for payload updates.
			live := map[uint64]bool{}
			res, err := c.Scroll(ctx, ScrollRequest{Limit: MaxSearchLimit, Filter: &Filter{Must: []Condition{MatchValue("w", w)}}})
			if err != nil {
				emit(fmt.Sprintf("X scroll: %v", err))
				return
			}
			for _, p := range res.Points {
				live[p.ID.Num()] = true
			}
			for time.Now().Before(deadline) {
				op := crashOp{}
				switch k := r.IntN(10); {
				case k < 5 || len(live) == 0:
					op.Kind = "upsert"
					for i, n := 0, 1+r.IntN(40); i < n; i++ {
						id := base + uint64(r.IntN(crashIDs))
						if slices.Contains(op.IDs, id) {
							continue
						}
						v := make([]uint32, crashDim)
						for j := range v {
							v[j] = math.Float32bits(r.Float32()*2 - 1)
						}
						pl, _ := json.Marshal(map[string]any{"w": w, "id": id, "n": r.Int64(), "s": strings.Repeat("x", r.IntN(50))})
						op.IDs = append(op.IDs, id)
						op.Vectors = append(op.Vectors, v)
						op.Payload = append(op.Payload, pl)
					}
				case k < 7:
					op.Kind = "delete"
					for i, n := 0, 1+r.IntN(10); i < n; i++ {
						op.IDs = append(op.IDs, base+uint64(r.IntN(crashIDs)))
					}
				default:
					op.Kind = "set"
					if k == 9 {
						op.Kind = "overwrite"
					}
					for id := range live {
						op.IDs = append(op.IDs, id)
						if len(op.IDs) == 5 {
							break
						}
					}
					pl, _ := json.Marshal(map[string]any{"w": w, "tag": r.IntN(1000)})
					op.Payload = []json.RawMessage{pl}
				}
				line, _ := json.Marshal(op)
				emit(fmt.Sprintf("B %d %s", w, line))
				ids := make([]PointID, len(op.IDs))
				for i, id := range op.IDs {
					ids[i] = NumID(id)
				}
				switch op.Kind {
				case "upsert":
					pts := make([]Point, len(op.IDs))
					for i := range pts {
						v := make([]float32, crashDim)
						for j, b := range op.Vectors[i] {
							v[j] = math.Float32frombits(b)
						}
						pts[i] = Point{ID: ids[i], Vector: v, Payload: decodePayload(op.Payload[i])}
					}
					err = c.Upsert(ctx, pts)
					for _, id := range op.IDs {
						live[id] = true
					}
				case "delete":
					err = c.Delete(ctx, IDs(ids...))
					for _, id := range op.IDs {
						delete(live, id)
					}
				case "set", "overwrite":
					pl := decodePayload(op.Payload[0])
					if op.Kind == "set" {
						err = c.SetPayload(ctx, IDs(ids...), pl)
					} else {
						err = c.OverwritePayload(ctx, IDs(ids...), pl)
					}
				}
				if err != nil {
					emit(fmt.Sprintf("X %d %v", w, err))
					return
				}
				emit(fmt.Sprintf("A %d", w))
			}
		}()
	}
	wg.Wait()
	os.Exit(0)
}

func TestCrashRecovery(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	dir := t.TempDir()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	models := make([]map[uint64]crashPoint, crashWriters)
	for w := range models {
		models[w] = map[uint64]crashPoint{}
	}
	r := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))
	totalAcks, indexedCycles := 0, 0
	for cycle := 0; cycle < *crashCycles; cycle++ {
		cmd := exec.Command(exe, "-test.run=^TestCrashChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), crashEnvDir+"="+dir, crashEnvSeed+"="+strconv.FormatUint(r.Uint64(), 10))
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		lines := make(chan string, 1024)
		go func() {
			sc := bufio.NewScanner(stdout)
			sc.Buffer(make([]byte, 1<<20), 1<<24)
			for sc.Scan() {
				lines <- sc.Text()
			}
			close(lines)
		}()
		inflight := make([]*crashOp, crashWriters)
		acks := 0
		var killAt <-chan time.Time
		killDelay := time.Duration(20+r.IntN(400)) * time.Millisecond
	read:
		for {
			select {
			case <-killAt:
				_ = cmd.Process.Signal(syscall.SIGKILL)
				killAt = nil
			case line, ok := <-lines:
				if !ok {
					break read
				}
				switch line[0] {
				case 'R':
					killAt = time.After(killDelay)
				case 'B':
					var w int
					var op crashOp
					parts := strings.SplitN(line, " ", 3)
					w, _ = strconv.Atoi(parts[1])
					if err := json.Unmarshal([]byte(parts[2]), &op); err != nil {
						t.Fatalf("bad line %q: %v", line, err)
					}
					inflight[w] = &op
				case 'A':
					w, _ := strconv.Atoi(line[2:])
					applyCrashOp(models[w], inflight[w])
					inflight[w] = nil
					acks++
				case 'X':
					t.Fatalf("cycle %d: child failed: %s\n%s", cycle, line, stderr.String())
				}
			case <-time.After(60 * time.Second):
				_ = cmd.Process.Kill()
				t.Fatalf("cycle %d: child hung", cycle)
			}
		}
		err = cmd.Wait()
		if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() {
			t.Fatalf("cycle %d: child was not killed (err %v): %s", cycle, err, stderr.String())
		}
		totalAcks += acks

		// Recover and compare, writer by writer.
		db, err := Open(dir, nil)
		if err != nil {
			t.Fatalf("cycle %d: reopen: %v", cycle, err)
		}
		c, err := db.Collection("crash")
		if err != nil {
			t.Fatalf("cycle %d: collection lost: %v", cycle, err)
		}
		if got := c.Config(); got.Vectors[""] != crashConfig.Vectors[""] || got.Optimizers != crashConfig.Optimizers || got.HNSW != crashConfig.HNSW {
			t.Fatalf("cycle %d: config changed: %+v", cycle, got)
		}
		res, err := c.Scroll(ctx, ScrollRequest{Limit: MaxSearchLimit, WithPayload: AllPayload, WithVectors: AllVectors})
		if err != nil {
			t.Fatal(err)
		}
		got := make([]map[uint64]crashPoint, crashWriters)
		for w := range got {
			got[w] = map[uint64]crashPoint{}
		}
		for _, p := range res.Points {
			id := p.ID.Num()
			w := int(id / crashIDs)
			if w >= crashWriters {
				t.Fatalf("cycle %d: unexpected id %d", cycle, id)
			}
			v := make([]uint32, len(p.Vector))
			for i, f := range p.Vector {
				v[i] = math.Float32bits(f)
			}
			pl, _ := json.Marshal(p.Payload)
			got[w][id] = crashPoint{vec: v, payload: canonical(pl)}
		}
		for w := 0; w < crashWriters; w++ {
			if equalCrash(got[w], models[w]) {
				continue
			}
			if op := inflight[w]; op != nil {
				with := maps.Clone(models[w])
				applyCrashOp(with, op)
				if equalCrash(got[w], with) {
					models[w] = with // the unacknowledged op survived: allowed
					continue
				}
			}
			t.Fatalf("cycle %d writer %d: recovered state differs from the acknowledged one:\n%s", cycle, w, diffCrash(got[w], models[w]))
		}
		if n, _ := c.Count(ctx, nil); n != len(res.Points) {
			t.Fatalf("cycle %d: count %d != scrolled %d", cycle, n, len(res.Points))
		}
		// Payload indexes that survived the kill (or were rebuilt) agree with
		// the recovered payloads.
		for w := 0; w < crashWriters; w++ {
			if n, err := c.Count(ctx, &Filter{Must: []Condition{MatchValue("w", w)}}); err != nil || n != len(got[w]) {
				t.Fatalf("cycle %d: count of writer %d's points by the \"w\" index = %d (%v), want %d", cycle, w, n, err, len(got[w]))
			}
		}
		short := []any{"", "x", "xx", "xxx"}
		want := 0
		for _, p := range res.Points {
			if slices.Contains(short, p.Payload["s"]) {
				want++
			}
		}
		if n, err := c.Count(ctx, &Filter{Must: []Condition{{Key: "s", Match: &Match{Any: short}}}}); err != nil || n != want {
			t.Fatalf("cycle %d: count of short \"s\" = %d (%v), want %d", cycle, n, err, want)
		}
		// Graphs that survived the kill answer searches: every hit is a live
		// point and an exact search agrees on the best one.
		if len(res.Points) > 0 {
			q := make([]float32, crashDim)
			q[0] = 1
			approx, err := c.Search(ctx, SearchRequest{Vector: q, Limit: 5, HnswEf: 64})
			if err != nil {
				t.Fatalf("cycle %d: search: %v", cycle, err)
			}
			exact, _ := c.Search(ctx, SearchRequest{Vector: q, Limit: 5, Exact: true})
			for _, h := range approx {
				w := int(h.ID.Num() / crashIDs)
				if _, ok := got[w][h.ID.Num()]; !ok {
					t.Fatalf("cycle %d: search returned %v, which is not a live point", cycle, h.ID)
				}
			}
			if len(approx) == 0 || len(exact) == 0 || approx[0].Score < exact[0].Score-1e-5 {
				t.Fatalf("cycle %d: graph search %v vs exact %v", cycle, approx, exact)
			}
		}
		if info, _ := c.Info(ctx); info.IndexedVectorsCount > 0 {
			indexedCycles++
		}
		if err := db.Close(); err != nil {
			t.Fatalf("cycle %d: close: %v", cycle, err)
		}
	}
	if totalAcks < *crashCycles {
		t.Fatalf("only %d acknowledged writes in %d cycles: the test did not exercise anything", totalAcks, *crashCycles)
	}
	t.Logf("%d cycles, %d acknowledged writes verified; graphs present after %d reopens", *crashCycles, totalAcks, indexedCycles)
}

func equalCrash(a, b map[uint64]crashPoint) bool {
	if len(a) != len(b) {
		return false
	}
	for id, p := range a {
		q, ok := b[id]
		if !ok || p.payload != q.payload || !slices.Equal(p.vec, q.vec) {
			return false
		}
	}
	return true
}

func diffCrash(got, want map[uint64]crashPoint) string {
	var sb strings.Builder
	n := 0
	for id, w := range want {
		g, ok := got[id]
		switch {
		case !ok:
			fmt.Fprintf(&sb, "  id %d missing (want payload %s)\n", id, w.payload)
		case g.payload != w.payload || !slices.Equal(g.vec, w.vec):
			fmt.Fprintf(&sb, "  id %d differs: got %s want %s\n", id, g.payload, w.payload)
		default:
			continue
		}
		if n++; n > 10 {
			return sb.String()
		}
	}
	for id, g := range got {
		if _, ok := want[id]; !ok {
			fmt.Fprintf(&sb, "  id %d unexpected (payload %s)\n", id, g.payload)
			if n++; n > 10 {
				break
			}
		}
	}
	return sb.String()
}
