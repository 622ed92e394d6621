"""python -m allocplot {plot,table,cv,check,phases} ... (see --help)."""
import argparse
import os
import sys

from allocplot.load import SchemaError, load_phases, load_results
from allocplot.plot import PLOT_NAMES, plot_all
from allocplot.stats import check_complete, markdown_table, phase_table, summarize, to_markdown


def main(argv=None):
    p = argparse.ArgumentParser(prog="allocplot", description=__doc__)
    sub = p.add_subparsers(dest="cmd", required=True)
    pp = sub.add_parser("plot", help="write the standard PNGs (and latency_cdf.png when the "
                        "run wrote latency files beside the csv)")
    pp.add_argument("csv")
    pp.add_argument("--out", default="plots")
    pt = sub.add_parser("table", help="print a markdown table of medians or ratios, each with "
                        "the allocator's spread over repetitions, under a caption line")
    pt.add_argument("csv")
    pt.add_argument("--metric", default="ns_per_op",
                    help="a numeric column, e.g. ns_per_op (raw) or net_ns_per_op (net of the "
                    "harness; leaves out the calibration adapter null)")
    pt.add_argument("--baseline", default=None,
                    help="divide by this allocator's median (omit for raw medians)")
    pt.add_argument("--allocators", default=None, help="comma-separated subset")
    pc = sub.add_parser("cv", help="coefficient of variation over repetitions")
    pc.add_argument("csv")
    pc.add_argument("--metric", default="wall_s")
    pk = sub.add_parser("check", help="fail unless every (allocator, workload, threads) has "
                        "an ok row and the plots exist")
    pk.add_argument("csv")
    pk.add_argument("--allocators", required=True, help="comma-separated")
    pk.add_argument("--plots", default=None, help="directory that must hold the three standard PNGs "
                    "(latency_cdf.png is optional)")
    pk.add_argument("--workloads", default=None,
                    help="comma-separated workloads to check (default: all in the file)")
    pp2 = sub.add_parser("phases", help="RSS after each phase (phases.csv of size_ramp, ...)")
    pp2.add_argument("csv", help="a phases.csv written beside results.csv")
    pp2.add_argument("--workload", default="size_ramp")
    args = p.parse_args(argv)
    if args.cmd == "phases":
        try:
            print(to_markdown(phase_table(load_phases(args.csv), args.workload), "{:.0f}"))
        except (SchemaError, ValueError) as e:
            print(f"allocplot: {e}", file=sys.stderr)
            return 2
        return 0
    try:
        df = load_results(args.csv)
    except SchemaError as e:
        print(f"allocplot: {e}", file=sys.stderr)
        return 2
    try:
        if args.cmd == "plot":
            results_dir = os.path.dirname(os.path.abspath(args.csv))
            for path in plot_all(df, args.out, results_dir):
                print(path)
        elif args.cmd == "table":
            allocs = args.allocators.split(",") if args.allocators else None
            print(markdown_table(df, args.metric, args.baseline, allocs))
        elif args.cmd == "check":
            wl = args.workloads.split(",") if args.workloads else None
            problems = check_complete(df, args.allocators.split(","), wl)
            if args.plots:
                for name in PLOT_NAMES:
                    path = os.path.join(args.plots, name)
                    if not os.path.isfile(path) or os.path.getsize(path) == 0:
                        problems.append(f"missing plot {path}")
            for msg in problems:
                print(f"allocplot: {msg}", file=sys.stderr)
            if problems:
                return 1
            print(f"check: ok rows for every cell of {args.allocators}")
        elif args.cmd == "cv":
            if args.metric not in df.columns:
                raise ValueError(f"unknown metric {args.metric!r}")
            s = summarize(df, args.metric)
            s = s[s["n"] > 1]
            print(to_markdown(s.set_index(["allocator", "workload", "profile", "threads"])
                              [["median", "cv", "n"]], "{:.4g}"))
    except ValueError as e:
        print(f"allocplot: {e}", file=sys.stderr)
        return 2
    return 0
