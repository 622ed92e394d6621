"""Tests of `allocplot report` (scripts/allocplot/report.py), `make report` and
library use through `scripts/allocplot.sh python`, on the run directory
fixture tests/fixtures/run_small: results.csv (compare_a.csv's glibc and
mimalloc, 5 repetitions of rl_churn/small and ttl_ring, plus the null
calibration, a jemalloc whose last rl_churn repetition crashed and whose
ttl_ring timed out, and a pmr_monotonic skipped on ttl_ring), context.json,
run.json and a link to the fixtures' latency files."""
import os
import re
import shlex
import shutil
import subprocess
import tempfile
import unittest

import pandas as pd

from allocplot import plot, report
from allocplot.load import load_results
from allocplot.significance import compare_frames
from test_allocplot import FIXTURES, PNG, TempDir, run_cli
from test_cli import SCRIPTS, run_module

RUN = os.path.join(FIXTURES, "run_small")
SOURCE = os.path.abspath(os.path.join(SCRIPTS, ".."))
WRAPPER = os.path.join(SCRIPTS, "allocplot.sh")
# The null calibration's ns_per_op on rl_churn/small, 1 thread: median [CI]
# of 10.05, 10.0, 10.2, 9.9 and 11.9 (a slow repetition: the mean is 10.4).
HARNESS_RL_CHURN = "10.1 [9.9, 11.9]"


def section(text, title):
    """The lines of `text` from the heading `title` to the next heading of
    the same or a higher level."""
    lines = text.splitlines()
    start = lines.index(title)
    level = title.split(" ")[0]
    end = next((i for i in range(start + 1, len(lines))
                if lines[i].startswith("#") and lines[i].split(" ")[0] <= level), len(lines))
    return "\n".join(lines[start:end])


def row(text, *cells):
    """The markdown table row of `text` that starts with `cells`."""
    prefix = "| " + " | ".join(cells) + " |"
    hits = [line for line in text.splitlines() if line.startswith(prefix)]
    if len(hits) != 1:
        raise AssertionError(f"{len(hits)} rows start with {prefix!r}")
    return [c.strip() for c in hits[0].strip("|").split("|")]


