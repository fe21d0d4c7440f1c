"""Lockfile writers: one ``Lock`` in, the file's text out (deterministic, no I/O)."""

from __future__ import annotations

from pathlib import PurePath
from typing import TYPE_CHECKING

from reprolock.lock.writers.requirements import write_requirements

if TYPE_CHECKING:
    from reprolock.lock.model import Lock


def is_pylock(path: str) -> bool:
    """``pylock.toml`` and ``pylock.NAME.toml`` (PEP 751 names) are written as pylock files."""
    name = PurePath(path).name
    return name == "pylock.toml" or (name.startswith("pylock.") and name.endswith(".toml"))


def write_lock(lock: Lock, path: str | None, *, hashes: bool = True, base: PurePath | None = None) -> str:
    """The lock in the format ``path`` names (``None``: standard output, requirements style); ``base``: the lock's folder."""
    if path is not None and is_pylock(path):
        from reprolock.lock.writers.pylock import write_pylock  # noqa: PLC0415 - packaging.pylock takes 6 ms to import; a requirements-style lock never needs it

        return write_pylock(lock, base=base)
    return write_requirements(lock, hashes=hashes)
