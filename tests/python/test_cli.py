"""Tests of the allocplot command line: help texts, unknown names, partial
plots and the cv subcommand, on the checked-in fixture."""
import argparse
import contextlib
import io
import os
import subprocess
import sys
import tempfile
import unittest

import numpy as np
import pandas as pd

from allocplot import cli
from allocplot.load import METRICS, load_results
from allocplot.stats import cv_markdown, cv_table, select_rows, workload_names
from test_allocplot import (FIXTURE, FIXTURE_NEW_FIGURES, FIXTURES, TempDir, frame,
                            raw_fixture, run_cli)

SUBCOMMANDS = ["plot", "table", "cv", "check", "phases", "compare", "report", "scaling"]
SCRIPTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts")


def run_module(args):
    """(exit code, stdout, stderr) of `python -m allocplot ARGS` in a child."""
    env = dict(os.environ, PYTHONPATH=SCRIPTS, MPLBACKEND="Agg")
    p = subprocess.run([sys.executable, "-m", "allocplot"] + args, capture_output=True,
                       text=True, env=env)
    return p.returncode, p.stdout, p.stderr


def help_text(argv):
    """(exit code, stdout) of `allocplot ARGV --help`."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        try:
            cli.main(argv + ["--help"])
            code = None
        except SystemExit as e:
            code = e.code
    return code, " ".join(out.getvalue().split())  # unwrapped


def first_words(text, n=4):
    return " ".join(text.split()[:n])


def subparsers(parser):
    return next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))


class HelpTest(unittest.TestCase):
    def test_top_level_help_lists_every_subcommand_with_its_help(self):
        code, out, err = run_module(["--help"])
        self.assertEqual(code, 0, err)
        flat = " ".join(out.split())
        sub = subparsers(cli.build_parser())
        self.assertEqual(sorted(sub.choices), sorted(SUBCOMMANDS))
        helps = {a.dest: a.help for a in sub._choices_actions}
        self.assertEqual(sorted(helps), sorted(SUBCOMMANDS))
        for name in SUBCOMMANDS:
            self.assertTrue(helps[name] and helps[name].strip(), name)
            self.assertIn(f"{name} {first_words(helps[name])}", flat)

    def test_every_option_of_every_subcommand_has_help(self):
        sub = subparsers(cli.build_parser())
        for name in SUBCOMMANDS:
            code, out = help_text([name])
            self.assertEqual(code, 0, name)
            for action in sub.choices[name]._actions:
                if isinstance(action, argparse._HelpAction):
                    continue
                label = action.option_strings[0] if action.option_strings else action.dest
                self.assertTrue(action.help and action.help.strip(), f"{name} {label}")
                self.assertIn(first_words(action.help), out, f"{name} {label}")


class WrapperTest(unittest.TestCase):
    def test_wrapper_runs_from_anywhere_without_pythonpath(self):
        env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        wrapper = os.path.join(SCRIPTS, "allocplot.sh")
        with tempfile.TemporaryDirectory() as cwd:
            p = subprocess.run(["sh", wrapper, "cv", os.path.abspath(FIXTURE), "--metric",
                                "ns_per_op", "--allocators", "glibc"], capture_output=True,
                               text=True, env=env, cwd=cwd)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("| cv % |", p.stdout)


class UnknownNameTest(unittest.TestCase):
    def assertOneLineNaming(self, argv, bad, valid):
        rc, out, err = run_cli(argv)
        self.assertEqual(rc, 2, argv)
        self.assertEqual(out, "", argv)
        lines = err.splitlines()
        self.assertEqual(len(lines), 1, err)
        self.assertTrue(lines[0].startswith("allocplot: unknown "), err)
        self.assertIn(repr(bad), lines[0])
        for name in valid:
            self.assertIn(name, lines[0])
        return lines[0]

    def test_unknown_metric(self):
        for sub in ("table", "cv"):
            line = self.assertOneLineNaming([sub, FIXTURE, "--metric", "nosuch"], "nosuch",
                                            METRICS)
            self.assertIn("valid metrics: wall_s, mops, ns_per_op", line)
        # A text or settings column is not a metric either.
        self.assertOneLineNaming(["cv", FIXTURE, "--metric", "lat_file"], "lat_file", METRICS)
        self.assertOneLineNaming(["table", FIXTURE, "--metric", "threads"], "threads", METRICS)

    def test_unknown_allocator_and_baseline(self):
        allocs = ["glibc", "jemalloc", "mimalloc", "null", "pmr_monotonic"]
        for argv in (["table", FIXTURE, "--allocators", "glibc,nosuch"],
                     ["table", FIXTURE, "--baseline", "nosuch"],
                     ["cv", FIXTURE, "--allocators", "nosuch"]):
            line = self.assertOneLineNaming(argv, "nosuch", allocs)
            self.assertIn("allocators in this file: " + ", ".join(allocs), line)

    def test_unknown_workload(self):
        names = ["mixed_sizes", "mixed_sizes:small", "rl_churn", "rl_churn:small", "ttl_ring",
                 "ttl_ring:default"]
        for argv in (["table", FIXTURE, "--workloads", "rl_churn:nosuch"],
                     ["cv", FIXTURE, "--workloads", "ttl_ring,rl_churn:nosuch"]):
            self.assertOneLineNaming(argv, "rl_churn:nosuch", names)

    def test_unknown_phases_workload(self):
        with tempfile.NamedTemporaryFile("w", suffix=".csv", delete=False) as f:
            f.write("run_id,allocator,workload,profile,threads,repetition,phase,rss_bytes,"
                    "rss_net_bytes\nr,a,size_ramp,alloc_all,1,0,0,5,5\n"
                    "r,a,sparse_sizes,default,1,0,0,5,5\n")
        try:
            self.assertOneLineNaming(["phases", f.name, "--workload", "nosuch"], "nosuch",
                                     ["size_ramp", "sparse_sizes"])
        finally:
            os.remove(f.name)

    def test_no_traceback_from_the_module(self):
        code, out, err = run_module(["cv", FIXTURE, "--metric", "nosuch"])
        self.assertEqual((code, out), (2, ""))
        self.assertEqual(len(err.splitlines()), 1, err)
        self.assertNotIn("Traceback", err)
        code, out, err = run_module(["table", FIXTURE, "--allocators", "nosuch"])
        self.assertEqual((code, out), (2, ""))
        self.assertEqual(len(err.splitlines()), 1, err)

    def test_known_names_still_select(self):
        df = load_results(FIXTURE)
        self.assertEqual(set(select_rows(df, ["glibc"])["allocator"]), {"glibc"})
        sel = select_rows(df, None, ["rl_churn:small", "ttl_ring"])
        self.assertEqual(set(sel["workload"]), {"rl_churn", "ttl_ring"})
        self.assertEqual(len(select_rows(df, None, ["rl_churn"])),
                         len(select_rows(df, None, ["rl_churn:small"])))
        self.assertIn("ttl_ring:default", workload_names(df))
        # The baseline need not be among the allocators shown.
        rc, out, _ = run_cli(["table", FIXTURE, "--allocators", "mimalloc", "--baseline",
                              "glibc", "--workloads", "rl_churn:small"])
        self.assertEqual(rc, 0)
        self.assertEqual(out.splitlines()[1], "| workload | profile | threads | mimalloc |")
        self.assertEqual(len(out.splitlines()), 5)  # caption, header, rule, 2 thread counts


def write_variant(tmp, name, df):
    path = os.path.join(tmp, name)
    df.to_csv(path, index=False)
    return path


class PartialPlotTest(TempDir):
    def plot(self, df):
        """(exit code, names written, stderr lines) of `plot` on `df`, written
        beside the fixture's latency files so latency_cdf can be drawn."""
        lat = os.path.join(self.tmp, "latency")
        if not os.path.exists(lat):
            os.symlink(os.path.join(os.path.abspath(FIXTURES), "latency"), lat)
        path = write_variant(self.tmp, "results.csv", df)
        out_dir = os.path.join(self.tmp, "plots")
        rc, out, err = run_cli(["plot", path, "--out", out_dir])
        return rc, sorted(os.path.basename(p) for p in out.splitlines()), err.splitlines()

    def test_missing_workload_draws_the_rest_and_names_the_skipped_plot(self):
        df = raw_fixture()
        out_dir = os.path.join(self.tmp, "plots")
        os.makedirs(out_dir)
        stale = os.path.join(out_dir, "scaling_rl_small.png")
        with open(stale, "w") as f:
            f.write("an older run's plot")
        rc, written, err = self.plot(df[df["workload"] != "rl_churn"])
        self.assertEqual(rc, 0, err)
        self.assertEqual(written, sorted(["overhead_ratio.png", "throughput_by_workload.png"] +
                                         [n for n in FIXTURE_NEW_FIGURES if "rl_churn" not in n]))
        for name in written:
            self.assertTrue(os.path.getsize(os.path.join(out_dir, name)) > 10000)
        skipped = [line for line in err if line.startswith("allocplot: skipped ")]
        self.assertEqual(skipped, [
            "allocplot: skipped scaling_rl_small.png: no ok rows for rl_churn/small (removed "
            "the old scaling_rl_small.png)",
            "allocplot: skipped latency_cdf.png: no ok row with a latency file at 1 thread"])
        self.assertFalse(os.path.exists(stale))
        for line in err:
            self.assertTrue(line.startswith("allocplot: "), line)

    def test_allocator_missing_from_a_workload_is_named_once_per_plot(self):
        df = raw_fixture()
        gone = (df["allocator"] == "jemalloc") & (df["workload"] == "rl_churn")
        df.loc[gone, "status"] = "crashed"
        df.loc[gone, "error"] = "signal 11"
        rc, written, err = self.plot(df)
        self.assertEqual(rc, 0, err)
        self.assertEqual(written, sorted(["latency_cdf.png", "overhead_ratio.png",
                                          "scaling_rl_small.png", "throughput_by_workload.png"] +
                                         FIXTURE_NEW_FIGURES))
        jem = [line for line in err if "jemalloc" in line]
        self.assertEqual(sorted(jem), [
            "allocplot: latency_cdf.png: jemalloc not drawn for rl_churn/small (threads 1): "
            "no ok row with a latency file that exists",
            "allocplot: overhead_ratio.png: jemalloc not drawn for rl_churn/small (threads 1): "
            "no ok row with an overhead_ratio (rows: crashed)",
            "allocplot: scaling_rl_small.png: jemalloc not drawn for rl_churn/small (threads "
            "1, 2): no ok row (rows: crashed)",
            "allocplot: throughput_by_workload.png: jemalloc not drawn for rl_churn/small "
            "(threads 1, 2): no ok row with net_ns_per_op (rows: crashed)"])
        # The fixture's pmr_monotonic is skipped on two workloads: named too,
        # one line per plot, both workloads on it.
        pmr = [line for line in err if "pmr_monotonic" in line]
        self.assertEqual(len(pmr), 3, err)
        self.assertIn("allocplot: throughput_by_workload.png: pmr_monotonic not drawn for "
                      "mixed_sizes/small (threads 1, 2), ttl_ring (threads 1, 2): no ok row "
                      "with net_ns_per_op (rows: skipped)", pmr)
        self.assertEqual(len(err), 7, err)

    def test_allocator_absent_from_the_file_is_not_a_gap(self):
        df = raw_fixture()
        rc, written, err = self.plot(df[df["allocator"] != "jemalloc"])
        self.assertEqual(rc, 0, err)
        self.assertEqual(len(written), 4 + len(FIXTURE_NEW_FIGURES))
        self.assertFalse([line for line in err if "jemalloc" in line])

    def test_nothing_to_plot_fails(self):
        df = raw_fixture()
        rc, written, err = self.plot(df[df["status"] != "ok"])
        self.assertEqual(rc, 1)
        self.assertEqual(written, [])
        self.assertEqual(err[-1], f"allocplot: nothing to plot in "
                         f"{os.path.join(self.tmp, 'results.csv')}")
        skipped = [line for line in err if line.startswith("allocplot: skipped ")]
        self.assertEqual(len(skipped), 6, err)  # the standard four and both heatmaps


