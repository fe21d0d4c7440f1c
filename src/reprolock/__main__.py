"""``python -m reprolock``."""

import sys

from reprolock.cli import main

sys.exit(main())
