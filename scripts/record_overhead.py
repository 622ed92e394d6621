"""The recorder's overhead: wall time of real programs recorded by
`allocbench record` against the same programs run plainly.

Runs python3 -c (realprog's dict churn), sqlite3 (realprog's inserts) and
g++ -c of one of the project's sources, each plain and recorded, REPS times
in one shuffled order, through allocbench_exec (the program's own wall and
CPU time, children included). Checks that the recorded run prints what the
plain one prints and that its traces read back (`allocbench trace-info`; a
program that execs others, as g++ does, writes one file per image), then
prints, per program, the medians of wall and CPU time with their min-max
spread, the ratios of the medians, and the traces' size and event count.

  /usr/bin/python3 scripts/record_overhead.py --build build --source . [--reps 7]
"""
import argparse
import glob
import hashlib
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from realprog import programs as realprog_programs, run_measured_fields  # noqa: E402


def programs(work, source):
    """(name, argv, stdin bytes): realprog's python and sqlite3, and g++ -c."""
    chosen = {p[0]: p for p in realprog_programs(work, source)}
    cxx = os.path.join(source, "workloads", "trace.cpp")
    return [
        chosen["python_dicts"],
        chosen["sqlite3"],
        ("gxx_c", ["g++", "-std=c++17", "-O1", "-I", source, "-c", cxx, "-o",
                   os.path.join(work, "trace.o")], None),
    ]


def trace_events(allocbench, paths):
    """(events, bytes) of a recording's files, by trace-info; exits on a bad trace."""
    events = size = 0
    for path in paths:
        p = subprocess.run([allocbench, "trace-info", path], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)
        if p.returncode != 0 or p.stderr:
            sys.exit(f"record_overhead: {path}: {p.stderr.strip()}")
        events += int(re.search(r"^events +(\d+)$", p.stdout, re.M).group(1))
        size += os.path.getsize(path)
    return events, size


def spread(xs):
    return f"{min(xs):.3f}-{max(xs):.3f}"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--build", required=True, help="the build directory (allocbench, allocbench_exec)")
    ap.add_argument("--source", required=True)
    ap.add_argument("--reps", type=int, default=7)
    args = ap.parse_args()
    allocbench = os.path.abspath(os.path.join(args.build, "allocbench"))
    exec_helper = os.path.abspath(os.path.join(args.build, "allocbench_exec"))
    for f in (allocbench, exec_helper):
        if not os.access(f, os.X_OK):
            sys.exit(f"record_overhead: {f} not found (build first)")
    work = tempfile.mkdtemp()
    try:
        progs = programs(work, os.path.abspath(args.source))
        runs = [(p, mode, r) for p in progs for mode in ("plain", "recorded")
                for r in range(args.reps)]
        random.Random(1).shuffle(runs)
        times = {}  # (name, mode) -> [(wall, cpu)]
        outputs = {}
        sizes = {}
        for (name, argv, stdin), mode, rep in runs:
            cmd = argv
            trace = os.path.join(work, f"{name}.trace")
            if mode == "recorded":
                for old in glob.glob(trace + "*"):
                    os.remove(old)
                cmd = [allocbench, "record", "--out", trace, "--"] + argv
            out, fields = run_measured_fields(exec_helper, cmd, stdin, None, work)
            if fields["exit"] != "0":
                sys.exit(f"record_overhead: {name} ({mode}) exited with {fields['exit']}")
            outputs.setdefault((name, mode), set()).add(hashlib.sha256(out).hexdigest())
            times.setdefault((name, mode), []).append((float(fields["wall_s"]),
                                                       float(fields["cpu_s"])))
            if mode == "recorded":
                sizes[name] = trace_events(allocbench, glob.glob(trace + "*"))
        print("| program | plain wall s | recorded wall s | wall ratio | plain CPU s | "
              "recorded CPU s | CPU ratio | traces | events |")
        print("|---|---|---|---|---|---|---|---|---|")
        bad = 0
        for name, _, _ in progs:
            if outputs[(name, "plain")] != outputs[(name, "recorded")]:
                print(f"record_overhead: {name}: recorded output differs", file=sys.stderr)
                bad += 1
            cells = []
            for i in (0, 1):  # wall, CPU
                plain = [t[i] for t in times[(name, "plain")]]
                rec = [t[i] for t in times[(name, "recorded")]]
                ratio = statistics.median(rec) / statistics.median(plain)
                cells += [f"{statistics.median(plain):.3f} ({spread(plain)})",
                          f"{statistics.median(rec):.3f} ({spread(rec)})", f"{ratio:.2f}"]
            events, size = sizes[name]
            print(f"| {name} | " + " | ".join(cells) + f" | {size / 2**20:.1f} MiB | {events} |")
        print(f"(medians (min-max) of {args.reps} shuffled repetitions; ratio = recorded / plain)")
        return 1 if bad else 0
    finally:
        shutil.rmtree(work)


if __name__ == "__main__":
    sys.exit(main())
