"""``python -m backlinkspider.cli``: the ``backlinks`` console script."""

import sys

from backlinkspider.cli import main

sys.exit(main())
