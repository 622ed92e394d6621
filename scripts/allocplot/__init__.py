"""allocplot: load, summarise, compare, plot and report allocbench results.

Modules: load (schema check), stats (medians, spread, ratios), significance
(bootstrap CIs, U test, compare), style (allocator colours, footer, saving),
figures (heatmaps, dot plots, ladders, timelines, time against memory), plot
(the standard PNGs, plot_all, CAPTIONS), report (report.md), cli (the
`python -m allocplot` entry point). The functions below are the library's
interface (docs/analysis.md); start Python or Jupyter with
`scripts/allocplot.sh python` or `scripts/allocplot.sh notebook` and
`import allocplot` works as it is.

The plot functions are imported on first use: importing allocplot.plot
selects matplotlib's Agg backend (the PNGs are written to files), which a
notebook that only wants tables need not pay for.
"""
from allocplot.load import SchemaError, load_phases, load_results, load_timeline, ok_rows
from allocplot.significance import compare_frames as compare
from allocplot.significance import compare_report, stats_table
from allocplot.stats import markdown_table, ratio_table, select_rows, summarize

# name -> module, for the names imported from that module on first use.
_LAZY = {
    "plot_all": "allocplot.plot", "throughput_by_workload": "allocplot.plot",
    "scaling": "allocplot.plot", "overhead_ratio": "allocplot.plot",
    "latency_cdf": "allocplot.plot", "write_report": "allocplot.report",
    "ratio_heatmap": "allocplot.figures", "ratio_dots": "allocplot.figures",
    "latency_ladder": "allocplot.figures", "memory_timeline": "allocplot.figures",
    "rss_timeline": "allocplot.figures",
    "pareto_front": "allocplot.figures",
    "load_run": "allocplot.report",
}

__all__ = ["SchemaError", "load_results", "load_phases", "load_timeline", "ok_rows",
           "select_rows", "summarize",
           "ratio_table", "markdown_table", "stats_table", "compare", "compare_report"]
__all__ += list(_LAZY)


def __getattr__(name):
    if name in _LAZY:
        import importlib
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'allocplot' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
