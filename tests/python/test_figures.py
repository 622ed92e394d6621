"""Tests of the figures (figures.py, plot_all, `plot` filters and formats):
the data behind each figure on known values, and every figure drawn from a
run the tests write (synthetic_run) and from the checked-in fixture."""
import os
import re
import shutil
import tempfile
import unittest

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from allocplot import figures as F
from allocplot.load import load_phases, load_results
from allocplot.plot import CAPTIONS, PLOT_NAMES, caption, plot_all, run_phases
from allocplot.style import (footer_text, machine_text, output_paths, parse_formats,
                             save_figure)
from synthetic_run import CONTEXT, RUN_ID, write_run
from test_allocplot import FIXTURE, PNG, TempDir, frame, run_cli


def cell_frame(values, metric="net_ns_per_op", cell=("w", "default", 1)):
    """Rows of one cell: {allocator: [value per repetition]}, one run."""
    rows = []
    for a, vs in values.items():
        for rep, v in enumerate(vs):
            rows.append((a,) + cell + (v,))
    df = frame(rows, columns=(metric,))
    df["run_id"] = "r"
    df["repetition"] = [rep for vs in values.values() for rep in range(len(vs))]
    df["trace_hash"] = "h"
    return df


GLIBC = [10.0, 10.2, 9.9, 10.1, 10.05]


class SignificanceGreyingTest(unittest.TestCase):
    def test_planted_slowdown_is_significant_and_equal_is_not(self):
        df = cell_frame({"glibc": GLIBC, "slow": [1.5 * v for v in GLIBC],
                         "same": [10.05, 9.95, 10.15, 10.0, 10.1]})
        r = F.ratio_cells(df, "net_ns_per_op", "glibc").set_index("allocator")
        self.assertEqual(sorted(r.index), ["same", "slow"])  # not the baseline
        self.assertAlmostEqual(r.at["slow", "ratio"], 1.5)
        self.assertTrue(r.at["slow", "significant"])
        self.assertFalse(r.at["same", "significant"])

    def test_three_against_three_is_never_significant(self):
        df = cell_frame({"glibc": [10.0, 10.1, 10.2], "three": [20.0, 21.0, 22.0]})
        r = F.ratio_cells(df, "net_ns_per_op", "glibc").set_index("allocator")
        self.assertFalse(r.at["three", "significant"])  # U test floor: p >= 0.1
        self.assertGreater(r.at["three", "ci_lo"], 1.0)  # the CI alone would say yes

    def test_grid_hatches_exactly_the_cells_that_are_not_significant(self):
        df = cell_frame({"glibc": GLIBC, "slow": [1.5 * v for v in GLIBC],
                         "same": [10.05, 9.95, 10.15, 10.0, 10.1]})
        skipped = cell_frame({"skip_me": [1.0]})
        skipped["status"] = "skipped"
        df = pd.concat([df, skipped], ignore_index=True)
        ratios = F.ratio_cells(df, "net_ns_per_op", "glibc")
        rows = F.ratio_rows(df, "net_ns_per_op", "glibc")
        values, sig, texts = F.heatmap_grid(ratios, df, rows, [("w", "default", 1)])
        self.assertEqual(rows, ["same", "skip_me", "slow"])
        self.assertEqual(list(sig[:, 0]), [False, False, True])
        self.assertEqual(list(texts[:, 0]), ["1.00", "skip", "1.50"])
        self.assertTrue(np.isnan(values[1, 0]))

    def test_caption_line_says_why_nothing_is_significant(self):
        df = cell_frame({"glibc": [1.0, 2.0, 3.0], "b": [4.0, 5.0, 6.0]})
        text = F.significance_text(F.ratio_cells(df, "net_ns_per_op", "glibc"))
        self.assertTrue(text.startswith("no cell is significant."), text)
        self.assertIn("cannot reach p < 0.05", text)
        df = cell_frame({"glibc": GLIBC, "slow": [2 * v for v in GLIBC]})
        self.assertEqual(F.significance_text(F.ratio_cells(df, "net_ns_per_op", "glibc")),
                         "1 of 1 cells significant")
        # Some cells significant, others too small to be: the count, not the excuse.
        few = cell_frame({"glibc": [1.0, 2.0, 3.0], "slow": [4.0, 5.0, 6.0]},
                         cell=("v", "default", 1))
        both = F.ratio_cells(pd.concat([df, few], ignore_index=True), "net_ns_per_op", "glibc")
        self.assertEqual(F.significance_text(both), "1 of 2 cells significant")

    def test_no_baseline_rows_is_nothing_to_plot(self):
        df = cell_frame({"a": GLIBC})
        with self.assertRaises(F.NothingToPlot) as ctx:
            F.ratio_cells(df, "net_ns_per_op", "glibc")
        self.assertIn("--baseline", str(ctx.exception))


