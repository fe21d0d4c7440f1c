"""Vulnerability data: OSV advisories from a folder or zip, and the index's per-version JSON.

``--advisories PATH`` points at a folder (searched recursively) or a zip of
OSV JSON files, such as an export of the PyPI advisory database, for offline
and air-gapped use. Only entries of the ``PyPI`` ecosystem are read. Given such
a database, a package it does not mention counts as audited (the database is
the data); without any source a package is *unaudited* (RL506), never clean.
"""

from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from packaging.utils import canonicalize_name
from packaging.version import Version

from reprolock.errors import InputError
from reprolock.versions import parse_version

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator
    from pathlib import Path


@dataclass(frozen=True, slots=True)
class Vulnerability:
    """One advisory that affects one version."""

    id: str
    aliases: tuple[str, ...] = ()
    summary: str | None = None
    fixed_in: tuple[str, ...] = ()
    source: str = "osv"
    """``osv`` (``--advisories``) or ``index`` (the index's per-version JSON)."""


@dataclass(frozen=True, slots=True)
class _Affected:
    advisory: Vulnerability
    versions: frozenset[str]
    ranges: tuple[tuple[tuple[str, str], ...], ...]
    """ECOSYSTEM ranges: each a tuple of ``(event, version)``."""


def _in_range(version: Version, events: tuple[tuple[str, str], ...]) -> bool:
    """OSV's ECOSYSTEM range evaluation: walk the events in version order."""
    keyed = []
    for kind, value in events:
        bound = Version("0") if value == "0" else parse_version(value)
        if bound is not None:
            keyed.append((bound, kind))
    affected = False
    for bound, kind in sorted(keyed, key=lambda item: item[0]):
        if kind == "introduced" and version >= bound:
            affected = True
        elif (kind in {"fixed", "limit"} and version >= bound) or (kind == "last_affected" and version > bound):
            affected = False
    return affected


@dataclass
class AdvisoryDatabase:
    """OSV advisories by normalised project name."""

    path: str
    by_name: dict[str, list[_Affected]] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)
    """Files that are not OSV JSON (kept to tell the user, never fatal)."""

    def matches(self, name: str, version: str) -> list[Vulnerability]:
        parsed = parse_version(version)
        found: dict[str, Vulnerability] = {}
        for entry in self.by_name.get(canonicalize_name(name), ()):
            if version in entry.versions or (parsed is not None and any(parse_version(item) == parsed for item in entry.versions)) or (parsed is not None and any(_in_range(parsed, events) for events in entry.ranges)):
                found[entry.advisory.id] = entry.advisory
        return [found[key] for key in sorted(found)]

    def add(self, data: dict[str, Any], where: str) -> None:
        advisory_id = data.get("id")
        affected = data.get("affected")
        if not isinstance(advisory_id, str) or not isinstance(affected, list):
            self.skipped.append(where)
            return
        for item in affected:
            package = item.get("package") if isinstance(item, dict) else None
            if not isinstance(package, dict) or package.get("ecosystem") != "PyPI" or not package.get("name"):
                continue
            ranges = tuple(
                tuple((kind, str(value)) for event in block.get("events", []) for kind, value in event.items())
                for block in item.get("ranges", [])
                if isinstance(block, dict) and block.get("type") == "ECOSYSTEM"
            )
            fixed = tuple(value for events in ranges for kind, value in events if kind == "fixed")
            advisory = Vulnerability(
                id=advisory_id,
                aliases=tuple(str(alias) for alias in data.get("aliases") or ()),
                summary=data.get("summary"),
                fixed_in=fixed,
                source="osv",
            )
            entry = _Affected(advisory, frozenset(str(value) for value in item.get("versions") or ()), ranges)
            self.by_name.setdefault(canonicalize_name(str(package["name"])), []).append(entry)


def _documents(path: Path) -> Iterator[tuple[str, bytes]]:
    if path.is_dir():
        for file in sorted(path.rglob("*.json")):
            yield str(file.relative_to(path)), file.read_bytes()
        return
    with zipfile.ZipFile(path) as archive:
        for name in sorted(archive.namelist()):
            if name.endswith(".json"):
                yield name, archive.read(name)


def load_advisories(path: Path, shown: str | None = None) -> AdvisoryDatabase:
    """Read an OSV folder or zip; a missing or unreadable path is an input error (exit 3)."""
    shown = shown or str(path)
    if not path.exists():
        raise InputError(f"{shown}: advisories folder or zip not found", hint="give --advisories a folder or zip of OSV JSON files")
    database = AdvisoryDatabase(shown)
    try:
        for where, raw in _documents(path):
            try:
                data = json.loads(raw)
            except ValueError:
                database.skipped.append(where)
                continue
            if isinstance(data, dict):
                database.add(data, where)
            else:
                database.skipped.append(where)
    except (OSError, zipfile.BadZipFile) as exc:
        raise InputError(f"{shown}: cannot read advisories: {exc}", hint="give --advisories a folder or zip of OSV JSON files") from None
    return database


def from_index(entries: Iterable[dict[str, Any]]) -> list[Vulnerability]:
    """The index's per-version JSON ``vulnerabilities`` entries as records."""
    found = []
    for entry in entries:
        if not isinstance(entry, dict) or not entry.get("id"):
            continue
        found.append(
            Vulnerability(
                id=str(entry["id"]),
                aliases=tuple(str(alias) for alias in entry.get("aliases") or ()),
                summary=entry.get("summary") or entry.get("details"),
                fixed_in=tuple(str(version) for version in entry.get("fixed_in") or ()),
                source="index",
            )
        )
    return found
