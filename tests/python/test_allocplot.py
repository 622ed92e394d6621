"""Tests of the allocplot package on a small checked-in results.csv fixture."""
import os
import shutil
import tempfile
import unittest

import pandas as pd

from allocplot import cli
from allocplot.load import COLUMNS, SchemaError, load_phases, load_results
from allocplot.plot import plot_all
from allocplot.stats import phase_table, ratio_table, summarize, to_markdown

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURE = os.path.join(HERE, "..", "fixtures", "results_small.csv")


class TempDir(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp()

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def write(self, name, text):
        path = os.path.join(self.tmp, name)
        with open(path, "w") as f:
            f.write(text)
        return path


class LoadTest(TempDir):
    def test_fixture_loads_with_numeric_columns(self):
        df = load_results(FIXTURE)
        self.assertEqual(list(df.columns), COLUMNS)
        self.assertGreater(len(df), 0)
        self.assertTrue(pd.api.types.is_numeric_dtype(df["mops"]))
        self.assertTrue(pd.api.types.is_numeric_dtype(df["threads"]))
        self.assertIn("skipped", set(df["status"]))

    def test_missing_column_is_refused_by_name(self):
        with open(FIXTURE) as f:
            lines = f.read().splitlines()
        header = lines[0].replace(",mops,", ",mopz,")
        path = self.write("bad.csv", "\n".join([header] + lines[1:]) + "\n")
        with self.assertRaises(SchemaError) as ctx:
            load_results(path)
        self.assertIn("missing columns: mops", str(ctx.exception))

    def test_not_a_csv_and_empty_and_missing(self):
        for text in ["", "\x00\x01binary\n"]:
            path = self.write("x.csv", text)
            with self.assertRaises(SchemaError):
                load_results(path)
        with self.assertRaises(SchemaError):
            load_results(os.path.join(self.tmp, "nope.csv"))

    def test_non_numeric_value_is_refused_with_row(self):
        df = pd.read_csv(FIXTURE, dtype=str, keep_default_na=False)
        df.loc[1, "wall_s"] = "fast"
        path = os.path.join(self.tmp, "bad.csv")
        df.to_csv(path, index=False)
        with self.assertRaises(SchemaError) as ctx:
            load_results(path)
        self.assertIn("row 3, column wall_s", str(ctx.exception))

    def test_unknown_status_and_schema_version(self):
        df = pd.read_csv(FIXTURE, dtype=str, keep_default_na=False)
        bad = df.copy()
        bad.loc[0, "status"] = "great"
        path = os.path.join(self.tmp, "s.csv")
        bad.to_csv(path, index=False)
        with self.assertRaises(SchemaError):
            load_results(path)
        bad = df.copy()
        bad.loc[0, "schema_version"] = "2"
        bad.to_csv(path, index=False)
        with self.assertRaises(SchemaError) as ctx:
            load_results(path)
        self.assertIn("schema_version", str(ctx.exception))


def frame(rows):
    """A results DataFrame with only the columns stats needs."""
    df = pd.DataFrame(rows, columns=["allocator", "workload", "profile", "threads", "mops",
                                     "ns_per_op"])
    df["status"] = "ok"
    return df


class StatsTest(unittest.TestCase):
    def test_median_spread_and_cv(self):
        df = frame([
            ("a", "w", "default", 1, 1.0, 10.0),
            ("a", "w", "default", 1, 2.0, 20.0),
            ("a", "w", "default", 1, 3.0, 30.0),
            ("b", "w", "default", 1, 4.0, 40.0),
        ])
        s = summarize(df, "mops").set_index("allocator")
        self.assertEqual(s.loc["a", "median"], 2.0)
        self.assertEqual(s.loc["a", "min"], 1.0)
        self.assertEqual(s.loc["a", "max"], 3.0)
        self.assertEqual(s.loc["a", "n"], 3)
        self.assertAlmostEqual(s.loc["a", "cv"], 0.5)  # stdev 1 / mean 2
        self.assertTrue(pd.isna(s.loc["b", "cv"]))

    def test_failed_rows_are_ignored(self):
        df = frame([("a", "w", "default", 1, 1.0, 10.0), ("a", "w", "default", 1, 100.0, 1.0)])
        df.loc[1, "status"] = "crashed"
        s = summarize(df, "mops")
        self.assertEqual(s["median"].iloc[0], 1.0)

    def test_ratio_to_baseline(self):
        df = frame([
            ("glibc", "w", "default", 1, 1.0, 10.0),
            ("fast", "w", "default", 1, 2.0, 5.0),
            ("glibc", "w", "default", 2, 1.0, 8.0),
            ("fast", "w", "default", 2, 2.0, 2.0),
        ])
        t = ratio_table(df, "ns_per_op", "glibc")
        self.assertEqual(list(t.columns)[0], "glibc")
        self.assertAlmostEqual(t.loc[("w", "default", 1), "fast"], 0.5)
        self.assertAlmostEqual(t.loc[("w", "default", 2), "fast"], 0.25)
        md = to_markdown(t)
        self.assertIn("| w | default | 1 | 1.00 | 0.50 |", md)
        with self.assertRaises(ValueError):
            ratio_table(df, "ns_per_op", "nosuch")


class PhasesTest(TempDir):
    def test_phase_table_peak_and_last(self):
        text = "run_id,allocator,workload,profile,threads,repetition,phase,rss_bytes,rss_net_bytes\n"
        for rep in (0, 1):
            for phase, net in enumerate([1024, 4096, 2048]):
                text += f"r,a,size_ramp,alloc_all,1,{rep},{phase},{net + 9},{net}\n"
        text += "r,a,ttl_ring,default,1,0,0,5,5\n"
        t = phase_table(load_phases(self.write("p.csv", text)))
        self.assertEqual(t.loc[("a", "alloc_all", 1), "max_after_phase_kib"], 4.0)
        self.assertEqual(t.loc[("a", "alloc_all", 1), "after_last_kib"], 2.0)
        with self.assertRaises(ValueError):
            phase_table(load_phases(self.write("q.csv", text)), "nosuch")
        with self.assertRaises(SchemaError):
            load_phases(self.write("bad.csv", "a,b\n1,2\n"))


class PlotTest(TempDir):
    def test_three_pngs_from_the_fixture(self):
        paths = plot_all(load_results(FIXTURE), self.tmp)
        names = sorted(os.path.basename(p) for p in paths)
        self.assertEqual(names, ["overhead_ratio.png", "scaling_rl_small.png",
                                 "throughput_by_workload.png"])
        for p in paths:
            with open(p, "rb") as f:
                self.assertEqual(f.read(8), b"\x89PNG\r\n\x1a\n")
            self.assertGreater(os.path.getsize(p), 10000)

    def test_cli_exit_codes(self):
        self.assertEqual(cli.main(["plot", FIXTURE, "--out", self.tmp]), 0)
        bad = self.write("bad.csv", "a,b\n1,2\n")
        self.assertEqual(cli.main(["plot", bad, "--out", self.tmp]), 2)
        self.assertEqual(cli.main(["table", FIXTURE, "--baseline", "glibc"]), 0)
        self.assertEqual(cli.main(["table", FIXTURE, "--baseline", "nosuch"]), 2)

    def test_check_finds_missing_cells_and_plots(self):
        self.assertEqual(cli.main(["check", FIXTURE, "--allocators", "glibc,jemalloc"]), 0)
        self.assertEqual(cli.main(["check", FIXTURE, "--allocators", "pmr_monotonic",
                                   "--workloads", "rl_churn"]), 0)
        self.assertEqual(cli.main(["check", FIXTURE, "--allocators", "glibc",
                                   "--workloads", "rl_churn,nosuch"]), 1)
        # pmr_monotonic has skipped rows: not complete.
        self.assertEqual(cli.main(["check", FIXTURE, "--allocators", "pmr_monotonic"]), 1)
        self.assertEqual(cli.main(["check", FIXTURE, "--allocators", "glibc",
                                   "--plots", self.tmp]), 1)
        plot_all(load_results(FIXTURE), self.tmp)
        self.assertEqual(cli.main(["check", FIXTURE, "--allocators", "glibc",
                                   "--plots", self.tmp]), 0)


if __name__ == "__main__":
    unittest.main()
