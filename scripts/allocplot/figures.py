"""Figures that stay readable with 25 allocators and ~40 cells: ratio
heatmaps with significance, per-workload dot plots of ratios with CIs,
latency ladders, memory over phases, time against peak RSS with the Pareto
front. Each figure function takes the results DataFrame (and phases.csv where
it needs it) and an output path, and returns the paths it wrote (PNG first;
style.save_figure); the data behind each is a pure function tested on its
own. Gaps (a skipped allocator, a cell the baseline did not run) are marked
in the figure itself, not on stderr."""
import re

import numpy as np
import pandas as pd
from matplotlib import colors as mcolors
from matplotlib import ticker as mticker
from matplotlib import transforms as mtransforms
from matplotlib.collections import LineCollection, PatchCollection
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle

from allocplot.load import ok_rows
from allocplot.significance import ALPHA, LEVEL, TraceMismatch, compare_frames, small_n_warning
from allocplot.stats import NET_METRICS, metric_note, summarize, table_allocators
from allocplot.style import (EXCLUDE, FAMILY_STYLES, LAT_FLOOR_NS, NothingToPlot,
                             allocator_order, allocator_style, cell_label, n_text, save_figure,
                             threads_text, trace_name, wrap_lines)

import matplotlib.pyplot as plt  # noqa: E402  (after style, which selects Agg)

MIB = 1024.0 * 1024.0
LADDER = [("lat_p50_ns", "p50", "o"), ("lat_p90_ns", "p90", "s"), ("lat_p99_ns", "p99", "^"),
          ("lat_p999_ns", "p99.9", "D"), ("lat_max_ns", "max", "|")]
# Workloads whose runs write phases.csv (docs/csv_schema.md).
PHASE_WORKLOADS = {"size_ramp", "scatter_sizes", "sparse_sizes", "burst_idle"}
# Statuses as they fit in a heatmap cell.
STATUS_SHORT = {"skipped": "skip", "crashed": "crash", "timeout": "t/o", "oom": "oom",
                "error": "err"}


def file_part(workload, profile):
    """'rl_churn_small': the (workload, profile) part of a per-workload file
    name; 'trace_sqlite3' for a recorded trace. Characters outside
    [A-Za-z0-9._-] become '_'."""
    part = f"trace_{trace_name(profile)}" if workload == "trace" else f"{workload}_{profile}"
    return re.sub(r"[^A-Za-z0-9._-]", "_", part)


# --- ratios to a baseline, with significance -------------------------------

def ratio_cells(df, metric, baseline):
    """Each allocator against `baseline` in every (workload, profile, threads)
    both ran: CELL, ratio of medians, its bootstrap CI (ci_lo, ci_hi), U-test
    p, significant (significance.significant: p < ALPHA and the CI excludes
    1), n_a (baseline), n_b and min_p; compare_frames does the work. The
    calibration adapter and the baseline itself are left out. NothingToPlot
    when the baseline has no ok rows of `metric`, or a cell's traces differ."""
    ok = ok_rows(df)
    ok = ok[ok[metric].notna()]
    if not (ok["allocator"] == baseline).any():
        raise NothingToPlot(f"baseline {baseline} has no ok rows with {metric} (choose "
                            "another with --baseline)")
    try:
        t = compare_frames(df, df, metric, a_alloc=baseline,
                           b_alloc=ratio_rows(df, metric, baseline))
    except TraceMismatch as e:
        raise NothingToPlot(str(e))
    if t.empty:
        raise NothingToPlot(f"no allocator shares a cell with ok rows of {metric} with "
                            f"baseline {baseline}")
    return t


def ratio_text(v):
    """A ratio in at most four characters: '0.93', '12.3', '116', '<.01'."""
    if pd.isna(v):
        return "n/a"
    if v < 0.01:
        return "<.01"
    if v < 9.995:
        return f"{v:.2f}"
    return f"{v:.1f}" if v < 99.95 else f"{v:.0f}"


def _cells(df):
    return sorted(set(zip(df["workload"], df["profile"], df["threads"])))


def _status_short(df, allocator, cell):
    """What a cell without a ratio shows: the status of its rows, or '-'."""
    w, p, t = cell
    rows = df[(df["allocator"] == allocator) & (df["workload"] == w) &
              (df["profile"] == p) & (df["threads"] == t)]
    statuses = sorted(set(rows["status"]) - {"ok"})
    if len(rows) and not statuses:
        return "n/a"  # ok rows, but without the metric or an undefined ratio
    return "/".join(STATUS_SHORT.get(s, s) for s in statuses) or "-"


def heatmap_grid(ratios, df, rows, cols):
    """(values, significant, texts): arrays of len(rows) x len(cols) for the
    heatmap of `ratios` (ratio_cells); rows are allocators, cols (workload,
    profile, threads) cells. A cell without a ratio is NaN, not significant,
    and shows its rows' status (see _status_short)."""
    by_key = {(r.allocator, r.workload, r.profile, r.threads): r
              for r in ratios.itertuples(index=False)}
    values = np.full((len(rows), len(cols)), np.nan)
    sig = np.zeros((len(rows), len(cols)), dtype=bool)
    texts = np.empty((len(rows), len(cols)), dtype=object)
    for i, a in enumerate(rows):
        for j, c in enumerate(cols):
            r = by_key.get((a,) + tuple(c))
            if r is not None and pd.notna(r.ratio):
                values[i, j], sig[i, j], texts[i, j] = r.ratio, r.significant, ratio_text(r.ratio)
            else:
                texts[i, j] = _status_short(df, a, c)
    return values, sig, texts


