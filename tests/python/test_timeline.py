"""Tests of the settled-RSS columns added to schema 2 and of the RSS
timelines (timeline.csv of `run --timeline` and of `exec`): loading, the data
behind the rss_timeline figure on known values, and the figure from a
synthetic run (issue 14, "Reclamation that shows")."""
import os
import unittest

import numpy as np
import pandas as pd

from allocplot import figures as F
from allocplot.load import (ADDED_COLUMNS, COLUMNS, EXEC_TIMELINE_COLUMNS, TIMELINE_COLUMNS,
                            SchemaError, load_results, load_timeline)
from allocplot.plot import caption, plot_all, run_timeline
from allocplot.style import NothingToPlot
from synthetic_run import RUN_ID, write_run
from test_allocplot import FIXTURE, PNG, TempDir, raw_fixture

MIB = 1024 * 1024


def cell_timeline(allocators=("glibc", "keeper", "returner"), reps=3, period=2.0,
                  workload="ttl_ring", profile="default", threads=1):
    """A timeline.csv frame: each cell 20 ms of timed replays at 30 MiB net,
    then 50 ms of settle; `returner` drops to 1 MiB net 10 ms into the
    settle, the others keep 30 MiB. Each repetition's clock starts at a
    different offset, as real cells' do."""
    rows = []
    for a in allocators:
        for rep in range(reps):
            t0 = 100.0 + 7.0 * rep  # settle start on this repetition's clock
            for t in np.arange(t0 - 20.0, t0 + 50.0 + 1e-9, period):
                stage = "timed" if t < t0 else "settle"
                drop = a == "returner" and t >= t0 + 10.0
                net = (1 if drop else 30) * MIB
                rows.append([RUN_ID, a, workload, profile, threads, rep, round(float(t), 3), stage,
                             net + 5 * MIB, net])
    return pd.DataFrame(rows, columns=TIMELINE_COLUMNS)


class AddedColumnsTest(TempDir):
    def test_old_file_reads_with_the_settled_columns_empty(self):
        self.assertNotIn("settled_rss_bytes", raw_fixture().columns, "the fixture is old")
        df = load_results(FIXTURE)
        self.assertEqual(list(df.columns), COLUMNS)
        for col in ADDED_COLUMNS:
            self.assertTrue(df[col].isna().all(), col)
            self.assertTrue(pd.api.types.is_numeric_dtype(df[col]), col)

    def test_new_file_reads_the_settled_values(self):
        raw = raw_fixture()
        raw["settled_rss_bytes"] = ""
        raw["settled_rss_net_bytes"] = ""
        ok = raw["status"] == "ok"
        raw.loc[ok, "settled_rss_bytes"] = "7340032"
        raw.loc[ok, "settled_rss_net_bytes"] = "1048576"
        df = load_results(self.write_frame(raw))
        self.assertEqual(df.loc[ok, "settled_rss_net_bytes"].unique().tolist(), [1048576])

    def test_a_prefix_of_the_added_columns_is_accepted(self):
        raw = raw_fixture()
        raw["settled_rss_bytes"] = ""
        df = load_results(self.write_frame(raw))
        self.assertEqual(list(df.columns), COLUMNS)

    def test_added_columns_elsewhere_or_not_numbers_are_refused(self):
        raw = raw_fixture()
        raw.insert(3, "settled_rss_bytes", "")
        with self.assertRaisesRegex(SchemaError, "not an allocbench schema 2 results file"):
            load_results(self.write_frame(raw, "moved.csv"))
        raw = raw_fixture()
        raw["settled_rss_bytes"] = "many"
        raw["settled_rss_net_bytes"] = ""
        with self.assertRaisesRegex(SchemaError, "column settled_rss_bytes: 'many' is not a "
                                    "number"):
            load_results(self.write_frame(raw, "text.csv"))


class LoadTimelineTest(TempDir):
    def test_cell_timeline(self):
        tl = load_timeline(self.write_frame(cell_timeline(), "timeline.csv"))
        self.assertEqual(list(tl.columns), TIMELINE_COLUMNS)
        self.assertTrue(pd.api.types.is_numeric_dtype(tl["t_ms"]))
        self.assertEqual(set(tl["stage"]), {"timed", "settle"})

    def test_exec_timeline_gets_the_cell_columns(self):
        path = self.write("timeline.csv", "run_id,allocator,rep,t_ms,rss_bytes\n"
                          "r,glibc,0,0.000,1000\nr,glibc,0,10.000,2000\n")
        tl = load_timeline(path, exec_workload="exec:python3")
        self.assertEqual(list(tl.columns), TIMELINE_COLUMNS)
        self.assertEqual(tl["workload"].tolist(), ["exec:python3"] * 2)
        self.assertEqual(tl["repetition"].tolist(), [0, 0])
        self.assertEqual(tl["stage"].tolist(), ["run", "run"])
        self.assertTrue(tl["rss_net_bytes"].isna().all())
        self.assertEqual(EXEC_TIMELINE_COLUMNS, ["run_id", "allocator", "rep", "t_ms",
                                                 "rss_bytes"])

    def test_bad_files_are_refused_naming_the_problem(self):
        good = cell_timeline(reps=1)
        bad_stage = good.copy()
        bad_stage.loc[3, "stage"] = "nap"
        with self.assertRaisesRegex(SchemaError, "row 5 has unknown stage 'nap'"):
            load_timeline(self.write_frame(bad_stage, "a.csv"))
        bad_num = good.copy()
        bad_num.loc[0, "rss_bytes"] = "lots"
        with self.assertRaisesRegex(SchemaError, "row 2, column rss_bytes: 'lots' is not a "
                                    "number"):
            load_timeline(self.write_frame(bad_num, "b.csv"))
        missing = good.copy()
        missing.loc[1, "t_ms"] = ""
        with self.assertRaisesRegex(SchemaError, "row 3, column t_ms"):
            load_timeline(self.write_frame(missing, "c.csv"))
        with self.assertRaisesRegex(SchemaError, "not an allocbench timeline.csv"):
            load_timeline(self.write_frame(good.drop(columns=["stage"]), "d.csv"))
        with self.assertRaisesRegex(SchemaError, "no such file"):
            load_timeline(os.path.join(self.tmp, "none.csv"))


