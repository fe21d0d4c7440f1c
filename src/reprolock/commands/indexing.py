"""The index options of ``audit`` and ``lock``: parsed arguments to one :class:`IndexOptions`, and the finder."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console

from reprolock.index.cache import run_cache_dir
from reprolock.index.finder import IndexFinder, open_finder
from reprolock.index.options import IndexFlags, IndexOptions, index_options
from reprolock.sources.requirements import written_indexes_in

if TYPE_CHECKING:
    import argparse
    from collections.abc import Sequence

    from reprolock.commands import Context
    from reprolock.records import SourceFile


def index_flags(args: argparse.Namespace, cwd: Path) -> IndexFlags:
    """The index flags of the command line, paths made absolute against ``cwd``."""
    folder = run_cache_dir(cwd, os.environ, cache_dir=args.cache_dir, no_cache=args.no_cache)
    return IndexFlags(
        index_url=args.index_url,
        extra_index_urls=tuple(args.extra_index_url),
        offline=args.offline,
        cache_dir=folder,
        proxy=args.proxy,
        cert=_absolute(args.cert, cwd),
        client_cert=_absolute(args.client_cert, cwd),
        trusted_hosts=tuple(args.trusted_host),
        timeout=args.timeout,
        retries=args.retries,
        max_response_mb=args.max_response_mb,
    )


def _absolute(path: str | None, cwd: Path) -> str | None:
    return None if path is None else str(cwd / Path(path).expanduser())


def options_for(
    args: argparse.Namespace, context: Context, *, python: str | None = None, pip_default: str | None = None, files: Sequence[SourceFile] = ()
) -> IndexOptions:
    """The run's index options; the ``--index-url`` lines of ``files`` count when the command line names no index."""
    flags = index_flags(args, context.cwd)
    written: tuple[str | None, tuple[str, ...]] = (None, ())
    if not (flags.index_url or flags.extra_index_urls) and files:
        written = written_indexes_in(files)
    return index_options(flags, env=os.environ, python=python, pip_default=pip_default, written=written)


def open_index(
    args: argparse.Namespace, context: Context, *, python: str | None = None, pip_default: str | None = None, files: Sequence[SourceFile] = ()
) -> IndexFinder:
    """The run's finder, with a progress bar on a terminal unless ``--quiet``."""
    options = options_for(args, context, python=python, pip_default=pip_default, files=files)
    console = None
    if not args.quiet:

        console = Console(file=context.stderr)
    return open_finder(options, console=console)
