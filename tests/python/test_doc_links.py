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
