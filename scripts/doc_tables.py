#!/usr/bin/env python3
"""The design note's generated tables: each `<!-- generated: PATH[#Table N] -->`
marker precedes a verbatim copy of a table that a committed file holds (the
output of allocplot compare/table/report or best_peer.py, with the command
that wrote it at its top). tests/python/test_doc_links.py checks that the
copies equal their sources; --write replaces every stale copy with its source.

  /usr/bin/python3 scripts/doc_tables.py [--write] [docs/design_note.md ...]

Exit status: 0 when every copy is current (or was rewritten), 1 when a copy
is stale (without --write), 2 when a marker names a missing file or table.
"""
import argparse
import os
import re
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")

# <!-- generated: PATH[#Table N] --> before a table in a document: the
# table is a verbatim copy of PATH's first table, or of the one after PATH's
# line "Table N." (the numbering allocplot report gives its tables).
MARKER = re.compile(r"<!-- generated: ([^\s#]+)(?:#(Table [0-9a-z]+))? -->")


def first_table(lines, start=0):
    """The first run of lines beginning with '|' at or after index start."""
    i = start
    while i < len(lines) and not lines[i].startswith("|"):
        i += 1
    j = i
    while j < len(lines) and lines[j].startswith("|"):
        j += 1
    return lines[i:j]


def source_table(root, path, label):
    """The table a marker names, or None if the file or label is missing."""
    full = os.path.join(root, path)
    if not os.path.isfile(full):
        return None
    with open(full, encoding="utf-8") as f:
        lines = f.read().split("\n")
    if label is None:
        return first_table(lines)
    for i, line in enumerate(lines):
        if line.startswith(label + "."):
            return first_table(lines, i + 1)
    return None


def stale_tables(root, md_path):
    """Markers in md_path whose following table is not its source's, as
    'PATH#LABEL: why' strings; and the number of markers checked."""
    with open(os.path.join(root, md_path), encoding="utf-8") as f:
        lines = f.read().split("\n")
    problems, count = [], 0
    for i, line in enumerate(lines):
        for path, label in MARKER.findall(line):
            count += 1
            name = path + ("#" + label if label else "")
            want = source_table(root, path, label or None)
            if not want:
                problems.append(name + ": no such file or table")
            elif first_table(lines, i + 1) != want:
                problems.append(name + ": the copy differs from the source")
    return problems, count


def rewrite(root, md_path):
    """Replaces each stale copy in md_path with its source; returns the
    markers whose source is missing (nothing is written for those) and the
    number of copies rewritten."""
    full = os.path.join(root, md_path)
    with open(full, encoding="utf-8") as f:
        lines = f.read().split("\n")
    missing, rewritten, out, i = [], 0, [], 0
    while i < len(lines):
        out.append(lines[i])
        found = MARKER.findall(lines[i])
        i += 1
        if not found:
            continue
        path, label = found[0]
        want = source_table(root, path, label or None)
        if not want:
            missing.append(path + ("#" + label if label else ""))
            continue
        while i < len(lines) and not lines[i].startswith("|"):
            out.append(lines[i])
            i += 1
        old = first_table(lines, i)
        rewritten += old != want
        out.extend(want)
        i += len(old)
    if rewritten:
        with open(full, "w", encoding="utf-8") as f:
            f.write("\n".join(out))
    return missing, rewritten


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--write", action="store_true", help="replace stale copies with their sources")
    ap.add_argument("docs", nargs="*", default=["docs/design_note.md"])
    args = ap.parse_args(argv)
    status = 0
    for md in args.docs:
        if not os.path.isfile(os.path.join(ROOT, md)):
            print(f"doc_tables: no such document: {md}", file=sys.stderr)
            return 2
        if args.write:
            missing, n = rewrite(ROOT, md)
            print(f"{md}: {n} copies rewritten")
            problems = [m + ": no such file or table" for m in missing]
        else:
            problems, _ = stale_tables(ROOT, md)
        for p in problems:
            print(f"{md}: {p}", file=sys.stderr)
            status = max(status, 2 if "no such" in p else 1)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