def heatmap_layout(n_rows, n_cols):
    """Figure size (inches) and font sizes (points) for a heatmap of n_rows
    allocators and n_cols cells: each cell keeps 0.44 x 0.26 in until the grid
    would pass 24 x 15 in; then cells shrink and the fonts with them (never
    below 4.5 pt for the ratios)."""
    cell_w = min(0.44, 24.0 / max(n_cols, 1))
    cell_h = min(0.26, 15.0 / max(n_rows, 1))
    annot = max(4.5, min(7.5, cell_w * 72 / 3.4, cell_h * 72 * 0.62))
    tick = max(5.0, min(9.0, cell_h * 72 * 0.85))
    grid = (n_cols * cell_w, n_rows * cell_h)
    return {"grid": grid, "figsize": (grid[0] + 3.4, grid[1] + 2.9), "annot": annot,
            "tick": tick, "margins": (1.9, 1.9, 1.5, 1.0)}  # left, bottom, right, top


def color_limit(values):
    """r of the colour scale [1/r, r]: the 95th percentile of |log ratio|,
    between 1.5 and 16, so one outlier does not wash out the rest (cells
    beyond take the end colours; their text still gives the value)."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v) & (v > 0)]
    if not v.size:
        return 2.0
    return float(np.clip(np.exp(np.quantile(np.abs(np.log(v)), 0.95)), 1.5, 16.0))


def colorbar_ticks(r, height_in):
    """Ticks of a colour bar from 1/r to r, `height_in` inches tall: powers
    of two (and 2/3, 1.5 on a narrow scale), every other one dropped, 1 kept,
    until they are at least about 0.28 in apart."""
    near = (2 / 3, 1.5) if r < 3 else ()
    ticks = sorted(t for t in (1 / 16, 1 / 8, 1 / 4, 1 / 2, 1, 2, 4, 8, 16) + near
                   if 1.0 / r <= t <= r)
    while len(ticks) > max(3, int(height_in / 0.28)):
        mid = ticks.index(1)
        ticks = ticks[mid % 2::2]  # every other one, through 1
    return ticks


def _group_spans(cols):
    """[(label, first index, last index)] of consecutive cols sharing a
    (workload, profile)."""
    spans = []
    for j, (w, p, _) in enumerate(cols):
        label = cell_label(w, p)
        if spans and spans[-1][0] == label:
            spans[-1][2] = j
        else:
            spans.append([label, j, j])
    return [tuple(s) for s in spans]


def ratio_heatmap(df, out_path, metric, baseline="glibc", what=None, ratios=None,
                  footer=None, formats=("png",)):
    """Heatmap of the ratio of medians of `metric` to `baseline`: one row per
    allocator (allocator_order), one column per (workload, profile, threads)
    cell the baseline ran, each annotated with its ratio; a diverging colour
    scale centred at 1 on a log axis; cells whose difference is not
    significant faded and hatched. `ratios` is ratio_cells' output when the
    caller has it. Returns the paths written; NothingToPlot if nothing."""
    if ratios is None:
        ratios = ratio_cells(df, metric, baseline)
    base_ok = ok_rows(df)
    base_ok = base_ok[(base_ok["allocator"] == baseline) & base_ok[metric].notna()]
    cols = _cells(base_ok)
    rows = ratio_rows(df, metric, baseline)
    values, sig, texts = heatmap_grid(ratios, df, rows, cols)
    lay = heatmap_layout(len(rows), len(cols))
    fig = plt.figure(figsize=lay["figsize"])
    left, bottom, right, top = lay["margins"]
    fw, fh = lay["figsize"]
    ax = fig.add_axes([left / fw, bottom / fh, lay["grid"][0] / fw, lay["grid"][1] / fh])
    r = color_limit(values)
    norm = mcolors.LogNorm(vmin=1.0 / r, vmax=r)
    cmap = plt.get_cmap("RdBu_r").copy()
    cmap.set_bad("#eeeeee")
    mesh = ax.pcolormesh(np.ma.masked_invalid(values), cmap=cmap, norm=norm,
                         edgecolors="white", linewidth=0.5)
    faded = [Rectangle((j, i), 1, 1) for i in range(len(rows)) for j in range(len(cols))
             if np.isfinite(values[i, j]) and not sig[i, j]]
    ax.add_collection(PatchCollection(faded, facecolor=(1, 1, 1, 0.55), hatch="////",
                                      edgecolor=(0.3, 0.3, 0.3, 0.6), linewidth=0))
    # The ratio of a hatched cell on a pale patch, so the hatch does not
    # cross its digits.
    clear = {"boxstyle": "square,pad=0.1", "facecolor": (1, 1, 1, 0.85), "linewidth": 0}
    for i in range(len(rows)):
        for j in range(len(cols)):
            v = values[i, j]
            strong = np.isfinite(v) and v > 0 and sig[i, j] and abs(np.log(v)) > 0.55 * np.log(r)
            ax.text(j + 0.5, i + 0.5, texts[i, j], ha="center", va="center",
                    fontsize=lay["annot"], color="white" if strong else
                    ("black" if np.isfinite(v) else "0.45"),
                    bbox=clear if np.isfinite(v) and not sig[i, j] else None)
    ax.set_xlim(0, len(cols))
    ax.set_ylim(len(rows), 0)
    ax.set_yticks(np.arange(len(rows)) + 0.5)
    ax.set_yticklabels(rows, fontsize=lay["tick"])
    _row_swatches(ax, rows, lay["tick"])
    ax.set_xticks(np.arange(len(cols)) + 0.5)
    ax.set_xticklabels([f"T{int(t)}" for _, _, t in cols], fontsize=lay["tick"] * 0.85)
    ax.tick_params(length=0)
    for label, j0, j1 in _group_spans(cols):
        if j0 > 0:
            ax.axvline(j0, color="black", linewidth=1.0)
        ax.text((j0 + j1 + 1) / 2.0, len(rows) + 0.9, label, rotation=40, ha="right",
                va="top", rotation_mode="anchor", fontsize=lay["tick"], clip_on=False)
    # Right of the grid: the legend at the top, the colour bar under it, at
    # least 1.8 in tall even beside a grid of a few rows (it may reach into
    # the bottom margin, where only the group labels are, left of it).
    grid_w, grid_h = lay["grid"]
    bar_h = max(min(grid_h - 0.6, 4.0), 1.8)
    cax = fig.add_axes([(left + grid_w + 0.25) / fw, (bottom + grid_h - 0.6 - bar_h) / fh,
                        0.18 / fw, bar_h / fh])
    bar = fig.colorbar(mesh, cax=cax, extend="both")
    bar.set_ticks(colorbar_ticks(r, bar_h))
    bar.set_ticklabels([f"{t:g}" if t >= 1 else f"{t:.2g}" for t in colorbar_ticks(r, bar_h)])
    bar.minorticks_off()
    bar.set_label(f"ratio to {baseline} (log scale)", fontsize=8)
    bar.ax.tick_params(labelsize=7)
    ax.legend(handles=[Patch(facecolor="#f4f4f4", hatch="////", edgecolor="0.55",
                             label="faded, hatched: not significant"),
                       Patch(facecolor="#eeeeee", label="no ratio: status of its rows "
                             "(skip, crash, ...)")],
              loc="upper left", bbox_to_anchor=(1.0 + 0.2 / grid_w, 1.0),
              fontsize=7, frameon=False, borderaxespad=0)
    what = what or metric
    lines = [f"{what} relative to {baseline}, lower (blue) is better: ratio of medians of "
             f"{metric}, {metric_note(metric)}",
             f"columns: workload, T = threads; each cell: median of {n_text(ratios['n_b'])} "
             f"repetitions over {baseline}'s median ({n_text(ratios['n_a'])}); significant = "
             f"two-sided Mann-Whitney U p < {ALPHA} and the {LEVEL:.0%} bootstrap CI of the "
             f"ratio excludes 1"]
    lines.append(significance_text(ratios))
    missing = sorted(set(_cells(df)) - set(cols))
    if missing:
        lines.append(f"not shown ({baseline} has no ok row there): " +
                     ", ".join(f"{cell_label(w, p)} T{int(t)}" for w, p, t in missing))
    _wrapped_title(ax, lines, max(lay["grid"][0] + 2.5, 9.0))
    return save_figure(fig, out_path, footer, formats)


def significance_text(ratios):
    """How many of the cells of `ratios` (ratio_cells) are significant; when
    none is and the repetitions are too few for any to be, the reason
    (significance.small_n_warning)."""
    k = int(ratios["significant"].sum())
    warning = small_n_warning(ratios)
    if k == 0 and warning:
        return "no cell is significant. " + warning.replace("warning: ", "")
    return f"{k} of {len(ratios)} cells significant"


def _row_swatches(ax, rows, size):
    """The allocator's own colour and marker left of each row label (the
    labels stay black: some allocator colours are too light for text)."""
    at = mtransforms.offset_copy(ax.get_yaxis_transform(), ax.figure, x=-size * 0.9,
                                 units="points")
    for i, a in enumerate(rows):
        colour, marker = allocator_style(a)
        ax.plot([0], [i + 0.5], marker=marker, color=colour, markersize=size * 0.8,
                transform=at, clip_on=False, linestyle="none")
    ax.tick_params(axis="y", pad=size * 1.6)


def _wrapped_title(ax, lines, width_in, size=8.5):
    """A left-aligned title of several lines above `ax`, wrapped to
    `width_in` inches."""
    ax.set_title(wrap_lines(lines, width_in, size), fontsize=size, loc="left", pad=8)


# --- dot plots of ratios with CIs --------------------------------------------

DOT_CAP = 3.0  # the right end of a dot plot's linear axis, at most


def dot_xmax(ratios):
    """The right end of the linear ratio axis for `ratios` (ratio_cells
    rows): the largest ratio or CI bound, with a margin, between 1.25 (1 is
    always inside) and DOT_CAP (points beyond are drawn at the edge with
    their value)."""
    v = pd.concat([ratios["ratio"], ratios["ci_hi"]]).astype(float)
    v = v[np.isfinite(v)]
    top = float(v.max()) * 1.08 if len(v) else 1.25
    return float(np.clip(top, 1.25, DOT_CAP))


def ratio_rows(df, metric, baseline):
    """The allocators a ratio figure has a row for, in allocator_order: all
    in the file but the baseline and the calibration adapter."""
    return [a for a in table_allocators(allocator_order(df["allocator"]), metric)
            if a != baseline and a not in EXCLUDE]


def ratio_dots(df, out_path, workload, profile, metric, baseline="glibc", what=None,
               ratios=None, footer=None, formats=("png",)):
    """Dot plot of the ratio of medians of `metric` to `baseline` for one
    (workload, profile): one panel per thread count, one row per allocator,
    the dot at the ratio on a linear axis, whiskers its bootstrap CI, filled
    when significant. Returns the paths written; NothingToPlot if the
    baseline has no ratio there."""
    if ratios is None:
        ratios = ratio_cells(df, metric, baseline)
    sub = ratios[(ratios["workload"] == workload) & (ratios["profile"] == profile)]
    if sub.empty:
        raise NothingToPlot(f"no ratio to {baseline} for {cell_label(workload, profile)}")
    threads = sorted(sub["threads"].unique())
    rows = ratio_rows(df, metric, baseline)
    xmax = dot_xmax(sub)
    fig, axes = _row_figure(rows, len(threads), 4.2)
    for ax, t in zip(axes, threads):
        panel = sub[sub["threads"] == t].set_index("allocator")
        for i, a in enumerate(rows):
            if a not in panel.index or pd.isna(panel.at[a, "ratio"]):
                _mark_gap(ax, i + 0.5, _status_short(df, a, (workload, profile, t)))
            else:
                _dot(ax, i + 0.5, panel.loc[a], allocator_style(a), xmax)
        ax.axvline(1.0, color="black", linewidth=0.8)
        ax.set_xlim(0, xmax)
        ax.set_xlabel(f"ratio of medians to {baseline} (linear; 1 = same)")
        ax.grid(axis="x", alpha=0.3)
        ax.set_title(f"{threads_text(t)}: {n_text(panel['n_b'])} reps, {baseline} "
                     f"{n_text(panel['n_a'])}", fontsize=9)
    _bottom_legend(fig, [
        Line2D([], [], marker="o", color="0.3", linestyle="none", label="significant"),
        Line2D([], [], marker="o", color="0.3", markerfacecolor="white", linestyle="none",
               label="not significant"),
        Line2D([], [], marker=">", color="0.3", linestyle="none",
               label=f"beyond {xmax:g}: value printed")])
    what = what or metric
    fig.suptitle(wrap_lines([f"{cell_label(workload, profile)}: {what} ({metric}) relative to "
                             f"{baseline}, lower is better; whiskers: {LEVEL:.0%} bootstrap CI "
                             f"of the ratio of medians", significance_text(sub)],
                            fig.get_figwidth(), 9), fontsize=9)
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    return save_figure(fig, out_path, footer, formats)


def _row_figure(rows, panels, panel_width, **kw):
    """(figure, axes) of `panels` side by side sharing one row per allocator
    of `rows`, top to bottom, labelled at the left with their swatches."""
    fig, axes = plt.subplots(1, panels, figsize=(panel_width * panels + 1.8,
                                                 0.26 * len(rows) + 2.2),
                             sharey=True, squeeze=False, **kw)
    ax = axes[0, 0]
    ax.set_ylim(len(rows), 0)
    ax.set_yticks(np.arange(len(rows)) + 0.5)
    ax.set_yticklabels(rows, fontsize=8)
    _row_swatches(ax, rows, 8)
    return fig, list(axes[0])


def _mark_gap(ax, y, text):
    """The status of a row without data (skip, crash, ...), at its left."""
    ax.text(0.02, y, text, transform=ax.get_yaxis_transform(), va="center", fontsize=7,
            color="0.45", style="italic")


def _bottom_legend(fig, handles):
    fig.legend(handles=handles, loc="lower center", ncol=len(handles), fontsize=8,
               frameon=False, bbox_to_anchor=(0.5, -0.01))


def _dot(ax, y, r, style, xmax):
    """One allocator's ratio at height y: filled when significant, whiskers
    at the CI, an arrow at the edge with the value when beyond xmax."""
    colour, marker = style
    face = colour if r["significant"] else "white"
    if r["ratio"] > xmax:
        ax.plot([xmax * 0.985], [y], marker=">", color=colour, markerfacecolor=face,
                linestyle="none", clip_on=False)
        ax.text(xmax * 0.96, y, ratio_text(r["ratio"]), ha="right", va="center", fontsize=7)
        return
    err = None
    if pd.notna(r["ci_lo"]) and pd.notna(r["ci_hi"]):
        err = [[max(r["ratio"] - r["ci_lo"], 0)], [max(r["ci_hi"] - r["ratio"], 0)]]
    ax.errorbar([r["ratio"]], [y], xerr=err, fmt=marker, color=colour, markerfacecolor=face,
                markersize=6, capsize=2, elinewidth=1)


# --- scaling -------------------------------------------------------------------

def scaling_cells(df):
    """The (workload, profile) pairs, sorted, whose ok rows (the calibration
    adapter aside) have mops at more than one thread count: the ones that get
    a scaling plot."""
    ok = ok_rows(df)
    ok = ok[ok["mops"].notna() & ~ok["allocator"].isin(EXCLUDE)]
    counts = ok.groupby(["workload", "profile"])["threads"].nunique()
    return [tuple(k) for k in counts[counts > 1].index]


# --- latency ladders -------------------------------------------------------------

def ladder_values(df, workload, profile, threads):
    """Per allocator of the cell: the median over ok repetitions of each
    LADDER percentile column, and of lat_samples."""
    ok = ok_rows(df)
    ok = ok[(ok["workload"] == workload) & (ok["profile"] == profile) &
            (ok["threads"] == threads) & ok["lat_p50_ns"].notna()]
    cols = [c for c, _, _ in LADDER] + ["lat_samples"]
    return ok.groupby("allocator")[cols].median()


def latency_ladder(df, out_path, workload, profile, footer=None, formats=("png",)):
    """p50, p90, p99, p99.9 and max latency per allocator for one (workload,
    profile), one panel per thread count: a row per allocator, a log axis.
    Returns the paths written; NothingToPlot without latency columns."""
    ok = ok_rows(df)
    ok = ok[(ok["workload"] == workload) & (ok["profile"] == profile) &
            ok["lat_p50_ns"].notna()]
    threads = sorted(ok["threads"].unique())
    if not threads:
        raise NothingToPlot(f"no ok row with latency percentiles for "
                            f"{cell_label(workload, profile)}")
    rows = allocator_order(df["allocator"])
    fig, axes = _row_figure(rows, len(threads), 4.4, sharex=True)
    samples = []
    for ax, t in zip(axes, threads):
        v = ladder_values(df, workload, profile, t)
        samples += list(v["lat_samples"])
        for i, a in enumerate(rows):
            if a not in v.index:
                _mark_gap(ax, i + 0.5, _status_short(df, a, (workload, profile, t)))
        drawn = [a for a in rows if a in v.index]
        ys = [rows.index(a) + 0.5 for a in drawn]
        colours = [allocator_style(a)[0] for a in drawn]
        xs = {c: np.maximum(v.loc[drawn, c].values.astype(float), LAT_FLOOR_NS)
              for c, _, _ in LADDER}
        # One collection per kind of mark, not one artist per point: a
        # ladder of 25 allocators has 125 marks per panel.
        ax.add_collection(LineCollection(
            [[(lo, y), (hi, y)] for lo, hi, y in zip(xs[LADDER[0][0]], xs[LADDER[-1][0]], ys)],
            colors=colours, linewidths=1.5,
            linestyles=["--" if a in EXCLUDE else "-" for a in drawn]))
        for c, _, m in LADDER:
            if m == "|":  # an unfilled marker: drawn in its face colour
                ax.scatter(xs[c], ys, marker=m, c="black", linewidths=1.5, s=81, zorder=3)
            else:
                ax.scatter(xs[c], ys, marker=m, c=colours, edgecolors="black",
                           linewidths=0.5, s=25, zorder=3)
        ax.set_xscale("log")
        ax.grid(axis="x", which="both", alpha=0.25)
        ax.set_xlabel("latency per operation, ns (log; timer cost subtracted)")
        ax.set_title(f"{threads_text(t)}, median over {n_text(_reps(ok, t))} reps", fontsize=9)
    _bottom_legend(fig, [Line2D([], [], marker=m, color="0.3", markeredgecolor="black",
                                linestyle="none", markersize=6 if m != "|" else 9, label=name)
                         for _, name, m in LADDER])
    lo, hi = int(min(samples)), int(max(samples))
    count = str(lo) if lo == hi else f"{lo}-{hi}"
    note = f"; with {count} samples per repetition (< 1000) p99.9 is the max" if hi < 1000 else ""
    fig.suptitle(wrap_lines([f"Latency ladder: {cell_label(workload, profile)} (lat_p50_ns ... "
                             f"lat_max_ns; sampled single operations, nearest rank{note})",
                             "the cycle counter's step is about 10 ns on the development VM "
                             f"(docs/csv_schema.md); values below {LAT_FLOOR_NS} ns drawn at "
                             f"{LAT_FLOOR_NS}; null (dashed) is the harness alone"],
                            fig.get_figwidth(), 9), fontsize=9)
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    return save_figure(fig, out_path, footer, formats)


def _reps(ok, threads):
    """Repetitions per allocator among `ok` rows at `threads`."""
    return ok[ok["threads"] == threads].groupby("allocator").size()


# --- memory over phases ------------------------------------------------------------

def timeline_cells(phases):
    """The (workload, profile) pairs of a phases.csv, sorted."""
    return sorted(set(zip(phases["workload"], phases["profile"])))


def timeline(phases, workload, profile, threads):
    """Net RSS (bytes) after each phase, median over repetitions: index
    phase, one column per allocator (the calibration adapter left out)."""
    p = phases[(phases["workload"] == workload) & (phases["profile"] == profile) &
               (phases["threads"] == threads) & ~phases["allocator"].isin(EXCLUDE)]
    return p.groupby(["phase", "allocator"])["rss_net_bytes"].median().unstack("allocator")


def line_groups(names, size=6):
    """`names` (allocator_order) in groups of at most `size` for small
    multiples: each family table of style.FAMILY_STYLES on its own, the
    in-house and unknown ones by the first word of the name (pool_tls with
    pool), neighbouring words merged while they fit."""
    groups = []
    for table in FAMILY_STYLES[:3]:
        g = [a for a in allocator_order(names) if a in table]
        groups += [g[k:k + size] for k in range(0, len(g), size)]
    rest = [a for a in allocator_order(names) if not any(a in t for t in FAMILY_STYLES[:3])]
    words = {}
    for a in rest:
        words.setdefault(a.split("_")[0], []).append(a)
    merged = []
    for members in words.values():
        if merged and len(merged[-1]) + len(members) <= size:
            merged[-1] += members
        else:
            merged += [members[k:k + size] for k in range(0, len(members), size)]
    return [g for g in groups + merged if g]


def memory_timeline(phases, out_path, workload, profile, footer=None, formats=("png",)):
    """Net RSS after each phase for one (workload, profile) of phases.csv, a
    line per allocator: a row of panels per group of allocators (line_groups,
    so lines that sit on the same value stay apart), a column per thread
    count, one y scale. Returns the paths written; NothingToPlot when
    phases.csv has no rows for it."""
    p = phases[(phases["workload"] == workload) & (phases["profile"] == profile) &
               ~phases["allocator"].isin(EXCLUDE)]
    threads = sorted(p["threads"].unique())
    if not threads:
        raise NothingToPlot(f"phases.csv has no rows for {cell_label(workload, profile)}")
    groups = line_groups(set(p["allocator"]))
    fig, axes = plt.subplots(len(groups), len(threads), figsize=(5.2 * len(threads) + 2.2,
                                                                 1.9 * len(groups) + 1.4),
                             sharex=True, sharey=True, squeeze=False)
    for col, t in enumerate(threads):
        tl = timeline(phases, workload, profile, t)
        every = max(1, len(tl) // 8)
        reps = p[p["threads"] == t].groupby("allocator")["repetition"].nunique()
        axes[0, col].set_title(f"{threads_text(t)}, median over {n_text(reps)} reps",
                               fontsize=9)
        axes[-1, col].set_xlabel("phase boundary (0-based; read after the phase freed its "
                                 "blocks)", fontsize=8)
        for row, group in enumerate(groups):
            ax = axes[row, col]
            for a in group:
                if a not in tl.columns:
                    continue
                colour, marker = allocator_style(a)
                ax.plot(tl.index, tl[a] / MIB, color=colour, marker=marker, markevery=every,
                        markersize=4, linewidth=1.2, label=a)
            ax.grid(alpha=0.3)
            ax.tick_params(labelsize=7)
    for row, group in enumerate(groups):
        axes[row, 0].set_ylabel("net RSS, MiB", fontsize=8)
        handles = [Line2D([], [], color=allocator_style(a)[0], marker=allocator_style(a)[1],
                          markersize=4, label=a) for a in group]
        axes[row, -1].legend(handles=handles, loc="upper left", bbox_to_anchor=(1.02, 1.0),
                             fontsize=7, frameon=False, borderaxespad=0)
    axes[0, 0].set_ylim(bottom=0)  # shared: after every panel has its data
    fig.suptitle(wrap_lines([f"Memory kept after each phase: {cell_label(workload, profile)} "
                             "(rss_net_bytes of phases.csv; the in-phase peak is results.csv's "
                             "peak_rss_net_bytes); one row of panels per group of allocators"],
                            fig.get_figwidth(), 10), fontsize=10)
    fig.tight_layout()
    return save_figure(fig, out_path, footer, formats)


# --- memory over time (timeline.csv) ---------------------------------------------

def rss_timeline_cells(tl):
    """The (workload, profile) pairs of a timeline.csv (load_timeline), sorted."""
    return sorted(set(zip(tl["workload"], tl["profile"])))


def timeline_reps(tl, workload, profile, threads):
    """The samples of one (workload, profile, threads) of a timeline, the
    calibration left out, with `x_ms`: ms since the (allocator, repetition)'s
    settle stage began (its first `settle` sample; that sample is taken when
    the stage begins), so 0 is the end of the timed replays; a timeline with
    no settle stage (exec) keeps t_ms. And `y_mib`: net RSS in MiB where the
    timeline has it, else raw RSS. Sorted by allocator, repetition, time."""
    t = tl[(tl["workload"] == workload) & (tl["profile"] == profile) &
           (tl["threads"] == threads) & ~tl["allocator"].isin(EXCLUDE)].copy()
    settle = t[t["stage"] == "settle"].groupby(["allocator", "repetition"])["t_ms"].min()
    start = t.set_index(["allocator", "repetition"]).index.map(settle.to_dict())
    t["x_ms"] = t["t_ms"] - pd.Series(start, index=t.index).fillna(0.0)
    net = t["rss_net_bytes"].notna().all() and len(t) > 0
    t["y_mib"] = (t["rss_net_bytes"] if net else t["rss_bytes"]) / MIB
    return t.sort_values(["allocator", "repetition", "t_ms"]).reset_index(drop=True)


def median_curve(reps, lo, hi, step):
    """(x, y): the median over repetitions of y_mib on a grid lo..hi by
    `step`, each repetition linearly interpolated between its samples and
    left out where it has none; NaN where no repetition covers x."""
    x = np.arange(lo, hi + step / 2, step)
    ys = []
    for _, g in reps.groupby("repetition"):
        y = np.interp(x, g["x_ms"], g["y_mib"], left=np.nan, right=np.nan)
        ys.append(y)
    if not ys:
        return x, np.full_like(x, np.nan)
    stacked = np.vstack(ys)
    with np.errstate(all="ignore"):
        y = np.full(len(x), np.nan)
        have = ~np.all(np.isnan(stacked), axis=0)
        y[have] = np.nanmedian(stacked[:, have], axis=0)
    return x, y


def timeline_window(reps, before_ms=None):
    """(lo, hi) of the x axis: from `before_ms` (default: as long as the
    settle delay) before the settle stage to its end; the whole timeline when
    there is no settle stage."""
    s = reps[reps["stage"] == "settle"]
    if s.empty:
        return float(reps["x_ms"].min()), float(reps["x_ms"].max())
    settle_ms = float(s["x_ms"].max())
    before = max(settle_ms, 1.0) if before_ms is None else before_ms
    return -before, settle_ms


def rss_timeline(tl, out_path, workload, profile, before_ms=None, marks_ms=(), marks_text=None,
                 footer=None, formats=("png",)):
    """RSS over time of one (workload, profile) of a timeline.csv, a panel
    per thread count (and a row of panels per group of allocators when there
    are many): each repetition a thin line, the median over repetitions a
    thick one (from 0 ms: before it the repetitions' replays do not line up),
    0 ms the end of the timed replays (the settle delay shaded),
    net RSS 0 the harness's baseline. `marks_ms`: vertical dotted lines (e.g.
    reclaim periods), labelled `marks_text`. Up to six allocators share each
    panel. Returns the paths written;
    NothingToPlot when the timeline has no rows for it."""
    p = tl[(tl["workload"] == workload) & (tl["profile"] == profile) &
           ~tl["allocator"].isin(EXCLUDE)]
    threads = sorted(p["threads"].unique())
    if not threads:
        raise NothingToPlot(f"timeline.csv has no rows for {cell_label(workload, profile)}")
    names = set(p["allocator"])
    # A few allocators share one panel (the comparison is the point); many
    # get a row of panels per group so that lines on the same value stay apart.
    groups = [allocator_order(names)] if len(names) <= 6 else line_groups(names)
    fig, axes = plt.subplots(len(groups), len(threads), figsize=(5.2 * len(threads) + 2.2,
                                                                 2.6 * len(groups) + 1.4),
                             sharex=True, sharey=True, squeeze=False)
    net = p["rss_net_bytes"].notna().all()
    for col, t in enumerate(threads):
        reps = timeline_reps(tl, workload, profile, t)
        lo, hi = timeline_window(reps, before_ms)
        shown = reps[(reps["x_ms"] >= lo) & (reps["x_ms"] <= hi)]
        period = float(np.median(np.diff(np.sort(reps["t_ms"].unique())))) if len(reps) > 2 else 1
        step = max(period / 2, (hi - lo) / 400)
        n = reps.groupby("allocator")["repetition"].nunique()
        axes[0, col].set_title(f"{threads_text(t)}, {n_text(n)} repetitions", fontsize=9)
        has_settle = (reps["stage"] == "settle").any()
        axes[-1, col].set_xlabel("ms since the end of the timed replays" if has_settle
                                 else "ms since the program started", fontsize=8)
        for row, group in enumerate(groups):
            ax = axes[row, col]
            if has_settle:
                ax.axvspan(0, hi, color="0.9", zorder=0)
            for m in marks_ms:
                ax.axvline(m, color="0.4", linestyle=":", linewidth=0.8, zorder=1)
            for a in group:
                colour, marker = allocator_style(a)
                mine = reps[reps["allocator"] == a]
                for _, g in shown[shown["allocator"] == a].groupby("repetition"):
                    ax.plot(g["x_ms"], g["y_mib"], color=colour, linewidth=0.6, alpha=0.35)
                # Repetitions are aligned at the settle start: before it their
                # replays are at different points, so no median there.
                x, y = median_curve(mine, max(lo, 0.0) if has_settle else lo, hi, step)
                ax.plot(x, y, color=colour, linewidth=1.8, label=a)
            if net:
                ax.axhline(0, color="0.2", linestyle="--", linewidth=0.8)
            ax.set_xlim(lo, hi)
            ax.grid(alpha=0.3)
            ax.tick_params(labelsize=7)
        if has_settle:
            axes[0, col].text(hi, 0.98, "settle: idle, nothing live ", ha="right", va="top",
                              fontsize=7, transform=axes[0, col].get_xaxis_transform())
            axes[0, col].text(lo, 0.98, " end of the timed replays", ha="left", va="top",
                              fontsize=7, transform=axes[0, col].get_xaxis_transform())
    what = "net RSS, MiB" if net else "RSS, MiB"
    for row, group in enumerate(groups):
        axes[row, 0].set_ylabel(what, fontsize=8)
        handles = [Line2D([], [], color=allocator_style(a)[0], linewidth=1.8, label=a)
                   for a in group]
        if marks_ms and marks_text:
            handles.append(Line2D([], [], color="0.4", linestyle=":", label=marks_text))
        if net:
            handles.append(Line2D([], [], color="0.2", linestyle="--",
                                  label="harness baseline (net 0)"))
        axes[row, -1].legend(handles=handles, loc="upper left", bbox_to_anchor=(1.02, 1.0),
                             fontsize=7, frameon=False, borderaxespad=0)
    axes[0, 0].set_ylim(bottom=min(0, axes[0, 0].get_ylim()[0]))
    fig.suptitle(wrap_lines([f"Memory over time: {cell_label(workload, profile)} "
                             f"(timeline.csv, {what}); thin lines: each repetition, thick: "
                             "their median"], fig.get_figwidth(), 10), fontsize=10)
    fig.subplots_adjust(top=0.85)
    fig.tight_layout()
    return save_figure(fig, out_path, footer, formats)


# --- time against memory ---------------------------------------------------------

def pareto_front(xs, ys):
    """Boolean mask of the points (xs[i], ys[i]) that no other point beats in
    both (lower is better in both): a point is dominated when another has x
    and y no larger and one of them smaller. Equal points are both kept."""
    x, y = np.asarray(xs, dtype=float), np.asarray(ys, dtype=float)
    keep = np.ones(len(x), dtype=bool)
    for i in range(len(x)):
        no_worse = (x <= x[i]) & (y <= y[i])
        better = (x < x[i]) | (y < y[i])
        keep[i] = not (no_worse & better).any()
    return keep


def tradeoff_points(df, time_metric, threads):
    """Per (workload, profile, allocator) at `threads`: the median of
    `time_metric` and of peak_rss_net_bytes, for allocators with both (the
    calibration adapter has no memory columns), and whether the point is on
    its (workload, profile)'s Pareto front (pareto_front)."""
    t = summarize(df, time_metric).rename(columns={"median": "time"})
    m = summarize(df, "peak_rss_net_bytes").rename(columns={"median": "rss"})
    on = ["allocator", "workload", "profile", "threads"]
    pts = t[on + ["time"]].merge(m[on + ["rss"]], on=on)
    pts = pts[(pts["threads"] == threads) & ~pts["allocator"].isin(EXCLUDE)].copy()
    pts["front"] = False
    for _, g in pts.groupby(["workload", "profile"]):
        pts.loc[g.index, "front"] = pareto_front(g["rss"], g["time"])
    return pts.reset_index(drop=True)


