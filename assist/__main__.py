"""``python -m assist ...``: see ``python -m assist --help``."""

import sys

from assist.cli import main

sys.exit(main())
