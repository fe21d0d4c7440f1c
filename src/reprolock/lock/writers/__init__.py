"""Lockfile writers: one ``Lock`` in, the file's text out (deterministic, no I/O)."""

from __future__ import annotations

from pathlib import PurePath


def is_pylock(path: str) -> bool:
    """``pylock.toml`` and ``pylock.NAME.toml`` (PEP 751 names) are written as pylock files."""
    name = PurePath(path).name
    return name == "pylock.toml" or (name.startswith("pylock.") and name.endswith(".toml"))
