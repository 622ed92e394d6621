"""python -m allocplot {plot,table,cv} ... (see --help)."""
import argparse
import os
import sys

from allocplot.load import SchemaError, load_phases, load_results
from allocplot.plot import PLOT_NAMES, plot_all
from allocplot.stats import check_complete, phase_table, ratio_table, summarize, to_markdown, value_table


def main(argv=None):
    p = argparse.ArgumentParser(prog="allocplot", description=__doc__)
    sub = p.add_subparsers(dest="cmd", required=True)
    pp = sub.add_parser("plot", help="write the standard PNGs")
    pp.add_argument("csv")
    pp.add_argument("--out", default="plots")
    pt = sub.add_parser("table", help="print a markdown table of medians or ratios")
    pt.add_argument("csv")
    pt.add_argument("--metric", default="ns_per_op")
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
    pk.add_argument("--plots", default=None, help="directory that must hold the three PNGs")
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
            for path in plot_all(df, args.out):
                print(path)
        elif args.cmd == "table":
            if args.baseline:
                t = ratio_table(df, args.metric, args.baseline)
                print(f"{args.metric}: median ratio to {args.baseline} (lower is better for "
                      f"time and memory)")
            else:
                t = value_table(df, args.metric)
                print(f"{args.metric}: median")
            if args.allocators:
                keep = [a for a in args.allocators.split(",") if a in t.columns]
                t = t[keep]
            print(to_markdown(t, "{:.3g}" if not args.baseline else "{:.2f}"))
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
            s = summarize(df, args.metric)
            s = s[s["n"] > 1]
            print(to_markdown(s.set_index(["allocator", "workload", "profile", "threads"])
                              [["median", "cv", "n"]], "{:.4g}"))
    except ValueError as e:
        print(f"allocplot: {e}", file=sys.stderr)
        return 2
    return 0
