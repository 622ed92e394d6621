"""Summaries over repetitions: median, spread, coefficient of variation, ratios."""
import numpy as np
import pandas as pd

from allocplot.load import check_one_host, ok_rows

CELL = ["allocator", "workload", "profile", "threads"]
ROW = ["workload", "profile", "threads"]

# The calibration adapter: the harness alone (no allocator work).
CALIBRATION = "null"

# Metrics from which the harness's own cost (CALIBRATION on the same trace) is
# already subtracted: the calibration adapter itself is ~0 there by definition.
NET_METRICS = {"net_ns_per_op"}

# What each metric includes, for table captions and axis labels.
METRIC_NOTES = {
    "net_ns_per_op": "net of the harness's own cost (calibration adapter null on the same trace)",
    "ns_per_op": "raw, including the harness's own cost",
    "harness_ns_per_op": "the harness's own cost alone (calibration adapter null)",
    "mops": "raw, including the harness's own cost",
    "wall_s": "raw, including the harness's own cost",
    "peak_rss_bytes": "raw, including the harness's own footprint",
    "final_rss_bytes": "raw, including the harness's own footprint",
    "peak_rss_net_bytes": "net of the harness's footprint (baseline_rss_bytes)",
    "final_rss_net_bytes": "net of the harness's footprint (baseline_rss_bytes)",
    "settled_rss_bytes": "raw, including the harness's own footprint, after the settle delay",
    "settled_rss_net_bytes": "net of the harness's footprint (baseline_rss_bytes), after the "
                             "settle delay",
    "overhead_ratio": "peak RSS net of the harness's footprint over peak live bytes",
    "overhead_ratio_raw": "raw peak RSS, including the harness's footprint, over peak live bytes",
    "overhead_bytes": "peak RSS net of the harness's footprint minus peak live bytes",
}
for _p in ("p50", "p90", "p99", "p999", "max"):
    METRIC_NOTES[f"lat_{_p}_ns"] = "net of the timer's own cost (timer_ns), not of the harness"

HIGHER_IS_BETTER = {"mops"}


def metric_note(metric):
    """Whether `metric` is raw or net of the harness, in words."""
    return METRIC_NOTES.get(metric, "raw, as recorded in results.csv")


def summarize(df, metric):
    """Median, min, max, count, coefficient of variation and relative spread of
    `metric` per cell, over the ok rows that have a value.

    The CV is the sample standard deviation over the mean (NaN for one
    repetition). The spread is half of (max - min) over the median (NaN for one
    repetition or a median <= 0). Cells without any value are left out.
    """
    ok = ok_rows(df)
    ok = ok[ok[metric].notna()]
    g = ok.groupby(CELL)[metric]
    out = pd.DataFrame({
        "median": g.median(),
        "min": g.min(),
        "max": g.max(),
        "n": g.count(),
        "cv": g.std(ddof=1) / g.mean(),
    })
    out["spread"] = relative_spread(out["min"], out["max"], out["median"], out["n"])
    return out.reset_index()


def workload_names(df):
    """The names a workload filter accepts for `df`: each workload, and
    `workload:profile` for each of its profiles (as `allocbench run
    --workloads` spells them), sorted."""
    pairs = set(zip(df["workload"], df["profile"]))
    return sorted({w for w, _ in pairs} | {f"{w}:{p}" for w, p in pairs})


def _unknown(kind, names, valid):
    """ValueError, one line naming the unknown `names` and every valid one."""
    quoted = ", ".join(repr(n) for n in names)
    return ValueError(f"unknown {kind}{'s' if len(names) > 1 else ''} {quoted}; "
                      f"{kind}s in this file: {', '.join(valid)}")


def select_rows(df, allocators=None, workloads=None):
    """The rows of `allocators` and of `workloads` (each `workload` or
    `workload:profile`); None keeps all. A name that is not in `df` raises
    ValueError naming the valid ones (a filter that matches nothing is a typo,
    not an empty result)."""
    keep = pd.Series(True, index=df.index)
    if allocators is not None:
        valid = sorted(set(df["allocator"]))
        bad = [a for a in allocators if a not in valid]
        if bad:
            raise _unknown("allocator", bad, valid)
        keep &= df["allocator"].isin(allocators)
    if workloads is not None:
        valid = workload_names(df)
        bad = [w for w in workloads if w not in valid]
        if bad:
            raise _unknown("workload", bad, valid)
        full = df["workload"] + ":" + df["profile"]
        keep &= df["workload"].isin(workloads) | full.isin(workloads)
    return df[keep]