class ParetoTest(unittest.TestCase):
    def test_front_of_known_points(self):
        xs = [1, 2, 3, 4, 2, 5, 1]
        ys = [5, 3, 4, 1, 3, 5, 6]
        # (3,4) is beaten by (2,3); (5,5) by all of the front; (1,6) by (1,5).
        self.assertEqual(list(F.pareto_front(xs, ys)),
                         [True, True, False, True, True, False, False])

    def test_single_point_and_all_equal(self):
        self.assertEqual(list(F.pareto_front([3], [3])), [True])
        self.assertEqual(list(F.pareto_front([1, 1], [2, 2])), [True, True])

    def test_tradeoff_points_mark_the_front_per_workload(self):
        rows = [("fast_big", "w", "default", 1, 1.0, 100.0), ("slow_small", "w", "default", 1,
                                                               5.0, 10.0),
                ("worse", "w", "default", 1, 6.0, 200.0), ("null", "w", "default", 1, 0.1,
                                                           float("nan")),
                ("worse", "v", "default", 1, 6.0, 200.0)]
        df = frame(rows, columns=("net_ns_per_op", "peak_rss_net_bytes"))
        pts = F.tradeoff_points(df, "net_ns_per_op", 1).set_index(["workload", "allocator"])
        self.assertNotIn(("w", "null"), pts.index)  # no memory columns
        self.assertTrue(pts.at[("w", "fast_big"), "front"])
        self.assertTrue(pts.at[("w", "slow_small"), "front"])
        self.assertFalse(pts.at[("w", "worse"), "front"])
        self.assertTrue(pts.at[("v", "worse"), "front"])  # alone in its workload


class ScalingCellsTest(unittest.TestCase):
    def test_only_workloads_with_more_than_one_thread_count(self):
        rows = [("glibc", "a", "default", 1, 1.0, 1.0), ("glibc", "a", "default", 2, 1.0, 1.0),
                ("glibc", "b", "small", 1, 1.0, 1.0),
                ("glibc", "c", "default", 1, 1.0, 1.0), ("null", "c", "default", 2, 1.0, 1.0),
                ("glibc", "d", "default", 1, 1.0, 1.0), ("glibc", "d", "default", 2, 1.0, 1.0),
                ("glibc", "e", "x", 1, 1.0, 1.0), ("jemalloc", "e", "x", 4, 1.0, 1.0)]
        df = frame(rows)
        df.loc[(df["workload"] == "d") & (df["threads"] == 2), "status"] = "crashed"
        # c's second thread count is the calibration's only; d's crashed.
        self.assertEqual(F.scaling_cells(df), [("a", "default"), ("e", "x")])


