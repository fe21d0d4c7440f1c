"""Pause Python's cycle collector while reprolock builds many small objects, then restore it as it was."""

from __future__ import annotations

import contextlib
import gc
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterator


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Run the block with the cycle collector off (it is turned back on only if it was on).

    An audit, and the page decoding of ``audit`` and ``lock``, build hundreds of
    thousands of small objects (modules, records, decoded JSON, summaries) and
    leave few reference cycles: the collector would run and rescan them all many
    times over.
    """
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()
