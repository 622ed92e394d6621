"""allocplot: load, summarise and plot allocbench results.csv files.

Modules: load (schema check), stats (medians, spread, ratios), significance
(CIs, U test, compare), style (allocator colours, footer, saving), figures
(heatmaps, dot plots, ladders, timelines, time against memory), plot (the
standard PNGs, plot_all, CAPTIONS), cli (the `python -m allocplot` entry point).
"""
