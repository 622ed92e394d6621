import os
import sys

from allocplot.cli import main

try:
    rc = main()
    sys.stdout.flush()
except BrokenPipeError:
    # The reader went away (`| head`): no traceback. Point stdout at /dev/null
    # so the interpreter's own flush at exit does not fail again (the recipe of
    # the Python docs, "Note on SIGPIPE").
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    rc = 1
sys.exit(rc)
