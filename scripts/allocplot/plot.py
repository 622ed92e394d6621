"""The standard plots, from any results.csv (medians with min-max spread), and
the latency CDF from the per-operation latency files beside it."""
import os
import zlib

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from allocplot.load import ok_rows  # noqa: E402
from allocplot.stats import CALIBRATION, summarize  # noqa: E402

# The plots every complete run has (`allocplot check --plots` requires them).
PLOT_NAMES = ["throughput_by_workload.png", "scaling_rl_small.png", "overhead_ratio.png"]
# Written only when the run recorded latency files.
OPTIONAL_PLOT_NAMES = ["latency_cdf.png"]

# The calibration adapter is a reference line, not an allocator.
EXCLUDE = {CALIBRATION}


# Smallest latency drawn on the log axis (timer-subtracted samples can be <= 0).
LAT_FLOOR_NS = 0.1

OVERHEAD_NOTE = ("below 1.0: RSS is counted in whole pages and the kernel may not have "
                 "committed pages the allocator handed out but the workload has not touched, "
                 "so peak RSS can be smaller than the peak live bytes; see docs/csv_schema.md")


class NothingToPlot(ValueError):
    """The results have no data for a plot at all."""


# One fixed colour and marker per allocator, the same in every figure and
# whichever allocators a file holds: by family, then by name. System
# allocators get strong colours and filled circles; in-house ones other
# colours and other markers; the pmr baselines browns and diamonds; the
# calibration grey crosses. A name not listed gets a stable colour from its
# CRC (so it too keeps it across figures) and a dot.
SYSTEM_STYLES = {
    "glibc": ("#1f77b4", "o"), "jemalloc": ("#ff7f0e", "o"), "tcmalloc": ("#2ca02c", "o"),
    "mimalloc": ("#d62728", "o"), "tbbmalloc": ("#9467bd", "o"), "scudo": ("#17becf", "o"),
}
PMR_STYLES = {
    "pmr_monotonic": ("#8c564b", "D"), "pmr_unsync_pool": ("#c49c94", "D"),
    "pmr_sync_pool": ("#5c3a2e", "D"),
}
CALIBRATION_STYLES = {"null": ("#9e9e9e", "x")}
INHOUSE_STYLES = {
    "inhouse": ("#e377c2", "s"), "inhouse_baseline": ("#f7b6d2", "s"),
    "slab": ("#393b79", "^"), "pool": ("#6b6ecf", "^"), "arena": ("#9c9ede", "v"),
    "pool_tls": ("#637939", "P"), "pool_sharded": ("#8ca252", "P"), "pool_lockfree": ("#b5cf6b", "P"),
    "coalesce_arena": ("#8c6d31", "X"), "coalesce_arena_reclaim": ("#e7ba52", "X"),
    "mempool_baseline": ("#00585e", "*"), "mempool_sharded": ("#2a9d8f", "*"),
    "mempool_best_fit": ("#52b788", "h"), "mempool_fixed_size": ("#a8dadc", "h"),
    "mempool_pool_based": ("#7b4173", "p"), "mempool_segregated": ("#a55194", "p"),
}
FAMILY_STYLES = (SYSTEM_STYLES, PMR_STYLES, CALIBRATION_STYLES, INHOUSE_STYLES)


def allocator_style(name):
    """(colour, marker) of allocator `name`: fixed, whatever else is plotted."""
    for table in FAMILY_STYLES:
        if name in table:
            return table[name]
    palette = plt.get_cmap("tab20b")
    return (palette(zlib.crc32(name.encode()) % 20), ".")


def allocator_order(names):
    """`names` by family (system, pmr, calibration, in-house, others), then by
    name: the order of bars and legends."""
    def key(a):
        for rank, table in enumerate(FAMILY_STYLES):
            if a in table:
                return (rank, a)
        return (len(FAMILY_STYLES), a)
    return sorted(set(names), key=key)


def allocator_styles(df):
    """{allocator: (colour, marker)} for every allocator in the file, in
    allocator_order (see allocator_style: an allocator has the same style in
    every figure)."""
    return {a: allocator_style(a) for a in allocator_order(df["allocator"])}


def _label(workload, profile):
    return workload if profile == "default" else f"{workload}/{profile}"


def _cell_text(cells):
    """'mixed_sizes/small (threads 1, 2), ttl_ring (threads 1)' for (workload,
    profile, threads) tuples."""
    by_label = {}
    for w, p, t in sorted(cells):
        by_label.setdefault(_label(w, p), []).append(str(int(t)))
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


def n_text(ns):
    """'n=2' or 'n=2-3' for the repetition counts `ns`."""
    ns = sorted({int(n) for n in ns if n > 0})
    if not ns:
        return "n=0"
    return f"n={ns[0]}" if len(ns) == 1 else f"n={ns[0]}-{ns[-1]}"


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
    s["label"] = [_label(w, p) for w, p in zip(s["workload"], s["profile"])]
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


