"""Tests of the bootstrap CIs, the U test, significance and `allocplot compare`
/ `table --stats`, on the checked-in fixtures (compare_a.csv, compare_b.csv,
results_small.csv)."""
import os
import unittest

import numpy as np
import pandas as pd
from scipy.stats import mannwhitneyu, permutation_test, rankdata

from allocplot import significance as sg
from allocplot.load import load_results
from test_allocplot import FIXTURE, FIXTURES, TempDir, run_cli

A = os.path.join(FIXTURES, "compare_a.csv")
B = os.path.join(FIXTURES, "compare_b.csv")


def verdicts(t):
    return {(r.allocator, r.workload): r.verdict for r in t.itertuples()}


class MedianCiTest(unittest.TestCase):
    x = [40.0, 41.0, 39.5, 40.5, 42.0, 38.0, 45.0]

    def test_ci_contains_the_median(self):
        lo, hi = sg.median_ci(self.x)
        self.assertLessEqual(lo, np.median(self.x))
        self.assertGreaterEqual(hi, np.median(self.x))
        self.assertLess(lo, hi)

    def test_reproducible_for_a_fixed_seed(self):
        self.assertEqual(sg.median_ci(self.x), sg.median_ci(self.x))
        self.assertEqual(sg.ratio_ci(self.x, self.x[::-1], False),
                         sg.ratio_ci(self.x, self.x[::-1], False))
        # The seed is what fixes it: another seed resamples differently (with
        # few resamples, so the interpolated bounds show it).
        self.assertNotEqual(sg.median_ci(self.x, 200, seed=1), sg.median_ci(self.x, 200, seed=2))

    def test_undefined_for_one_value(self):
        self.assertTrue(all(np.isnan(sg.median_ci([3.0]))))


class PairingTest(unittest.TestCase):
    def test_same_repetitions_of_one_run_are_paired(self):
        keys = [("r1", 0), ("r1", 1), ("r1", 2)]
        self.assertTrue(sg.is_paired(keys, list(reversed(keys))))

    def test_other_run_other_repetitions_or_duplicates_are_unpaired(self):
        keys = [("r1", 0), ("r1", 1), ("r1", 2)]
        self.assertFalse(sg.is_paired(keys, [("r2", 0), ("r2", 1), ("r2", 2)]))
        self.assertFalse(sg.is_paired(keys, keys[:2]))
        self.assertFalse(sg.is_paired(keys + [("r1", 0)], keys + [("r1", 0)]))

    def test_paired_resampling_keeps_repetitions_together(self):
        # b is exactly twice a repetition by repetition: paired, every
        # resample's ratio is 2; unpaired resampling scatters it.
        a = np.array([10.0, 20.0, 30.0, 40.0, 50.0])
        self.assertEqual(sg.ratio_ci(a, 2 * a, paired=True), (2.0, 2.0))
        lo, hi = sg.ratio_ci(a, 2 * a, paired=False)
        self.assertLess(lo, 1.5)
        self.assertGreater(hi, 3.0)

    def test_compare_says_paired_in_one_run_and_unpaired_across_runs(self):
        a = load_results(A)
        one = sg.compare_frames(a, a, "net_ns_per_op", a_alloc="glibc", b_alloc="mimalloc")
        self.assertEqual(set(one["pairing"]), {"paired"})
        two = sg.compare_frames(a, load_results(B), "net_ns_per_op")
        self.assertEqual(set(two["pairing"]), {"unpaired"})


