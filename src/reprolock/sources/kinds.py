"""Infer what a file is from its name, then from its content."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from reprolock.records import FileKind

if TYPE_CHECKING:
    from reprolock.sources.requirements import ParsedText

_PYLOCK_NAME = re.compile(r"pylock\.([^.]+\.)?toml")
# Dockerfile, Containerfile, web.Dockerfile, Dockerfile.dev (not Dockerfile.dockerignore, the ignore file of one)
_DOCKERFILE_NAME = re.compile(r"(?:(?:docker|container)file(?:\.[^/]+)?|[^/]+\.(?:docker|container)file)")


def kind_from_name(name: str) -> FileKind | None:
    """The kind a file name implies, if it implies one."""
    lower = name.lower()
    if _DOCKERFILE_NAME.fullmatch(lower) and not lower.endswith(".dockerignore"):
        return FileKind.DOCKERFILE
    if lower == "pyproject.toml":
        return FileKind.PYPROJECT
    if _PYLOCK_NAME.fullmatch(lower):
        return FileKind.PYLOCK
    if lower.endswith(".toml"):
        return FileKind.PYPROJECT
    if lower.endswith(".in"):
        return FileKind.INPUT
    if "constraint" in lower:
        return FileKind.CONSTRAINTS
    if "freeze" in lower:
        return FileKind.FREEZE
    return None


def looks_like_freeze(parsed: ParsedText) -> bool:
    """``pip freeze`` output: its marker comments, or sorted bare pins and nothing else.

    pip freeze writes no options, hashes or comments of its own (other than the
    markers), pins every line exactly or by direct reference, and sorts by name.
    """
    if parsed.freeze_markers:
        return True
    reqs = parsed.requirements
    if len(reqs) < 3 or parsed.options or parsed.includes or parsed.comment_lines:
        return False
    if any(req.hashes or req.marker or (req.pinned_version is None and not req.is_direct) for req in reqs):
        return False
    names = [req.name or "" for req in reqs if not req.editable]
    return names == sorted(names)


def infer_kind(name: str, parsed: ParsedText, *, constraint: bool = False) -> FileKind:
    """The kind of a requirements-style file, from its name and then its content."""
    if constraint:
        return FileKind.CONSTRAINTS
    by_name = kind_from_name(name)
    if by_name is not None:
        return by_name
    return FileKind.FREEZE if looks_like_freeze(parsed) else FileKind.REQUIREMENTS
