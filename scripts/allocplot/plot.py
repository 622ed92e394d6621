"""The standard plots, from any results.csv (medians with min-max spread),
the latency CDF from the per-operation latency files beside it, and plot_all,
which also writes the figures of figures.py. CAPTIONS holds a one-sentence
caption per figure file."""
import os
from functools import partial

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from allocplot import figures  # noqa: E402
from allocplot.load import load_context, load_phases, load_timeline, ok_rows  # noqa: E402
from allocplot.stats import CALIBRATION, summarize  # noqa: E402
# The style tables and allocator_style are re-exported: they were defined
# here before style.py held them.
from allocplot.style import (CALIBRATION_STYLES, EXCLUDE, FAMILY_STYLES,  # noqa: E402,F401
                             FORMATS, INHOUSE_STYLES, LAT_FLOOR_NS, PMR_STYLES, SYSTEM_STYLES,
                             NothingToPlot, allocator_order, allocator_style, allocator_styles,
                             cell_label, end_labels, footer_text, n_text, output_paths,
                             save_figure, wrap_lines)

# The plots every complete run has (`allocplot check --plots` requires them).
PLOT_NAMES = ["throughput_by_workload.png", "scaling_rl_small.png", "overhead_ratio.png"]
# Written only when the run recorded latency files.
OPTIONAL_PLOT_NAMES = ["latency_cdf.png"]

OVERHEAD_NOTE = ("below 1.0: RSS is counted in whole pages and the kernel may not have "
                 "committed pages the allocator handed out but the workload has not touched, "
                 "so peak RSS can be smaller than the peak live bytes; see docs/csv_schema.md")


def _cell_text(cells):
    """'mixed_sizes/small (threads 1, 2), ttl_ring (threads 1)' for (workload,
    profile, threads) tuples."""
    by_label = {}
    for w, p, t in sorted(cells):
        by_label.setdefault(cell_label(w, p), []).append(str(int(t)))
    return ", ".join(f"{label} (threads {', '.join(ts)})" for label, ts in by_label.items())


def not_drawn(plot_name, df, s, scope, reason, exclude=EXCLUDE):
    """One line per allocator of `df` (outside `exclude`) that has no row in
    `s` (summarize's output) for some of the `scope` cells (workload, profile,
    threads) the plot shows, naming those cells and `reason`."""
    have = set(zip(s["allocator"], s["workload"], s["profile"], s["threads"]))
    lines = []
    for a in allocator_order(set(df["allocator"]) - set(exclude)):
        missing = [c for c in scope if (a,) + tuple(c) not in have]
        if missing:
            lines.append(f"{plot_name}: {a} not drawn for {_cell_text(missing)}: {reason}"
                         f"{_status_text(df, a, missing)}")
    return lines


def _status_text(df, allocator, cells):
    """' (rows: skipped)': the statuses of `allocator`'s rows in `cells`, or
    ' (no rows)'."""
    rows = df[df["allocator"] == allocator]
    keys = set(cells)
    statuses = sorted({st for w, p, t, st in zip(rows["workload"], rows["profile"],
                                                 rows["threads"], rows["status"])
                       if (w, p, t) in keys})
    return f" (rows: {', '.join(statuses)})" if statuses else " (no rows)"


def _scope(df, **match):
    """The distinct (workload, profile, threads) of `df`'s rows (any status)
    whose columns equal `match`."""
    for col, value in match.items():
        df = df[df[col] == value]
    return sorted(set(zip(df["workload"], df["profile"], df["threads"])))


def _errs(sub):
    """Min-max error bars around the median; none (0) where n < 2."""
    one = sub["n"].fillna(0).values < 2
    lo = (sub["median"] - sub["min"]).clip(lower=0).fillna(0).values
    hi = (sub["max"] - sub["median"]).clip(lower=0).fillna(0).values
    lo[one] = 0
    hi[one] = 0
    return [lo, hi]


def error_bar_text(ns):
    """What the error bars of bars with repetition counts `ns` show."""
    if max([int(n) for n in ns] or [0]) <= 1:
        return "n=1: no error bars"
    return f"median of {n_text(ns)} reps, error bars: min-max over n reps"