class CvTest(unittest.TestCase):
    def test_cv_in_percent(self):
        df = frame([
            ("a", "w", "default", 1, 1.0, 10.0),
            ("a", "w", "default", 1, 2.0, 20.0),
            ("a", "w", "default", 1, 3.0, 30.0),
            ("b", "w", "default", 1, 4.0, 40.0),  # one repetition: no cv
        ])
        t = cv_table(df, "mops")
        self.assertEqual(list(t["allocator"]), ["a"])
        self.assertAlmostEqual(t["cv_pct"].iloc[0], 50.0)  # stdev 1 / mean 2
        md = cv_markdown(df, "mops").splitlines()
        self.assertIn("coefficient of variation over repetitions in %", md[0])
        self.assertEqual(md[1], "| allocator | workload | profile | threads | median | cv % | n |")
        self.assertEqual(md[3], "| a | w | default | 1 | 2 | 50.0 | 3 |")
        self.assertEqual(md[4], "cv % over 1 cells: median 50.0, worst 50.0 (a w/default "
                         "threads=1)")

    def test_cv_undefined_for_a_mean_at_or_below_zero(self):
        df = frame([("a", "w", "default", 1, -1.0, 1.0), ("a", "w", "default", 1, -3.0, 1.0)])
        self.assertTrue(pd.isna(cv_table(df, "mops")["cv_pct"].iloc[0]))
        md = cv_markdown(df, "mops").splitlines()
        self.assertEqual(md[3], "| a | w | default | 1 | -2 | n/a | 2 |")
        self.assertIn("no cell", md[4])

    def test_cli_cv_of_a_known_fixture_cell(self):
        glibc = np.array([31.04, 33.91, 32.50])  # rl_churn/small, 1 thread
        expect = 100 * glibc.std(ddof=1) / glibc.mean()
        rc, out, err = run_cli(["cv", FIXTURE, "--metric", "ns_per_op", "--allocators",
                                "glibc", "--workloads", "rl_churn:small"])
        self.assertEqual(rc, 0, err)
        lines = out.splitlines()
        self.assertIn("ns_per_op, raw", lines[0])
        self.assertIn("in %", lines[0])
        self.assertIn("| cv % |", lines[1])
        self.assertEqual(lines[3], f"| glibc | rl_churn | small | 1 | 32.5 | {expect:.1f} | 3 |")
        self.assertEqual(f"{expect:.1f}", "4.4")
        self.assertEqual(len(lines), 6)  # caption, header, rule, 2 cells, summary
        self.assertTrue(lines[-1].startswith("cv % over 2 cells: median "))


if __name__ == "__main__":
    unittest.main()