def relative_spread(lo, hi, median, n):
    """Half of (hi - lo) over the median; NaN where n < 2 or median <= 0.

    Works elementwise on Series (or on plain numbers)."""
    spread = (hi - lo) / 2.0 / median
    if isinstance(spread, pd.Series):
        return spread.where((n > 1) & (median > 0))
    return spread if n > 1 and median > 0 else float("nan")


def table_allocators(allocators, metric):
    """The allocators a table or plot of `metric` shows: all but the
    calibration adapter when the metric is net of it."""
    return [a for a in allocators if not (metric in NET_METRICS and a == CALIBRATION)]


def _wide(s, values, metric):
    """A column of summarize's output as a wide table (rows: workload/profile/
    threads; columns: the allocators table_allocators keeps)."""
    wide = s.pivot_table(index=ROW, columns="allocator", values=values)
    return wide[table_allocators(list(wide.columns), metric)]


def ratio_table(df, metric, baseline="glibc"):
    """Median `metric` of each allocator divided by the baseline's, per cell.

    Returns a wide table: one row per (workload, profile, threads), one column
    per allocator (without the calibration adapter for a net metric). Cells the
    baseline did not run are left out; where the baseline's median is <= 0 the
    ratios are NaN (undefined).
    """
    check_one_host(df, ROW, f"a ratio to {baseline}")
    wide = _wide(summarize(df, metric), "median", metric)
    if baseline not in wide.columns and baseline == CALIBRATION and metric in NET_METRICS:
        raise ValueError(f"{metric} leaves out the calibration adapter {CALIBRATION} (its net "
                         f"is ~0 by definition): choose another baseline")
    if baseline not in wide.columns:
        raise ValueError(f"baseline allocator {baseline!r} has no ok rows with {metric}")
    wide = wide.dropna(subset=[baseline])
    ratios = wide.div(wide[baseline].where(wide[baseline] > 0), axis=0)
    cols = [baseline] + [c for c in ratios.columns if c != baseline]
    return ratios[cols]


def value_table(df, metric):
    """Median `metric` per cell, wide (rows: workload/profile/threads; columns:
    allocators, without the calibration adapter for a net metric)."""
    return _wide(summarize(df, metric), "median", metric)


def spread_table(df, metric):
    """Relative spread (see summarize) per cell, in the layout of value_table."""
    return _wide(summarize(df, metric), "spread", metric)


def count_table(df, metric):
    """Repetitions with a value per cell, in the layout of value_table."""
    return _wide(summarize(df, metric), "n", metric)


def format_spread(spread):
    """' ±3%' for a relative spread of 0.03; '' when it is NaN."""
    if pd.isna(spread):
        return ""
    pct = 100.0 * spread
    if pct == 0:
        return " ±0%"
    return f" ±{pct:.0f}%" if pct >= 1 else f" ±{pct:.1f}%"


def format_cells(values, spreads, undefined=None, fmt="{:.2f}"):
    """Display strings: each value followed by its spread ('0.54 ±3%'); ''
    where there is no value; 'n/a' where `undefined` (a boolean table) is True."""
    spreads = spreads.reindex(index=values.index, columns=values.columns)
    out = pd.DataFrame("", index=values.index, columns=values.columns, dtype=object)
    for c in values.columns:
        for i in values.index:
            v = values.at[i, c]
            if undefined is not None and bool(undefined.at[i, c]):
                out.at[i, c] = "n/a"
            elif not pd.isna(v):
                out.at[i, c] = fmt.format(v) + format_spread(spreads.at[i, c])
    return out


def _n_text(counts):
    ns = sorted({int(n) for n in counts.stack().values if n > 0})
    if not ns:
        return "n = 0 repetitions"
    if len(ns) == 1:
        return f"n = {ns[0]} repetition{'s' if ns[0] != 1 else ''} per cell"
    return f"n = {ns[0]}-{ns[-1]} repetitions per cell (differs between cells)"


def table_caption(metric, counts, baseline=None):
    """One line above a table: the metric, whether it is raw or net of the
    harness, the repetitions n behind each cell (a range if it differs), and
    what ± means. `counts` is a count_table (restricted to the shown columns)."""
    better = "higher" if metric in HIGHER_IS_BETTER else "lower"
    what = (f"ratio of medians to {baseline} ({better} is better)" if baseline
            else "median")
    return (f"{metric}, {metric_note(metric)}: {what}; {_n_text(counts)}; "
            f"± = half of (max - min) over the median of that allocator's repetitions "
            f"(omitted when n = 1)")


