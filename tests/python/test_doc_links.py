"""Every relative link and image in README.md and docs/**/*.md names a file
that is in the repository, so a figure or a committed run that a document
cites cannot silently go missing."""

import os
import re
import unittest

from doc_tables import rewrite, stale_tables

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


    def test_rewrite_replaces_only_stale_copies(self):
        import tempfile
        with tempfile.TemporaryDirectory() as d:
            with open(os.path.join(d, "src.md"), "w") as f:
                f.write("cmd\n\n| a | b |\n|---|---|\n| 1 | 2 |\n| 3 | 4 |\n")
            note = ("intro\n<!-- generated: src.md -->\n\n| a | b |\n|---|---|\n| 1 | 9 |\n\n"
                    "text after\n<!-- generated: gone.md -->\n| x |\nend\n")
            with open(os.path.join(d, "note.md"), "w") as f:
                f.write(note)
            missing, n = rewrite(d, "note.md")
            self.assertEqual((missing, n), (["gone.md"], 1))
            with open(os.path.join(d, "note.md")) as f:
                got = f.read()
            self.assertEqual(got, note.replace("| 1 | 9 |\n", "| 1 | 2 |\n| 3 | 4 |\n"))
            self.assertEqual(stale_tables(d, "note.md")[0], ["gone.md: no such file or table"])
            self.assertEqual(rewrite(d, "note.md"), (["gone.md"], 0))

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
