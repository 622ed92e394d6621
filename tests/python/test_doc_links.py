"""Every relative link and image in README.md and docs/**/*.md names a file
that is in the repository, so a figure or a committed run that a document
cites cannot silently go missing."""

import os
import re
import unittest

SOURCE = os.environ.get("ALLOCBENCH_SOURCE_DIR",
                        os.path.join(os.path.dirname(__file__), "..", ".."))

# [text](target) and ![alt](target); the target ends at whitespace or ')'.
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")


def markdown_files(root):
    """README.md and every .md under docs/, as paths relative to root."""
    files = ["README.md"]
    for top, _dirs, names in os.walk(os.path.join(root, "docs")):
        files += [os.path.relpath(os.path.join(top, n), root)
                  for n in sorted(names) if n.endswith(".md")]
    return files


def broken_links(root, md_path):
    """The relative targets of md_path's links that name no existing file or
    directory (anchors and external addresses are not checked)."""
    with open(os.path.join(root, md_path), encoding="utf-8") as f:
        text = f.read()
    # Code blocks hold commands, not links.
    text = re.sub(r"```.*?```", "", text, flags=re.S)
    base = os.path.dirname(os.path.join(root, md_path))
    broken = []
    for target in LINK.findall(text):
        if re.match(r"^[a-z]+:", target) or target.startswith("#"):
            continue
        path = target.split("#", 1)[0]
        if path and not os.path.exists(os.path.join(base, path)):
            broken.append(target)
    return broken


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


class GeneratedTablesTest(unittest.TestCase):
    def test_design_note_tables_are_copies_of_generated_ones(self):
        problems, count = stale_tables(SOURCE, "docs/design_note.md")
        self.assertEqual(problems, [])
        self.assertGreater(count, 10)

    def test_an_edited_copy_is_found(self):
        import tempfile
        with tempfile.TemporaryDirectory() as d:
            os.makedirs(os.path.join(d, "r"))
            with open(os.path.join(d, "r", "report.md"), "w") as f:
                f.write("Table 2a.\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\nTable 3.\n\n| c |\n")
            with open(os.path.join(d, "note.md"), "w") as f:
                f.write("<!-- generated: r/report.md#Table 2a -->\n\n| a | b |\n|---|---|\n"
                        "| 1 | 2 |\n\n<!-- generated: r/report.md#Table 3 -->\n| c |\n\n"
                        "<!-- generated: r/report.md#Table 2a -->\n| a | b |\n|---|---|\n"
                        "| 1 | 9 |\n<!-- generated: r/gone.md -->\n| x |\n")
            problems, count = stale_tables(d, "note.md")
            self.assertEqual(count, 4)
            self.assertEqual(problems, ["r/report.md#Table 2a: the copy differs from the source",
                                        "r/gone.md: no such file or table"])


class DocLinksTest(unittest.TestCase):
    def test_every_relative_link_names_a_file(self):
        problems = []
        for md in markdown_files(SOURCE):
            problems += ["%s: %s" % (md, t) for t in broken_links(SOURCE, md)]
        self.assertEqual(problems, [])

    def test_a_missing_target_is_found(self):
        # The check itself can fail: a document citing a missing figure.
        import tempfile
        with tempfile.TemporaryDirectory() as d:
            os.makedirs(os.path.join(d, "docs", "img"))
            open(os.path.join(d, "docs", "img", "here.png"), "w").close()
            with open(os.path.join(d, "docs", "a.md"), "w") as f:
                f.write("![ok](img/here.png) ![gone](img/gone.png) [web](https://x.org/y)\n"
                        "```\n![in code](img/code.png)\n```\n")
            self.assertEqual(broken_links(d, "docs/a.md"), ["img/gone.png"])


if __name__ == "__main__":
    unittest.main()