def markdown_table(df, metric, baseline=None, allocators=None):
    """The `allocplot table` output: a caption line, then a pipe table of
    medians (or ratios of medians to `baseline`), each followed by the
    allocator's relative spread. `allocators` restricts and orders the columns.

    Raises ValueError for an unknown metric, a metric without values, or a
    baseline without ok rows.
    """
    if metric not in df.columns or not pd.api.types.is_numeric_dtype(df[metric]):
        raise ValueError(f"unknown or non-numeric metric {metric!r}")
    if ok_rows(df)[metric].isna().all():
        hint = (" (the run had no calibration, --no-calibrate; use ns_per_op)"
                if metric in NET_METRICS else "")
        raise ValueError(f"{metric} has no values in ok rows{hint}")
    values = value_table(df, metric)
    if baseline:
        shown = ratio_table(df, metric, baseline)
        base = values.loc[shown.index, baseline]
        undefined = pd.DataFrame({c: (base <= 0) & values.loc[shown.index, c].notna()
                                  for c in shown.columns})
        fmt = "{:.2f}"
    else:
        shown, undefined, fmt = values, None, "{:.3g}"
    spreads = spread_table(df, metric).reindex(index=shown.index, columns=shown.columns)
    counts = count_table(df, metric).reindex(index=shown.index, columns=shown.columns)
    if allocators:
        keep = [a for a in allocators if a in shown.columns]
        shown, spreads, counts = shown[keep], spreads[keep], counts[keep]
        undefined = undefined[keep] if undefined is not None else None
    cells = format_cells(shown, spreads, undefined, fmt)
    return table_caption(metric, counts, baseline) + "\n" + to_markdown(cells)


def cv_table(df, metric):
    """Per cell with at least two repetitions: the median of `metric`, its
    coefficient of variation in percent (`cv_pct`: 100 x sample standard
    deviation / mean; NaN where the mean is <= 0, where it means nothing, as for
    a net time around 0) and n."""
    s = summarize(df, metric)
    s = s[s["n"] > 1].copy()
    defined = (s["cv"] >= 0) & np.isfinite(s["cv"])
    s["cv_pct"] = (100.0 * s["cv"]).where(defined)
    return s[CELL + ["median", "cv_pct", "n"]].reset_index(drop=True)


def cv_markdown(df, metric):
    """The `allocplot cv` output: a caption line, a pipe table (median, cv %,
    n per cell) and a line with the median and the worst cv % over the cells."""
    t = cv_table(df, metric)
    caption = (f"{metric}, {metric_note(metric)}: coefficient of variation over repetitions "
               f"in % (cv % = 100 x sample standard deviation / mean; n/a where the mean is "
               f"<= 0); cells with n >= 2 repetitions")
    cells = pd.DataFrame({
        "median": ["{:.4g}".format(v) for v in t["median"]],
        "cv %": ["n/a" if pd.isna(v) else f"{v:.1f}" for v in t["cv_pct"]],
        "n": [str(int(n)) for n in t["n"]],
    }, index=pd.MultiIndex.from_frame(t[CELL]) if len(t) else
        pd.MultiIndex.from_tuples([], names=CELL))
    defined = t[t["cv_pct"].notna()]
    if defined.empty:
        summary = "cv %: no cell with n >= 2 repetitions and a mean > 0"
    else:
        w = defined.loc[defined["cv_pct"].idxmax()]
        summary = (f"cv % over {len(defined)} cells: median {defined['cv_pct'].median():.1f}, "
                   f"worst {w['cv_pct']:.1f} ({w['allocator']} {w['workload']}/{w['profile']} "
                   f"threads={int(w['threads'])})")
    return caption + "\n" + to_markdown(cells) + "\n" + summary


def to_markdown(table, fmt="{:.2f}"):
    """A pipe table for docs/ (no tabulate dependency). Numbers are formatted
    with `fmt`, strings are shown as they are, missing values as ''."""
    idx_names = [n or "" for n in table.index.names]
    header = "| " + " | ".join(idx_names + [str(c) for c in table.columns]) + " |"
    sep = "|" + "|".join(["---"] * (len(idx_names) + len(table.columns))) + "|"
    lines = [header, sep]
    for idx, row in table.iterrows():
        idx = idx if isinstance(idx, tuple) else (idx,)
        cells = [str(i) for i in idx]
        cells += [v if isinstance(v, str) else "" if pd.isna(v) else fmt.format(v)
                  for v in row.values]
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
        raise _unknown("workload", [workload], sorted(set(phases["workload"])))
    last = df.groupby(["allocator", "profile", "threads", "repetition"])["phase"].transform("max")
    per_rep = df.groupby(["allocator", "profile", "threads", "repetition"]).agg(
        max_after_phase_kib=("rss_net_bytes", "max"))
    per_rep["after_last_kib"] = df[df["phase"] == last].set_index(
        ["allocator", "profile", "threads", "repetition"])["rss_net_bytes"]
    out = per_rep.groupby(["allocator", "profile", "threads"]).median() / 1024.0
    return out