def time_vs_memory(df, out_path, threads, time_metric, footer=None, formats=("png",)):
    """Time per operation against peak RSS, one panel per (workload, profile)
    at `threads`, a point per allocator, log-log, the Pareto front (lower is
    better in both) as a dashed staircase with its allocators named. Returns
    the paths written; NothingToPlot if no allocator has both."""
    pts = tradeoff_points(df, time_metric, threads)
    cells = sorted(set(zip(pts["workload"], pts["profile"])))
    if not cells:
        raise NothingToPlot(f"no allocator has both {time_metric} and peak_rss_net_bytes at "
                            f"{threads_text(threads)}")
    names = allocator_order(pts["allocator"])
    ncols = min(4, len(cells))
    nrows = -(-len(cells) // ncols)
    legend_cols = min(6, len(names))
    legend_h = 0.2 * -(-len(names) // legend_cols) + 0.3
    fig, axes = plt.subplots(nrows, ncols, figsize=(3.9 * ncols, 3.3 * nrows + legend_h + 0.8),
                             squeeze=False)
    fronts = []
    for k, ax in enumerate(axes.flat):
        if k >= len(cells):
            ax.set_visible(False)
            continue
        w, p = cells[k]
        fronts.append((ax, _tradeoff_panel(ax, pts[(pts["workload"] == w) &
                                                    (pts["profile"] == p)])))
        ax.set_title(cell_label(w, p), fontsize=9)
        if k % ncols == 0:
            ax.set_ylabel(f"ns/op, {'net' if time_metric in NET_METRICS else 'raw'} (log)",
                          fontsize=8)
        if k + ncols >= len(cells):  # the lowest panel of its column
            ax.set_xlabel("peak RSS net, MiB (log)", fontsize=8)
    handles = [Line2D([], [], marker=allocator_style(a)[1], color=allocator_style(a)[0],
                      linestyle="none", label=a) for a in names]
    fig.legend(handles=handles, loc="lower center", ncol=legend_cols, fontsize=8,
               frameon=False, bbox_to_anchor=(0.5, 0.0))
    fig.suptitle(wrap_lines([f"Time per operation against peak RSS, {threads_text(threads)}: "
                             f"medians of {time_metric} ({metric_note(time_metric)}) and "
                             "of peak_rss_net_bytes. Lower left is better; dashed: the Pareto "
                             "front (no other allocator is both faster and smaller), its "
                             "allocators named"], fig.get_figwidth(), 9), fontsize=9)
    fig.tight_layout(rect=(0, legend_h / fig.get_figheight(), 1, 1))
    for ax, front in fronts:
        _label_front(ax, front)
    return save_figure(fig, out_path, footer, formats)


LOG_SUBS = ((1.0,), (1.0, 2.0, 5.0), (1.0, 1.5, 2.0, 3.0, 5.0, 7.0),
            (1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0))


def log_tick_values(lo, hi):
    """Tick values for a log axis from lo to hi: powers of ten, else 1-2-5,
    else finer steps, the first that gives at least three ticks (so a range
    of less than a decade still reads), never more than 10; linear steps
    when not even three of the finest fall inside."""
    ticks = []
    for subs in LOG_SUBS:
        ticks = [m * 10.0 ** k for k in range(int(np.floor(np.log10(lo))) - 1,
                                              int(np.ceil(np.log10(hi))) + 1)
                 for m in subs if lo <= m * 10.0 ** k <= hi]
        if len(ticks) >= 3:
            break
    if len(ticks) < 3:  # narrower than the finest steps: plain linear steps
        ticks = [v for v in mticker.MaxNLocator(4).tick_values(lo, hi) if lo <= v <= hi]
    return ticks[::-(-len(ticks) // 10)]


def tick_text(v, _pos=None):
    """'0.05', '2.5', '300', '5,000', '200,000': no scientific notation."""
    return f"{v:,.0f}" if abs(v) >= 1000 else f"{v:.3g}"


class _LogTickLocator(mticker.Locator):
    """log_tick_values of the axis's limits when it is drawn."""

    def __call__(self):
        lo, hi = sorted(self.axis.get_view_interval())
        return log_tick_values(lo, hi) if lo > 0 else []


def log_ticks(axis):
    """Plain-number ticks ('0.5', '2', '300') from log_tick_values on a log
    axis: matplotlib labels the minor ticks of a range of less than a decade
    in scientific notation, and they overlap."""
    axis.set_major_locator(_LogTickLocator())
    axis.set_major_formatter(mticker.FuncFormatter(tick_text))
    axis.set_minor_formatter(mticker.NullFormatter())


# Where a Pareto front label may go, in points from its point, in order of
# preference: right above, right below, left above, left below, further out.
LABEL_OFFSETS = ((5, 3), (5, -10), (-5, 3), (-5, -10), (5, 12), (5, -19), (-5, 12), (-5, -19))


def _overlap(a, b):
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def place_labels(points, sizes, obstacles, bounds=None, offsets=LABEL_OFFSETS):
    """For labels at display `points` (x, y) of display `sizes` (w, h): the
    first offset of `offsets` for each whose box (x0, y0, x1, y1) lies inside
    `bounds` (if given) and overlaps no box placed before it and none of
    `obstacles`; the first offset when none is free. A negative dx puts the
    label's right end there. Returns one (dx, dy) per point."""
    placed, out = list(obstacles), []
    for (x, y), (w, h) in zip(points, sizes):
        boxes = []
        for dx, dy in offsets:
            x0 = x + dx if dx >= 0 else x + dx - w
            boxes.append(((dx, dy), (x0, y + dy, x0 + w, y + dy + h)))
        free = [(o, b) for o, b in boxes if not any(_overlap(b, p) for p in placed) and
                (bounds is None or (bounds[0] <= b[0] and b[2] <= bounds[2] and
                                    bounds[1] <= b[1] and b[3] <= bounds[3]))]
        choice, box = (free or boxes)[0]
        placed.append(box)
        out.append(choice)
    return out


def _label_front(ax, front, size=6.5):
    """Names the Pareto front's allocators beside their points, out of the
    way of each other and of the other points (place_labels). Call after the
    axes have their final size."""
    px = ax.figure.dpi / 72.0
    pts = [tuple(ax.transData.transform((r.rss / MIB, r.time))) for r in front]
    sizes = [(len(r.allocator) * size * 0.58 * px, size * 1.1 * px) for r in front]
    marks = []  # every point's marker, so no name covers one
    for line in ax.get_lines():
        if line.get_linestyle() == "None":
            for x, y in ax.transData.transform(line.get_xydata()):
                marks.append((x - 4 * px, y - 4 * px, x + 4 * px, y + 4 * px))
    bounds = tuple(ax.get_window_extent().extents)
    for r, (dx, dy) in zip(front, place_labels(pts, sizes, marks, bounds)):
        ax.annotate(r.allocator, (r.rss / MIB, r.time), xytext=(dx, dy),
                    textcoords="offset points", fontsize=size,
                    ha="left" if dx >= 0 else "right", va="bottom")


def _tradeoff_panel(ax, g):
    """One workload's points and its front; returns the front's rows, for
    _label_front. Points whose time is <= 0 (net within noise of the
    harness) cannot go on the log axis and are named instead."""
    shown = g[(g["time"] > 0) & (g["rss"] > 0)]
    for r in shown.itertuples(index=False):
        colour, marker = allocator_style(r.allocator)
        ax.plot([r.rss / MIB], [r.time], marker=marker, color=colour, linestyle="none",
                markersize=6, markeredgecolor="black" if r.front else colour,
                markeredgewidth=0.8)
    front = shown[shown["front"]].sort_values("rss")
    if len(front):
        ax.step(front["rss"] / MIB, front["time"], where="post", color="black",
                linestyle="--", linewidth=0.9)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.margins(0.12)
    log_ticks(ax.xaxis)
    log_ticks(ax.yaxis)
    ax.grid(which="both", alpha=0.2)
    ax.tick_params(labelsize=7)
    hidden = sorted(set(g["allocator"]) - set(shown["allocator"]))
    if hidden:
        ax.text(0.02, 0.02, "not drawn (<= 0): " + ", ".join(hidden), transform=ax.transAxes,
                fontsize=6, color="0.4")
    return list(front.itertuples(index=False))
