#!/usr/bin/python3
"""FAISS anchor for `strata-bench filtered`: the same data, the same filters, three ways to filter.

  * post-filtering (what a plain ANN library offers): search an HNSW index for k' = k * m neighbours
    (m in 1, 2, 5, 10, 20, 100; efSearch = max(k', 16)), keep those the filter accepts, return the first k;
  * in-search filtering: HNSW with faiss.SearchParametersHNSW(sel=IDSelectorBitmap, efSearch=ef), which
    skips rejected points as results while still walking through them;
  * exact: IndexFlat with SearchParameters(sel=IDSelectorBitmap).

Recall@k is against a brute-force ground truth computed here in numpy (float64) over the accepted points;
its agreement with Strata's exact filtered search (gt-*.npy from the dump) is reported as a check of both.
QPS: one batch search of all nq queries (no per-query Python overhead), FAISS's OpenMP on 1 and then 2
threads, median of --reps runs after one untimed run.

Usage (Debian's python3 sees python3-faiss 1.7.3 and numpy):
  strata-bench filtered -data DATASET -dump DIR -json > strata.json   # masks of the filters, Strata's ground truth
  /usr/bin/python3 scripts/anchors/faiss_postfilter.py DATASET --masks DIR [--nq 500] [--k 10] [--out FILE]
  strata-bench filtered -from strata.json -anchor FILE                 # Strata beside FAISS
DATASET: a directory name under $STRATA_BENCH_DATA (default ~/.cache/strata-bench). The output JSON goes to
--out (default $STRATA_BENCH_RESULTS/faiss-postfilter-DATASET.json, results under $STRATA_BENCH_DATA).
"""
import argparse
import json
import os
import platform
import statistics
import sys
import time

import numpy as np

DATA = os.environ.get("STRATA_BENCH_DATA", os.path.expanduser("~/.cache/strata-bench"))
RESULTS = os.environ.get("STRATA_BENCH_RESULTS", os.path.join(DATA, "results"))
MULTIPLIERS = (1, 2, 5, 10, 20, 100)


def read_vecs(path):
    """Texmex .fvecs / .bvecs / .ivecs: per row an int32 dimension, then the values."""
    ext = path.rsplit(".", 1)[1]
    if ext == "bvecs":
        raw = np.fromfile(path, dtype=np.uint8)
        d = int(raw[:4].view(np.int32)[0])
        return raw.reshape(-1, d + 4)[:, 4:].copy()
    dt = {"fvecs": np.float32, "ivecs": np.int32}[ext]
    raw = np.fromfile(path, dtype=np.int32)
    d = int(raw[0])
    return raw.reshape(-1, d + 1)[:, 1:].copy().view(dt)


def load(name):
    d = os.path.join(DATA, name)
    meta = json.load(open(os.path.join(d, "meta.json")))
    base = read_vecs(os.path.join(d, meta["base_file"])).astype(np.float32)
    query = read_vecs(os.path.join(d, meta["query_file"])).astype(np.float32)
    if meta["metric"] in ("cos", "angular", "cosine"):
        base /= np.linalg.norm(base, axis=1, keepdims=True)
        query /= np.linalg.norm(query, axis=1, keepdims=True)
    return meta, np.ascontiguousarray(base), np.ascontiguousarray(query)


def exact_filtered(base, query, ids, k, metric):
    """Top-k of the points ids (row numbers) by brute force in float64: squared L2, or -inner product."""
    b = base[ids].astype(np.float64)
    out = np.full((len(query), k), -1, dtype=np.int64)
    bn = (b * b).sum(1)
    for s in range(0, len(query), 100):
        q = query[s:s + 100].astype(np.float64)
        ip = q @ b.T
        d = -ip if metric == "ip" else bn[None, :] - 2 * ip
        kk = min(k, len(ids))
        part = np.argpartition(d, kk - 1, axis=1)[:, :kk]
        order = np.take_along_axis(d, part, 1).argsort(1, kind="stable")
        out[s:s + 100, :kk] = ids[np.take_along_axis(part, order, 1)]
    return out


