"""allocplot: plots and tables from allocbench results.

Run it as scripts/allocplot.sh SUBCOMMAND ... (it finds an interpreter with
pandas, matplotlib and scipy). Exit status: 0 done; 1 `check` found problems,
`plot` could draw nothing or `compare --fail-if-slower` found a cell
significantly slower by more than the limit; 2 bad arguments, cells `compare`
refuses (different trace_hash), an unknown metric, allocator or
workload, or a file that is not an allocbench results file.
"""
import argparse
import os
import sys

from allocplot.load import SchemaError, check_metric, load_phases, load_results
from allocplot.plot import PLOT_NAMES, plot_all
from allocplot.report import write_report
from allocplot.significance import compare_frames, compare_report, scaling_report, stats_table
from allocplot.style import parse_formats
from allocplot.stats import (CALIBRATION, check_complete, cv_markdown, markdown_table, phase_table,
                             select_rows, to_markdown)

CSV_HELP = "a results.csv written by allocbench run (docs/csv_schema.md)"
METRIC_HELP = ("a numeric column of results.csv, e.g. ns_per_op (raw), net_ns_per_op (net of "
               "the harness), peak_rss_net_bytes, mops; an unknown one is refused with the list")


def _names(text):
    """The names of a comma-separated option, or None when it was not given."""
    return [n for n in text.split(",") if n] if text else None


def _filter_options(parser, what, ordered=False):
    order = ", in this column order" if ordered else ""
    parser.add_argument("--allocators", default=None, metavar="A,B,...",
                        help=f"comma-separated allocators to {what}{order} (default: all in the "
                        "file); one not in the file is refused with the list")
    parser.add_argument("--workloads", default=None, metavar="W[:P],...",
                        help=f"comma-separated workloads to {what}, each a workload or "
                        "workload:profile as allocbench run spells them (default: all)")


