"""What every figure shares: the fixed colour and marker of each allocator,
cell labels, the footer naming the run and the machine, and how a figure is
saved (PNG at DPI, SVG or PDF on request). plot.py and figures.py both draw
with it; it imports neither."""
import os
import textwrap
import zlib

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.transforms import Bbox  # noqa: E402

from allocplot.load import ok_rows  # noqa: E402
from allocplot.stats import CALIBRATION, CELL  # noqa: E402

DPI = 200
# Formats `plot --format` accepts; PNG is always written (check --plots and
# the report read it).
FORMATS = ("png", "svg", "pdf")

# The calibration adapter is a reference line, not an allocator.
EXCLUDE = {CALIBRATION}

# Smallest latency drawn on a log axis (timer-subtracted samples can be <= 0).
LAT_FLOOR_NS = 0.1


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


def trace_name(profile):
    """'sqlite3' for a recorded trace's profile 'workloads/traces/sqlite3.trace'."""
    base = str(profile).rstrip("/").rsplit("/", 1)[-1]
    return base[:-len(".trace")] if base.endswith(".trace") else base


def cell_label(workload, profile):
    """'rl_churn/small', 'ttl_ring' for the default profile, 'trace:sqlite3' for
    a recorded trace (whose profile is the file's path)."""
    if workload == "trace":
        return f"trace:{trace_name(profile)}"
    return workload if profile == "default" else f"{workload}/{profile}"


def threads_text(t):
    return f"{int(t)} thread{'s' if int(t) != 1 else ''}"


def n_text(ns):
    """'n=2' or 'n=2-3' for the repetition counts `ns`."""
    ns = sorted({int(n) for n in ns if n > 0})
    if not ns:
        return "n=0"
    return f"n={ns[0]}" if len(ns) == 1 else f"n={ns[0]}-{ns[-1]}"


def machine_text(context):
    """The machine and toolchain of a run, in one line, from its context.json
    (see load_context); says so when there is none."""
    if not context:
        return "machine not recorded (no context.json beside results.csv)"
    parts = []
    host = context.get("hostname") or context.get("host")
    if host:
        parts.append(str(host))
    cpu = context.get("cpu_model")
    if cpu:
        cores = context.get("cores")
        parts.append(f"{cpu}, {cores} cores" if cores else str(cpu))
    for key in ("machine", "compiler"):
        if context.get(key):
            parts.append(str(context[key]))
    if context.get("kernel"):
        parts.append(" ".join(str(context["kernel"]).split()[:2]))  # 'Linux 6.18.44-...'
    if context.get("glibc"):
        parts.append(f"glibc {context['glibc']}")
    thp = str(context.get("thp_enabled", ""))
    if "[" in thp:
        parts.append("THP " + thp.split("[", 1)[1].split("]", 1)[0])
    if context.get("pinned_cpus"):
        parts.append(f"pinned to CPU {context['pinned_cpus']}")
    commit = str(context.get("git_commit", ""))[:7]
    if commit:
        parts.append(f"commit {commit}{' (dirty)' if context.get('git_dirty') else ''}")
    return ", ".join(parts) if parts else "machine not recorded in context.json"


def footer_text(df, context=None):
    """The footer of every figure: the run_id(s), the repetitions per cell
    (ok rows; a range when they differ) and the machine (machine_text)."""
    runs = sorted({str(r) for r in df["run_id"] if str(r)}) if "run_id" in df else []
    run = (f"run {runs[0]}" if len(runs) == 1 else
           f"runs {', '.join(runs)}" if runs else "run id not recorded")
    counts = ok_rows(df).groupby(CELL).size()
    return f"{run}; {n_text(counts)} repetitions per cell; {machine_text(context)}"


def save_figure(fig, out_path, footer=None, formats=("png",)):
    """Adds `footer` below everything the figure draws, writes `out_path`
    (a .png, at DPI) and the same figure in each other format of `formats`
    beside it, cropped to what it draws, and closes the figure. Returns the
    paths written, PNG first."""
    renderer = fig.canvas.get_renderer()
    box = fig.get_tightbbox(renderer)  # inches; the one layout pass before writing
    if footer:
        size = 7
        wrapped = textwrap.fill(footer, width=int(max(box.width, 4.0) * 72 / (size * 0.55)))
        text = fig.text(box.x0 / fig.get_figwidth(), (box.y0 - 0.06) / fig.get_figheight(),
                        wrapped, ha="left", va="top", fontsize=size, color="0.35")
        extent = text.get_window_extent(renderer).transformed(fig.dpi_scale_trans.inverted())
        box = Bbox.union([box, extent])
    paths = output_paths(out_path, formats)
    for path in paths:
        fig.savefig(path, dpi=DPI, bbox_inches=box.padded(0.08))
    plt.close(fig)
    return paths


def output_paths(out_path, formats):
    """`out_path` (a .png) and the same name in each other format of
    `formats`: the files save_figure writes."""
    root = os.path.splitext(out_path)[0]
    return [out_path] + [f"{root}.{ext}" for ext in formats if ext != "png"]


def parse_formats(text):
    """('png', ...) for a `--format` value such as 'png,svg'; PNG is always
    first. ValueError, one line naming the valid ones, for another name."""
    names = [n.strip().lower() for n in (text or "png").split(",") if n.strip()]
    bad = [n for n in names if n not in FORMATS]
    if bad:
        raise ValueError(f"unknown format{'s' if len(bad) > 1 else ''} "
                         f"{', '.join(repr(b) for b in bad)}; formats: {', '.join(FORMATS)}")
    return ("png",) + tuple(dict.fromkeys(n for n in names if n != "png"))


def wrap_lines(lines, width_in, size):
    """`lines` joined by newlines, each wrapped to about `width_in` inches of
    text at `size` points."""
    chars = max(40, int(width_in * 72 / (size * 0.5)))
    return "\n".join(textwrap.fill(line, chars) for line in lines)


def end_labels(ax, items, size=7):
    """Names each line at its last point, right of the axes: `items` are
    (x, y, label, colour) in data coordinates. Labels are spread so they keep
    a line's height apart, each joined to its point by a thin line in the
    line's colour. Call after the axes have their final size and limits."""
    if not items:
        return
    to_px = ax.transData.transform
    top, bottom = ax.transAxes.transform((0, 1))[1], ax.transAxes.transform((0, 0))[1]
    gap = size * 1.3 * ax.figure.dpi / 72.0
    order = sorted(items, key=lambda it: to_px((it[0], it[1]))[1])
    ys = [min(max(to_px((x, y))[1], bottom), top) for x, y, _, _ in order]
    for i in range(1, len(ys)):
        ys[i] = max(ys[i], ys[i - 1] + gap)
    if ys[-1] > top:
        ys[-1] = top
        for i in range(len(ys) - 2, -1, -1):
            ys[i] = min(ys[i], ys[i + 1] - gap)
    for (x, y, label, colour), py in zip(order, ys):
        frac = (py - bottom) / (top - bottom)
        ax.annotate(label, (x, y), xytext=(1.03, frac), textcoords="axes fraction",
                    fontsize=size, va="center", annotation_clip=False,
                    arrowprops=dict(arrowstyle="-", color=colour, linewidth=0.7,
                                    shrinkA=0, shrinkB=2))
