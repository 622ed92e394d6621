"""Summaries over repetitions: median, spread, coefficient of variation, ratios."""
import pandas as pd

from allocplot.load import ok_rows

CELL = ["allocator", "workload", "profile", "threads"]


def summarize(df, metric):
    """Median, min, max, count and coefficient of variation of `metric` per cell.

    The CV is the sample standard deviation over the mean (NaN for one repetition).
    """
    ok = ok_rows(df)
    g = ok.groupby(CELL)[metric]
    out = pd.DataFrame({
        "median": g.median(),
        "min": g.min(),
        "max": g.max(),
        "n": g.count(),
        "cv": g.std(ddof=1) / g.mean(),
    })
    return out.reset_index()


def ratio_table(df, metric, baseline="glibc"):
    """Median `metric` of each allocator divided by the baseline's, per cell.

    Returns a wide table: one row per (workload, profile, threads), one column
    per allocator. Cells the baseline did not run are left out.
    """
    s = summarize(df, metric)
    wide = s.pivot_table(index=["workload", "profile", "threads"], columns="allocator",
                         values="median")
    if baseline not in wide.columns:
        raise ValueError(f"baseline allocator {baseline!r} has no ok rows")
    ratios = wide.div(wide[baseline], axis=0)
    cols = [baseline] + [c for c in ratios.columns if c != baseline]
    return ratios[cols].dropna(subset=[baseline])


def value_table(df, metric):
    """Median `metric` per cell, wide (rows: workload/profile/threads; columns: allocators)."""
    s = summarize(df, metric)
    return s.pivot_table(index=["workload", "profile", "threads"], columns="allocator",
                         values="median")


def to_markdown(table, fmt="{:.2f}"):
    """A pipe table for docs/ (no tabulate dependency)."""
    idx_names = [n or "" for n in table.index.names]
    header = "| " + " | ".join(idx_names + [str(c) for c in table.columns]) + " |"
    sep = "|" + "|".join(["---"] * (len(idx_names) + len(table.columns))) + "|"
    lines = [header, sep]
    for idx, row in table.iterrows():
        idx = idx if isinstance(idx, tuple) else (idx,)
        cells = [str(i) for i in idx]
        cells += ["" if pd.isna(v) else fmt.format(v) for v in row.values]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def check_complete(df, allocators, workloads=None):
    """Problems (as messages) unless each allocator has an ok row for every
    (workload, profile, threads) present in the file (only `workloads`, if given)."""
    cells = df[["workload", "profile", "threads"]].drop_duplicates()
    if workloads is not None:
        cells = cells[cells["workload"].isin(workloads)]
        missing = sorted(set(workloads) - set(cells["workload"]))
        if missing:
            return [f"no rows at all for workload {w}" for w in missing]
    ok = set(map(tuple, ok_rows(df)[["allocator", "workload", "profile", "threads"]].values))
    problems = []
    for a in allocators:
        for w, p, t in cells.values:
            if (a, w, p, t) not in ok:
                status = df[(df["allocator"] == a) & (df["workload"] == w) &
                            (df["profile"] == p) & (df["threads"] == t)]["status"]
                got = ",".join(status) if len(status) else "no row"
                problems.append(f"{a} {w}/{p} threads={t}: {got}")
    return problems


def phase_table(phases, workload="size_ramp"):
    """Memory kept committed after phases (net RSS, KiB, read at each phase
    boundary, i.e. after the phase freed its blocks): the largest such reading
    and the one after the last phase, medians over repetitions. The in-phase
    peak is results.csv's peak_rss_net_bytes."""
    df = phases[phases["workload"] == workload]
    if df.empty:
        raise ValueError(f"no phase rows for workload {workload!r}")
    last = df.groupby(["allocator", "profile", "threads", "repetition"])["phase"].transform("max")
    per_rep = df.groupby(["allocator", "profile", "threads", "repetition"]).agg(
        max_after_phase_kib=("rss_net_bytes", "max"))
    per_rep["after_last_kib"] = df[df["phase"] == last].set_index(
        ["allocator", "profile", "threads", "repetition"])["rss_net_bytes"]
    out = per_rep.groupby(["allocator", "profile", "threads"]).median() / 1024.0
    return out
