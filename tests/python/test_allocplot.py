"""Tests of the allocplot package on a small checked-in results.csv fixture
(schema 2, with latency files in tests/fixtures/latency/)."""
import contextlib
import io
import os
import re
import shutil
import tempfile
import unittest

import numpy as np
import pandas as pd

from allocplot import cli
from allocplot.load import ADDED_COLUMNS, COLUMNS, SchemaError, load_phases, load_results
from allocplot.plot import (_errs, allocator_styles, ecdf, error_bar_text, latency_cdf,
                            latency_cell, load_latency, overhead_note, plot_all,
                            throughput_metric)
from allocplot.stats import (format_spread, markdown_table, phase_table, ratio_table,
                             summarize, table_caption, to_markdown, value_table)

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "..", "fixtures")
FIXTURE = os.path.join(FIXTURES, "results_small.csv")
FIXTURE_V1 = os.path.join(FIXTURES, "results_schema1.csv")

PNG = b"\x89PNG\r\n\x1a\n"

# The figures of figures.py plot_all draws from the fixture (its workloads:
# mixed_sizes/small, rl_churn/small, ttl_ring, each at 1 and 2 threads).
FIXTURE_WORKLOADS = ["mixed_sizes_small", "rl_churn_small", "ttl_ring_default"]
FIXTURE_NEW_FIGURES = sorted(
    ["heatmap_time.png", "heatmap_memory.png", "time_vs_memory_t1.png",
     "time_vs_memory_t2.png"] +
    [f"{kind}_{w}.png" for kind in ("ratio_dots", "scaling", "latency_ladder")
     for w in FIXTURE_WORKLOADS])


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

    def write_frame(self, df, name="x.csv"):
        path = os.path.join(self.tmp, name)
        df.to_csv(path, index=False)
        return path


def raw_fixture():
    """The fixture as strings, as load_results reads it before conversion."""
    return pd.read_csv(FIXTURE, dtype=str, keep_default_na=False)