def build_parser():
    p = argparse.ArgumentParser(prog="allocplot", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True, metavar="SUBCOMMAND")
    pp = sub.add_parser("plot", help="write the standard PNGs, ratio heatmaps and the "
                        "per-workload figures (docs/figures.md); what cannot be drawn is "
                        "named on stderr, one line each",
                        description="Write throughput_by_workload.png, scaling_rl_small.png, "
                        "overhead_ratio.png, latency_cdf.png, heatmap_time.png, "
                        "heatmap_memory.png and the per-workload figures (ratio_dots_*, "
                        "scaling_*, latency_ladder_*, memory_timeline_*, rss_timeline_*, "
                        "time_vs_memory_*; "
                        "docs/figures.md). A plot the file has no data for is skipped (and "
                        "its old files removed), an allocator or workload without data is "
                        "left out; each is named on stderr. Exit 0 when at least one plot "
                        "was written.")
    pp.add_argument("csv", help=CSV_HELP + "; latency files, phases.csv, timeline.csv and "
                    "context.json are read from its directory")
    pp.add_argument("--out", default="plots", metavar="DIR",
                    help="directory for the figures, created if needed (default: plots)")
    _filter_options(pp, "plot")
    pp.add_argument("--baseline", default=None, metavar="ALLOCATOR",
                    help="the allocator the heatmaps and dot plots divide by (default: "
                    "glibc; always kept, even when --allocators leaves it out)")
    pp.add_argument("--format", default="png", metavar="F,...",
                    help="comma-separated formats: png (always written, 200 dpi), svg, pdf "
                    "(default: png)")
    pt = sub.add_parser("table", help="print a markdown table of medians or ratios, each with "
                        "the allocator's spread over repetitions, under a caption line",
                        description="Print a caption line and a markdown table: one row per "
                        "(workload, profile, threads), one column per allocator, the median "
                        "of --metric (or its ratio to --baseline's median) with ± the "
                        "relative spread over repetitions.")
    pt.add_argument("csv", help=CSV_HELP)
    pt.add_argument("--metric", default="ns_per_op", help=METRIC_HELP + " (default: ns_per_op)")
    pt.add_argument("--baseline", default=None, metavar="ALLOCATOR",
                    help="divide by this allocator's median (omit for raw medians)")
    pt.add_argument("--stats", action="store_true",
                    help="one row per cell: n, median [95%% bootstrap CI]; with --baseline "
                    "also the ratio [CI], pairing, Mann-Whitney U p and a significance mark")
    _filter_options(pt, "show", ordered=True)
    pm = sub.add_parser("compare", help="cell by cell ratio of medians with its CI, U-test p "
                        "and a verdict (faster / slower / no significant difference)",
                        description="Compare B.csv against A.csv (each allocator against "
                        "itself, or --allocator alone), or, with one file, --allocators X,Y "
                        "(Y against X). Significant: p < 0.05 and the ratio's 95%% CI excludes "
                        "1. Refuses (exit 2) cells whose trace_hash differs. Only ok rows "
                        "count.")
    pm.add_argument("csv", nargs="+", metavar="CSV", help="A.csv [B.csv]: " + CSV_HELP)
    pm.add_argument("--metric", default="net_ns_per_op",
                    help=METRIC_HELP + " (default: net_ns_per_op)")
    pm.add_argument("--allocator", default=None, metavar="X",
                    help="with two files: compare this allocator only (default: every one in both)")
    pm.add_argument("--allocators", default=None, metavar="X,Y",
                    help="with one file: compare Y against X")
    pm.add_argument("--fail-if-slower", default=None, metavar="P%",
                    help="exit 1 if a cell is significantly worse (slower; for a memory metric, "
                    "larger) by more than P percent")
    pc = sub.add_parser("cv", help="coefficient of variation over repetitions, in %%, per cell "
                        "and its median and worst over the cells",
                        description="Print the coefficient of variation (100 x sample "
                        "standard deviation / mean, in %) of --metric over each cell's ok "
                        "repetitions, for cells with at least two, then its median and worst "
                        "over those cells.")
    pc.add_argument("csv", help=CSV_HELP)
    pc.add_argument("--metric", default="wall_s", help=METRIC_HELP + " (default: wall_s)")
    _filter_options(pc, "include")
    ps = sub.add_parser("scaling", help="throughput at each thread count over the lowest, "
                        "with its CI and the harness's own scaling",
                        description="Print, per (allocator, workload, profile) and thread "
                        "count above the cell's lowest, the ratio of medians of --metric there "
                        "to at the lowest thread count, with a 95%% bootstrap CI (unpaired), "
                        "and the calibration's (null) ratio on the same trace.")
    ps.add_argument("csv", help=CSV_HELP)
    ps.add_argument("--metric", default="mops", help=METRIC_HELP + " (default: mops)")
    _filter_options(ps, "include")
    pk = sub.add_parser("check", help="fail (exit 1) unless every (allocator, workload, "
                        "threads) has an ok row and the plots exist",
                        description="Exit 1, one line per problem on stderr, unless each "
                        "of --allocators has an ok row for every (workload, profile, threads) "
                        "in the file (or of --workloads) and --plots holds the standard PNGs.")
    pk.add_argument("csv", help=CSV_HELP)
    pk.add_argument("--allocators", required=True, metavar="A,B,...",
                    help="comma-separated allocators that must have an ok row in every cell")
    pk.add_argument("--plots", default=None, metavar="DIR",
                    help="directory that must hold the three standard PNGs "
                    "(latency_cdf.png is optional)")
    pk.add_argument("--workloads", default=None, metavar="W,...",
                    help="comma-separated workloads to check; one without rows is a problem "
                    "(default: all in the file)")
    pp2 = sub.add_parser("phases", help="RSS after each phase (phases.csv of size_ramp, ...)",
                         description="Print, per allocator, the net RSS kept committed after "
                         "the phases of one workload: the largest reading at a phase boundary "
                         "and the one after the last phase (KiB, medians over repetitions).")
    pp2.add_argument("csv", help="a phases.csv written beside results.csv")
    pp2.add_argument("--workload", default="size_ramp",
                     help="the workload whose phases to show, e.g. size_ramp, scatter_sizes, "
                     "sparse_sizes (default: size_ramp)")
    pr = sub.add_parser("report", help="write a self-contained markdown report of one run "
                        "(method, ratio tables with CIs, figures, failed cells) into a directory",
                        description="Write DIR/report.md and its figures (DIR/figures/) from "
                        "one run directory: the command and context of the run, the harness's "
                        "own cost, tables of net time and net peak RSS as ratios to --baseline "
                        "with 95% bootstrap CIs and significance marks, the standard plots, "
                        "the cells that did not end ok with their reasons, and the command that "
                        "regenerates the report.")
    pr.add_argument("results_dir", metavar="RESULTS_DIR",
                    help="a run directory written by allocbench run --out (results.csv, "
                    "context.json, run.json, latency/)")
    pr.add_argument("--out", default="report", metavar="DIR",
                    help="directory for report.md and figures/, created if needed "
                    "(default: report)")
    pr.add_argument("--baseline", default="glibc", metavar="ALLOCATOR",
                    help="the allocator the ratios are taken to (default: glibc)")
    _filter_options(pr, "report", ordered=True)
    return p


def main(argv=None):
    args = build_parser().parse_args(argv)
    try:
        return _run(args)
    except (SchemaError, ValueError) as e:
        print(f"allocplot: {e}", file=sys.stderr)
        return 2