class HarnessScalingTest(unittest.TestCase):
    """The scaling plot draws the calibration adapter's own throughput and
    says how far the harness alone scales, the line every allocator's is
    read against."""

    def test_the_harness_alone_is_drawn_and_named(self):
        from unittest import mock
        from allocplot import plot as P
        from allocplot.stats import summarize
        rows = [("glibc", "w", "default", 1, 100.0, 10.0), ("glibc", "w", "default", 2, 150.0, 13.0),
                ("null", "w", "default", 1, 260.0, 3.8), ("null", "w", "default", 2, 247.0, 8.1)]
        df = frame(rows)
        s = summarize(df, "mops")
        text = P.harness_scaling(s[s["allocator"] == "null"].sort_values("threads"))
        self.assertIn("reaches 0.95x its 1-thread throughput at 2 threads (ideal 2x)", text)
        self.assertIsNone(P.harness_scaling(s[(s["allocator"] == "null") & (s["threads"] == 1)]))

        def drawn(frame_):
            figs = []
            with mock.patch.object(P, "save_figure", lambda fig, *a, **k: figs.append(fig)):
                P.scaling(frame_, "unused.png", workload="w", profile="default")
            ax = figs[0].axes[0]
            dashed = [list(ln.get_ydata()) for ln in ax.get_lines() if ln.get_linestyle() == "--"]
            title = ax.get_title()
            plt.close(figs[0])
            return title, dashed

        title, dashed = drawn(df)
        self.assertIn("the harness alone (null, dashed)", title)
        self.assertEqual(dashed, [[260.0, 247.0]])
        # Without the calibration's rows the plot says nothing about it.
        title, dashed = drawn(df[df["allocator"] != "null"])
        self.assertNotIn("harness alone", title)
        self.assertEqual(dashed, [])


class LayoutTest(unittest.TestCase):
    def test_heatmap_grows_with_counts_and_shrinks_fonts_when_capped(self):
        small = F.heatmap_layout(5, 6)
        big = F.heatmap_layout(25, 40)
        self.assertGreater(big["figsize"][0], small["figsize"][0])
        self.assertGreater(big["figsize"][1], small["figsize"][1])
        self.assertLessEqual(big["grid"][0], 24.0)
        huge = F.heatmap_layout(60, 120)
        self.assertLessEqual(huge["grid"][0], 24.0 + 1e-9)
        self.assertLess(huge["annot"], small["annot"])
        self.assertGreaterEqual(huge["annot"], 4.5)

    def test_ratio_text_fits_a_cell(self):
        self.assertEqual([F.ratio_text(v) for v in (0.004, 0.934, 1.0, 12.34, 116.3,
                                                    float("nan"))],
                         ["<.01", "0.93", "1.00", "12.3", "116", "n/a"])
        self.assertTrue(all(len(F.ratio_text(v)) <= 4 for v in np.geomspace(0.001, 999, 200)))

    def test_colour_limit_ignores_one_outlier(self):
        values = np.array([[1.2, 0.8, 1.1, 0.9] * 10 + [500.0]])
        self.assertLess(F.color_limit(values), 2.0)
        self.assertEqual(F.color_limit(np.array([np.nan])), 2.0)
        self.assertEqual(F.color_limit(np.array([1.0, 1.01])), 1.5)

    def test_colour_bar_ticks_thin_out_on_a_short_bar(self):
        self.assertEqual(F.colorbar_ticks(16, 4.0), [1 / 16, 1 / 8, 1 / 4, 1 / 2, 1, 2, 4, 8, 16])
        self.assertEqual(F.colorbar_ticks(16, 1.8), [1 / 16, 1 / 4, 1, 4, 16])
        self.assertEqual(F.colorbar_ticks(1.5, 1.8), [2 / 3, 1, 1.5])
        self.assertIn(1, F.colorbar_ticks(8, 0.5))

    def test_log_ticks_read_in_less_than_a_decade(self):
        self.assertEqual(F.log_tick_values(1, 1000), [1, 10, 100, 1000])
        np.testing.assert_allclose(F.log_tick_values(0.02, 0.6), [0.02, 0.05, 0.1, 0.2, 0.5])
        np.testing.assert_allclose(F.log_tick_values(140, 290), [150, 200, 250])
        np.testing.assert_allclose(F.log_tick_values(240, 292), [240, 255, 270, 285])
        self.assertEqual([F.tick_text(v) for v in (0.05, 2.5, 300, 5000, 2e5)],
                         ["0.05", "2.5", "300", "5,000", "200,000"])
        self.assertLessEqual(len(F.log_tick_values(1e-3, 1e9)), 10)

    def test_dot_axis_keeps_one_and_caps(self):
        t = pd.DataFrame({"ratio": [0.5, 0.7], "ci_hi": [0.6, np.nan]})
        self.assertEqual(F.dot_xmax(t), 1.25)
        t = pd.DataFrame({"ratio": [0.5, 20.0], "ci_hi": [0.6, 30.0]})
        self.assertEqual(F.dot_xmax(t), F.DOT_CAP)

    def test_labels_avoid_each_other_and_obstacles(self):
        # Two labels at the same point: the second goes elsewhere.
        offsets = F.place_labels([(100, 100), (100, 100)], [(50, 10), (50, 10)], [])
        self.assertEqual(offsets[0], F.LABEL_OFFSETS[0])
        self.assertNotEqual(offsets[1], offsets[0])
        # An obstacle where the first choice would go.
        first = F.place_labels([(0, 0)], [(50, 10)], [(0, 0, 60, 20)])
        self.assertNotEqual(first[0], F.LABEL_OFFSETS[0])
        # Bounds keep a label inside its panel: no room right, so left.
        inside = F.place_labels([(95, 50)], [(50, 10)], [], bounds=(0, 0, 100, 100))
        self.assertLess(inside[0][0], 0)

    def test_line_groups(self):
        names = ["glibc", "jemalloc", "pmr_monotonic", "arena", "coalesce_arena", "inhouse",
                 "mempool_baseline", "mempool_best_fit", "pool", "pool_tls", "slab", "zzz"]
        groups = F.line_groups(names, size=4)
        self.assertEqual(sorted(a for g in groups for a in g), sorted(names))
        self.assertTrue(all(len(g) <= 4 for g in groups))
        self.assertEqual(groups[0], ["glibc", "jemalloc"])
        self.assertEqual(groups[2:], [["arena", "coalesce_arena", "inhouse"],
                                      ["mempool_baseline", "mempool_best_fit", "pool",
                                       "pool_tls"], ["slab", "zzz"]])


