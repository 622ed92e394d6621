"""The `host` column: read with or without it, and no ratio across hosts
(docs/scale_out.md)."""
import os
import tempfile
import unittest

import pandas as pd

from allocplot.load import COLUMNS, HostMismatch, load_results
from allocplot.significance import compare_frames
from allocplot.stats import ratio_table

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "fixtures")


class HostColumnTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.df = load_results(os.path.join(FIXTURES, "results_small.csv"))

    def tearDown(self):
        self.tmp.cleanup()

    def write(self, df, name):
        path = os.path.join(self.tmp.name, name)
        df.to_csv(path, index=False)
        return path

    def test_a_file_without_host_reads_as_one_unnamed_host(self):
        self.assertEqual(list(self.df.columns), COLUMNS)
        self.assertEqual(set(self.df["host"]), {""})

    def test_a_file_with_host_is_read(self):
        df = self.df.copy()
        df["host"] = "node1"
        back = load_results(self.write(df, "r.csv"))
        self.assertEqual(set(back["host"]), {"node1"})

    def _split_groups(self):
        """Each (workload, profile, threads) group on one host, the groups on two."""
        df = self.df.copy()
        groups = sorted(df.groupby(["workload", "profile", "threads"]).groups)
        first = groups[0]
        in_first = ((df["workload"] == first[0]) & (df["profile"] == first[1]) &
                    (df["threads"] == first[2]))
        df["host"] = "nodeB"
        df.loc[in_first, "host"] = "nodeA"
        return df, in_first

    def test_ratios_within_one_host_per_group(self):
        df, _ = self._split_groups()
        self.assertEqual(len(set(df["host"])), 2)
        pd.testing.assert_frame_equal(ratio_table(df, "ns_per_op", "glibc"),
                                      ratio_table(self.df, "ns_per_op", "glibc"))

    def test_a_group_on_two_hosts_is_refused(self):
        df, in_first = self._split_groups()
        # One allocator of the first group measured elsewhere: its ratio would
        # divide nodeB's time by nodeA's glibc.
        df.loc[in_first & (df["allocator"] != "glibc"), "host"] = "nodeB"
        with self.assertRaises(HostMismatch) as e:
            ratio_table(df, "ns_per_op", "glibc")
        self.assertIn("nodeA, nodeB", str(e.exception))
        with self.assertRaises(HostMismatch):
            others = sorted(set(df["allocator"]) - {"glibc"})
            compare_frames(df, df, "ns_per_op", a_alloc="glibc", b_alloc=others[0])

    def test_two_runs_from_two_hosts_are_not_compared(self):
        a = load_results(os.path.join(FIXTURES, "compare_a.csv"))
        b = load_results(os.path.join(FIXTURES, "compare_b.csv"))
        self.assertFalse(compare_frames(a, b, "ns_per_op").empty)  # unnamed hosts
        a["host"], b["host"] = "nodeA", "nodeB"
        with self.assertRaises(HostMismatch) as e:
            compare_frames(a, b, "ns_per_op")
        self.assertIn("different hosts", str(e.exception))
        b["host"] = "nodeA"
        self.assertFalse(compare_frames(a, b, "ns_per_op").empty)


class MergedRunReportTest(unittest.TestCase):
    """The committed merged run of two local shards (docs/scale_out.md)."""

    def test_the_report_names_the_shards_and_hosts(self):
        from allocplot.report import consistency_warnings, load_run, machine_section
        run = load_run(os.path.join(FIXTURES, "..", "..", "docs", "reports", "scale_out_run"))
        warnings = "\n".join(consistency_warnings(run))
        self.assertIn("Merged from 2 shards", warnings)
        self.assertNotIn("rows of different runs are mixed", warnings)
        self.assertRegex(machine_section(run), r"hosts \(rows\) \| \S+ \(80\)")


if __name__ == "__main__":
    unittest.main()