def _run(args):
    if args.cmd == "phases":
        print(to_markdown(phase_table(load_phases(args.csv), args.workload), "{:.0f}"))
        return 0
    if args.cmd == "compare":
        return _compare(args)
    if args.cmd == "report":
        return _report(args)
    if args.cmd in ("table", "cv", "scaling"):
        check_metric(args.metric)  # before reading the file: a typo needs no data
    df = load_results(args.csv)
    if args.cmd == "plot":
        results_dir = os.path.dirname(os.path.abspath(args.csv))
        df, baseline, formats = _plot_selection(df, args)
        written, skipped = plot_all(df, args.out, results_dir, baseline, formats)
        for path in written:
            print(path)
        for msg in skipped:
            print(f"allocplot: {msg}", file=sys.stderr)
        if not written:
            print(f"allocplot: nothing to plot in {args.csv}", file=sys.stderr)
            return 1
    elif args.cmd == "table":
        allocs = _names(args.allocators)
        # Names are checked against the whole file; rows are kept for every
        # allocator, so the baseline need not be one of the columns shown.
        named = (allocs or []) + ([args.baseline] if args.baseline else [])
        select_rows(df, named or None)
        df = select_rows(df, None, _names(args.workloads))
        if args.stats:
            print(stats_table(df, args.metric, args.baseline, allocs))
        else:
            print(markdown_table(df, args.metric, args.baseline, allocs))
    elif args.cmd == "cv":
        df = select_rows(df, _names(args.allocators), _names(args.workloads))
        print(cv_markdown(df, args.metric))
    elif args.cmd == "scaling":
        named = _names(args.allocators)
        select_rows(df, named)  # unknown names are an error
        calibration = [CALIBRATION] if (df["allocator"] == CALIBRATION).any() else []
        keep = None if named is None else named + calibration
        print(scaling_report(select_rows(df, keep, _names(args.workloads)), args.metric))
    elif args.cmd == "check":
        problems = check_complete(df, _names(args.allocators), _names(args.workloads))
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
    return 0


def _plot_selection(df, args):
    """(rows, baseline, formats) `plot` draws: the rows of --allocators (and
    of the baseline, which the ratio figures need) and --workloads. Unknown
    names and formats raise ValueError before any figure is drawn."""
    formats = parse_formats(args.format)
    allocs = _names(args.allocators)
    baseline = args.baseline or "glibc"
    if args.baseline:
        select_rows(df, [args.baseline])
    if allocs and baseline in set(df["allocator"]):
        allocs = allocs + [baseline]
    return select_rows(df, allocs, _names(args.workloads)), baseline, formats


def _percent(text):
    try:
        value = float(text.strip().rstrip("%"))
    except ValueError:
        raise ValueError(f"--fail-if-slower wants a percentage such as 5%, not {text!r}")
    if value < 0:
        raise ValueError(f"--fail-if-slower wants a percentage >= 0, not {text!r}")
    return value


def _compare(args):
    check_metric(args.metric)
    limit = _percent(args.fail_if_slower) if args.fail_if_slower is not None else None
    if len(args.csv) > 2:
        raise ValueError("compare takes A.csv [B.csv]")
    if len(args.csv) == 2:
        if args.allocators:
            raise ValueError("--allocators X,Y compares two allocators of one file; "
                             "with two files use --allocator X")
        a, b = load_results(args.csv[0]), load_results(args.csv[1])
        if args.allocator:
            select_rows(a, [args.allocator])
            select_rows(b, [args.allocator])
        t = compare_frames(a, b, args.metric, allocator=args.allocator)
        names = ("A", "B")
        print(f"A = {args.csv[0]}, B = {args.csv[1]}")
    else:
        pair = _names(args.allocators) or []
        if len(pair) != 2 or args.allocator:
            raise ValueError("with one file, compare needs --allocators X,Y (two names)")
        df = load_results(args.csv[0])
        select_rows(df, pair)
        t = compare_frames(df, df, args.metric, a_alloc=pair[0], b_alloc=pair[1])
        names = tuple(pair)
    if t.empty:
        raise ValueError(f"no cell with ok rows of {args.metric} on both sides")
    print(compare_report(t, args.metric, *names))
    if limit is not None:
        bad = t[t["worse"] & (t["slower_pct"] > limit)]
        for _, r in bad.iterrows():
            print(f"allocplot: {r['allocator']} {r['workload']}/{r['profile']} "
                  f"threads={r['threads']}: {r['slower_pct']:.1f}% {r['verdict']} "
                  f"(limit {limit:g}%)",
                  file=sys.stderr)
        if len(bad):
            return 1
    return 0


def _report(args):
    try:
        path, written, _ = write_report(args.results_dir, args.out, args.baseline,
                                        _names(args.allocators), _names(args.workloads))
    except OSError as e:
        raise ValueError(f"{e.filename or args.out}: {e.strerror or e}")
    print(f"{path} ({len(written)} figure{'s' if len(written) != 1 else ''})")
    return 0
