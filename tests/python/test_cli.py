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

from allocplot import cli
from allocplot.load import METRICS, load_results
from allocplot.stats import select_rows, workload_names
from test_allocplot import FIXTURE, run_cli

SUBCOMMANDS = ["plot", "table", "cv", "check", "phases"]
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

if __name__ == "__main__":
    unittest.main()
