"""Real programs under LD_PRELOAD: wall time and peak RSS per allocator.

Runs each program with no preload (glibc) and preloaded with liballoc.so,
jemalloc and mimalloc (the Debian libraries), REPS times each in a shuffled
order, checks that every run prints the same output as glibc's, and writes
one CSV row per run plus a table of medians (ratios to glibc).

  /usr/bin/python3 scripts/realprog.py --liballoc build/allocators/inhouse/liballoc.so \
      --exec-helper build/allocbench_exec --source . --out results/realprog [--reps 3]
"""
import argparse
import csv
import hashlib
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile

PRELOADS = {
    "glibc": None,
    "jemalloc": "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2",
    "mimalloc": "/usr/lib/x86_64-linux-gnu/libmimalloc.so.2",
}

# The dict and list churn of `make bench_realprog` (scripts/realprog.sh), run as `python3 -c`.
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "realprog_dicts.py")) as _f:
    PY_CHURN = _f.read()


def programs(work, source):
    """(name, argv, stdin bytes) of each real program."""
    sql = os.path.join(work, "rows.sql")
    with open(sql, "w") as f:
        f.write("CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT, v REAL);\nBEGIN;\n")
        for i in range(150000):
            f.write(f"INSERT INTO t(name, v) VALUES ('name{i % 997}', {i * 0.5});\n")
        f.write("COMMIT;\nCREATE INDEX ti ON t(name);\n")
        f.write("SELECT name, count(*), sum(v) FROM t GROUP BY name ORDER BY name LIMIT 20;\n")
    lines = os.path.join(work, "lines.txt")
    rng = random.Random(3)
    with open(lines, "w") as f:
        for _ in range(400000):
            f.write("%08x %s\n" % (rng.getrandbits(32), "x" * rng.randint(0, 40)))
    cxx_src = os.path.join(source, "runner", "main.cpp")
    return [
        ("python_dicts", ["/usr/bin/python3", "-c", PY_CHURN], None),
        ("sqlite3", ["sqlite3", ":memory:"], open(sql, "rb").read()),
        ("sort", ["sort", lines], None),
        ("git_log", ["git", "-C", source, "log", "-p", "--stat"], None),
        ("gxx_compile", ["g++", "-std=c++17", "-O1", "-I", source, "-fsyntax-only", cxx_src],
         None),
    ]


def run_measured_fields(exec_helper, argv, stdin, preload, work):
    """Runs argv under `preload` through allocbench_exec, which reports the
    program's own wall time, CPU time and peak RSS. Returns (stdout, the
    report's fields: wall_s, cpu_s, peak_rss_bytes, exit, as strings)."""
    env = dict(os.environ)
    env.pop("LD_PRELOAD", None)
    report = os.path.join(work, "exec.report")
    cmd = [exec_helper, report, "--"]
    if preload:
        cmd = ["env", "LD_PRELOAD=" + preload] + cmd
    p = subprocess.run(cmd + argv, input=stdin, stdout=subprocess.PIPE,
                       stderr=subprocess.DEVNULL, env=env)
    with open(report) as f:
        return p.stdout, dict(kv.split("=") for kv in f.read().split())


def run_measured(exec_helper, argv, stdin, preload, work):
    """As run_measured_fields; returns (exit code, stdout, wall, rss)."""
    out, fields = run_measured_fields(exec_helper, argv, stdin, preload, work)
    return int(fields["exit"]), out, float(fields["wall_s"]), int(fields["peak_rss_bytes"])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--liballoc", required=True)
    ap.add_argument("--source", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--exec-helper", required=True, help="build/allocbench_exec")
    args = ap.parse_args()
    if not os.path.isfile(args.liballoc):
        print(f"realprog: {args.liballoc} not found (build first)", file=sys.stderr)
        return 2
    preloads = dict(PRELOADS)
    preloads["inhouse"] = os.path.abspath(args.liballoc)
    os.makedirs(args.out, exist_ok=True)
    work = tempfile.mkdtemp()
    try:
        progs = programs(work, os.path.abspath(args.source))
        runs = [(p, a, r) for p in progs for a in preloads for r in range(args.reps)]
        random.Random(1).shuffle(runs)
        expected = {}
        rows = []
        for (name, argv, stdin), alloc, rep in runs:
            code, out, wall, rss = run_measured(args.exec_helper, argv, stdin, preloads[alloc],
                                                work)
            digest = hashlib.sha256(out).hexdigest()[:16]
            rows.append({"program": name, "allocator": alloc, "repetition": rep,
                         "exit_code": code, "wall_s": round(wall, 4), "peak_rss_bytes": rss,
                         "output_sha": digest})
        for r in rows:
            if r["allocator"] == "glibc":
                expected.setdefault(r["program"], r["output_sha"])
        path = os.path.join(args.out, "realprog.csv")
        with open(path, "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=list(rows[0].keys()) + ["same_output"])
            w.writeheader()
            bad = 0
            for r in rows:
                r["same_output"] = int(r["output_sha"] == expected[r["program"]] and
                                       r["exit_code"] == 0)
                bad += 1 - r["same_output"]
                w.writerow(r)
        allocs = list(preloads)
        print("| program | " + " | ".join(f"{a} time" for a in allocs) + " | " +
              " | ".join(f"{a} RSS" for a in allocs) + " |")
        print("|---" * (1 + 2 * len(allocs)) + "|")
        for name, _, _ in progs:
            med = {a: (statistics.median(r["wall_s"] for r in rows
                                         if r["program"] == name and r["allocator"] == a),
                       statistics.median(r["peak_rss_bytes"] for r in rows
                                         if r["program"] == name and r["allocator"] == a))
                   for a in allocs}
            base_t, base_m = med["glibc"]
            cells = [f"{med[a][0] / base_t:.2f}" for a in allocs]
            cells += [f"{med[a][1] / base_m:.2f}" for a in allocs]
            print(f"| {name} (glibc {base_t:.2f} s, {base_m / 2**20:.0f} MiB) | " +
                  " | ".join(cells) + " |")
        print(f"(ratios to glibc, medians of {args.reps}; rows in {path})")
        if bad:
            print(f"realprog: {bad} runs differed from glibc's output or failed", file=sys.stderr)
            return 1
        return 0
    finally:
        shutil.rmtree(work)


if __name__ == "__main__":
    sys.exit(main())
