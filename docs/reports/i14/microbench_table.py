"""Kept so that the commands recorded in docs/reports/i14/microbench.md and
docs/reports/i14b/microbench.md still run: the table is now
scripts/microbench_table.py's (same columns for these files, which hold no
`null` benchmark)."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "scripts"))
import microbench_table  # noqa: E402

if __name__ == "__main__":
    sys.exit(microbench_table.main(sys.argv[1:]))
