"""The three standard plots, from any results.csv (medians with min-max spread)."""
import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from allocplot.stats import summarize  # noqa: E402

PLOT_NAMES = ["throughput_by_workload.png", "scaling_rl_small.png", "overhead_ratio.png"]

# The calibration adapter is a reference line, not an allocator.
EXCLUDE = {"null"}


MARKERS = ["o", "s", "^", "D", "v", "P", "X", "*"]


def _color(i):
    """Distinct colours for up to 20 allocators (tab20), then repeating."""
    return plt.get_cmap("tab20")(i % 20)


def _label(workload, profile):
    return workload if profile == "default" else f"{workload}/{profile}"


def _errs(sub):
    return [(sub["median"] - sub["min"]).clip(lower=0).values,
            (sub["max"] - sub["median"]).clip(lower=0).values]


def _grouped_bars(ax, s, value_title, log=False, allocs=None):
    """Bars per workload label, one per allocator; `allocs` fixes the order and
    colours across panels."""
    s = s[~s["allocator"].isin(EXCLUDE)].copy()
    s["label"] = [_label(w, p) for w, p in zip(s["workload"], s["profile"])]
    labels = sorted(s["label"].unique())
    if allocs is None:
        allocs = sorted(s["allocator"].unique())
    width = 0.8 / max(1, len(allocs))
    for i, a in enumerate(allocs):
        sub = s[s["allocator"] == a].set_index("label").reindex(labels)
        xs = [j + (i - (len(allocs) - 1) / 2) * width for j in range(len(labels))]
        ax.bar(xs, sub["median"].values, width, label=a, color=_color(i),
               yerr=_errs(sub.fillna(0)), capsize=2)
    ax.set_xticks(range(len(labels)))
    ax.set_xticklabels(labels, rotation=30, ha="right", fontsize=8)
    ax.set_ylabel(value_title)
    if log:
        ax.set_yscale("log")
    ax.grid(axis="y", alpha=0.3)


def throughput_by_workload(df, out_path):
    """Median Mops/s per workload and allocator, one panel per thread count."""
    s = summarize(df, "mops")
    threads = sorted(s["threads"].unique())
    if not threads:
        raise ValueError("no ok rows to plot")
    fig, axes = plt.subplots(len(threads), 1, figsize=(15, 4 * len(threads)), squeeze=False)
    allocs = sorted(set(s["allocator"]) - EXCLUDE)
    for ax, t in zip(axes[:, 0], threads):
        _grouped_bars(ax, s[s["threads"] == t], "Mops/s (median, min-max)", log=True,
                      allocs=allocs)
        ax.set_title(f"Throughput by workload, {t} thread{'s' if t != 1 else ''}")
    axes[0, 0].legend(fontsize=8, ncol=2, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.tight_layout()
    fig.savefig(out_path, dpi=110)
    plt.close(fig)


def scaling(df, out_path, workload="rl_churn", profile="small"):
    """Median Mops/s against thread count for one workload/profile."""
    s = summarize(df, "mops")
    s = s[(s["workload"] == workload) & (s["profile"] == profile) &
          ~s["allocator"].isin(EXCLUDE)]
    if s.empty:
        raise ValueError(f"no ok rows for {workload}/{profile}")
    fig, ax = plt.subplots(figsize=(10, 5))
    for i, a in enumerate(sorted(s["allocator"].unique())):
        sub = s[s["allocator"] == a].sort_values("threads")
        ax.errorbar(sub["threads"], sub["median"], yerr=_errs(sub), marker=MARKERS[i % 8],
                    color=_color(i), capsize=3, label=a)
    ax.set_xlabel("threads")
    ax.set_ylabel("Mops/s (median, min-max)")
    ax.set_xticks(sorted(s["threads"].unique()))
    ax.set_title(f"Scaling: {_label(workload, profile)}")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.tight_layout()
    fig.savefig(out_path, dpi=110)
    plt.close(fig)


def overhead_ratio(df, out_path):
    """Median peak RSS (net of the harness) / peak live bytes, single-thread cells."""
    s = summarize(df, "overhead_ratio")
    t = s["threads"].min()
    fig, ax = plt.subplots(figsize=(15, 5))
    _grouped_bars(ax, s[s["threads"] == t], "peak RSS / peak live bytes (median)", log=True)
    ax.axhline(1.0, color="black", linewidth=0.8)
    ax.set_title(f"Memory overhead ratio, {t} thread{'s' if t != 1 else ''} "
                 "(1.0 = no overhead)")
    ax.legend(fontsize=8, ncol=2, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.tight_layout()
    fig.savefig(out_path, dpi=110)
    plt.close(fig)


def plot_all(df, out_dir):
    """Writes the three PNGs into out_dir; returns their paths."""
    os.makedirs(out_dir, exist_ok=True)
    paths = {
        "throughput_by_workload": os.path.join(out_dir, "throughput_by_workload.png"),
        "scaling_rl_small": os.path.join(out_dir, "scaling_rl_small.png"),
        "overhead_ratio": os.path.join(out_dir, "overhead_ratio.png"),
    }
    throughput_by_workload(df, paths["throughput_by_workload"])
    scaling(df, paths["scaling_rl_small"])
    overhead_ratio(df, paths["overhead_ratio"])
    return list(paths.values())
