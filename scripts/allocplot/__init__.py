"""allocplot: load, summarise and plot allocbench results.csv files.

Modules: load (schema check), stats (medians, spread, ratios), plot (PNGs),
cli (the `python -m allocplot` entry point).
"""
