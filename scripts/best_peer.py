#!/usr/bin/env python3
"""One allocator against the best of its peers, per cell, from one run's results.csv.

For every (workload, profile, threads) cell and each metric, the peer with
the lowest median, and the ratio of medians target/best with a 95% bootstrap
interval (allocplot's unpaired bootstrap: each allocator's repetitions
resampled independently, 10,000 resamples, its fixed seed). Metrics, lower is better:

  net_ns      net_ns_per_op: wall time per op less the `null` calibration's
  net_cpu_ns  CPU time per op, 1e9 * (user_s + sys_s) / total_ops, less the
              calibration's median on the same cell
  rss_mb      peak_rss_net_bytes / 1e6
  minflt      minor faults per timed replay

A ratio whose best median is not positive is left out ("n/a"): a net cost at
or below the harness's own says nothing about a ratio. Its interval is left
out ("no CI") when the best peer's resampled median is not positive in more
than the tails of the resamples.

  /usr/bin/python3 scripts/best_peer.py results/DIR/results.csv \\
      [--target inhouse] [--peers glibc,jemalloc,tcmalloc,mimalloc,tbbmalloc,scudo] [--markdown]
"""
import argparse
import sys

import numpy as np
import pandas as pd

from allocplot import significance

DEFAULT_PEERS = "glibc,jemalloc,tcmalloc,mimalloc,tbbmalloc,scudo"
METRICS = ["net_ns", "net_cpu_ns", "rss_mb", "minflt"]
NEEDED = {"allocator", "workload", "profile", "threads", "status", "net_ns_per_op",
          "user_s", "sys_s", "total_ops", "peak_rss_net_bytes", "minflt"}


def add_metrics(df):
    """The ok rows of `df` with the METRICS columns added."""
    df = df[df.status == "ok"].copy()
    df["net_ns"] = pd.to_numeric(df.net_ns_per_op, errors="coerce")
    cpu = 1e9 * (pd.to_numeric(df.user_s, errors="coerce") + pd.to_numeric(df.sys_s, errors="coerce"))
    df["cpu_ns"] = cpu / pd.to_numeric(df.total_ops, errors="coerce")
    keys = ["workload", "profile", "threads"]
    null_cpu = df[df.allocator == "null"].groupby(keys).cpu_ns.median().rename("null_cpu_ns")
    df = df.join(null_cpu, on=keys)
    df["net_cpu_ns"] = df.cpu_ns - df.null_cpu_ns
    df["rss_mb"] = pd.to_numeric(df.peak_rss_net_bytes, errors="coerce") / 1e6
    df["minflt"] = pd.to_numeric(df.minflt, errors="coerce")
    return df


def ratio_ci(num, den):
    """(median(num)/median(den), lo, hi), the interval from allocplot's
    unpaired bootstrap (significance.ratio_ci), or None when either side is
    empty or median(den) is not positive."""
    num = np.asarray(num, dtype=float)
    den = np.asarray(den, dtype=float)
    num, den = num[~np.isnan(num)], den[~np.isnan(den)]
    if len(num) == 0 or len(den) == 0 or np.median(den) <= 0:
        return None
    lo, hi = significance.ratio_ci(den, num, paired=False)
    return float(np.median(num) / np.median(den)), lo, hi


def best_peer_table(df, target, peers):
    """One row per cell: reps, harness ns/op, and per metric the target's
    median, the best peer, its median and the ratio target/best (or None)."""
    df = add_metrics(df)
    rows = []
    for (w, p, t), g in df.groupby(["workload", "profile", "threads"]):
        mine = g[g.allocator == target]
        if mine.empty:
            continue
        row = {"workload": w, "profile": p, "threads": int(t), "reps": len(mine),
               "harness_ns": float(pd.to_numeric(mine.harness_ns_per_op, errors="coerce").median())
               if "harness_ns_per_op" in mine else float("nan")}
        for m in METRICS:
            meds = {a: g[g.allocator == a][m].median() for a in peers if (g.allocator == a).any()}
            meds = {a: v for a, v in meds.items() if not np.isnan(v)}
            best = min(meds, key=meds.get) if meds else None
            row[f"{m}_target"] = float(mine[m].median())
            row[f"{m}_best"] = best
            row[f"{m}_best_value"] = meds.get(best, float("nan"))
            row[f"{m}_ratio"] = (None if best is None else
                                 ratio_ci(mine[m].values, g[g.allocator == best][m].values))
        rows.append(row)
    return pd.DataFrame(rows)


def fmt_ratio(r):
    """'n/a' without a ratio; 'no CI' when the peer's median is at or below
    zero in more than the tails of the resamples (significance._bounds)."""
    if r is None:
        return "n/a"
    if np.isnan(r[1]) or np.isnan(r[2]):
        return f"{r[0]:.2f} [no CI]"
    return f"{r[0]:.2f} [{r[1]:.2f}, {r[2]:.2f}]"


def fmt_num(v):
    return "n/a" if v is None or (isinstance(v, float) and np.isnan(v)) else f"{v:.4g}"


def markdown(table, target):
    head = ["cell", "t", "reps", "harness ns/op"]
    labels = {"net_ns": "net ns/op", "net_cpu_ns": "net CPU ns/op", "rss_mb": "peak RSS net MB",
              "minflt": "minflt"}
    for m in METRICS:
        head += [f"{target} {labels[m]}", f"best peer ({labels[m]})", f"{target}/best"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in table.to_dict("records"):
        cells = [f"{r['workload']}/{r['profile']}", str(r["threads"]), str(r["reps"]), fmt_num(r["harness_ns"])]
        for m in METRICS:
            best = r[f"{m}_best"]
            cells += [fmt_num(r[f"{m}_target"]),
                      "n/a" if best is None else f"{best} {fmt_num(r[f'{m}_best_value'])}",
                      fmt_ratio(r[f"{m}_ratio"])]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("results")
    ap.add_argument("--target", default="inhouse")
    ap.add_argument("--peers", default=DEFAULT_PEERS)
    ap.add_argument("--markdown", action="store_true")
    args = ap.parse_args(argv)
    try:
        df = pd.read_csv(args.results, keep_default_na=False, na_values=[""])  # "null" is a name
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError) as e:
        print(f"best_peer: cannot read {args.results}: {e}", file=sys.stderr)
        return 2
    if not NEEDED <= set(df.columns):
        print(f"best_peer: {args.results} lacks columns {sorted(NEEDED - set(df.columns))}", file=sys.stderr)
        return 2
    peers = [p for p in args.peers.split(",") if p]
    table = best_peer_table(df, args.target, peers)
    if table.empty:
        print(f"best_peer: no ok rows of {args.target} in {args.results}", file=sys.stderr)
        return 2
    if args.markdown:
        print(markdown(table, args.target))
    else:
        print(table.to_string(index=False))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
