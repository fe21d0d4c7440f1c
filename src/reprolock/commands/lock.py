"""``reprolock lock``: not built yet (see the issue tracker)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from reprolock.errors import UsageError

if TYPE_CHECKING:
    import argparse

    from reprolock.commands import Context


def run(args: argparse.Namespace, context: Context) -> int:  # noqa: ARG001 - placeholder until the command lands
    raise UsageError("'reprolock lock' is not available in this version yet")
