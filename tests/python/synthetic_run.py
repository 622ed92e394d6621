"""A run directory written by the tests for the figures: results.csv (every
schema column), phases.csv, context.json and latency files, with effects
planted per allocator, seeded so every call writes the same bytes."""
import json
import os
import zlib

import numpy as np
import pandas as pd

from allocplot.load import COLUMNS

RUN_ID = "20261201T000000Z-test"
CONTEXT = {"run_id": RUN_ID, "cpu_model": "Test CPU", "cores": 2, "kernel": "Linux 6.1.0-test #1",
           "machine": "x86_64", "compiler": "g++ 12.2.0", "glibc": "2.36",
           "thp_enabled": "always [madvise] never", "git_commit": "0123456789abcdef",
           "git_dirty": False, "pinned_cpus": ""}

# (workload, profile, threads) of the default run: rl_churn/small and
# size_ramp/alloc_all at 1 and 2 threads, ttl_ring at 1 only.
CELLS = [("rl_churn", "small", 1), ("rl_churn", "small", 2), ("ttl_ring", "default", 1),
         ("size_ramp", "alloc_all", 1), ("size_ramp", "alloc_all", 2)]

# Time factor over glibc per allocator: `slow` is 1.5 times glibc everywhere,
# `same` draws from glibc's own distribution.
FACTORS = {"glibc": 1.0, "same": 1.0, "slow": 1.5, "mimalloc": 0.6}


def _row(**values):
    row = {c: "" for c in COLUMNS}
    row.update({k: str(v) for k, v in values.items()})
    return row


def write_run(directory, allocators=None, cells=CELLS, reps=5, skipped=(), phases=True,
              context=True, seed=7):
    """Writes the run into `directory`; returns the path of its results.csv.
    `allocators` maps names to time factors (default FACTORS; the calibration
    adapter null is added); `skipped` holds (allocator, workload) pairs whose
    rows are status skipped."""
    rng = np.random.default_rng(seed)
    allocators = dict(FACTORS if allocators is None else allocators)
    os.makedirs(os.path.join(directory, "latency"), exist_ok=True)
    rows, phase_rows = [], []
    for w, p, t in cells:
        base = 40.0 * (1 + 0.5 * (t - 1)) * (1 + 0.1 * len(w))
        null_ns = 8.0 * (1 + 0.02 * rng.standard_normal(reps))
        harness = float(np.median(null_ns))  # as the runner fills harness_ns_per_op
        for a in ["null"] + sorted(allocators):
            for rep in range(reps):
                common = dict(schema_version=2, run_id=RUN_ID, allocator=a, workload=w,
                              profile=p, threads=t, repetition=rep, seed=1, ops=1000,
                              trace_hash=f"{zlib.crc32(f'{w}/{p}/{t}'.encode()):08x}",
                              warmup=1)
                if (a, w) in skipped:
                    rows.append(_row(status="skipped", error="not for this workload", **common))
                    continue
                noise = 1 + 0.02 * rng.standard_normal()
                ns = null_ns[rep] if a == "null" else harness + base * allocators[a] * noise
                total = 1000 * t
                lat = np.sort(rng.gamma(2.0, ns / 2.0, 400)).astype("<f4")
                rel = f"latency/{a}.{w}.{p}.t{t}.r{rep}.f32"
                lat.tofile(os.path.join(directory, rel))
                pct = [float(np.percentile(lat, q, method="inverted_cdf"))
                       for q in (50, 90, 99, 99.9, 100)]
                mem = {} if a == "null" else dict(
                    peak_rss_bytes=int(3e6 * allocators[a]) + 10 ** 6,
                    baseline_rss_bytes=10 ** 6,
                    peak_rss_net_bytes=int(3e6 * allocators[a] * (1 + 0.01 * rep)),
                    peak_live_bytes=2 * 10 ** 6, peak_live_method="trace")
                if mem:
                    mem["overhead_ratio"] = mem["peak_rss_net_bytes"] / mem["peak_live_bytes"]
                rows.append(_row(status="ok", wall_s=ns * total / 1e9, mops=1e3 / ns,
                                 ns_per_op=ns, harness_ns_per_op=harness,
                                 net_ns_per_op=ns - harness, replays=3,
                                 lat_p50_ns=pct[0], lat_p90_ns=pct[1], lat_p99_ns=pct[2],
                                 lat_p999_ns=pct[3], lat_max_ns=pct[4], lat_samples=lat.size,
                                 timer_ns=10.0, lat_file=rel, total_ops=total, allocs=total // 2,
                                 frees=total // 2, reallocs=0, cell_s=1.0, **mem, **common))
                if phases and w == "size_ramp" and a != "null":
                    for ph in range(6):
                        net = int(1e6 * allocators[a] * (1 + ph % 3))
                        phase_rows.append([RUN_ID, a, w, p, t, rep, ph, net + 10 ** 6, net])
    path = os.path.join(directory, "results.csv")
    pd.DataFrame(rows, columns=COLUMNS).to_csv(path, index=False)
    if phase_rows:
        pd.DataFrame(phase_rows, columns=["run_id", "allocator", "workload", "profile",
                                          "threads", "repetition", "phase", "rss_bytes",
                                          "rss_net_bytes"]).to_csv(
            os.path.join(directory, "phases.csv"), index=False)
    if context:
        with open(os.path.join(directory, "context.json"), "w") as f:
            json.dump(CONTEXT, f)
    return path