class UTestTest(unittest.TestCase):
    def test_p_of_a_hand_example(self):
        # Completely separated samples of 4: U = 0, exact two-sided
        # p = 2 / C(8, 4) = 2/70.
        a, b = [1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0]
        self.assertAlmostEqual(sg.u_test_p(a, b), 2.0 / 70.0)
        a, b = [3.1, 1.2, 5.5, 2.0, 4.4], [4.0, 6.1, 7.3, 5.0, 8.8]
        self.assertEqual(sg.u_test_p(a, b),
                         mannwhitneyu(a, b, alternative="two-sided").pvalue)

    def test_ties_at_small_n_use_the_exact_permutation_p(self):
        # Memory counted in whole pages ties; scipy then takes the normal
        # approximation (p = 0.072 here), below what 3 + 3 values can give.
        a, b = [100.0, 100.0, 104.0], [108.0, 108.0, 112.0]
        self.assertLess(mannwhitneyu(a, b, alternative="two-sided").pvalue, sg.min_p(3, 3))
        self.assertAlmostEqual(sg.u_test_p(a, b), 0.1)
        # Against scipy's own exact permutation test of the rank sum.
        a, b = [1.0, 2.0, 2.0, 3.0, 5.0], [2.0, 3.0, 4.0, 4.0, 6.0, 7.0]

        def rank_sum(x, y, axis):
            pooled = np.concatenate([x, y], axis=axis)
            return np.sum(rankdata(pooled, axis=axis)[..., :x.shape[axis]], axis=axis)

        ref = permutation_test((np.array(a), np.array(b)), rank_sum, vectorized=True,
                               permutation_type="independent", n_resamples=np.inf,
                               alternative="two-sided").pvalue
        self.assertAlmostEqual(sg.u_test_p(a, b), ref, places=9)
        self.assertEqual(sg.u_test_p([5.0, 5.0], [5.0, 5.0, 5.0]), 1.0)

    def test_minimum_achievable_p(self):
        self.assertAlmostEqual(sg.min_p(3, 3), 0.1)
        self.assertAlmostEqual(sg.min_p(2, 2), 1.0 / 3.0)
        self.assertAlmostEqual(sg.min_p(4, 4), 2.0 / 70.0)


class SignificanceTest(unittest.TestCase):
    def test_needs_both_p_and_a_ci_excluding_one(self):
        self.assertTrue(sg.significant(0.01, 1.1, 1.3))
        self.assertTrue(sg.significant(0.01, 0.7, 0.9))
        self.assertFalse(sg.significant(0.01, 0.9, 1.2))   # p small, CI holds 1
        self.assertFalse(sg.significant(0.10, 1.1, 1.3))   # CI excludes 1, p too big
        self.assertFalse(sg.significant(float("nan"), 1.1, 1.3))

    def test_separated_samples_of_three_are_not_significant(self):
        # CI of the ratio well above 1, but n = 3 vs 3 cannot reach p < 0.05.
        a = pd.Series([1.0, 1.1, 1.2], index=[("r", 0), ("r", 1), ("r", 2)])
        c = sg.compare_pair(a, 2 * a, "net_ns_per_op")
        self.assertGreater(c["ci_lo"], 1.0)
        self.assertAlmostEqual(c["p"], 0.1)
        self.assertEqual(c["verdict"], "no significant difference")


