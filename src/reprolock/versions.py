"""Forgiving, cached parsing of versions and specifiers, shared by the index rules and the resolver.

Index pages and metadata repeat the same few texts thousands of times, and
some are not valid PEP 440: these helpers parse each distinct text once and
answer ``None`` (or "allowed", as pip does for ``Requires-Python``) instead of
raising.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version


@functools.lru_cache(maxsize=65536)
def parse_version(text: str) -> Version | None:
    """``Version(text)``, or ``None`` when it is not a PEP 440 version."""
    try:
        return Version(text)
    except InvalidVersion:
        return None


@functools.lru_cache(maxsize=4096)
def parse_specifier(text: str) -> SpecifierSet | None:
    """``SpecifierSet(text)``, or ``None`` when it cannot be parsed."""
    try:
        return SpecifierSet(text)
    except InvalidSpecifier:
        return None


@functools.lru_cache(maxsize=4096)
def python_admits(requires_python: str | None, python_version: str) -> bool:
    """Whether a ``Requires-Python`` admits ``python_version``; an empty or unparsable one admits all, as pip does."""
    allowed = parse_specifier(requires_python) if requires_python else None
    if allowed is None:
        return True
    version = parse_version(python_version)
    return version is None or allowed.contains(version, prereleases=True)


_NORMAL = re.compile(r"((?:0|[1-9][0-9]*)(?:\.(?:0|[1-9][0-9]*))*)(?:(a|b|rc)(0|[1-9][0-9]*))?(?:\.post(0|[1-9][0-9]*))?(?:\.dev(0|[1-9][0-9]*))?")
"""A version in PEP 440 normal form without epoch or local part (``str(Version(text)) == text``): most of them."""

SortKey = tuple[Any, ...]


def sort_key(text: str) -> tuple[SortKey, bool, bool] | None:
    """``(key, normal, prerelease)`` for a version text; ``None`` when it is not PEP 440.

    Keys order versions as PEP 440 does, and are equal exactly when the versions
    are (``1.0`` and ``1.0.0``), but compare as plain tuples: sorting thousands of
    releases does not go through :class:`~packaging.version.Version` comparisons.
    ``normal`` tells the text is known to be in normal form (it can be shown as it is). Texts in normal form are read with
    one regular expression, the others through :func:`parse_version`.
    """
    match = _NORMAL.fullmatch(text)
    if match is not None:
        release, letter, number, post, dev = match.groups()
        pre = (letter, int(number)) if letter else None
        key = _key(0, tuple(map(int, release.split("."))), pre=pre, post=None if post is None else int(post), dev=None if dev is None else int(dev), local=None)
        return key, True, pre is not None or dev is not None
    version = parse_version(text)
    if version is None:
        return None
    key = _key(version.epoch, version.release, pre=version.pre, post=version.post, dev=version.dev, local=version.local)
    return key, False, version.is_prerelease


def _key(epoch: int, release: tuple[int, ...], *, pre: tuple[str, int] | None, post: int | None, dev: int | None, local: str | None) -> SortKey:
    """PEP 440's ordering as a tuple: trailing zeros of the release dropped, a dev-only release before pre-releases,
    a final release after them, no post-release before any, a dev release before its final, no local part first."""
    end = len(release)
    while end and release[end - 1] == 0:
        end -= 1
    if pre is not None:
        pre_key: tuple[Any, ...] = (1, *pre)
    else:
        pre_key = (0,) if post is None and dev is not None else (2,)
    post_key = (0,) if post is None else (1, post)
    dev_key = (1,) if dev is None else (0, dev)
    local_key = () if local is None else tuple((1, int(part), "") if part.isdigit() else (0, 0, part) for part in re.split(r"[._-]", local))
    return (epoch, release[:end], pre_key, post_key, dev_key, local_key)


_DIRECT = {">=": tuple.__ge__, "<=": tuple.__le__, "==": tuple.__eq__, "!=": tuple.__ne__, "<": tuple.__lt__, ">": tuple.__gt__}


@functools.lru_cache(maxsize=1024)
def _clauses(specifiers: SpecifierSet) -> tuple[tuple[str, SortKey | None], ...]:
    """Each clause's operator and the key of its version (``None``: only packaging can answer it)."""
    found = []
    for clause in specifiers:
        parsed = None if clause.version.endswith(".*") or clause.operator not in _DIRECT else sort_key(clause.version)
        found.append((clause.operator, parsed[0] if parsed is not None else None))
    return tuple(found)


def admits(specifiers: SpecifierSet, text: str) -> bool:
    """``specifiers.contains(text, prereleases=True)``, mostly by comparing sort keys.

    The answer is packaging's: keys answer only what packaging itself answers by
    a plain comparison (no wildcard, no local version on the candidate, and for
    ``<``/``>`` a candidate outside the bound's release family); the rest goes to
    packaging.
    """
    parsed = sort_key(text)
    if parsed is None:
        return False
    key = parsed[0]
    if key[5]:  # a local version: packaging's rules
        return specifiers.contains(text, prereleases=True)
    for operator, bound in _clauses(specifiers):
        if bound is None or (operator in {"<", ">"} and key[:2] == bound[:2]):
            return specifiers.contains(text, prereleases=True)
        if not _DIRECT[operator](key, bound):
            return False
    return True