def throughput_by_workload(df, out_path, notes=None):
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
    fig.savefig(out_path, dpi=110)
    plt.close(fig)


def scaling(df, out_path, workload="rl_churn", profile="small", notes=None):
    """Median Mops/s against thread count for one workload/profile. Appends to
    `notes` what it could not draw; NothingToPlot if nothing."""
    s = summarize(df, "mops")
    s = s[(s["workload"] == workload) & (s["profile"] == profile) &
          ~s["allocator"].isin(EXCLUDE)]
    if s.empty:
        raise NothingToPlot(f"no ok rows for {workload}/{profile}")
    if notes is not None:
        notes += not_drawn(os.path.basename(out_path), df, s,
                           _scope(df, workload=workload, profile=profile), "no ok row")
    styles = allocator_styles(df)
    fig, ax = plt.subplots(figsize=(10, 5))
    for a in allocator_order(s["allocator"].unique()):
        sub = s[s["allocator"] == a].sort_values("threads")
        ax.errorbar(sub["threads"], sub["median"], yerr=_errs(sub), marker=styles[a][1],
                    color=styles[a][0], capsize=3, label=a)
    ax.set_xlabel("threads")
    ax.set_ylabel(f"Mops/s, raw (median, {n_text(s['n'])})")
    ax.set_xticks(sorted(s["threads"].unique()))
    ax.set_title(f"Scaling: {_label(workload, profile)}; {error_bar_text(s['n'])}")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.tight_layout()
    fig.savefig(out_path, dpi=110)
    plt.close(fig)


def overhead_note(values):
    """The note the overhead plot shows when any plotted value is below 1.0
    (else None)."""
    values = [v for v in values if v == v]  # drop NaN
    return OVERHEAD_NOTE if any(v < 1.0 for v in values) else None


def overhead_ratio(df, out_path, notes=None):
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
    fig.savefig(out_path, dpi=110)
    plt.close(fig)


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
                notes=None):
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
                         f"{_label(workload, profile)} is in {results_dir}")
        return None
    if notes is not None:
        for a in sorted(set(df["allocator"]) - set(data)):
            notes.append(f"{name}: {a} not drawn for {_label(workload, profile)} (threads "
                         f"{threads}): no ok row with a latency file that exists")
    styles = allocator_styles(df)
    fig, ax = plt.subplots(figsize=(10, 5))
    for a in sorted(data):
        x, y = ecdf(data[a])
        ax.step(x, y, where="post", color=styles[a][0],
                linestyle="--" if a in EXCLUDE else "-",
                label=f"{a} ({x.size} samples)")
    ax.set_xscale("log")
    ax.set_xlabel(f"latency per operation, ns (log; timer cost subtracted, "
                  f"values below {LAT_FLOOR_NS} ns drawn at {LAT_FLOOR_NS})\n"
                  "the steps are the cycle counter's resolution (about 10 ns on the development "
                  "VM; docs/csv_schema.md)")
    ax.set_ylabel("fraction of sampled operations")
    ax.set_ylim(0, 1.0)
    ax.set_title(f"Latency CDF: {_label(workload, profile)}, {threads} "
                 f"thread{'s' if threads != 1 else ''} (all repetitions; timer cost subtracted)")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.tight_layout()
    fig.savefig(out_path, dpi=110)
    plt.close(fig)
    return out_path


def plot_all(df, out_dir, results_dir=None):
    """Writes what it can of the PLOT_NAMES PNGs into out_dir, and
    latency_cdf.png when `results_dir` (the directory of results.csv) holds
    latency files. Returns (written, skipped): the paths written, and one line
    for each plot it could not draw (its old PNG in out_dir, if any, is removed
    so the directory never mixes two runs) and for each allocator a plot left
    out of some of its cells."""
    os.makedirs(out_dir, exist_ok=True)
    plots = zip(PLOT_NAMES, (throughput_by_workload, scaling, overhead_ratio))
    written, skipped = [], []
    for name, fn in plots:
        path = os.path.join(out_dir, name)
        try:
            fn(df, path, notes=skipped)
            written.append(path)
        except NothingToPlot as e:
            skipped.append(f"skipped {name}: {e}{_remove_old(path)}")
    if results_dir is not None:
        path = os.path.join(out_dir, "latency_cdf.png")
        notes = []
        if latency_cdf(df, results_dir, path, notes=notes) is not None:
            written.append(path)
        elif notes:
            notes[-1] += _remove_old(path)
        skipped += notes
    return written, skipped


def _remove_old(path):
    """Removes a PNG left by an earlier run at `path`; ' (removed the old
    one)' when there was one, else ''."""
    if os.path.exists(path):
        os.remove(path)
        return f" (removed the old {os.path.basename(path)})"
    return ""
