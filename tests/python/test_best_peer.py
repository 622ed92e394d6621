"""scripts/best_peer.py: the best peer per cell and the target's ratio to it."""
import contextlib
import io
import os
import tempfile
import unittest

import pandas as pd

import best_peer


def _rows():
    """Two cells; in cell A jemalloc is fastest and glibc takes fewest faults,
    in cell B every peer's net time is at or below zero."""
    rows = []
    spec = {  # allocator: (net_ns, user_s, sys_s, rss bytes, minflt) in cell A
        "null": (0.0, 0.010, 0.0, 1e6, 0),
        "inhouse": (30.0, 0.040, 0.010, 50e6, 100),
        "jemalloc": (20.0, 0.030, 0.0, 40e6, 50),
        "glibc": (25.0, 0.030, 0.010, 60e6, 10),
    }
    for a, (net, user, sys_, rss, flt) in spec.items():
        for rep in range(5):
            jitter = 1 + 0.01 * (rep - 2)
            rows.append(dict(allocator=a, workload="A", profile="default", threads=1, status="ok",
                             repetition=rep, net_ns_per_op=net * jitter, harness_ns_per_op=5.0,
                             user_s=user, sys_s=sys_, total_ops=1000000,
                             peak_rss_net_bytes=rss, minflt=flt))
            rows.append(dict(allocator=a, workload="B", profile="default", threads=2, status="ok",
                             repetition=rep, net_ns_per_op=-1.0 if a != "inhouse" else 3.0,
                             harness_ns_per_op=5.0, user_s=user, sys_s=sys_, total_ops=1000000,
                             peak_rss_net_bytes=rss, minflt=flt))
    rows.append(dict(allocator="inhouse", workload="A", profile="default", threads=1, status="error",
                     repetition=9, net_ns_per_op=1e9, harness_ns_per_op=5.0, user_s=9, sys_s=9,
                     total_ops=1, peak_rss_net_bytes=1, minflt=1))
    return pd.DataFrame(rows)


class BestPeerTest(unittest.TestCase):
    def test_best_peer_and_ratios_per_metric(self):
        t = best_peer.best_peer_table(_rows(), "inhouse", ["glibc", "jemalloc", "scudo"])
        a = t[t.workload == "A"].iloc[0]
        self.assertEqual(a.reps, 5, "the error row is not counted")
        self.assertEqual(a.net_ns_best, "jemalloc")
        self.assertAlmostEqual(a.net_ns_ratio[0], 1.5)
        self.assertLessEqual(a.net_ns_ratio[1], 1.5)
        self.assertGreaterEqual(a.net_ns_ratio[2], 1.5)
        # CPU per op: 50 ns (inhouse) less the calibration's 10, against
        # jemalloc's 30 - 10 (glibc's is 40 - 10).
        self.assertEqual(a.net_cpu_ns_best, "jemalloc")
        self.assertAlmostEqual(a.net_cpu_ns_target, 40.0)
        self.assertAlmostEqual(a.net_cpu_ns_ratio[0], 2.0)
        self.assertEqual(a.minflt_best, "glibc")
        self.assertAlmostEqual(a.minflt_ratio[0], 10.0)
        self.assertEqual(a.rss_mb_best, "jemalloc")
        self.assertAlmostEqual(a.rss_mb_ratio[0], 50 / 40)

    def test_no_ratio_when_the_best_is_not_positive(self):
        t = best_peer.best_peer_table(_rows(), "inhouse", ["glibc", "jemalloc"])
        b = t[t.workload == "B"].iloc[0]
        self.assertIsNone(b.net_ns_ratio)
        self.assertIn("n/a", best_peer.markdown(t, "inhouse").splitlines()[-1])

    def test_cli_markdown_and_bad_input(self):
        with tempfile.TemporaryDirectory() as d:
            good = os.path.join(d, "results.csv")
            _rows().to_csv(good, index=False)
            out = io.StringIO()
            with contextlib.redirect_stdout(out):
                self.assertEqual(best_peer.main([good, "--markdown", "--peers", "glibc,jemalloc"]), 0)
            self.assertIn("| A/default | 1 | 5 |", out.getvalue())
            # The calibration's rows are named "null", which pandas reads as
            # missing unless told not to: net CPU needs them.
            self.assertIn("| 40 | jemalloc 20 | 2.00 [2.00, 2.00] |", out.getvalue())
            bad = os.path.join(d, "bad.csv")
            pd.DataFrame({"allocator": ["x"]}).to_csv(bad, index=False)
            err = io.StringIO()
            with contextlib.redirect_stderr(err):
                self.assertEqual(best_peer.main([bad]), 2)
                self.assertEqual(best_peer.main([os.path.join(d, "missing.csv")]), 2)
            self.assertIn("lacks columns", err.getvalue())


if __name__ == "__main__":
    unittest.main()
