"""scripts/microbench_table.py: pair costs, raw and net of the null adapter."""
import contextlib
import io
import json
import os
import tempfile
import unittest

import microbench_table


def _bench(name, cpu, run_type="iteration"):
    return {"name": name, "run_name": name, "run_type": run_type, "cpu_time": cpu,
            "real_time": cpu * 1.01, "time_unit": "ns"}


class MicrobenchTableTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.addCleanup(self.dir.cleanup)

    def _file(self, name, benchmarks):
        path = os.path.join(self.dir.name, name)
        with open(path, "w") as f:
            json.dump({"context": {}, "benchmarks": benchmarks}, f)
        return path

    def _run(self, *argv):
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            rc = microbench_table.main(list(argv))
        return rc, out.getvalue(), err.getvalue()

    def _rows(self, text):
        return {line.split("|")[1].strip(): [c.strip() for c in line.split("|")[2:-1]]
                for line in text.splitlines()[2:]}

    def test_net_of_null_and_ratios(self):
        a = self._file("a.json", [_bench("pair/null/64", c) for c in (3.0, 3.2, 3.1)]
                       + [_bench("pair/glibc/64", c) for c in (7.0, 7.1, 7.2)]
                       + [_bench("pair/pool/64", c) for c in (3.5, 3.7, 3.9)]
                       + [_bench("pair/pool/64_mean", 99, "aggregate")]
                       + [_bench("pair/pool/16", 50.0)])
        b = self._file("b.json", [_bench("pair/mimalloc/64", c) for c in (5.0, 5.1, 5.2)])
        rc, out, _ = self._run("--size", "64", a, b)
        self.assertEqual(rc, 0)
        rows = self._rows(out)
        self.assertIn("net of null", out.splitlines()[0])
        # pool: median 3.7, raw 3.7/5.1 and 3.7/7.1; net 0.6 against 2.0 and 4.0.
        self.assertEqual(rows["pool"][:4], ["3", "3.70 [3.50-3.90]", "0.73", "0.52"])
        self.assertEqual(rows["pool"][4:], ["0.60", "0.30", "0.15"])
        self.assertEqual(rows["null"][4], "(the harness)")
        self.assertEqual(list(rows), ["null", "pool", "mimalloc", "glibc"], "sorted by median")

    def test_net_at_or_below_zero_gets_no_ratio(self):
        a = self._file("a.json", [_bench("pair/null/64", 3.0), _bench("pair/slab/64", 2.9),
                                  _bench("pair/glibc/64", 7.0), _bench("pair/mimalloc/64", 5.0)])
        rc, out, _ = self._run(a)
        self.assertEqual(rc, 0)
        self.assertEqual(self._rows(out)["slab"][4:], ["-0.10", "n/a", "n/a"])

    def test_without_null_the_columns_are_the_raw_ones(self):
        a = self._file("a.json", [_bench("pair/glibc/64", 7.0), _bench("pair/mimalloc/64", 5.0)])
        rc, out, _ = self._run(a)
        self.assertEqual(rc, 0)
        self.assertNotIn("net of null", out)
        self.assertEqual(len(self._rows(out)["glibc"]), 4)

    def test_bad_input_exits_2_with_a_message(self):
        corrupt = os.path.join(self.dir.name, "corrupt.json")
        with open(corrupt, "w") as f:
            f.write("{not json")
        two_sizes = self._file("s.json", [_bench("pair/glibc/64", 7.0), _bench("pair/glibc/16", 6.0),
                                          _bench("pair/mimalloc/64", 5.0)])
        no_glibc = self._file("g.json", [_bench("pair/mimalloc/64", 5.0)])
        for argv, msg in (([corrupt], "not a Google Benchmark JSON"),
                          ([os.path.join(self.dir.name, "missing.json")], "not a Google Benchmark JSON"),
                          ([two_sizes], "--size"),
                          (["--size", "256", two_sizes], "no pair benchmark of size 256"),
                          ([no_glibc], "no pair/glibc")):
            rc, out, err = self._run(*argv)
            self.assertEqual(rc, 2, argv)
            self.assertIn(msg, err)
            self.assertEqual(out, "")


if __name__ == "__main__":
    unittest.main()