class FooterAndFormatTest(unittest.TestCase):
    def test_footer_names_run_n_and_machine(self):
        df = load_results(FIXTURE)
        text = footer_text(df, CONTEXT)
        self.assertIn("run 20261121T111049Z-b46e", text)
        self.assertIn("n=2-3 repetitions per cell", text)
        self.assertIn("Test CPU, 2 cores", text)
        self.assertIn("Linux 6.1.0-test", text)
        self.assertIn("THP madvise", text)
        self.assertIn("commit 0123456", text)
        self.assertIn("machine not recorded (no context.json", footer_text(df, {}))
        two = df.copy()
        two.loc[0, "run_id"] = "other"
        self.assertIn("runs 20261121T111049Z-b46e, other", footer_text(two, {}))

    def test_machine_text_takes_what_there_is(self):
        self.assertEqual(machine_text({"hostname": "bench1", "cpu_model": "X"}), "bench1, X")
        self.assertIn("dirty", machine_text({"git_commit": "abcdef012", "git_dirty": True}))

    def test_formats(self):
        self.assertEqual(parse_formats("png"), ("png",))
        self.assertEqual(parse_formats("svg,PNG,pdf,svg"), ("png", "svg", "pdf"))
        with self.assertRaises(ValueError) as ctx:
            parse_formats("png,jpg")
        self.assertEqual(str(ctx.exception), "unknown format 'jpg'; formats: png, svg, pdf")
        self.assertEqual(output_paths("d/x.png", ("png", "pdf")), ["d/x.png", "d/x.pdf"])

    def test_captions(self):
        self.assertIn("check --plots", caption("plots/scaling_rl_small.png"))
        self.assertEqual(caption("scaling_ttl_ring_default.svg"), CAPTIONS["scaling_"])
        self.assertEqual(caption("heatmap_time.pdf"), CAPTIONS["heatmap_time.png"])
        self.assertIsNone(caption("notes.png"))
        for name, text in CAPTIONS.items():
            self.assertTrue(text.endswith("."), name)
            self.assertEqual(text.count(". "), 0, f"{name}: one sentence")


