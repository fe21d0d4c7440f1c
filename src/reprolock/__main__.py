"""``python -m reprolock``."""

from reprolock.cli import entry

entry()
