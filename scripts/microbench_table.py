"""Pair cost per allocator from `microbench` Google Benchmark JSON files.

Each repetition of `pair/<allocator>/<size>` times one allocate and one free
through the adapter. The table gives the CPU time per pair over the
repetitions, median [min-max], and the ratios of medians to mimalloc and glibc.

When the files hold the `null` adapter's benchmark of the same size, the pair
cost includes what `null` costs (two virtual adapter calls and the store into
the block; runner/microbench.cpp). The table then also gives each allocator's cost
net of `null`'s median and the ratios of those net figures; a net median at or
below zero is printed as such, and no ratio is formed against it.

Usage: microbench_table.py [--size N] FILE.json ...
Exit status: 0, or 2 when a file is missing, not Google Benchmark JSON, or
holds no pair benchmark of the size, or mimalloc or glibc is absent.
"""
import argparse
import json
import statistics
import sys

HARNESS = "null"
REFERENCES = ("mimalloc", "glibc")


class TableError(Exception):
    pass


def pair_costs(paths, size=None):
    """{allocator: [CPU ns per pair, one per repetition]} for one size (the
    only size present when `size` is None)."""
    out = {}
    sizes = set()
    for path in paths:
        try:
            with open(path) as f:
                benchmarks = json.load(f)["benchmarks"]
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise TableError(f"{path}: not a Google Benchmark JSON file ({e})") from e
        for b in benchmarks:
            if not isinstance(b, dict) or b.get("run_type") != "iteration":
                continue
            parts = str(b.get("run_name", "")).split("/")
            if len(parts) != 3 or parts[0] != "pair":
                continue
            sizes.add(parts[2])
            if size is not None and parts[2] != str(size):
                continue
            try:
                out.setdefault(parts[1], []).append(float(b["cpu_time"]))
            except (KeyError, TypeError, ValueError) as e:
                raise TableError(f"{path}: {b.get('name')}: no cpu_time ({e})") from e
    if size is None and len(sizes) > 1:
        raise TableError(f"the files hold sizes {sorted(sizes, key=int)}: pick one with --size")
    if not out:
        raise TableError("no pair benchmark" + (f" of size {size}" if size is not None else ""))
    for ref in REFERENCES:
        if ref not in out:
            raise TableError(f"no pair/{ref} benchmark to compare against")
    return out


def _ratio(a, b):
    return f"{a / b:.2f}" if b > 0 and a > 0 else "n/a"


def table(costs):
    """Markdown lines: raw columns always, net-of-null columns when null ran."""
    med = {a: statistics.median(c) for a, c in costs.items()}
    net = HARNESS in med
    head = "| allocator | n | CPU ns/pair, median [min-max] | vs mimalloc | vs glibc |"
    rule = "|---|---|---|---|---|"
    if net:
        head += " net of null, ns/pair | net vs mimalloc | net vs glibc |"
        rule += "---|---|---|"
    lines = [head, rule]
    for a in sorted(costs, key=lambda a: med[a]):
        c = costs[a]
        row = (f"| {a} | {len(c)} | {med[a]:.2f} [{min(c):.2f}-{max(c):.2f}] | "
               f"{med[a] / med['mimalloc']:.2f} | {med[a] / med['glibc']:.2f} |")
        if net and a == HARNESS:
            row += " (the harness) | | |"
        elif net:
            n = {k: med[k] - med[HARNESS] for k in (a, *REFERENCES)}
            row += f" {n[a]:.2f} | {_ratio(n[a], n['mimalloc'])} | {_ratio(n[a], n['glibc'])} |"
        lines.append(row)
    return lines


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int,
                    help="the pair size in bytes (default: the only one present)")
    ap.add_argument("files", nargs="+")
    args = ap.parse_args(argv)
    try:
        lines = table(pair_costs(args.files, args.size))
    except TableError as e:
        print(f"microbench_table: {e}", file=sys.stderr)
        return 2
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
