"""burst_idle: ms from the end of the timed replays until net RSS <= 2 MiB."""
import sys
import numpy as np
import pandas as pd

for arg in sys.argv[1:]:
    label, path = arg.split("=", 1)
    t = pd.read_csv(path, keep_default_na=False, na_values=[""])
    t = t[t.workload == "burst_idle"]
    out = []
    for (a, th, rep), g in t.groupby(["allocator", "threads", "repetition"]):
        g = g.sort_values("t_ms")
        s = g[g.stage == "settle"]
        if s.empty:
            continue
        t0 = s.t_ms.iloc[0]
        after = g[(g.t_ms >= t0) & (g.rss_net_bytes <= 2 * 2**20)]
        first = after.t_ms.iloc[0] - t0 if not after.empty else np.nan
        out.append((a, th, rep, first, s.rss_net_bytes.iloc[-1] / 2**20))
    o = pd.DataFrame(out, columns=["allocator", "threads", "rep", "ms_to_2mib", "last_settle_mib"])
    for (a, th), g in o.groupby(["allocator", "threads"]):
        x = g.ms_to_2mib.dropna()
        within = (g.ms_to_2mib <= 30).sum()
        desc = f"{np.median(x):.1f} ({x.min():.1f}-{x.max():.1f})" if len(x) else "never"
        print(f"{label:5} {a:24} t{th} n={len(g)} ms_to_2MiB {desc} within30ms {within}/{len(g)}"
              f" settled_end_MiB {g.last_settle_mib.median():.2f}")
