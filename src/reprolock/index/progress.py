"""A progress bar for the pages a run fetches: on a terminal only (never when piped, never with ``--quiet``)."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from rich.console import Console


@contextlib.contextmanager
def progress_bar(total: int, console: Console | None) -> Iterator[Callable[[], None]]:
    """A function that advances a transient bar of ``total`` steps on ``console``; a no-op off a terminal."""
    if console is None or total < 2 or not console.is_terminal:
        yield _nothing
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn  # noqa: PLC0415 - terminals only

    with Progress(TextColumn("reprolock: index pages"), BarColumn(), MofNCompleteColumn(), console=console, transient=True) as progress:
        task = progress.add_task("pages", total=total)
        yield lambda: progress.advance(task)


def _nothing() -> None:
    return None
