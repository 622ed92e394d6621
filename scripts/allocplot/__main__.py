import sys

from allocplot.cli import main

sys.exit(main())