# The figures plot_all writes for synthetic_run's default run.
RUN_FIGURES = sorted(
    PLOT_NAMES + ["latency_cdf.png", "heatmap_time.png", "heatmap_memory.png"] +
    [f"{kind}_{w}.png" for w in ("rl_churn_small", "size_ramp_alloc_all", "ttl_ring_default")
     for kind in ("ratio_dots", "latency_ladder")] +
    ["scaling_rl_churn_small.png", "scaling_size_ramp_alloc_all.png",
     "memory_timeline_size_ramp_alloc_all.png", "time_vs_memory_t1.png",
     "time_vs_memory_t2.png"])


STALE = ["ratio_dots_gone_default.png", "heatmap_time.svg", "scaling_x_y.pdf"]
NOT_OURS = ["notes.txt", "my_plot.png"]


class PlotAllTest(unittest.TestCase):
    """One plot_all of the synthetic run, into a directory holding files of
    an earlier run and files that are not figures."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp()
        cls.run_dir = os.path.join(cls.tmp, "run")
        cls.df = load_results(write_run(cls.run_dir))
        cls.out = os.path.join(cls.tmp, "plots")
        os.makedirs(cls.out)
        for name in STALE + NOT_OURS:
            with open(os.path.join(cls.out, name), "w") as f:
                f.write("old")
        cls.written, cls.skipped = plot_all(cls.df, cls.out, cls.run_dir)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp)

    def test_every_figure_is_written_and_has_a_caption(self):
        self.assertEqual(sorted(os.path.basename(p) for p in self.written), RUN_FIGURES)
        for p in self.written:
            assertFigure(self, p)
            self.assertIsNotNone(caption(p), p)

    def test_files_of_an_earlier_run_are_removed_and_named(self):
        self.assertEqual(sorted(os.listdir(self.out)), sorted(RUN_FIGURES + NOT_OURS))
        self.assertEqual(self.skipped, [f"removed 3 figure files of an earlier run from "
                                        f"{self.out}: {', '.join(sorted(STALE))}"])


def assertFigure(test, path, min_size=15000):
    with open(path, "rb") as f:
        test.assertEqual(f.read(8), PNG, path)
    test.assertGreater(os.path.getsize(path), min_size, path)


class FigureFilesTest(TempDir):
    def setUp(self):
        super().setUp()
        self.run_dir = os.path.join(self.tmp, "run")
        self.out = os.path.join(self.tmp, "plots")

    def small_run(self, **kw):
        """Two allocators, one or two cells: quick to draw."""
        kw.setdefault("cells", [("rl_churn", "small", 1)])
        return load_results(write_run(self.run_dir, {"glibc": 1.0, "mimalloc": 0.6}, **kw))

    def test_svg_and_pdf_on_request(self):
        out = os.path.join(self.tmp, "one.png")
        paths = F.ratio_heatmap(self.small_run(), out, "net_ns_per_op", footer="f",
                                formats=("png", "svg", "pdf"))
        self.assertEqual(paths, [out, out[:-3] + "svg", out[:-3] + "pdf"])
        with open(paths[1]) as f:
            self.assertIn("<svg", f.read())
        with open(paths[2], "rb") as f:
            self.assertEqual(f.read(5), b"%PDF-")

    def test_heatmap_hatches_the_cells_that_are_not_significant(self):
        df = load_results(write_run(self.run_dir, cells=[("rl_churn", "small", 1)]))
        ratios = F.ratio_cells(df, "net_ns_per_op", "glibc")
        self.assertEqual(sorted(ratios[~ratios["significant"]]["allocator"]), ["same"])
        out = os.path.join(self.tmp, "h.png")
        F.ratio_heatmap(df, out, "net_ns_per_op", ratios=ratios, formats=("png", "svg"))
        with open(out[:-3] + "svg") as f:
            svg = f.read()
        # A hatch is an SVG pattern fill: the legend's and the one cell's.
        self.assertEqual(len(re.findall(r"fill: url\(#h", svg)), 2)

    def test_phases_follow_the_plot_filters(self):
        write_run(self.run_dir)
        df = load_results(os.path.join(self.run_dir, "results.csv"))
        df = df[df["allocator"].isin(["glibc", "slow"])]
        phases = run_phases(df, self.run_dir, [])
        self.assertEqual(sorted(set(phases["allocator"])), ["glibc", "slow"])
        self.assertEqual(set(phases["workload"]), {"size_ramp"})
        self.assertIsNone(run_phases(df[df["workload"] != "size_ramp"], self.tmp, []))

    def test_each_figure_function_from_the_run(self):
        df = load_results(write_run(self.run_dir))
        phases = load_phases(os.path.join(self.run_dir, "phases.csv"))
        footer = footer_text(df, CONTEXT)
        p = lambda name: os.path.join(self.tmp, name)  # noqa: E731
        drawn = [
            F.ratio_heatmap(df, p("h.png"), "peak_rss_net_bytes", footer=footer),
            F.ratio_dots(df, p("d.png"), "rl_churn", "small", "net_ns_per_op"),
            F.latency_ladder(df, p("l.png"), "ttl_ring", "default"),
            F.memory_timeline(phases, p("m.png"), "size_ramp", "alloc_all"),
            F.time_vs_memory(df, p("t.png"), 1, "net_ns_per_op"),
        ]
        for paths in drawn:
            self.assertEqual(len(paths), 1)
            assertFigure(self, paths[0])
        with self.assertRaises(F.NothingToPlot):
            F.memory_timeline(phases, p("x.png"), "ttl_ring", "default")
        with self.assertRaises(F.NothingToPlot):
            F.ratio_dots(df, p("x.png"), "nosuch", "default", "net_ns_per_op")

    def test_heatmap_from_the_checked_in_fixture(self):
        out = os.path.join(self.tmp, "heatmap.png")
        self.assertEqual(F.ratio_heatmap(load_results(FIXTURE), out, "net_ns_per_op", "glibc"),
                         [out])
        assertFigure(self, out)

    def test_skipped_allocator_is_marked_not_dropped(self):
        df = load_results(write_run(self.run_dir, skipped={("slow", "ttl_ring")}))
        ratios = F.ratio_cells(df, "net_ns_per_op", "glibc")
        cells = sorted(set(zip(df["workload"], df["profile"], df["threads"])))
        rows = F.ratio_rows(df, "net_ns_per_op", "glibc")
        _, _, texts = F.heatmap_grid(ratios, df, rows, cells)
        self.assertEqual(texts[rows.index("slow"), cells.index(("ttl_ring", "default", 1))],
                         "skip")

    def test_without_the_baseline_the_rest_is_drawn(self):
        df = self.small_run()
        df = df[df["allocator"] != "glibc"]
        written, skipped = plot_all(df, self.out, self.run_dir)
        names = {os.path.basename(p) for p in written}
        self.assertNotIn("heatmap_time.png", names)
        self.assertIn("time_vs_memory_t1.png", names)
        self.assertEqual([s for s in skipped if s.startswith("skipped heatmap")], [
            "skipped heatmap_time.png and ratio_dots_*.png: baseline glibc has no ok rows with "
            "net_ns_per_op (choose another with --baseline)",
            "skipped heatmap_memory.png: baseline glibc has no ok rows with peak_rss_net_bytes "
            "(choose another with --baseline)"])
        with self.assertRaises(F.NothingToPlot):  # mimalloc alone: nothing to divide
            F.ratio_cells(df, "net_ns_per_op", "mimalloc")

    def test_missing_phases_file_is_named(self):
        df = self.small_run(cells=[("size_ramp", "alloc_all", 1)])
        os.remove(os.path.join(self.run_dir, "phases.csv"))
        _, skipped = plot_all(df, self.out, self.run_dir)
        self.assertEqual(skipped, ["skipped scaling_rl_small.png: no ok rows for rl_churn/small",
                                   f"skipped memory_timeline_*.png: size_ramp ran but there is "
                                   f"no phases.csv in {self.run_dir}"])

    def test_footer_is_drawn_below_everything_and_kept_in_the_file(self):
        heights = {}
        for footer in (None, f"run {RUN_ID}"):
            fig, ax = plt.subplots()
            ax.plot([1, 2], [1, 2])
            ax.set_xlabel("x")
            out = os.path.join(self.tmp, f"f{footer is None}.png")
            save_figure(fig, out, footer=footer)
            heights[footer] = plt.imread(out).shape[0]
        texts = [t for t in fig.texts if RUN_ID in t.get_text()]
        self.assertEqual(len(texts), 1)
        renderer = fig.canvas.get_renderer()
        label_bottom = ax.xaxis.label.get_window_extent(renderer).y0
        self.assertLess(texts[0].get_window_extent(renderer).y1, label_bottom)
        # The file grows by the footer's line (7 pt at 200 dpi is ~20 px).
        self.assertGreater(heights[f"run {RUN_ID}"] - heights[None], 15)


class PlotCliTest(TempDir):
    def setUp(self):
        super().setUp()
        self.run_dir = os.path.join(self.tmp, "run")
        self.csv = write_run(self.run_dir, {"glibc": 1.0, "slow": 1.5},
                             cells=[("rl_churn", "small", 1), ("rl_churn", "small", 2),
                                    ("ttl_ring", "default", 1)])
        self.out = os.path.join(self.tmp, "plots")

    def assertRefused(self, argv, *words):
        rc, out, err = run_cli(["plot", self.csv, "--out", self.out] + argv)
        self.assertEqual((rc, out), (2, ""), err)
        self.assertEqual(len(err.splitlines()), 1, err)
        for word in words:
            self.assertIn(word, err)
        self.assertFalse(os.path.exists(self.out))  # refused before drawing

    def test_unknown_names_are_refused_in_one_line(self):
        self.assertRefused(["--allocators", "slow,nosuch"], "unknown allocator 'nosuch'",
                           "allocators in this file: glibc, null, slow")
        self.assertRefused(["--baseline", "nosuch"], "unknown allocator 'nosuch'")
        self.assertRefused(["--workloads", "rl_churn:big"], "unknown workload 'rl_churn:big'",
                           "workloads in this file: rl_churn, rl_churn:small, ttl_ring")
        self.assertRefused(["--format", "png,gif"], "unknown format 'gif'")

    def test_filters_select_what_is_drawn(self):
        rc, out, err = run_cli(["plot", self.csv, "--out", self.out, "--allocators", "slow",
                                "--workloads", "rl_churn:small", "--format", "png,svg"])
        self.assertEqual(rc, 0, err)
        names = sorted(os.path.basename(p) for p in out.splitlines())
        self.assertIn("heatmap_time.png", names)  # the baseline, glibc, is kept
        self.assertIn("heatmap_time.svg", names)
        self.assertEqual([n for n in names if n.startswith("ratio_dots_")],
                         ["ratio_dots_rl_churn_small.png", "ratio_dots_rl_churn_small.svg"])
        self.assertFalse([n for n in names if "ttl_ring" in n], names)
        self.assertEqual(run_cli(["check", self.csv, "--allocators", "slow", "--plots",
                                  self.out, "--workloads", "rl_churn"])[0], 0)

    def test_baseline_option(self):
        rc, out, err = run_cli(["plot", self.csv, "--out", self.out, "--baseline", "slow",
                                "--workloads", "ttl_ring"])
        self.assertEqual(rc, 0, err)
        self.assertIn("heatmap_time.png", {os.path.basename(p) for p in out.splitlines()})
        ratios = F.ratio_cells(load_results(self.csv), "net_ns_per_op", "slow")
        self.assertEqual(sorted(set(ratios["allocator"])), ["glibc"])


if __name__ == "__main__":
    unittest.main()
