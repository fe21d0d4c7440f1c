"""Pins of an existing lockfile: preferred on the next run, compared by ``--check``."""

from __future__ import annotations

import re
import tomllib
from typing import TYPE_CHECKING

from packaging.utils import canonicalize_name

from reprolock.lock.writers import is_pylock
from reprolock.sources.requirements import parse_text

if TYPE_CHECKING:
    from collections.abc import Iterable
    from pathlib import Path


_HASH_OPTION = re.compile(r"[ \t]+--hash[= \t]+[^\s\\]+")


def pins_from_text(text: str, display: str = "lock") -> dict[str, str]:
    """``name -> version`` of every exact pin of a requirements-style text.

    ``--hash`` options are dropped first: they do not change a pin, and a
    lockfile has dozens of them per package, which the line splitter would
    otherwise tokenise one by one.
    """
    parsed = parse_text(_HASH_OPTION.sub("", text), display)
    return {req.name: version for req in parsed.requirements if req.name and (version := req.pinned_version)}


def pins_from_pylock_text(text: str) -> dict[str, str]:
    """``name -> version`` of a pylock text (lenient: an unreadable file has no pins)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return {}
    pins: dict[str, str] = {}
    for package in data.get("packages", []):
        if isinstance(package, dict) and isinstance(package.get("name"), str) and isinstance(package.get("version"), str):
            pins[canonicalize_name(package["name"])] = package["version"]
    return pins


def read_existing(path: Path) -> str | None:
    """The lockfile's text, or ``None`` when there is none (or it cannot be read)."""
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def pins_of(text: str, path: Path) -> dict[str, str]:
    """``name -> version`` of a lockfile's text, read as the format its name says."""
    return pins_from_pylock_text(text) if is_pylock(path.name) else pins_from_text(text, path.name)


def existing_pins(path: Path) -> dict[str, str]:
    text = read_existing(path)
    return {} if text is None else pins_of(text, path)


def preferred_pins(path: Path, upgrade: Iterable[str] = ()) -> dict[str, str]:
    """The pins of the lockfile being replaced, which the resolver keeps when it can; ``upgrade``: names to resolve afresh."""
    pins = existing_pins(path)
    for name in upgrade:
        pins.pop(name, None)
    return pins