def _grouped_bars(ax, s, value_title, log=False, styles=None, exclude=EXCLUDE):
    """Bars per workload label, one per allocator, coloured by `styles`
    (allocator_styles) so colours match across panels. Error bars only where
    the cell has more than one repetition."""
    s = s[~s["allocator"].isin(exclude)].copy()
    s["label"] = [cell_label(w, p) for w, p in zip(s["workload"], s["profile"])]
    labels = sorted(s["label"].unique())
    allocs = allocator_order(s["allocator"].unique())
    if styles is None:
        styles = allocator_styles(s)
    width = 0.8 / max(1, len(allocs))
    hidden = 0
    for i, a in enumerate(allocs):
        sub = s[s["allocator"] == a].set_index("label").reindex(labels)
        xs = [j + (i - (len(allocs) - 1) / 2) * width for j in range(len(labels))]
        heights = sub["median"].values.astype(float)
        errs = _errs(sub)
        if log:
            # A log axis cannot show a median <= 0 (a net time within noise of
            # the calibration): leave the bar out and say so below the axis.
            hidden += int((heights <= 0).sum())
            heights = np.where(heights > 0, heights, np.nan)
            if errs is not None:
                errs = np.array(errs, dtype=float)
                errs[0] = np.minimum(errs[0], np.nan_to_num(heights) * 0.99)
        ax.bar(xs, np.nan_to_num(heights) if not log else heights, width, label=a,
               color=styles[a][0], yerr=errs, capsize=2)
    ax.set_xticks(range(len(labels)))
    ax.set_xticklabels(labels, rotation=30, ha="right", fontsize=8)
    ax.set_ylabel(value_title)
    if log:
        ax.set_yscale("log")
        if hidden:
            ax.text(0.0, -0.32, f"{hidden} bar(s) with a median <= 0 not drawn (log axis)",
                    transform=ax.transAxes, fontsize=8)
    ax.grid(axis="y", alpha=0.3)


def throughput_metric(df):
    """The time metric throughput_by_workload plots and how to describe it:
    (metric, description, excluded allocators). net_ns_per_op when any ok row
    has it, else ns_per_op (a run with --no-calibrate)."""
    if "net_ns_per_op" in df.columns and ok_rows(df)["net_ns_per_op"].notna().any():
        return "net_ns_per_op", "net of harness", EXCLUDE
    return "ns_per_op", "raw, including harness cost", set()


