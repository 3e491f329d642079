// Command strata-bench measures Strata through its public, embeddable API:
// write throughput, reopen time and memory, and exact search speed and
// recall on real data sets. Every subcommand prints a table, or JSON with
// -json, headed by the machine, the Go version and the load average.
//
//	strata-bench ingest -n 100000 -dim 384 -batch 256 -writers 1,4 [-dir D]
//	strata-bench reopen -n 1000000 -dim 128 [-dir D]
//	strata-bench exact  -data DIR [-nq 1000] [-k 10] [-batch 64]
//	strata-bench fsync  [-dir D] [-iters 200]
//	strata-bench hnsw   -data DIR [-m 16] [-ef-construct 200] [-ef 16,32,...] [-nq 1000]
//	strata-bench filtered -data DIR [-nq 500] [-k 10] [-ef 16,32,...] [-dump DIR] [-anchor FILE]
//	strata-bench payloadindex [-n 1000000] [-types keyword,integer,...]
//
// Run "strata-bench SUBCOMMAND -h" for the flags of each. docs/benchmarks.md
// records results.
package main

import (
	"fmt"
	"os"
)

const usage = `usage: strata-bench SUBCOMMAND [flags]

subcommands:
  ingest   concurrent upsert throughput (points/s) and the disk's fsync latency
  reopen   time to reopen a large collection in a fresh process, and its memory
  exact    exact search QPS, latency and recall@k on a data set (with FAISS ratios)
  fsync    the disk's fsync latency alone
  hnsw     HNSW build time, memory, and the recall/QPS curve over hnsw_ef on a data set
  filtered filtered search: recall and QPS at every selectivity and hnsw_ef (with a FAISS post-filter anchor)
  payloadindex  build time, memory and disk of each payload index type on 1,000,000 points

Run "strata-bench SUBCOMMAND -h" for its flags.
`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	cmd, args := os.Args[1], os.Args[2:]
	var err error
	switch cmd {
	case "ingest":
		err = runIngest(args)
	case "reopen":
		err = runReopen(args)
	case "exact":
		err = runExact(args)
	case "fsync":
		err = runFsync(args)
	case "hnsw":
		err = runHNSW(args)
	case "filtered":
		err = runFiltered(args)
	case "payloadindex":
		err = runPayloadIndex(args)
	case reopenChildCmd:
		err = runReopenChild(args)
	case "help", "-h", "-help", "--help":
		fmt.Print(usage)
		return
	default:
		fmt.Fprintf(os.Stderr, "strata-bench: unknown subcommand %q\n\n%s", cmd, usage)
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "strata-bench %s: %v\n", cmd, err)
		os.Exit(1)
	}
}
