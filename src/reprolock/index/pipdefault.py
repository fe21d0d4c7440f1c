"""The target pip's default index, remembered per interpreter, and the run's cache folder."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING

from reprolock.index.cache import Cache, run_cache_dir
from reprolock.index.config import pip_default_index

if TYPE_CHECKING:
    import argparse
    from collections.abc import Mapping

    from reprolock.commands import Context

PIP_DEFAULT_AGE = 86400.0
"""Seconds the target pip's default index is remembered."""


def open_cache(args: argparse.Namespace, context: Context, env: Mapping[str, str]) -> Cache | None:
    """The run's cache (``--cache-dir``, else the user cache folder); ``None`` with ``--no-cache``."""
    folder = run_cache_dir(context.cwd, env, cache_dir=args.cache_dir, no_cache=args.no_cache)
    return Cache(folder) if folder is not None else None


def pip_default_key(python: str) -> str:
    """The cache key of ``python``'s pip default index (a hash of its absolute path)."""
    return "pip-default-" + hashlib.sha256(str(Path(python).absolute()).encode()).hexdigest()[:16]


def cached_pip_default(python: str, cache: Cache | None) -> str | None:
    """The target pip's default index, remembered for a day per interpreter (the query costs a subprocess)."""
    key = pip_default_key(python)
    known = cache.get_data("interpreters", key, PIP_DEFAULT_AGE) if cache else None
    if isinstance(known, str) and known:
        return known
    found = pip_default_index(python)
    if found and cache:
        cache.put_data("interpreters", key, found)
    return found