def throughput_by_workload(df, out_path, notes=None, footer=None, formats=("png",)):
    """Median ns per operation per workload and allocator, one panel per thread
    count: net of the harness when the run calibrated, else raw. Appends to
    `notes` what it could not draw (see not_drawn); NothingToPlot if nothing."""
    metric, desc, exclude = throughput_metric(df)
    detail = ": calibration adapter null subtracted" if exclude else ""
    s = summarize(df, metric)
    s = s[~s["allocator"].isin(exclude)]
    threads = sorted(s["threads"].unique())
    if not threads:
        raise NothingToPlot(f"no ok rows with {metric}")
    if notes is not None:
        notes += not_drawn(os.path.basename(out_path), df, s, _scope(df),
                           f"no ok row with {metric}", exclude)
    styles = allocator_styles(df)
    fig, axes = plt.subplots(len(threads), 1, figsize=(15, 4 * len(threads)), squeeze=False)
    for ax, t in zip(axes[:, 0], threads):
        panel = s[s["threads"] == t]
        _grouped_bars(ax, panel, f"ns/op, {desc}\n(median, {n_text(panel['n'])})",
                      log=True, styles=styles, exclude=exclude)
        ax.set_title(f"Time per operation ({metric}, {desc}{detail}) by workload, {t} "
                     f"thread{'s' if t != 1 else ''}, lower is better\n"
                     f"{error_bar_text(panel['n'])}", fontsize=10)
    axes[0, 0].legend(fontsize=8, ncol=2, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.tight_layout()
    return save_figure(fig, out_path, footer, formats)


def scaling(df, out_path, workload="rl_churn", profile="small", notes=None, footer=None,
            formats=("png",)):
    """Median Mops/s against thread count for one workload/profile, each line
    named at its right end; allocators without data are named below the
    axes. Appends to `notes` what it could not draw; NothingToPlot if
    nothing."""
    s = summarize(df, "mops")
    s = s[(s["workload"] == workload) & (s["profile"] == profile)]
    harness = s[s["allocator"] == CALIBRATION].sort_values("threads")
    s = s[~s["allocator"].isin(EXCLUDE)]
    if s.empty:
        raise NothingToPlot(f"no ok rows for {workload}/{profile}")
    if notes is not None:
        notes += not_drawn(os.path.basename(out_path), df, s,
                           _scope(df, workload=workload, profile=profile), "no ok row")
    styles = allocator_styles(df)
    threads = sorted(s["threads"].unique())
    allocs = allocator_order(s["allocator"].unique())
    # Each allocator's points a little to the side, so the error bars of one
    # thread count do not cover each other.
    step = 0.18 * (min(np.diff(threads)) if len(threads) > 1 else 1) / max(len(allocs), 1)
    fig, ax = plt.subplots(figsize=(10, 5.5))
    ends = []
    for i, a in enumerate(allocs):
        sub = s[s["allocator"] == a].sort_values("threads")
        xs = sub["threads"] + (i - (len(allocs) - 1) / 2) * step
        ax.errorbar(xs, sub["median"], yerr=_errs(sub), marker=styles[a][1],
                    color=styles[a][0], capsize=2, markersize=5, linewidth=1.3, label=a)
        ends.append((xs.iloc[-1], sub["median"].iloc[-1], a, styles[a][0]))
    ceiling = harness_scaling(harness)
    if ceiling:
        ax.plot(harness["threads"], harness["median"], linestyle="--", color="0.55",
                marker=".", linewidth=1.2, label=CALIBRATION)
        ends.append((harness["threads"].iloc[-1], harness["median"].iloc[-1],
                     f"{CALIBRATION} (harness alone)", "0.45"))
    ax.set_xlabel("threads")
    ax.set_ylabel(f"Mops/s, all threads, raw (median, {n_text(s['n'])})")
    ax.set_xticks(threads)
    ax.set_ylim(bottom=0)
    title = (f"Scaling: {cell_label(workload, profile)}, throughput against threads "
             f"(higher is better); {error_bar_text(s['n'])}")
    if ceiling:
        title += "\n" + ceiling
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3)
    missing = [a for a in allocator_order(set(df["allocator"]) - EXCLUDE) if a not in allocs]
    if missing:
        ax.text(0.0, -0.13, "not drawn (no ok row): " + ", ".join(missing),
                transform=ax.transAxes, fontsize=8, color="0.35", va="top")
    fig.tight_layout(rect=(0, 0, 0.8, 1))
    end_labels(ax, ends)
    return save_figure(fig, out_path, footer, formats)


def harness_scaling(harness):
    """The scaling plot's line on the calibration adapter's own throughput
    (rows of summarize(df, "mops") for null, sorted by threads): how far the
    harness alone scales on this machine, which every allocator's line is
    read against (the replay loop runs in each of them); None with fewer
    than two thread counts."""
    if len(harness) < 2:
        return None
    t0, t1 = harness["threads"].iloc[0], harness["threads"].iloc[-1]
    r = harness["median"].iloc[-1] / harness["median"].iloc[0]
    return (f"the harness alone ({CALIBRATION}, dashed) reaches {r:.2f}x its {t0}-thread "
            f"throughput at {t1} threads (ideal {t1 / t0:g}x)")


def overhead_note(values):
    """The note the overhead plot shows when any plotted value is below 1.0
    (else None)."""
    values = [v for v in values if v == v]  # drop NaN
    return OVERHEAD_NOTE if any(v < 1.0 for v in values) else None