class CompareTest(TempDir):
    def test_verdicts_across_two_runs(self):
        rc, out, err = run_cli(["compare", A, B])
        self.assertEqual(rc, 0, err)
        t = sg.compare_frames(load_results(A), load_results(B), "net_ns_per_op")
        self.assertEqual(verdicts(t), {("glibc", "rl_churn"): "faster",
                                       ("glibc", "ttl_ring"): "no significant difference"})
        self.assertIn("summary: 1 faster, 0 slower, 1 no significant difference", out)
        self.assertNotIn("warning", out)

    def test_two_allocators_of_one_run(self):
        rc, out, err = run_cli(["compare", A, "--allocators", "glibc,mimalloc"])
        self.assertEqual(rc, 0, err)
        self.assertIn("summary: 0 faster, 1 slower, 1 no significant difference", out)
        self.assertIn("| mimalloc | rl_churn | small | 1 | 5/5 |", out)

    def test_refuses_cells_whose_trace_hash_differs(self):
        b = pd.read_csv(B, dtype=str, keep_default_na=False)
        b.loc[b["workload"] == "ttl_ring", "trace_hash"] = "0123456789abcdef"
        path = os.path.join(self.tmp, "b.csv")
        b.to_csv(path, index=False)
        rc, out, err = run_cli(["compare", A, path])
        self.assertEqual(rc, 2)
        self.assertEqual(len(err.strip().splitlines()), 1)
        self.assertIn("glibc ttl_ring/default threads=1", err)
        self.assertNotIn("rl_churn", err)
        self.assertEqual(out, "")

    def test_fail_if_slower(self):
        argv = ["compare", A, "--allocators", "glibc,mimalloc"]
        rc, _, err = run_cli(argv + ["--fail-if-slower", "5%"])
        self.assertEqual(rc, 1)
        self.assertIn("mimalloc rl_churn/small threads=1", err)
        self.assertEqual(run_cli(argv + ["--fail-if-slower", "50%"])[0], 0)
        self.assertEqual(run_cli(["compare", A, B, "--fail-if-slower", "5"])[0], 0)

    def test_verdict_words_follow_the_metric(self):
        self.assertEqual(sg.verdict_words("net_ns_per_op"), ("faster", "slower"))
        self.assertEqual(sg.verdict_words("mops"), ("faster", "slower"))
        self.assertEqual(sg.verdict_words("peak_rss_net_bytes"), ("smaller", "larger"))
        self.assertEqual(sg.verdict_words("minflt"), ("better", "worse"))
        a = pd.Series([10.0, 11, 12, 13, 14], index=[("r", i) for i in range(5)])
        for metric, words in (("peak_rss_net_bytes", ("larger", "smaller")),
                              ("net_ns_per_op", ("slower", "faster")),
                              ("mops", ("faster", "slower"))):
            up, down = sg.compare_pair(a, 2 * a, metric), sg.compare_pair(2 * a, a, metric)
            self.assertEqual((up["verdict"], down["verdict"]), words, metric)
            self.assertEqual(up["worse"], metric != "mops")

    def test_memory_compare_and_its_gate(self):
        # A memory comparison says smaller/larger, and --fail-if-slower gates
        # on "larger" as it gates time on "slower".
        df = pd.read_csv(A, dtype=str, keep_default_na=False)
        big = df["allocator"] == "mimalloc"
        df.loc[big, "peak_rss_net_bytes"] = (
            df.loc[big, "peak_rss_net_bytes"].astype(float) * 1.5).astype(int).astype(str)
        path = os.path.join(self.tmp, "mem.csv")
        df.to_csv(path, index=False)
        argv = ["compare", path, "--allocators", "glibc,mimalloc", "--metric",
                "peak_rss_net_bytes"]
        rc, out, err = run_cli(argv)
        self.assertEqual(rc, 0, err)
        self.assertIn("larger", out)
        self.assertNotIn("slower", out)
        self.assertRegex(out, r"summary: 0 smaller, [12] larger")
        rc, _, err = run_cli(argv + ["--fail-if-slower", "20%"])
        self.assertEqual(rc, 1)
        self.assertIn("larger (limit 20%)", err)

    def test_small_n_warning_once(self):
        rc, out, _ = run_cli(["compare", FIXTURE, "--allocators", "glibc,mimalloc"])
        self.assertEqual(rc, 0)
        warnings = [line for line in out.splitlines() if "warning" in line]
        self.assertEqual(len(warnings), 1)
        self.assertIn("n = 3 vs 3 (minimum p = 0.1)", warnings[0])
        self.assertIn("6 no significant difference", out)

    def test_cells_on_one_side_only_are_named(self):
        rc, out, _ = run_cli(["compare", B, A])
        self.assertEqual(rc, 0)
        self.assertIn("not compared, no ok rows of net_ns_per_op on the A side: "
                      "mimalloc rl_churn/small threads=1, mimalloc ttl_ring/default threads=1",
                      out)
        self.assertNotIn("not compared", run_cli(["compare", A, B])[1])

    def test_bad_arguments(self):
        for argv in (["compare", A], ["compare", A, B, "--allocators", "glibc,mimalloc"],
                     ["compare", A, "--allocators", "glibc,nosuch"],
                     ["compare", A, B, "--fail-if-slower", "lots"]):
            self.assertEqual(run_cli(argv)[0], 2, argv)


