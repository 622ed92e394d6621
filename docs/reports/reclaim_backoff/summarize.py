"""Side-by-side summary of old/new allocbench runs (issue 14, purge back-off)."""
import sys
import numpy as np
import pandas as pd

runs = sys.argv[1:]  # label=path/results.csv ...
frames = []
for r in runs:
    label, path = r.split("=", 1)
    d = pd.read_csv(path, keep_default_na=False, na_values=[""])
    d["build"] = label.rstrip("0123456789")
    d["run"] = label
    frames.append(d)
d = pd.concat(frames)
d = d[d.status == "ok"].copy()
d["cpu"] = (d.user_s + d.sys_s) / d.total_ops * 1e9
null = d[d.allocator == "null"].groupby(["run", "workload", "threads"])["cpu"].median().rename("null_cpu")
d = d.join(null, on=["run", "workload", "threads"])
d["cpu_net"] = d.cpu - d.null_cpu
d["settled_mib"] = d.settled_rss_net_bytes / 2**20
rng = np.random.default_rng(1)


def med(x):
    return f"{np.median(x):.1f} ({np.min(x):.1f}-{np.max(x):.1f})"


def ratio_ci(a, b, n=2000):
    a, b = np.asarray(a), np.asarray(b)
    rs = [np.median(rng.choice(a, a.size)) / np.median(rng.choice(b, b.size)) for _ in range(n)]
    return np.median(a) / np.median(b), np.percentile(rs, 2.5), np.percentile(rs, 97.5)


def table(group_key):
    for (wl, th), g in d.groupby(["workload", "threads"]):
        h = g[g.allocator == "null"]
        print(f"\n## {wl}, {th} thread(s); harness_ns_per_op median {g.harness_ns_per_op.median():.1f}"
              f" ({g.harness_ns_per_op.min():.1f}-{g.harness_ns_per_op.max():.1f}); null CPU ns/op "
              f"{h.cpu.median():.1f} ({h.cpu.min():.1f}-{h.cpu.max():.1f})")
        for key, gg in g.groupby(group_key):
            base = gg[gg.allocator == "coalesce_arena"]
            for alloc in ["glibc", "coalesce_arena", "coalesce_arena_reclaim"]:
                x = gg[gg.allocator == alloc]
                if x.empty:
                    continue
                rn, lo, hi = ratio_ci(x.net_ns_per_op, base.net_ns_per_op)
                rc, clo, chi = ratio_ci(x.cpu_net, base.cpu_net)
                line = (f"{key:6} {alloc:24} n={len(x):2} net {med(x.net_ns_per_op)} r={rn:.2f} [{lo:.2f}-{hi:.2f}]"
                        f" | cpu_net {med(x.cpu_net)} r={rc:.2f} [{clo:.2f}-{chi:.2f}]"
                        f" | cpu_raw {np.median(x.cpu):.1f} | minflt/replay {med(x.minflt)}")
                if wl == "burst_idle":
                    rs = x.settled_mib.median() / base.settled_mib.median()
                    line += f" | settled MiB {med(x.settled_mib)} r={rs:.3f}"
                print(line)


print("# per run")
table("run")
print("\n# pooled by build")
table("build")
