#!/usr/bin/env python3
"""The liballoc targets of issue 9, from one run's results.csv.

For every (workload, profile, threads) cell: the ratio of medians
inhouse/mimalloc (time, raw and net of the harness), inhouse/jemalloc (peak
RSS) and, when the run has it, inhouse/inhouse_baseline (time and RSS), each
with a 95% bootstrap confidence interval (unpaired: repetitions are
resampled independently per allocator, 2000 resamples, seed 1). Also the
harness's own cost (null's ns/op) and the repetitions.

  /usr/bin/python3 scripts/inhouse_targets.py results/DIR/results.csv [--markdown]
"""
import argparse
import sys

import numpy as np
import pandas as pd

RESAMPLES = 2000


def ratio_ci(num, den, rng):
    """Median(num)/median(den) and its 95% bootstrap interval, or None."""
    num = np.asarray(num, dtype=float)
    den = np.asarray(den, dtype=float)
    if len(num) == 0 or len(den) == 0 or np.median(den) == 0:
        return None
    a = np.median(rng.choice(num, (RESAMPLES, len(num))), axis=1)
    b = np.median(rng.choice(den, (RESAMPLES, len(den))), axis=1)
    ok = b != 0
    lo, hi = np.percentile(a[ok] / b[ok], [2.5, 97.5])
    return np.median(num) / np.median(den), lo, hi


def fmt(r):
    return "n/a" if r is None else f"{r[0]:.2f} [{r[1]:.2f}, {r[2]:.2f}]"


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("results")
    ap.add_argument("--markdown", action="store_true")
    args = ap.parse_args(argv)
    try:
        df = pd.read_csv(args.results)
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError) as e:
        print(f"inhouse_targets: cannot read {args.results}: {e}", file=sys.stderr)
        return 2
    need = {"allocator", "workload", "profile", "threads", "status", "ns_per_op", "net_ns_per_op",
            "peak_rss_bytes"}
    if not need <= set(df.columns):
        print(f"inhouse_targets: {args.results} lacks columns {sorted(need - set(df.columns))}",
              file=sys.stderr)
        return 2
    df = df[df.status == "ok"]
    rng = np.random.default_rng(1)
    has_base = (df.allocator == "inhouse_baseline").any()
    rows = []
    for (w, p, t), g in df.groupby(["workload", "profile", "threads"]):
        def col(alloc, c):
            return g[g.allocator == alloc][c].dropna().values
        row = {"cell": f"{w}:{p}", "threads": t, "n": len(col("inhouse", "ns_per_op")),
               "harness ns/op": f"{np.median(col('inhouse', 'harness_ns_per_op')):.1f}" if len(col("inhouse", "harness_ns_per_op")) else "n/a",
               "inhouse ns/op": f"{np.median(col('inhouse', 'ns_per_op')):.1f}",
               "time/mimalloc": fmt(ratio_ci(col("inhouse", "ns_per_op"), col("mimalloc", "ns_per_op"), rng)),
               "net time/mimalloc": fmt(ratio_ci(col("inhouse", "net_ns_per_op"), col("mimalloc", "net_ns_per_op"), rng)),
               "peak RSS/jemalloc": fmt(ratio_ci(col("inhouse", "peak_rss_bytes"), col("jemalloc", "peak_rss_bytes"), rng))}
        if has_base:
            row["time/baseline"] = fmt(ratio_ci(col("inhouse", "ns_per_op"), col("inhouse_baseline", "ns_per_op"), rng))
            row["RSS/baseline"] = fmt(ratio_ci(col("inhouse", "peak_rss_bytes"),
                                               col("inhouse_baseline", "peak_rss_bytes"), rng))
        rows.append(row)
    out = pd.DataFrame(rows)
    if args.markdown:
        print("| " + " | ".join(out.columns) + " |")
        print("|" + "---|" * len(out.columns))
        for r in out.itertuples(index=False):
            print("| " + " | ".join(str(v) for v in r) + " |")
    else:
        print(out.to_string(index=False))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
