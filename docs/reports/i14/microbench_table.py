"""Pair cost per allocator from Google Benchmark JSON files (the repetitions'
real and CPU time, ns per allocate+free pair): median [min-max] and the ratios
of medians to mimalloc and glibc. Usage: microbench_table.py FILE.json ..."""
import json
import statistics
import sys


def pairs(paths):
    out = {}
    for p in paths:
        for b in json.load(open(p))["benchmarks"]:
            if b.get("run_type") != "iteration":
                continue
            name = b["run_name"].split("/")[1]
            out.setdefault(name, {"cpu": [], "real": []})
            out[name]["cpu"].append(b["cpu_time"])
            out[name]["real"].append(b["real_time"])
    return out


def main(paths):
    v = pairs(paths)
    med = {a: {k: statistics.median(x) for k, x in d.items()} for a, d in v.items()}
    print("| allocator | n | CPU ns/pair, median [min-max] | vs mimalloc | vs glibc |")
    print("|---|---|---|---|---|")
    for a in sorted(v, key=lambda a: med[a]["cpu"]):
        c = v[a]["cpu"]
        print(f"| {a} | {len(c)} | {med[a]['cpu']:.2f} [{min(c):.2f}-{max(c):.2f}] | "
              f"{med[a]['cpu'] / med['mimalloc']['cpu']:.2f} | {med[a]['cpu'] / med['glibc']['cpu']:.2f} |")


if __name__ == "__main__":
    main(sys.argv[1:])