def run_cli(argv):
    """(exit code, stdout, stderr) of allocplot's main."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = cli.main(argv)
    return rc, out.getvalue(), err.getvalue()


class LoadTest(TempDir):
    def test_a_file_from_before_the_added_columns_reads_them_as_empty(self):
        # The fixture predates the recorded traces' repair columns.
        with open(FIXTURE) as f:
            header = f.readline().strip().split(",")
        for c in ADDED_COLUMNS:
            self.assertNotIn(c, header)
        df = load_results(FIXTURE)
        for c in ADDED_COLUMNS:
            self.assertTrue(df[c].isna().all(), c)
        # Only the added columns may be missing, and only all of a trailing set.
        lines = open(FIXTURE).read().splitlines()
        cut = [",".join(line.split(",")[:-1]) for line in lines]  # drops cell_s
        with self.assertRaises(SchemaError):
            load_results(self.write("cut.csv", "\n".join(cut) + "\n"))

    def test_any_subset_of_the_added_columns_in_order_reads(self):
        # A build that had the repair columns but not the settled ones wrote
        # this header (docs/reports/traces_run); out of order is refused.
        lines = open(FIXTURE).read().splitlines()
        repair = [c for c in ADDED_COLUMNS if c.startswith("repair_")]
        rows = [lines[0] + "," + ",".join(repair)] + [l + ",0,0,2" for l in lines[1:]]
        df = load_results(self.write("sub.csv", "\n".join(rows) + "\n"))
        self.assertEqual(list(df.columns), COLUMNS)
        self.assertTrue(df["settled_rss_bytes"].isna().all())
        self.assertEqual(set(df["repair_leaks_freed"]), {2})
        rows[0] = lines[0] + "," + ",".join(reversed(repair))
        with self.assertRaises(SchemaError):
            load_results(self.write("sub_bad.csv", "\n".join(rows) + "\n"))

    def test_repair_columns_are_numbers(self):
        lines = open(FIXTURE).read().splitlines()
        rows = [lines[0] + "," + ",".join(ADDED_COLUMNS)]
        values = ",".join(["1"] * (len(ADDED_COLUMNS) - 1) + ["5"])
        rows += [line + "," + values for line in lines[1:]]
        df = load_results(self.write("rep.csv", "\n".join(rows) + "\n"))
        self.assertEqual(list(df.columns), COLUMNS)
        self.assertEqual(set(df["repair_leaks_freed"]), {5})
        rows[1] = rows[1][: rows[1].rfind(",")] + ",x"
        with self.assertRaises(SchemaError):
            load_results(self.write("rep_bad.csv", "\n".join(rows) + "\n"))

    def test_fixture_loads_with_numeric_columns(self):
        df = load_results(FIXTURE)
        self.assertEqual(list(df.columns), COLUMNS)
        self.assertGreater(len(df), 0)
        for col in ("mops", "threads", "harness_ns_per_op", "net_ns_per_op", "replays",
                    "timer_ns", "lat_p50_ns", "overhead_bytes"):
            self.assertTrue(pd.api.types.is_numeric_dtype(df[col]), col)
        self.assertIn("skipped", set(df["status"]))
        self.assertEqual(df["peak_live_method"].dtype, object)  # text
        self.assertEqual(set(df["peak_live_method"]), {"trace", "sampled", ""})
        self.assertIn("latency/glibc.rl_churn.small.t1.r0.f32", set(df["lat_file"]))

    def test_fixture_harness_and_net_are_consistent(self):
        df = load_results(FIXTURE)
        ok = df[df["status"] == "ok"]
        cell = ["workload", "profile", "threads"]
        harness = ok[ok["allocator"] == "null"].groupby(cell)["ns_per_op"].median()
        for _, r in ok.iterrows():
            h = harness[(r["workload"], r["profile"], r["threads"])]
            self.assertAlmostEqual(r["harness_ns_per_op"], h, places=3)
            self.assertAlmostEqual(r["net_ns_per_op"], r["ns_per_op"] - h, places=3)
        self.assertTrue((ok["replays"] >= 1).all())
        nulls = ok[ok["allocator"] == "null"]
        self.assertTrue(nulls["peak_rss_net_bytes"].isna().all())
        mem = ok[(ok["allocator"] != "null") & ok["peak_rss_net_bytes"].notna()]
        self.assertTrue((mem["overhead_bytes"] ==
                         mem["peak_rss_net_bytes"] - mem["peak_live_bytes"]).all())

    def test_schema_1_file_is_refused_with_advice(self):
        with self.assertRaises(SchemaError) as ctx:
            load_results(FIXTURE_V1)
        msg = str(ctx.exception)
        self.assertIn("schema 1", msg)
        self.assertIn("Re-run", msg)
        self.assertIn("older allocplot", msg)
        # Only the header of a schema 1 file: still named as schema 1.
        with open(FIXTURE_V1) as f:
            header = f.readline()
        with self.assertRaises(SchemaError) as ctx:
            load_results(self.write("h.csv", header))
        self.assertIn("schema 1", str(ctx.exception))
        self.assertEqual(run_cli(["table", FIXTURE_V1])[0], 2)

    def test_ok_row_without_memory_columns_loads(self):
        df = load_results(FIXTURE)
        ok = df[df["status"] == "ok"]
        empty = ok[ok["peak_rss_bytes"].isna()]
        self.assertEqual(len(empty), 1)  # the fixture's failed peak-RSS reset
        self.assertIn("peak-RSS reset failed", empty["error"].iloc[0])
        raw = raw_fixture()
        self.assertEqual(raw.loc[0, "status"], "ok")
        for col in ("peak_rss_bytes", "peak_rss_net_bytes", "overhead_ratio", "overhead_bytes"):
            raw.loc[0, col] = ""
        df = load_results(self.write_frame(raw))
        self.assertTrue(pd.isna(df.loc[0, "peak_rss_bytes"]))
        self.assertEqual(df.loc[0, "status"], "ok")

    def test_ok_row_without_time_is_refused(self):
        for col in ("wall_s", "mops", "ns_per_op"):
            raw = raw_fixture()
            raw.loc[0, col] = ""
            with self.assertRaises(SchemaError) as ctx:
                load_results(self.write_frame(raw))
            self.assertIn(f"row 2 has status ok but no {col}", str(ctx.exception))

    def test_ok_exec_row_needs_only_wall_s(self):
        raw = raw_fixture()
        raw.loc[0, "workload"] = "exec:python3"
        for col in ("mops", "ns_per_op", "lat_p50_ns", "total_ops", "trace_hash"):
            raw.loc[0, col] = ""
        df = load_results(self.write_frame(raw))
        self.assertEqual(df.loc[0, "status"], "ok")
        self.assertTrue(pd.isna(df.loc[0, "mops"]))
        raw.loc[0, "wall_s"] = ""
        with self.assertRaises(SchemaError) as ctx:
            load_results(self.write_frame(raw))
        self.assertIn("row 2 has status ok but no wall_s", str(ctx.exception))

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
        df = raw_fixture()
        df.loc[1, "wall_s"] = "fast"
        with self.assertRaises(SchemaError) as ctx:
            load_results(self.write_frame(df, "bad.csv"))
        self.assertIn("row 3, column wall_s", str(ctx.exception))
        df = raw_fixture()
        df.loc[1, "net_ns_per_op"] = "n/a"
        with self.assertRaises(SchemaError) as ctx:
            load_results(self.write_frame(df, "bad.csv"))
        self.assertIn("row 3, column net_ns_per_op", str(ctx.exception))

    def test_unknown_status_and_schema_version(self):
        df = raw_fixture()
        bad = df.copy()
        bad.loc[0, "status"] = "great"
        with self.assertRaises(SchemaError):
            load_results(self.write_frame(bad))
        bad = df.copy()
        bad.loc[3, "schema_version"] = "3"
        with self.assertRaises(SchemaError) as ctx:
            load_results(self.write_frame(bad))
        self.assertIn("schema_version", str(ctx.exception))


def frame(rows, columns=("mops", "ns_per_op")):
    """A results DataFrame with only the columns stats needs."""
    df = pd.DataFrame(rows, columns=["allocator", "workload", "profile", "threads"] +
                      list(columns))
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
        self.assertAlmostEqual(s.loc["a", "spread"], 0.5)  # (3 - 1) / 2 / 2
        self.assertTrue(pd.isna(s.loc["b", "cv"]))
        self.assertTrue(pd.isna(s.loc["b", "spread"]))

    def test_failed_and_empty_rows_are_ignored(self):
        df = frame([("a", "w", "default", 1, 1.0, 10.0), ("a", "w", "default", 1, 100.0, 1.0),
                    ("b", "w", "default", 1, float("nan"), 1.0)])
        df.loc[1, "status"] = "crashed"
        s = summarize(df, "mops")
        self.assertEqual(list(s["allocator"]), ["a"])
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
        # One repetition per cell: no ± part.
        md = markdown_table(df, "ns_per_op", "glibc")
        self.assertIn("| w | default | 1 | 1.00 | 0.50 |", md)
        self.assertIn("n = 1 repetition per cell", md.splitlines()[0])
        with self.assertRaises(ValueError):
            ratio_table(df, "ns_per_op", "nosuch")

    def test_spread_of_a_known_fixture_cell(self):
        # rl_churn/small, 1 thread, three repetitions (fixture values):
        glibc = [31.04, 33.91, 32.50]
        jemalloc = [44.86, 55.24, 47.10]
        df = load_results(FIXTURE)
        s = summarize(df, "ns_per_op").set_index(["allocator", "workload", "profile",
                                                  "threads"])
        cell = s.loc[("glibc", "rl_churn", "small", 1)]
        self.assertEqual(cell["n"], 3)
        self.assertAlmostEqual(cell["median"], 32.50)
        self.assertAlmostEqual(cell["spread"], (33.91 - 31.04) / 2 / 32.50)
        ratio = np.median(jemalloc) / np.median(glibc)
        spread_j = (max(jemalloc) - min(jemalloc)) / 2 / np.median(jemalloc)
        expect = f"{ratio:.2f} ±{100 * spread_j:.0f}%"
        self.assertEqual(expect, "1.45 ±11%")
        md = markdown_table(df, "ns_per_op", "glibc")
        row = [line for line in md.splitlines() if line.startswith("| rl_churn | small | 1 |")]
        self.assertEqual(len(row), 1)
        cells = [c.strip() for c in row[0].strip("|").split("|")]
        header = [c.strip() for c in md.splitlines()[1].strip("|").split("|")]
        by_alloc = dict(zip(header, cells))
        self.assertEqual(by_alloc["glibc"], "1.00 ±4%")
        self.assertEqual(by_alloc["jemalloc"], expect)

    def test_format_spread(self):
        self.assertEqual(format_spread(0.03), " ±3%")
        self.assertEqual(format_spread(0.004), " ±0.4%")
        self.assertEqual(format_spread(float("nan")), "")

    def test_caption_names_metric_raw_or_net_n_and_plus_minus(self):
        df = load_results(FIXTURE)
        raw = markdown_table(df, "ns_per_op", "glibc").splitlines()[0]
        self.assertIn("ns_per_op, raw, including the harness's own cost", raw)
        self.assertIn("n = 2-3 repetitions per cell", raw)
        self.assertIn("± = half of (max - min) over the median", raw)
        self.assertIn("ratio of medians to glibc", raw)
        net = markdown_table(df, "net_ns_per_op").splitlines()[0]
        self.assertIn("net_ns_per_op, net of the harness's own cost (calibration adapter null "
                      "on the same trace)", net)
        self.assertIn("median;", net)
        counts = pd.DataFrame({"a": [2, 2]})
        self.assertIn("n = 2 repetitions per cell;", table_caption("mops", counts))

    def test_net_table_leaves_out_null_and_undefined_ratios(self):
        df = load_results(FIXTURE)
        self.assertIn("null", value_table(df, "ns_per_op").columns)
        self.assertNotIn("null", value_table(df, "net_ns_per_op").columns)
        md = markdown_table(df, "net_ns_per_op", "glibc")
        self.assertNotIn("null", md.splitlines()[1])
        self.assertIn("| glibc |", md.splitlines()[1])
        df = frame([
            ("glibc", "w", "default", 1, 10.0, -0.2),
            ("fast", "w", "default", 1, 10.0, 3.0),
            ("null", "w", "default", 1, 10.0, 0.0),
            ("glibc", "w", "default", 2, 10.0, 4.0),
            ("fast", "w", "default", 2, 10.0, 2.0),
        ], columns=("ns_per_op", "net_ns_per_op"))
        t = ratio_table(df, "net_ns_per_op", "glibc")
        self.assertEqual(list(t.columns), ["glibc", "fast"])
        self.assertTrue(pd.isna(t.loc[("w", "default", 1), "fast"]))
        self.assertAlmostEqual(t.loc[("w", "default", 2), "fast"], 0.5)
        md = markdown_table(df, "net_ns_per_op", "glibc")
        self.assertIn("| w | default | 1 | n/a | n/a |", md)
        self.assertIn("| w | default | 2 | 1.00 | 0.50 |", md)
        with self.assertRaises(ValueError):
            markdown_table(df, "net_ns_per_op", "null")

    def test_unknown_or_empty_metric(self):
        df = load_results(FIXTURE)
        with self.assertRaises(ValueError):
            markdown_table(df, "nosuch")
        df["net_ns_per_op"] = float("nan")  # a --no-calibrate run
        with self.assertRaises(ValueError) as ctx:
            markdown_table(df, "net_ns_per_op", "glibc")
        self.assertIn("--no-calibrate", str(ctx.exception))


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


class PlotHelpersTest(unittest.TestCase):
    def test_overhead_note_only_below_one(self):
        note = overhead_note([1.9, 0.706, float("nan")])
        self.assertIsNotNone(note)
        self.assertIn("below 1.0", note)
        self.assertIn("whole pages", note)
        self.assertIn("docs/csv_schema.md", note)
        self.assertIsNone(overhead_note([1.0, 2.5, float("nan")]))
        self.assertIsNone(overhead_note([]))

    def test_throughput_metric_net_when_calibrated(self):
        df = load_results(FIXTURE)
        metric, desc, exclude = throughput_metric(df)
        self.assertEqual(metric, "net_ns_per_op")
        self.assertIn("net of harness", desc)
        self.assertEqual(exclude, {"null"})
        df["net_ns_per_op"] = float("nan")
        metric, desc, exclude = throughput_metric(df)
        self.assertEqual(metric, "ns_per_op")
        self.assertIn("raw, including harness cost", desc)
        self.assertEqual(exclude, set())

    def test_error_bars_only_with_repetitions(self):
        self.assertEqual(error_bar_text([1, 1]), "n=1: no error bars")
        text = error_bar_text([2, 3])
        self.assertIn("n=2-3", text)
        self.assertIn("error bars: min-max over n reps", text)
        s = pd.DataFrame({"median": [2.0, 5.0], "min": [1.0, 5.0], "max": [4.0, 5.0],
                          "n": [3, 1]})
        lo, hi = _errs(s)
        self.assertEqual(list(lo), [1.0, 0.0])
        self.assertEqual(list(hi), [2.0, 0.0])
        s["n"] = [1, 1]
        lo, hi = _errs(s)
        self.assertEqual(list(lo) + list(hi), [0.0] * 4)

    def test_styles_are_fixed_per_allocator(self):
        df = load_results(FIXTURE)
        styles = allocator_styles(df)
        self.assertIn("null", styles)
        self.assertEqual(len(set(c for c, _ in styles.values())), len(styles))
        # The same file always gives the same colours, whatever order or panel.
        self.assertEqual(styles, allocator_styles(df.iloc[::-1]))
        # And another file with other allocators gives glibc the same style.
        only_two = df[df["allocator"].isin(["glibc", "null"])]
        self.assertEqual(allocator_styles(only_two)["glibc"], styles["glibc"])

    def test_every_known_allocator_has_its_own_colour_and_families_differ(self):
        from allocplot.plot import FAMILY_STYLES, INHOUSE_STYLES, SYSTEM_STYLES, allocator_style
        known = {name: style for table in FAMILY_STYLES for name, style in table.items()}
        colours = [c for c, _ in known.values()]
        self.assertEqual(len(set(colours)), len(colours), "two allocators share a colour")
        system_markers = {m for _, m in SYSTEM_STYLES.values()}
        inhouse_markers = {m for _, m in INHOUSE_STYLES.values()}
        self.assertFalse(system_markers & inhouse_markers, "system and in-house markers overlap")
        # A name not in the tables keeps one style across calls.
        self.assertEqual(allocator_style("my_new_allocator"), allocator_style("my_new_allocator"))
        # Every registered adapter (adapters/registry.cpp) but the test ones
        # is in the table of its family.
        source = os.environ.get("ALLOCBENCH_SOURCE_DIR", os.path.join(HERE, "..", ".."))
        with open(os.path.join(source, "adapters", "registry.cpp")) as f:
            registered = re.findall(r'^\s*\{"([a-z_0-9]+)", "([a-z]+)"', f.read(), re.M)
        self.assertGreater(len(registered), 20)
        tables = {"system": SYSTEM_STYLES, "inhouse": INHOUSE_STYLES}
        for name, family in registered:
            if family == "test":
                continue
            self.assertIn(name, known, f"{name} ({family}) has no fixed style")
            if family in tables:
                self.assertIn(name, tables[family], f"{name} styled as another family")

    def test_ecdf_clips_for_the_log_axis(self):
        x, y = ecdf(np.array([5.0, -1.0, 0.05, 2.0], dtype="<f4"))
        self.assertEqual(list(x), [0.1, 0.1, 2.0, 5.0])
        self.assertEqual(list(y), [0.25, 0.5, 0.75, 1.0])

    def test_latency_cell_and_files(self):
        df = load_results(FIXTURE)
        self.assertEqual(latency_cell(df), ("rl_churn", "small"))
        self.assertIsNone(latency_cell(df, threads=2))
        self.assertIsNone(latency_cell(df, workload="ttl_ring"))
        data = load_latency(df, FIXTURES, "rl_churn", "small", 1)
        # pmr_monotonic's files are referenced but missing: left out.
        self.assertEqual(sorted(data), ["glibc", "jemalloc", "mimalloc", "null"])
        lat_samples = int(df[(df["allocator"] == "glibc") & (df["workload"] == "rl_churn") &
                             (df["threads"] == 1)]["lat_samples"].sum())
        self.assertEqual(data["glibc"].size, lat_samples)  # all repetitions
        self.assertEqual(data["glibc"].dtype, np.dtype("<f4"))
        rows = df[(df["allocator"] == "glibc") & (df["workload"] == "rl_churn") &
                  (df["threads"] == 1) & (df["repetition"] == 0)]
        first = np.fromfile(os.path.join(FIXTURES, rows["lat_file"].iloc[0]), dtype="<f4")
        self.assertAlmostEqual(float(np.percentile(first, 50, method="inverted_cdf")),
                               rows["lat_p50_ns"].iloc[0], places=1)
        self.assertTrue((data["null"] < 0).any())  # timer cost subtracted


class PlotTest(TempDir):
    def assertPng(self, path, min_size=10000):
        with open(path, "rb") as f:
            self.assertEqual(f.read(8), PNG)
        self.assertGreater(os.path.getsize(path), min_size)

    def test_pngs_from_the_fixture(self):
        paths, _ = plot_all(load_results(FIXTURE), self.tmp, FIXTURES)
        names = sorted(os.path.basename(p) for p in paths)
        self.assertEqual(names, sorted(["latency_cdf.png", "overhead_ratio.png",
                                        "scaling_rl_small.png", "throughput_by_workload.png"] +
                                       FIXTURE_NEW_FIGURES))
        for p in paths:
            self.assertPng(p)

    def test_plot_all_without_latency_files(self):
        paths, _ = plot_all(load_results(FIXTURE), self.tmp, self.tmp)
        self.assertEqual(sorted(os.path.basename(p) for p in paths),
                         sorted(["overhead_ratio.png", "scaling_rl_small.png",
                                 "throughput_by_workload.png"] + FIXTURE_NEW_FIGURES))
        paths, _ = plot_all(load_results(FIXTURE), self.tmp)
        self.assertNotIn("latency_cdf.png", [os.path.basename(p) for p in paths])

    def test_latency_cdf(self):
        df = load_results(FIXTURE)
        out = os.path.join(self.tmp, "lat.png")
        self.assertEqual(latency_cdf(df, FIXTURES, out), out)
        self.assertPng(out)
        missing = os.path.join(self.tmp, "none.png")
        self.assertIsNone(latency_cdf(df, self.tmp, missing))
        self.assertFalse(os.path.exists(missing))
        self.assertIsNone(latency_cdf(df, FIXTURES, missing, threads=2))
        no_files = df.copy()
        no_files["lat_file"] = ""
        self.assertIsNone(latency_cdf(no_files, FIXTURES, missing))

    def test_raw_throughput_without_calibration(self):
        df = load_results(FIXTURE)
        df["harness_ns_per_op"] = float("nan")
        df["net_ns_per_op"] = float("nan")
        paths, _ = plot_all(df, self.tmp)
        for p in paths:
            self.assertPng(p)

    def test_cli_exit_codes(self):
        self.assertEqual(run_cli(["plot", FIXTURE, "--out", self.tmp])[0], 0)
        self.assertTrue(os.path.isfile(os.path.join(self.tmp, "latency_cdf.png")))
        bad = self.write("bad.csv", "a,b\n1,2\n")
        self.assertEqual(run_cli(["plot", bad, "--out", self.tmp])[0], 2)
        self.assertEqual(run_cli(["table", FIXTURE, "--baseline", "glibc"])[0], 0)
        self.assertEqual(run_cli(["table", FIXTURE, "--baseline", "nosuch"])[0], 2)
        self.assertEqual(run_cli(["table", FIXTURE, "--metric", "nosuch"])[0], 2)

    def test_cli_table_net_metric(self):
        rc, out, _ = run_cli(["table", FIXTURE, "--metric", "net_ns_per_op", "--baseline",
                              "glibc", "--allocators", "glibc,mimalloc,null"])
        self.assertEqual(rc, 0)
        lines = out.splitlines()
        self.assertIn("net of the harness's own cost", lines[0])
        self.assertEqual(lines[1], "| workload | profile | threads | glibc | mimalloc |")
        self.assertRegex(lines[3], r"^\| \w+ \| \w+ \| \d \| 1\.00 ±\d+% \| \d\.\d\d ±[\d.]+% \|$")
        rc, out, _ = run_cli(["table", FIXTURE, "--metric", "ns_per_op"])
        self.assertEqual(rc, 0)
        self.assertIn("null", out.splitlines()[1])

    def test_check_finds_missing_cells_and_plots(self):
        self.assertEqual(run_cli(["check", FIXTURE, "--allocators", "glibc,jemalloc"])[0], 0)
        self.assertEqual(run_cli(["check", FIXTURE, "--allocators", "pmr_monotonic",
                                  "--workloads", "rl_churn"])[0], 0)
        self.assertEqual(run_cli(["check", FIXTURE, "--allocators", "glibc",
                                  "--workloads", "rl_churn,nosuch"])[0], 1)
        # pmr_monotonic has skipped rows: not complete.
        self.assertEqual(run_cli(["check", FIXTURE, "--allocators", "pmr_monotonic"])[0], 1)
        self.assertEqual(run_cli(["check", FIXTURE, "--allocators", "glibc",
                                  "--plots", self.tmp])[0], 1)
        # The three standard plots suffice: latency_cdf.png is optional.
        plot_all(load_results(FIXTURE), self.tmp)
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "latency_cdf.png")))
        self.assertEqual(run_cli(["check", FIXTURE, "--allocators", "glibc",
                                  "--plots", self.tmp])[0], 0)


if __name__ == "__main__":
    unittest.main()