def overhead_ratio(df, out_path, notes=None, footer=None, formats=("png",)):
    """Median peak RSS (net of the harness) / peak live bytes, cells of the
    smallest thread count; rows without an overhead_ratio are left out.
    Appends to `notes` what it could not draw; NothingToPlot if nothing."""
    rows = df[df["overhead_ratio"].notna()]
    s = summarize(rows, "overhead_ratio")
    s = s[~s["allocator"].isin(EXCLUDE)]
    if s.empty:
        raise NothingToPlot("no ok rows with an overhead_ratio")
    t = s["threads"].min()
    s = s[s["threads"] == t]
    if notes is not None:
        notes += not_drawn(os.path.basename(out_path), df, s, _scope(df, threads=t),
                           "no ok row with an overhead_ratio")
    fig, ax = plt.subplots(figsize=(15, 5.5))
    _grouped_bars(ax, s, f"peak RSS / peak live bytes\n(median, {n_text(s['n'])})", log=True,
                  styles=allocator_styles(df))
    ax.axhline(1.0, color="black", linewidth=0.8)
    ax.set_title(f"Memory overhead ratio, {t} thread{'s' if t != 1 else ''} "
                 f"(1.0 = no overhead); {error_bar_text(s['n'])}")
    ax.legend(fontsize=8, ncol=2, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    note = overhead_note(list(s["median"]) + list(s["min"]))
    if note:
        fig.tight_layout(rect=(0, 0.08, 1, 1))
        fig.text(0.01, 0.01, note, fontsize=8, ha="left", va="bottom", wrap=True,
                 bbox=dict(facecolor="lightyellow", edgecolor="gray"))
    else:
        fig.tight_layout()
    return save_figure(fig, out_path, footer, formats)


def latency_cell(df, threads=1, workload=None, profile=None):
    """(workload, profile) latency_cdf draws: the given one, else the first
    (sorted) ok cell with latency files at `threads`, preferring rl_churn/small.
    None when there is no such cell."""
    ok = ok_rows(df)
    ok = ok[(ok["threads"] == threads) & (ok["lat_file"] != "")]
    if workload is not None:
        ok = ok[ok["workload"] == workload]
    if profile is not None:
        ok = ok[ok["profile"] == profile]
    cells = sorted(set(zip(ok["workload"], ok["profile"])))
    if not cells:
        return None
    return ("rl_churn", "small") if ("rl_churn", "small") in cells else cells[0]


def load_latency(df, results_dir, workload, profile, threads=1):
    """{allocator: float32 samples in ns} from the lat_file of every ok
    repetition of the cell, concatenated; allocators whose files are all
    missing or empty are left out."""
    ok = ok_rows(df)
    ok = ok[(ok["workload"] == workload) & (ok["profile"] == profile) &
            (ok["threads"] == threads) & (ok["lat_file"] != "")]
    out = {}
    for a, rows in ok.sort_values("repetition").groupby("allocator"):
        parts = []
        for rel in rows["lat_file"]:
            path = os.path.join(results_dir, rel)
            if os.path.isfile(path):
                parts.append(np.fromfile(path, dtype="<f4"))
        samples = np.concatenate(parts) if parts else np.empty(0, dtype="<f4")
        if samples.size:
            out[a] = samples
    return out


def ecdf(samples, floor=LAT_FLOOR_NS):
    """(x, y) of the empirical CDF of `samples`, x clipped below at `floor`
    for a log axis, y in (0, 1]."""
    x = np.sort(np.clip(np.asarray(samples, dtype=float), floor, None))
    y = np.arange(1, x.size + 1) / x.size
    return x, y


def latency_cdf(df, results_dir, out_path, workload=None, profile=None, threads=1,
                notes=None, footer=None, formats=("png",)):
    """Empirical CDF of per-operation latency (timer cost subtracted), one line
    per allocator, for one (workload, profile, threads) cell (default: see
    latency_cell). Reads the lat_file of each row relative to `results_dir`.
    Returns out_path, or None (and writes nothing) when no file exists; appends
    to `notes` why it wrote nothing, or which allocators it left out."""
    name = os.path.basename(out_path)
    cell = latency_cell(df, threads, workload, profile)
    if cell is None:
        if notes is not None:
            notes.append(f"skipped {name}: no ok row with a latency file at {threads} "
                         f"thread{'s' if threads != 1 else ''}")
        return None
    workload, profile = cell
    data = load_latency(df, results_dir, workload, profile, threads)
    if not data:
        if notes is not None:
            notes.append(f"skipped {name}: none of the latency files of "
                         f"{cell_label(workload, profile)} is in {results_dir}")
        return None
    if notes is not None:
        for a in sorted(set(df["allocator"]) - set(data)):
            notes.append(f"{name}: {a} not drawn for {cell_label(workload, profile)} (threads "
                         f"{threads}): no ok row with a latency file that exists")
    styles = allocator_styles(df)
    sizes = sorted({v.size for v in data.values()})
    fig, (ax, tail) = plt.subplots(1, 2, figsize=(14, 5.5))
    for a in allocator_order(data):
        x, y = ecdf(data[a])
        style = {"color": styles[a][0], "linestyle": "--" if a in EXCLUDE else "-",
                 "linewidth": 1.2}
        label = a if len(sizes) == 1 else f"{a} ({x.size} samples)"
        ax.step(x, y, where="post", label=label, **style)
        # The fraction slower than x, down to the last sample (1 / size).
        tail.step(x, 1.0 - y + 1.0 / x.size, where="post", **style)
    xlabel = (f"latency per operation, ns (log; timer cost subtracted, values below "
              f"{LAT_FLOOR_NS} ns drawn at {LAT_FLOOR_NS})")
    for a_ in (ax, tail):
        a_.set_xscale("log")
        a_.set_xlabel(xlabel, fontsize=9)
        a_.grid(alpha=0.3, which="both")
    ax.set_ylabel("fraction of sampled operations <= x")
    ax.set_ylim(0, 1.0)
    ax.set_title("CDF", fontsize=10)
    tail.set_yscale("log")
    tail.set_xlim(left=1.0)  # below the timer's ~10 ns step there is no tail to see
    tail.set_ylabel("fraction of sampled operations >= x (log)")
    tail.set_title("tail: 1 - CDF (p99 at 0.01, p99.9 at 0.001)", fontsize=10)
    count = f"{sizes[0]} samples per allocator" if len(sizes) == 1 else "samples in legend"
    fig.suptitle(wrap_lines([f"Latency CDF: {cell_label(workload, profile)}, {threads} "
                             f"thread{'s' if threads != 1 else ''} (all repetitions, {count}; "
                             "timer cost subtracted); the steps are the cycle counter's "
                             "resolution (about 10 ns on the development VM; "
                             "docs/csv_schema.md)"], 14, 10), fontsize=10)
    tail.legend(*ax.get_legend_handles_labels(), fontsize=8, loc="upper left",
                bbox_to_anchor=(1.02, 1.0))
    fig.tight_layout()
    save_figure(fig, out_path, footer, formats)
    return out_path


def plot_all(df, out_dir, results_dir=None, baseline="glibc", formats=("png",)):
    """Writes into out_dir what it can of: the PLOT_NAMES PNGs;
    latency_cdf.png when `results_dir` (the directory of results.csv) holds
    latency files; the ratio heatmaps of time and peak RSS to `baseline` and a
    dot plot of the time ratios per workload; a scaling plot per workload with
    more than one thread count; a latency ladder per workload; the memory
    timeline of each workload in `results_dir`'s phases.csv; time against
    peak RSS per thread count. Each in every format of `formats` (PNG always),
    with a footer naming the run, n and the machine (context.json in
    `results_dir`). Returns (written, skipped): the paths written, and one
    line for each plot it could not draw (its old files in out_dir, if any,
    are removed so the directory never mixes two runs) and for each allocator
    one of the standard plots left out of some of its cells."""
    os.makedirs(out_dir, exist_ok=True)
    formats = ("png",) + tuple(f for f in formats if f != "png")
    kw = {"footer": footer_text(df, load_context(results_dir)), "formats": formats}
    written, skipped = [], []

    def attempt(name, draw):
        path = os.path.join(out_dir, name)
        try:
            written.extend(draw(out_path=path))
        except NothingToPlot as e:
            skipped.append(f"skipped {name}: {e}{_remove_old(path, formats)}")

    for name, fn in zip(PLOT_NAMES, (throughput_by_workload, scaling, overhead_ratio)):
        attempt(name, partial(fn, df, notes=skipped, **kw))
    if results_dir is not None:
        path = os.path.join(out_dir, "latency_cdf.png")
        notes = []
        if latency_cdf(df, results_dir, path, notes=notes, **kw) is not None:
            written.extend(output_paths(path, formats))
        elif notes:
            notes[-1] += _remove_old(path, formats)
        skipped += notes
    for name, draw in _figure_jobs(df, results_dir, baseline, skipped):
        attempt(name, partial(draw, **kw))
    skipped += _remove_stale(out_dir, written)
    return written, skipped


def _figure_jobs(df, results_dir, baseline, skipped):
    """(file name, draw) of each figures.py figure the data allows; draw
    takes out_path, footer and formats. Appends to `skipped` the families it
    cannot draw at all and why."""
    jobs = []
    metric, _, _ = throughput_metric(df)
    for name, m, what in (("heatmap_time.png", metric, "Time per operation"),
                          ("heatmap_memory.png", "peak_rss_net_bytes", "Peak RSS")):
        try:
            ratios = figures.ratio_cells(df, m, baseline)
        except NothingToPlot as e:
            also = " and ratio_dots_*.png" if m == metric else ""
            skipped.append(f"skipped {name}{also}: {e}")
            continue
        jobs.append((name, partial(figures.ratio_heatmap, df, metric=m, baseline=baseline,
                                   what=what, ratios=ratios)))
        if m == metric:
            for w, p in sorted(set(zip(ratios["workload"], ratios["profile"]))):
                jobs.append((f"ratio_dots_{figures.file_part(w, p)}.png",
                             partial(figures.ratio_dots, df, workload=w, profile=p, metric=m,
                                     baseline=baseline, what=what, ratios=ratios)))
    for w, p in figures.scaling_cells(df):
        jobs.append((f"scaling_{figures.file_part(w, p)}.png",
                     partial(scaling, df, workload=w, profile=p)))
    lat = ok_rows(df)
    for w, p in sorted(set(zip(*[lat[lat["lat_p50_ns"].notna()][c]
                                 for c in ("workload", "profile")]))):
        jobs.append((f"latency_ladder_{figures.file_part(w, p)}.png",
                     partial(figures.latency_ladder, df, workload=w, profile=p)))
    phases = run_phases(df, results_dir, skipped)
    for w, p in figures.timeline_cells(phases) if phases is not None else []:
        jobs.append((f"memory_timeline_{figures.file_part(w, p)}.png",
                     partial(figures.memory_timeline, phases, workload=w, profile=p)))
    tl = run_timeline(df, results_dir)
    for w, p in figures.rss_timeline_cells(tl) if tl is not None else []:
        jobs.append((f"rss_timeline_{figures.file_part(w.replace(':', '_'), p)}.png",
                     partial(figures.rss_timeline, tl, workload=w, profile=p)))
    for t in sorted(ok_rows(df)["threads"].unique()):
        jobs.append((f"time_vs_memory_t{int(t)}.png",
                     partial(figures.time_vs_memory, df, threads=t, time_metric=metric)))
    return jobs


def run_phases(df, results_dir, skipped):
    """The rows of results_dir/phases.csv of the allocators and workloads in
    `df` (the plot filters apply to it too), or None when there is no such
    file; a run of a workload that records phases without one is named in
    `skipped`."""
    path = os.path.join(results_dir, "phases.csv") if results_dir else None
    if path is None or not os.path.isfile(path):
        recorded = sorted(set(ok_rows(df)["workload"]) & figures.PHASE_WORKLOADS)
        if path is not None and recorded:
            skipped.append(f"skipped memory_timeline_*.png: {', '.join(recorded)} ran but "
                           f"there is no phases.csv in {results_dir}")
        return None
    phases = load_phases(path)
    keep = df[["allocator", "workload", "profile"]].drop_duplicates()
    return phases.merge(keep, on=["allocator", "workload", "profile"])


def run_timeline(df, results_dir):
    """The rows of results_dir/timeline.csv (`run --timeline`, or `exec`,
    whose rows get the exec workload of `df`) of the allocators and
    workloads in `df`, or None when there is no such file."""
    path = os.path.join(results_dir, "timeline.csv") if results_dir else None
    if path is None or not os.path.isfile(path):
        return None
    execs = sorted({w for w in df["workload"] if str(w).startswith("exec:")})
    tl = load_timeline(path, exec_workload=execs[0] if len(execs) == 1 else "exec")
    keep = df[["allocator", "workload", "profile"]].drop_duplicates()
    return tl.merge(keep, on=["allocator", "workload", "profile"])


# Figures with one fixed name, and the prefixes of those written once per
# workload or thread count: plot_all removes any other file of these names
# from out_dir, so it never mixes two runs.
FIXED_FIGURES = PLOT_NAMES + OPTIONAL_PLOT_NAMES + ["heatmap_time.png", "heatmap_memory.png"]
FIGURE_PREFIXES = ("ratio_dots_", "scaling_", "latency_ladder_", "memory_timeline_",
                   "rss_timeline_", "time_vs_memory_")

# One sentence per figure (a file name, or the prefix of a family of files),
# for a report that embeds them; caption() finds the one of a file.
CAPTIONS = {
    "throughput_by_workload.png": "Median time per operation of each allocator in each "
    "workload (net of the harness when the run calibrated), one panel per thread count, "
    "log scale, min-max whiskers over repetitions; lower is better.",
    "scaling_rl_small.png": "Throughput (Mops/s, raw) against thread count in rl_churn/small, "
    "one line per allocator (the same figure as scaling_rl_churn_small.png, under the name "
    "`allocplot check --plots` requires).",
    "overhead_ratio.png": "Peak RSS net of the harness over peak live bytes at the smallest "
    "thread count, per workload and allocator, log scale; 1.0 means no overhead.",
    "latency_cdf.png": "Empirical CDF of sampled single-operation latencies (timer cost "
    "subtracted, all repetitions) in one workload at one thread, one line per allocator.",
    "heatmap_time.png": "Ratio of each allocator's median time per operation to the "
    "baseline's in every workload and thread count, on a log colour scale centred at 1 "
    "(blue faster, red slower); faded, hatched cells are not significant (p >= 0.05 or the "
    "95% CI of the ratio contains 1).",
    "heatmap_memory.png": "Ratio of each allocator's median peak RSS (net of the harness) to "
    "the baseline's in every workload and thread count, on a log colour scale centred at 1 "
    "(blue smaller, red larger); faded, hatched cells are not significant.",
    "ratio_dots_": "Ratio of each allocator's median time per operation to the baseline's in "
    "one workload, one panel per thread count, on a linear axis with 95% bootstrap CI "
    "whiskers; filled dots are significant differences.",
    "scaling_": "Throughput (Mops/s, raw) against thread count in one workload, one line per "
    "allocator, min-max whiskers over repetitions.",
    "latency_ladder_": "The p50, p90, p99, p99.9 and maximum of sampled single-operation "
    "latencies per allocator in one workload (medians over repetitions), one panel per "
    "thread count, log scale.",
    "memory_timeline_": "Net RSS kept after each phase of one workload (phases.csv), one line "
    "per allocator, one panel per thread count.",
    "rss_timeline_": "RSS over time of one workload (timeline.csv of `run --timeline`, net of "
    "the harness's baseline, or of `exec`), one line per repetition and a thick median per "
    "allocator, 0 ms at the end of the timed replays with the settle delay shaded.",
    "time_vs_memory_": "Median time per operation against median peak RSS of each allocator, "
    "one panel per workload at one thread count, log-log; the dashed staircase is the Pareto "
    "front (no other allocator is both faster and smaller).",
}


def caption(name):
    """The CAPTIONS sentence of figure file `name` (a path is fine): its own
    entry, else that of the longest prefix it starts with; None if neither."""
    base = os.path.basename(name)
    stem, ext = os.path.splitext(base)
    png = stem + ".png"
    if png in CAPTIONS:
        return CAPTIONS[png]
    prefixes = [k for k in CAPTIONS if k.endswith("_") and base.startswith(k)]
    return CAPTIONS[max(prefixes, key=len)] if prefixes else None


def _is_figure(name):
    stem, ext = os.path.splitext(name)
    return ext[1:] in FORMATS and (stem + ".png" in FIXED_FIGURES or
                                   stem.startswith(FIGURE_PREFIXES))


def _remove_stale(out_dir, written):
    """Removes figure files (FIXED_FIGURES, FIGURE_PREFIXES, any format) in
    out_dir that this run did not write; one line naming them, if any."""
    keep = {os.path.abspath(p) for p in written}
    gone = sorted(n for n in os.listdir(out_dir) if _is_figure(n) and
                  os.path.abspath(os.path.join(out_dir, n)) not in keep)
    for n in gone:
        os.remove(os.path.join(out_dir, n))
    if not gone:
        return []
    return [f"removed {len(gone)} figure file{'s' if len(gone) > 1 else ''} of an earlier "
            f"run from {out_dir}: {', '.join(gone)}"]


def _remove_old(path, formats=("png",)):
    """Removes the figure an earlier run left at `path` (and its other
    formats); ' (removed the old NAME)' when there was one, else ''."""
    gone = [p for p in output_paths(path, FORMATS) if os.path.exists(p)]
    for p in gone:
        os.remove(p)
    if gone:
        return f" (removed the old {', '.join(os.path.basename(p) for p in gone)})"
    return ""
