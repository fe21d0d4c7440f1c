"""Pins of an existing lockfile: preferred on the next run, compared by ``--check``."""

from __future__ import annotations

import hashlib
import json
import re
import shlex
import tomllib
from typing import TYPE_CHECKING

from packaging.utils import canonicalize_name

from reprolock.lock.writers import is_pylock
from reprolock.sources.requirements import parse_text

if TYPE_CHECKING:
    from collections.abc import Iterable
    from pathlib import Path

    from reprolock.index.cache import Cache


_HASH_OPTION = re.compile(r"[ \t]+--hash[= \t]+[^\s\\]+")
_MEMO = "lockpins"
"""The cache's blobs of pins read from a lockfile, by the digest of its text."""


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


def pins_of(text: str, path: Path, memo: Cache | None = None) -> dict[str, str]:
    """``name -> version`` of a lockfile's text, read as the format its name says.

    With ``memo`` (the run's cache) the answer is kept by the digest of the text,
    so the next run does not parse the same file again: a pylock.toml with every
    file of 90 packages takes tomllib 60 ms.
    """
    pylock = is_pylock(path.name)
    key = hashlib.sha256(b"pylock\n" if pylock else b"requirements\n")
    key.update(text.encode())
    if memo is None:
        return pins_from_pylock_text(text) if pylock else pins_from_text(text, path.name)
    kept = _kept_pins(memo.get_blob(_MEMO, key.hexdigest()))
    if kept is not None:
        return kept
    pins = pins_from_pylock_text(text) if pylock else pins_from_text(text, path.name)
    memo.put_blob(_MEMO, key.hexdigest(), json.dumps(pins, separators=(",", ":")).encode())
    return pins


def _kept_pins(blob: bytes | None) -> dict[str, str] | None:
    try:
        pins = json.loads(blob) if blob is not None else None
    except ValueError:
        return None  # not what this version keeps: read the file
    if not isinstance(pins, dict) or not all(isinstance(value, str) for value in pins.values()):
        return None
    return pins


def existing_pins(path: Path, memo: Cache | None = None) -> dict[str, str]:
    text = read_existing(path)
    return {} if text is None else pins_of(text, path, memo)


def preferred_pins(path: Path, upgrade: Iterable[str] = (), memo: Cache | None = None) -> dict[str, str]:
    """The pins of the lockfile being replaced, which the resolver keeps when it can; ``upgrade``: names to resolve afresh."""
    pins = existing_pins(path, memo)
    for name in upgrade:
        pins.pop(name, None)
    return pins


def marked_pins(path: Path) -> list[tuple[str, str, str | None]]:
    """``(name, version, marker)`` of every pin of the lockfile being replaced, in file order (a universal lock has one per variant)."""
    text = read_existing(path)
    if text is None:
        return []
    if not is_pylock(path.name):
        parsed = parse_text(_HASH_OPTION.sub("", text), path.name)
        return [(req.name, version, req.marker) for req in parsed.requirements if req.name and (version := req.pinned_version)]
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return []
    return [
        (canonicalize_name(package["name"]), package["version"], package.get("marker") if isinstance(package.get("marker"), str) else None)
        for package in data.get("packages", [])
        if isinstance(package, dict) and isinstance(package.get("name"), str) and isinstance(package.get("version"), str)
    ]


def recorded_option(path: Path, flag: str) -> str | None:
    """The value of ``flag`` in the regenerate command a lockfile's header records (``None``: no file, no such option)."""
    text = read_existing(path)
    if text is None:
        return None
    for line in text.splitlines()[:8]:
        command = line.removeprefix("#").strip()
        if command.startswith("reprolock lock "):
            try:
                words = shlex.split(command)
            except ValueError:
                return None
            return next((words[index + 1] for index, word in enumerate(words[:-1]) if word == flag), None)
    return None