class TimelineDataTest(unittest.TestCase):
    def test_repetitions_are_aligned_at_the_settle_start(self):
        reps = F.timeline_reps(cell_timeline(), "ttl_ring", "default", 1)
        first_settle = reps[reps["stage"] == "settle"].groupby(
            ["allocator", "repetition"])["x_ms"].min()
        self.assertTrue(np.allclose(first_settle, 0.0))
        r = reps[reps["allocator"] == "returner"]
        self.assertTrue(np.allclose(r[r["x_ms"] >= 10]["y_mib"], 1.0))
        self.assertTrue(np.allclose(r[r["x_ms"] < 10]["y_mib"], 30.0))
        self.assertEqual(F.timeline_window(reps), (-50.0, 50.0))
        self.assertEqual(F.timeline_window(reps, before_ms=20), (-20, 50.0))

    def test_without_a_settle_stage_time_is_kept(self):
        tl = cell_timeline(reps=1)
        tl["stage"] = "run"
        reps = F.timeline_reps(tl, "ttl_ring", "default", 1)
        self.assertEqual(reps["x_ms"].min(), 80.0)
        self.assertEqual(F.timeline_window(reps), (80.0, 150.0))

    def test_median_curve_of_known_values(self):
        reps = pd.DataFrame({"repetition": [0, 0, 1, 1, 2, 2],
                             "x_ms": [0, 10, 0, 10, 5, 10],
                             "y_mib": [0.0, 10.0, 2.0, 12.0, 100.0, 100.0]})
        x, y = F.median_curve(reps, 0, 10, 5)
        self.assertEqual(x.tolist(), [0, 5, 10])
        # At 0 only two repetitions cover: their median; at 5 and 10 all three.
        self.assertEqual(y.tolist(), [1.0, 7.0, 12.0])
        x, y = F.median_curve(reps, 20, 30, 10)
        self.assertTrue(np.isnan(y).all(), "no repetition covers 20-30 ms")


class TimelineFigureTest(TempDir):
    def test_figure_is_written_and_captioned(self):
        out = os.path.join(self.tmp, "rss_timeline_ttl_ring_default.png")
        paths = F.rss_timeline(cell_timeline(), out, "ttl_ring", "default", marks_ms=(10, 20),
                               marks_text="reclaim periods")
        self.assertEqual(paths, [out])
        with open(out, "rb") as f:
            self.assertEqual(f.read(8), PNG)
        self.assertIn("settle", caption(out))
        with self.assertRaises(NothingToPlot):
            F.rss_timeline(cell_timeline(), out, "rl_churn", "small")

    def test_plot_all_draws_the_run_timeline_with_the_filters(self):
        run_dir = os.path.join(self.tmp, "run")
        df = load_results(write_run(run_dir, {"glibc": 1.0, "mimalloc": 0.6},
                                    cells=[("ttl_ring", "default", 1)]))
        cell_timeline(allocators=("glibc", "mimalloc")).to_csv(
            os.path.join(run_dir, "timeline.csv"), index=False)
        written, _ = plot_all(df, os.path.join(self.tmp, "plots"), run_dir)
        self.assertIn("rss_timeline_ttl_ring_default.png",
                      [os.path.basename(p) for p in written])
        only = df[df["allocator"] != "mimalloc"]
        self.assertEqual(set(run_timeline(only, run_dir)["allocator"]), {"glibc"})
        self.assertIsNone(run_timeline(df, self.tmp), "no timeline.csv there")

    def test_plot_all_draws_an_exec_timeline(self):
        run_dir = os.path.join(self.tmp, "exec")
        df = load_results(write_run(run_dir, {"glibc": 1.0}, cells=[("exec:prog", "default", 1)]))
        lines = ["run_id,allocator,rep,t_ms,rss_bytes"]
        lines += [f"{RUN_ID},glibc,{rep},{t * 10}.000,{(t + 1) * MIB}"
                  for rep in range(2) for t in range(20)]
        with open(os.path.join(run_dir, "timeline.csv"), "w") as f:
            f.write("\n".join(lines) + "\n")
        tl = run_timeline(df, run_dir)
        self.assertEqual(set(tl["workload"]), {"exec:prog"})
        written, _ = plot_all(df, os.path.join(self.tmp, "plots"), run_dir)
        self.assertIn("rss_timeline_exec_prog_default.png",
                      [os.path.basename(p) for p in written])


if __name__ == "__main__":
    unittest.main()