class StatsTableTest(unittest.TestCase):
    def test_columns_with_a_baseline(self):
        rc, out, err = run_cli(["table", A, "--stats", "--baseline", "glibc",
                                "--metric", "net_ns_per_op"])
        self.assertEqual(rc, 0, err)
        lines = out.splitlines()
        self.assertIn("| workload | profile | threads | allocator | n | median [CI] | "
                      "ratio to glibc [CI] | pairing | p | significant |", lines)
        row = [line for line in lines if "| rl_churn | small | 1 | mimalloc |" in line][0]
        self.assertTrue(row.endswith("| paired | 0.008 | * |"), row)
        self.assertIn("| 1.3 [", row)

    def test_without_a_baseline(self):
        rc, out, _ = run_cli(["table", FIXTURE, "--stats", "--metric", "ns_per_op"])
        self.assertEqual(rc, 0)
        self.assertIn("| workload | profile | threads | allocator | n | median [CI] |",
                      out.splitlines())
        self.assertNotIn("warning", out)

    def test_small_n_warning(self):
        rc, out, _ = run_cli(["table", FIXTURE, "--stats", "--baseline", "glibc"])
        self.assertEqual(rc, 0)
        self.assertEqual(sum("warning" in line for line in out.splitlines()), 1)


class ScalingTest(TempDir):
    """`allocplot scaling`: throughput at 2 threads over 1, with a CI, next
    to the calibration's own scaling on the same trace."""

    def _frame(self):
        rows = []
        for rep in range(5):
            j = 1 + 0.01 * (rep - 2)
            for alloc, t, mops in [("slab", 1, 100.0), ("slab", 2, 170.0), ("null", 1, 300.0),
                                   ("null", 2, 525.0), ("pool", 1, 80.0)]:
                rows.append(dict(run_id="r", repetition=rep, status="ok", allocator=alloc,
                                 workload="fixed_size", profile="64", threads=t, mops=mops * j))
        return pd.DataFrame(rows)

    def test_ratio_ci_and_harness(self):
        t = sg.scaling_table(self._frame()).set_index("allocator")
        self.assertNotIn("pool", t.index)  # one thread count only: nothing to scale from
        self.assertAlmostEqual(t.loc["slab", "ratio"], 1.7)
        self.assertAlmostEqual(t.loc["slab", "harness_ratio"], 1.75)
        self.assertLess(t.loc["slab", "ci_lo"], 1.7)
        self.assertGreater(t.loc["slab", "ci_hi"], 1.7)
        self.assertEqual((t.loc["slab", "n_base"], t.loc["slab", "n"]), (5, 5))
        out = sg.scaling_report(self._frame())
        self.assertIn("| slab | fixed_size | 64 | 2 | 1 | 5/5 | 100 | 170 | 1.7 [", out)

    def test_cli_and_unknown_allocator(self):
        rc, out, err = run_cli(["scaling", FIXTURE])
        self.assertEqual(rc, 0, err)
        self.assertIn("scaling [CI]", out)
        rc, _, err = run_cli(["scaling", FIXTURE, "--allocators", "nosuch"])
        self.assertEqual(rc, 2)
        self.assertIn("unknown allocator", err)


if __name__ == "__main__":
    unittest.main()


class PlantedDifferenceTest(unittest.TestCase):
    """Issue 12's check of power and false alarms: with 9 repetitions per side
    and noise of a few percent, a planted 10% slowdown is found, and two
    samples of one distribution are not told apart, over many seeds."""

    @staticmethod
    def sample(rng, scale, n=9):
        # Timing-like noise: a base, multiplicative jitter, and rare long tails.
        x = scale * 100.0 * (1.0 + 0.03 * rng.standard_normal(n))
        x[rng.random(n) < 0.1] *= 1.15
        return pd.Series(x, index=pd.MultiIndex.from_tuples(
            [("run", i) for i in range(n)], names=["run_id", "repetition"]))

    def test_planted_ten_percent_is_found_and_no_difference_is_not(self):
        rng = np.random.default_rng(7)
        found = false_alarms = 0
        trials = 40
        for _ in range(trials):
            a = self.sample(rng, 1.0)
            slower = self.sample(rng, 1.1)
            same = self.sample(rng, 1.0)
            if sg.compare_pair(a, slower, "net_ns_per_op")["verdict"] == "slower":
                found += 1
            if sg.compare_pair(a, same, "net_ns_per_op")["verdict"] != "no significant difference":
                false_alarms += 1
        # Seed 7 gives 33 of 40 found (power about 0.8 at this noise, tails
        # included) and 1 false alarm; the test or the rule (p and CI) is broken
        # if either drifts far.
        self.assertGreaterEqual(found, 0.75 * trials, f"planted 10% found in {found} of {trials} trials")
        self.assertLessEqual(false_alarms, 0.1 * trials, f"{false_alarms} of {trials} same-distribution pairs differ")