class ReportOfTheFixtureTest(unittest.TestCase):
    """One report of the fixture, written through the command line."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp()
        cls.out = os.path.join(cls.tmp, "rep")
        cls.rc, cls.stdout, cls.stderr = run_cli(["report", RUN, "--out", cls.out])
        with open(os.path.join(cls.out, "report.md")) as f:
            cls.text = f.read()

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp)

    def test_exit_status_and_output(self):
        self.assertEqual(self.rc, 0, self.stderr)
        n = len([f for f in os.listdir(os.path.join(self.out, "figures")) if f.endswith(".png")])
        self.assertGreaterEqual(n, len(plot.PLOT_NAMES))
        self.assertEqual(self.stdout, f"{os.path.join(self.out, 'report.md')} ({n} figures)\n")
        self.assertEqual(self.stderr, "")

    def test_method_states_command_context_repetitions_seeds_and_harness_cost(self):
        m = section(self.text, "## 1. Method")
        # The command as run (context.json) and the one that repeats it
        # (run.json's args, which never hold --force, plus --force).
        self.assertIn("build/allocbench run --allocators glibc,jemalloc,mimalloc,pmr_monotonic "
                      "--workloads rl_churn:small,ttl_ring --threads 1 --reps 5 --order shuffled "
                      "--ops 5000 --seed 1 --out results/fixture --force\n", m)
        self.assertEqual(m.count("--out results/fixture --force\n"), 2)
        self.assertIn("check out commit `a83398edda7058a3f6d7a65edd07ddde9775c64d`", m)
        for label, value in [("CPU", "AMD EPYC"), ("kernel", "Linux 6.18.44-fc-v857 #1 SMP "
                             "PREEMPT_DYNAMIC @0"), ("compiler", "g++ 12.2.0"),
                             ("build flags", "Release:  -O2 -g"), ("uncommitted changes", "no"),
                             ("load average at start", "0.52 0.40 0.31")]:
            self.assertEqual(row(m, label), [label, value])
        self.assertEqual(row(m, "5.3.0-0-g54eaed1d8b56b1aa528be3bdd1877e59c56fa90c"),
                         ["5.3.0-0-g54eaed1d8b56b1aa528be3bdd1877e59c56fa90c", "jemalloc"])
        # The toolchain.lock mismatch is in the table and among the caveats.
        self.assertIn("- toolchain.lock mismatch: mimalloc (libmimalloc2.0): locked 2.0.9+ds-2, "
                      "installed 2.0.9+ds-3.", m)
        self.assertEqual(row(m, "repetitions per cell"), ["repetitions per cell", "5"])
        self.assertEqual(row(m, "ok repetitions per cell"),
                         ["ok repetitions per cell", "4-5 (differs between cells)"])
        self.assertEqual(row(m, "seeds in results.csv"), ["seeds in results.csv", "1"])
        self.assertEqual(row(m, "rows in results.csv"),
                         ["rows in results.csv", "45 (34 ok, 1 crashed, 5 skipped, 5 timeout)"])
        # The harness's own cost: null's ns_per_op median [CI], and glibc's
        # raw time and footprint beside it.
        h = section(self.text, "### The harness's own cost")
        self.assertEqual(row(h, "rl_churn", "small", "1"),
                         ["rl_churn", "small", "1", "5", HARNESS_RL_CHURN, "50.5", "20%",
                          "2,960"])
        self.assertIn("Over the cells it is 10.1-16.9 ns/op", h)

    def test_time_table_has_ratios_cis_and_significance_marks(self):
        t = section(self.text, "### Time per operation, net of the harness")
        caption = next(line for line in t.splitlines() if line.startswith("Table 2."))
        for part in ("net_ns_per_op", "95% percentile bootstrap CI", "n=4-5 ok repetitions",
                     "the harness's cost subtracted is 10.1-16.9 ns/op", "* = significant"):
            self.assertIn(part, caption)
        self.assertIn("| workload | profile | threads | glibc median [CI], ns/op | jemalloc | "
                      "mimalloc |", t)
        # jemalloc: median net 35.7 over glibc's 40.5; mimalloc 52.5 / 40.5.
        self.assertEqual(row(t, "rl_churn", "small", "1"),
                         ["rl_churn", "small", "1", "40.5 [39.5, 42]", "0.881 [0.85, 0.91] *",
                          "1.3 [1.29, 1.3] *"])
        self.assertEqual(row(t, "ttl_ring", "default", "1"),
                         ["ttl_ring", "default", "1", "101 [98, 104]", "–", "1 [0.952, 1.05]"])
        # pmr_monotonic, skipped wherever it ran, is named instead of a column of –.
        self.assertIn("Not in the table, without an ok row of `net_ns_per_op` in any of these "
                      "cells: pmr_monotonic.", caption)
        self.assertNotIn("| null", t)
        self.assertIn("Significant differences: 1 cell better and 1 worse than glibc, of 3 "
                      "compared.", t)

    def test_tables_agree_with_significance_compare_frames(self):
        df = load_results(os.path.join(RUN, "results.csv"))
        for metric, title in [("net_ns_per_op", "### Time per operation, net of the harness"),
                              ("peak_rss_net_bytes", "### Peak memory, net of the harness's "
                               "footprint")]:
            t = section(self.text, title)
            c = compare_frames(df, df, metric, a_alloc="glibc", b_alloc="mimalloc")
            for r in c.itertuples():
                cells = row(t, r.workload, r.profile, str(r.threads))
                expect = f"{r.ratio:.3g} [{r.ci_lo:.3g}, {r.ci_hi:.3g}]"
                self.assertEqual(cells[5], expect + (" *" if r.significant else ""), metric)

    def test_memory_table_is_peak_rss_net_in_kib(self):
        t = section(self.text, "### Peak memory, net of the harness's footprint")
        self.assertIn("Table 3. peak_rss_net_bytes", t)
        # glibc's 200704 bytes = 196 KiB; mimalloc 262144 / 200704 = 1.31.
        self.assertEqual(row(t, "rl_churn", "small", "1")[3:6],
                         ["196 [196, 196]", "1.16 [1.16, 1.16] *", "1.31 [1.31, 1.31] *"])

    def test_failed_cells_are_listed_with_their_errors(self):
        f = section(self.text, "## 4. Cells that did not run to completion")
        self.assertEqual(row(f, "jemalloc", "rl_churn", "small", "1"),
                         ["jemalloc", "rl_churn", "small", "1", "crashed", "4 (of 5)",
                          "child killed by signal 11 (Segmentation fault)"])
        self.assertEqual(row(f, "jemalloc", "ttl_ring", "default", "1"),
                         ["jemalloc", "ttl_ring", "default", "1", "timeout",
                          "0, 1, 2, 3, 4 (of 5)", "no result within 1200 s; the child's "
                          "process group was killed"])
        self.assertEqual(row(f, "ttl_ring (threads 1)"),
                         ["ttl_ring (threads 1)", "adapter frees only by reset; workload has "
                          "no phase boundaries to reset at", "pmr_monotonic"])
        self.assertIn("Rows by status: 1 crashed, 5 timeout, 5 skipped.", f)

    def test_figures_are_embedded_exist_and_have_captions(self):
        f = section(self.text, "## 3. Figures")
        links = re.findall(r"!\[([^\]]+)\]\(([^)]+)\)", f)
        written = sorted(f for f in os.listdir(os.path.join(self.out, "figures"))
                         if f.endswith(".png"))
        self.assertEqual(sorted(os.path.basename(p) for _, p in links), written)
        for name in plot.PLOT_NAMES + plot.OPTIONAL_PLOT_NAMES:
            self.assertIn(name, written)
        for caption, rel in links:
            self.assertTrue(rel.startswith("figures/"), rel)
            with open(os.path.join(self.out, rel), "rb") as png:
                self.assertEqual(png.read(8), PNG, rel)
            self.assertIn(f"*Figure {links.index((caption, rel)) + 1}. {caption}.*", f)
        # What plot_all could not draw is listed.
        self.assertIn("- throughput_by_workload.png: jemalloc not drawn for ttl_ring (threads 1): "
                      "no ok row with net_ns_per_op (rows: timeout)", f)

    def test_the_regenerate_command_writes_the_same_report(self):
        blocks = re.findall(r"```sh\n(.*?)\n```", self.text, re.S)
        command = blocks[-1]
        self.assertEqual(blocks[0], command)
        self.assertEqual(command, f"scripts/allocplot.sh report tests/fixtures/run_small --out "
                         f"{self.out} --baseline glibc")
        shutil.rmtree(self.out)
        env = dict(os.environ, MPLBACKEND="Agg")
        p = subprocess.run(["sh"] + shlex.split(command), cwd=SOURCE, capture_output=True,
                           text=True, env=env)
        self.assertEqual(p.returncode, 0, p.stderr)
        with open(os.path.join(self.out, "report.md")) as f:
            self.assertEqual(f.read(), self.text)


class SelectionTest(TempDir):
    def test_allocators_and_workloads_restrict_the_report(self):
        out = os.path.join(self.tmp, "rep")
        rc, _, err = run_cli(["report", RUN, "--out", out, "--allocators", "mimalloc",
                              "--workloads", "rl_churn:small"])
        self.assertEqual(rc, 0, err)
        with open(os.path.join(out, "report.md")) as f:
            text = f.read()
        t = section(text, "### Time per operation, net of the harness")
        self.assertIn("| workload | profile | threads | glibc median [CI], ns/op | mimalloc |", t)
        self.assertNotIn("ttl_ring |", t)
        self.assertIn("--allocators mimalloc --workloads rl_churn:small\n```", text)
        # The harness's cost is still stated, from the calibration's rows, for
        # the workloads shown.
        h = section(text, "### The harness's own cost")
        self.assertEqual(row(h, "rl_churn", "small", "1")[:5],
                         ["rl_churn", "small", "1", "5", HARNESS_RL_CHURN])
        self.assertNotIn("ttl_ring", h)


class BadInputTest(TempDir):
    def assertOneLine(self, argv, expect):
        rc, out, err = run_cli(argv)
        self.assertEqual((rc, out), (2, ""), err)
        self.assertEqual(len(err.splitlines()), 1, err)
        self.assertTrue(err.startswith("allocplot: "), err)
        self.assertIn(expect, err)

    def copy_run(self):
        run = os.path.join(self.tmp, "run")
        shutil.copytree(RUN, run, symlinks=True)
        return run

    def test_missing_directory(self):
        missing = os.path.join(self.tmp, "nosuch")
        self.assertOneLine(["report", missing, "--out", self.tmp], f"{missing}: no such directory")

    def test_directory_without_results_csv(self):
        self.assertOneLine(["report", self.tmp, "--out", self.tmp], "no results.csv")

    def test_corrupt_results_csv(self):
        run = self.copy_run()
        with open(os.path.join(run, "results.csv"), "w") as f:
            f.write("not,an,allocbench\nfile,at,all\n")
        self.assertOneLine(["report", run, "--out", self.tmp], "not an allocbench schema 2")

    def test_corrupt_context_and_run_json(self):
        for name in ("context.json", "run.json"):
            run = self.copy_run()
            with open(os.path.join(run, name), "w") as f:
                f.write('{"run_id": ')
            self.assertOneLine(["report", run, "--out", self.tmp], f"{name}: not valid JSON")
            shutil.rmtree(run)

    def test_unknown_baseline(self):
        self.assertOneLine(["report", RUN, "--out", self.tmp, "--baseline", "nosuch"],
                           "unknown allocator 'nosuch'")

    def test_the_calibration_is_no_baseline(self):
        self.assertOneLine(["report", RUN, "--out", self.tmp, "--baseline", "null"],
                           "choose another baseline")

    def test_unwritable_output(self):
        blocker = os.path.join(self.tmp, "file")
        with open(blocker, "w") as f:
            f.write("x")
        self.assertOneLine(["report", RUN, "--out", os.path.join(blocker, "sub")], blocker)

    def test_no_traceback_from_the_module(self):
        code, out, err = run_module(["report", os.path.join(self.tmp, "nosuch")])
        self.assertEqual((code, out), (2, ""))
        self.assertEqual(len(err.splitlines()), 1, err)
        self.assertNotIn("Traceback", err)


class SectionTest(unittest.TestCase):
    """The section builders on frames made from the fixture."""

    def loaded(self):
        return report.load_run(RUN)

    def test_missing_context_and_run_json_are_said_not_fatal(self):
        loaded = self.loaded()
        loaded["context"] = loaded["run"] = None
        warnings = report.consistency_warnings(loaded)
        self.assertIn("context.json is missing: the machine and toolchain are unknown.", warnings)
        self.assertIn("(not recorded)", report.command_section(loaded))
        self.assertIn("not recorded", report.machine_section(loaded))

    def test_machine_section_gives_the_cpu_id(self):
        loaded = self.loaded()
        loaded["context"] = dict(loaded["context"], cpu_model="AMD EPYC",
                                 cpu_id="AuthenticAMD family 26 model 2 stepping 1, cache 1024 KB")
        text = report.machine_section(loaded)
        self.assertIn("| CPU family, model, stepping | AuthenticAMD family 26 model 2 stepping 1, "
                      "cache 1024 KB |", text)

    def test_dirty_tree_and_other_run_ids_are_caveats(self):
        loaded = self.loaded()
        loaded["context"] = dict(loaded["context"], git_dirty=True, run_id="other")
        text = "\n".join(report.consistency_warnings(loaded))
        self.assertIn("uncommitted changes", text)
        self.assertIn("context.json is of run other, results.csv of 20261201T120000Z-f1x0", text)

    def test_resumes_are_listed(self):
        loaded = self.loaded()
        loaded["resumes"] = [{"start_time": "2026-12-01T13:00:00Z", "notes": "rebuilt",
                              "command_line": "build/allocbench run --resume --out results/x"}]
        text = report.command_section(loaded)
        self.assertIn("Resume 1, started 2026-12-01T13:00:00Z:", text)
        self.assertIn("build/allocbench run --resume --out results/x", text)
        self.assertIn("Its note: rebuilt", text)

    def test_without_calibration_the_times_are_raw_and_said_so(self):
        df = self.loaded()["df"]
        df = df[df["allocator"] != "null"].copy()
        df["net_ns_per_op"] = float("nan")
        df["harness_ns_per_op"] = float("nan")
        self.assertIn("**Not measured**", report.harness_section(df, "glibc"))
        res = report.results_section(df, "glibc", None)
        self.assertIn("### Time per operation, raw (the harness's cost included: not measured)",
                      res)
        self.assertIn("Table 2. ns_per_op", res)
        self.assertIn("| rl_churn | small | 1 | 50.5 [49.5, 52] |", res)

    def test_failures_section_of_a_clean_run(self):
        df = self.loaded()["df"]
        text = report.failures_section(df[df["status"] == "ok"])
        self.assertIn("Every row of results.csv is ok.", text)
        self.assertEqual(text.count("None."), 2)

    def test_figure_captions_come_from_the_plot_module(self):
        self.assertEqual(report.figure_caption("scaling_rl_small.png"),
                         plot.caption("scaling_rl_small.png").rstrip("."))
        self.assertEqual(report.figure_caption("no_such_figure.png"), "No such figure")
        saved = getattr(plot, "CAPTIONS", None)
        plot.CAPTIONS = {"scaling_rl_small.png": "Mops/s against threads."}
        try:
            self.assertEqual(report.figure_caption("scaling_rl_small.png"),
                             "Mops/s against threads")
            text = report.figures_section(["/r/figures/scaling_rl_small.png"], [], "/r")
            self.assertIn("![Mops/s against threads](figures/scaling_rl_small.png)", text)
            self.assertIn("*Figure 1. Mops/s against threads.*", text)
        finally:
            if saved is None:
                del plot.CAPTIONS
            else:
                plot.CAPTIONS = saved

    def test_a_long_not_drawn_list_is_folded(self):
        short = report.figures_section([], ["a"], "/r")
        self.assertIn("Not drawn:\n\n- a\n", short)
        long = report.figures_section([], [f"line {i}" for i in range(20)], "/r")
        self.assertIn("<details>\n<summary>Not drawn: 20 lines", long)
        self.assertIn("- line 19\n\n</details>", long)

    def test_wide_tables_are_split_with_the_first_column_repeated(self):
        t = pd.DataFrame({c: [1] for c in ["base"] + [f"a{i}" for i in range(13)]})
        parts = report.column_parts(t, 6)
        self.assertEqual([list(p.columns) for p in parts],
                         [["base", "a0", "a1", "a2", "a3", "a4", "a5"],
                          ["base", "a6", "a7", "a8", "a9", "a10", "a11"], ["base", "a12"]])

    def test_blocks_keep_captions_and_notes_out_of_tables(self):
        text = report.blocks("caption\n| a |\n|---|\n| 1 |\nwarning: few")
        self.assertEqual(text, "caption\n\n| a |\n|---|\n| 1 |\n\nwarning: few")

    def test_small_n_warning_under_the_table(self):
        # Three repetitions each: no test can reach p < 0.05 (ties included:
        # test_significance checks u_test_p never goes below its floor).
        comp = pd.DataFrame({"n_a": [3], "n_b": [3], "ratio": [1.5], "significant": [False],
                             "min_p": [0.1]})
        text = "\n".join(report.significance_notes(comp, "peak_rss_net_bytes", "glibc"))
        self.assertIn("cannot reach p < 0.05", text)


class MakeReportTest(TempDir):
    def make_n(self, cwd):
        p = subprocess.run(["make", "-s", "-n", "-f", os.path.join(SOURCE, "Makefile"), "report"],
                           cwd=cwd, capture_output=True, text=True)
        self.assertEqual(p.returncode, 0, p.stderr)
        return p.stdout.strip()

    def test_latest_bench_run_else_smoke(self):
        self.assertEqual(self.make_n(self.tmp), "sh scripts/allocplot.sh report results/smoke "
                         "--out report --baseline glibc")
        os.makedirs(os.path.join(self.tmp, "results", "bench"))
        with open(os.path.join(self.tmp, "results", "bench", "results.csv"), "w") as f:
            f.write("")
        self.assertEqual(self.make_n(self.tmp), "sh scripts/allocplot.sh report results/bench "
                         "--out report --baseline glibc")

    def test_make_report_writes_the_report(self):
        out = os.path.join(self.tmp, "rep")
        p = subprocess.run(["make", "-s", "-C", SOURCE, "report",
                            f"RESULTS={os.path.join(RUN, 'results.csv')}", f"REPORT={out}"],
                           capture_output=True, text=True, env=dict(os.environ, MPLBACKEND="Agg"))
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertTrue(os.path.isfile(os.path.join(out, "report.md")))
        self.assertGreaterEqual(len(os.listdir(os.path.join(out, "figures"))), len(plot.PLOT_NAMES))

    def test_the_default_output_is_git_ignored(self):
        with open(os.path.join(SOURCE, ".gitignore")) as f:
            self.assertIn("/report/", f.read().split())


class LibraryTest(TempDir):
    def python(self, code, *args):
        """(exit code, stdout, stderr) of `allocplot.sh python -c CODE ARGS`
        from an empty directory, without PYTHONPATH."""
        env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        p = subprocess.run(["sh", WRAPPER, "python", "-c", code] + list(args), cwd=self.tmp,
                           capture_output=True, text=True, env=env)
        return p.returncode, p.stdout, p.stderr

    def test_import_allocplot_through_the_wrapper(self):
        code = ("import sys, allocplot\n"
                "print('plot imported:', 'allocplot.plot' in sys.modules)\n"
                "df = allocplot.load_results(sys.argv[1])\n"
                "s = allocplot.summarize(df, 'net_ns_per_op')\n"
                "t = allocplot.compare(df, df, 'net_ns_per_op', a_alloc='glibc', "
                "b_alloc='mimalloc')\n"
                "print(len(s), list(t['verdict']))\n"
                "print(all(callable(getattr(allocplot, n)) for n in ['plot_all', "
                "'throughput_by_workload', 'scaling', 'overhead_ratio', 'latency_cdf', "
                "'write_report']))\n")
        rc, out, err = self.python(code, os.path.join(RUN, "results.csv"))
        self.assertEqual(rc, 0, err)
        self.assertEqual(out.splitlines(), [
            "plot imported: False", "7 ['slower', 'no significant difference']", "True"])

    def test_notebook_without_jupyter_says_what_to_install(self):
        if subprocess.run(["sh", os.path.join(SCRIPTS, "find_python.sh")], capture_output=True,
                          text=True).stdout.strip() and self.python("import notebook")[0] == 0:
            self.skipTest("Jupyter Notebook is installed")
        p = subprocess.run(["sh", WRAPPER, "notebook", "--version"], capture_output=True,
                           text=True)
        self.assertEqual(p.returncode, 2)
        self.assertEqual(len(p.stderr.splitlines()), 1, p.stderr)
        self.assertIn("apt-get install python3-notebook", p.stderr)

    def test_a_notebook_kernel_imports_allocplot(self):
        # Jupyter's kernels inherit PYTHONPATH from the server the wrapper
        # starts; nbconvert runs a kernel the same way. Only where Jupyter is
        # installed (python3-notebook, python3-nbconvert, python3-ipykernel).
        if self.python("import nbconvert, ipykernel")[0] != 0:
            self.skipTest("Jupyter's nbconvert and ipykernel are not installed")
        import json
        cell = ("import allocplot\n"
                f"df = allocplot.load_results({os.path.join(RUN, 'results.csv')!r})\n"
                "print(len(allocplot.summarize(df, 'ns_per_op')))")
        nb = {"cells": [{"cell_type": "code", "execution_count": None, "metadata": {},
                         "outputs": [], "source": cell}],
              "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                          "language": "python"}},
              "nbformat": 4, "nbformat_minor": 5}
        with open(os.path.join(self.tmp, "nb.ipynb"), "w") as f:
            json.dump(nb, f)
        env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        p = subprocess.run(["sh", WRAPPER, "python", "-m", "nbconvert", "--to", "notebook",
                            "--execute", "nb.ipynb", "--output", "out.ipynb"], cwd=self.tmp,
                           capture_output=True, text=True, env=env)
        self.assertEqual(p.returncode, 0, p.stderr)
        with open(os.path.join(self.tmp, "out.ipynb")) as f:
            outputs = json.load(f)["cells"][0]["outputs"]
        self.assertEqual("".join(outputs[0]["text"]), "7\n")

    def test_the_worked_example_of_docs_analysis_runs(self):
        with open(os.path.join(SOURCE, "docs", "analysis.md")) as f:
            doc = f.read()
        code = re.search(r"```python\n(.*?)```", doc, re.S).group(1)
        self.assertIn('RUN = "results/smoke"', code)
        code = code.replace('RUN = "results/smoke"', f"RUN = {RUN!r}")
        code = code.replace('"/tmp/figures"', repr(os.path.join(self.tmp, "figures")))
        rc, out, err = self.python(code)
        self.assertEqual(rc, 0, err)
        self.assertIn("verdict", out)


if __name__ == "__main__":
    unittest.main()