def recall(I, gt, k):
    hits = total = 0
    for row, g in zip(I, gt):
        g = set(int(x) for x in g[:k] if x >= 0)
        hits += len(g & set(int(x) for x in row[:k] if x >= 0))
        total += len(g)
    return hits / max(1, total)


def timed(fn, reps):
    ts, out = [], None
    for _ in range(reps):
        t = time.perf_counter()
        out = fn()
        ts.append(time.perf_counter() - t)
    return statistics.median(ts), out


def main():
    import faiss

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("dataset")
    ap.add_argument("--masks", required=True, help="the directory written by strata-bench filtered -dump")
    ap.add_argument("--nq", type=int, default=500)
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--m", type=int, default=16, help="HNSW M")
    ap.add_argument("--efc", type=int, default=200, help="HNSW efConstruction")
    ap.add_argument("--ef", default="16,32,64,128,256", help="efSearch values for HNSW + IDSelector")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--build-threads", type=int, default=2)
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    efs = [int(x) for x in args.ef.split(",")]
    k = args.k

    index = json.load(open(os.path.join(args.masks, "filters.json")))
    if index["dataset"] != args.dataset:
        sys.exit(f"{args.masks} holds filters for {index['dataset']}, not {args.dataset}")
    meta, base, query = load(args.dataset)
    query = query[:args.nq]
    n, d = base.shape
    metric = "ip" if meta["metric"] in ("cos", "angular", "cosine", "ip", "dot") else "l2"
    fm = faiss.METRIC_INNER_PRODUCT if metric == "ip" else faiss.METRIC_L2
    print(f"{args.dataset}: {n} x {d}, {meta['metric']}; {len(query)} queries, k={k}; faiss {faiss.__version__}", file=sys.stderr)

    faiss.omp_set_num_threads(args.build_threads)
    hnsw = faiss.IndexHNSWFlat(d, args.m, fm)
    hnsw.hnsw.efConstruction = args.efc
    t = time.perf_counter()
    hnsw.add(base)
    build_s = time.perf_counter() - t
    flat = faiss.IndexFlat(d, fm)
    flat.add(base)
    print(f"HNSW M {args.m} efConstruction {args.efc}: built in {build_s:.1f} s on {args.build_threads} threads", file=sys.stderr)

    def qps_pair(fn):
        """One untimed run (its results are returned), then --reps timed runs on 1 and on 2 threads."""
        faiss.omp_set_num_threads(2)
        res = fn()
        out = {}
        for th in (1, 2):
            faiss.omp_set_num_threads(th)
            dt, _ = timed(fn, args.reps)
            out[th] = len(query) / dt
        return out[1], out[2], res

    cases = []
    for c in index["cases"]:
        mask = np.load(os.path.join(args.masks, c["mask"])).astype(bool)
        assert mask.shape == (n,), mask.shape
        ids = np.flatnonzero(mask).astype(np.int64)
        gt = exact_filtered(base, query, ids, k, metric)
        agree = None
        gtp = os.path.join(args.masks, c.get("gt", ""))
        if c.get("gt") and os.path.exists(gtp):
            sgt = np.load(gtp)[:len(query)]
            agree = recall(sgt, gt, k)
        out = {"name": c["name"], "filter": c["filter"], "matches": int(mask.sum()), "gt_agreement": agree,
               "postfilter": [], "hnsw_idselector": [], "flat_idselector": None}

        # Post-filtering: ask for more, keep what the filter accepts.
        for m in MULTIPLIERS:
            kp = min(k * m, n)
            hnsw.hnsw.efSearch = max(kp, 16)

            def post():
                _, I = hnsw.search(query, kp)
                ok = np.where(I >= 0, mask[np.maximum(I, 0)], False)
                res = np.full((len(query), k), -1, dtype=np.int64)
                for r in range(len(query)):
                    keep = I[r][ok[r]][:k]
                    res[r, :len(keep)] = keep
                return res
            q1, q2, res = qps_pair(post)
            out["postfilter"].append({"m": m, "k_prime": kp, "ef": hnsw.hnsw.efSearch, "recall": recall(res, gt, k),
                                      "qps_1_thread": q1, "qps_2_threads": q2})

        # In-search filtering with an IDSelectorBitmap (bit i of byte i>>3, little-endian bit order).
        bits = np.packbits(mask, bitorder="little")
        sel = faiss.IDSelectorBitmap(n, faiss.swig_ptr(bits))
        for ef in efs:
            params = faiss.SearchParametersHNSW(sel=sel, efSearch=ef)
            q1, q2, (_, I) = qps_pair(lambda: hnsw.search(query, k, params=params))
            if np.any((I >= 0) & ~mask[np.maximum(I, 0)]):
                sys.exit(f"{c['name']}: HNSW + IDSelector returned a rejected point")
            out["hnsw_idselector"].append({"ef": ef, "recall": recall(I, gt, k), "qps_1_thread": q1, "qps_2_threads": q2})
        fparams = faiss.SearchParameters(sel=sel)
        q1, q2, (_, I) = qps_pair(lambda: flat.search(query, k, params=fparams))
        out["flat_idselector"] = {"recall": recall(I, gt, k), "qps_1_thread": q1, "qps_2_threads": q2}
        cases.append(out)

        line = " ".join(f"m{p['m']}:{p['recall']:.3f}/{p['qps_1_thread']:.0f}" for p in out["postfilter"])
        line2 = " ".join(f"ef{p['ef']}:{p['recall']:.3f}/{p['qps_1_thread']:.0f}" for p in out["hnsw_idselector"])
        print(f"{c['name']} ({out['matches']} points, GT agreement {agree}):\n  post-filter recall/QPS {line}\n"
              f"  HNSW+IDSelector {line2}\n  flat+IDSelector {out['flat_idselector']['recall']:.3f}/"
              f"{out['flat_idselector']['qps_1_thread']:.0f}", file=sys.stderr)

    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.machine())
    result = {
        "env": {"time": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "cpu": cpu, "nproc": os.cpu_count(),
                "loadavg_start": os.getloadavg(), "faiss": faiss.__version__, "numpy": np.__version__,
                "python": platform.python_version()},
        "dataset": args.dataset, "n": n, "dim": d, "metric": meta["metric"], "nq": len(query), "k": k,
        "m": args.m, "ef_construction": args.efc, "build_s": build_s, "build_threads": args.build_threads,
        "reps": args.reps, "cases": cases,
    }
    out_path = args.out or os.path.join(RESULTS, f"faiss-postfilter-{args.dataset}.json")
    os.makedirs(os.path.dirname(os.path.abspath(out_path)), exist_ok=True)
    with open(out_path, "w") as f:
        json.dump(result, f, indent=2)

    # The table: for each filter, the cheapest setting reaching recall 0.95 in each method.
    print(f"# {args.dataset}, faiss {faiss.__version__}, {cpu}, load {os.getloadavg()[0]:.2f}; QPS on 1 thread")
    print("filter | matches | post-filter: best recall (m) | post-filter QPS at >= 0.95 | HNSW+IDSelector QPS at >= 0.95 (ef) | flat+IDSelector QPS")
    for c in cases:
        best = max(c["postfilter"], key=lambda p: p["recall"])
        pf = next((p for p in c["postfilter"] if p["recall"] >= 0.95), None)
        hs = next((p for p in c["hnsw_idselector"] if p["recall"] >= 0.95), None)
        print(f"{c['name']} | {c['matches']} | {best['recall']:.3f} (m {best['m']}) | "
              f"{'%.0f (m %d)' % (pf['qps_1_thread'], pf['m']) if pf else 'not reached'} | "
              f"{'%.0f (ef %d)' % (hs['qps_1_thread'], hs['ef']) if hs else 'not reached'} | "
              f"{c['flat_idselector']['qps_1_thread']:.0f}")
    print(f"wrote {out_path}", file=sys.stderr)


if __name__ == "__main__":
    main()
