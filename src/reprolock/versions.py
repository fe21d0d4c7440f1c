"""Forgiving, cached parsing of versions and specifiers (packaging's), shared by the index rules and the resolver.

Index pages and metadata repeat the same few texts thousands of times, and
some are not valid PEP 440: these helpers parse each distinct text once and
answer ``None`` (or "allowed", as pip does for ``Requires-Python``) instead of
raising.
"""

from __future__ import annotations

import functools

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
