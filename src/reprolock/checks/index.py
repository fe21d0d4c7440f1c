"""The index rules (RL501-RL506): pure functions of pinned/installed versions and index data.

Nothing here touches the network: ``reprolock.index.audit`` gathers the pages
and the vulnerability data, and these functions only compare.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from reprolock.findings import Finding, finding
from reprolock.records import FileKind
from reprolock.rules import Severity

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

    from packaging.markers import Marker

    from reprolock.index.advisories import Vulnerability
    from reprolock.index.models import DistFile, ProjectPage
    from reprolock.records import Environment, Origin, SourceFile

_FLAGGED_STATUS = frozenset({"archived", "deprecated", "quarantined"})
_PLACEHOLDERS = frozenset({"pkg-resources", "pkg-resources-0-0-0"})


@dataclass(frozen=True, slots=True)
class Subject:
    """One version the index rules look at: pinned in a file or installed."""

    name: str
    version: str
    origin: Origin | None = None
    installed: bool = False
    allowed: tuple[str, ...] = ()
    """Specifiers that bound ``wanted`` (ranges and constraints from the files, dependents' requirements)."""


@dataclass(frozen=True, slots=True)
class IndexTarget:
    """The Python the releases must have a file for."""

    python_version: str
    tags: frozenset[str] | None = None
    """Compatible wheel tags (``cp311-cp311-manylinux_2_17_x86_64``); ``None``: any wheel counts."""


@dataclass(frozen=True)
class IndexData:
    """What the index (and the advisory sources) said about the subjects."""

    pages: Mapping[str, ProjectPage | None]
    """Normalised name -> page, ``None`` when the index does not have the project."""
    target: IndexTarget
    unknown: frozenset[str] = frozenset()
    """Names with no answer at all (offline and not cached)."""
    vulnerabilities: Mapping[tuple[str, str], Sequence[Vulnerability]] = field(default_factory=dict)
    """``(name, version)`` -> advisories; a key with an empty list was audited and is clean."""
    sources: tuple[str, ...] = ()
    """The vulnerability sources consulted, for RL506's message."""


@dataclass(frozen=True, slots=True)
class Release:
    """One version of a project as the index lists it."""

    version: Version
    text: str
    files: tuple[DistFile, ...]

    @property
    def yanked(self) -> bool:
        """PEP 592: a release is yanked when every one of its files is."""
        return bool(self.files) and all(item.yanked for item in self.files)

    @property
    def yanked_reason(self) -> str | None:
        return next((item.yanked_reason for item in self.files if item.yanked_reason), None)

    @property
    def uploaded(self) -> datetime | None:
        times = [item.upload_time for item in self.files if item.upload_time]
        if not times:
            return None
        try:
            return datetime.fromisoformat(min(times))
        except ValueError:
            return None

    def has_file_for(self, target: IndexTarget) -> bool:
        return any(_file_fits(item, target) for item in self.files)


@functools.lru_cache(maxsize=4096)
def _specifier(text: str) -> SpecifierSet | None:
    try:
        return SpecifierSet(text)
    except InvalidSpecifier:
        return None


@functools.lru_cache(maxsize=4096)
def _parse(text: str) -> Version | None:
    try:
        return Version(text)
    except InvalidVersion:
        return None


def _wheel_tags(filename: str) -> set[str]:
    parts = filename[:-4].split("-")
    interpreters, abis, platforms = parts[-3].split("."), parts[-2].split("."), parts[-1].split(".")
    return {f"{interpreter}-{abi}-{platform}" for interpreter in interpreters for abi in abis for platform in platforms}


def _file_fits(item: DistFile, target: IndexTarget) -> bool:
    if item.requires_python:
        allowed = _specifier(item.requires_python)
        python = _parse(target.python_version)
        if allowed is not None and python is not None and not allowed.contains(python, prereleases=True):
            return False
    if item.packagetype != "bdist_wheel" or target.tags is None:
        return True
    return not _wheel_tags(item.filename).isdisjoint(target.tags)


def releases(page: ProjectPage) -> dict[Version, Release]:
    """The page's files grouped by version (invalid versions left out), oldest first."""
    grouped: dict[Version, list[DistFile]] = {}
    texts: dict[Version, str] = {}
    for item in page.files:
        version = _parse(item.version)
        if version is not None:
            grouped.setdefault(version, []).append(item)
            texts.setdefault(version, item.version)
    return {version: Release(version, texts[version], tuple(grouped[version])) for version in sorted(grouped)}


def newest(found: Mapping[Version, Release], target: IndexTarget, *, pre: bool, within: Sequence[SpecifierSet] = ()) -> Release | None:
    """The newest release that is not yanked, a final release unless ``pre``, fits ``target`` and ``within``."""
    for version in sorted(found, reverse=True):
        release = found[version]
        if version.is_prerelease and not pre:
            continue
        if release.yanked or not release.has_file_for(target):
            continue
        if all(spec.contains(version, prereleases=True) for spec in within):
            return release
    return None


def _step(current: Version, latest: Version) -> str:
    old, new = (*current.release, 0, 0)[:3], (*latest.release, 0, 0)[:3]
    if new[0] != old[0]:
        return "major"
    if new[1] != old[1]:
        return "minor"
    return "patch"


def _where(subject: Subject) -> str:
    return "installed" if subject.installed else "pinned"


def _days(older: Release | None, newer: Release) -> int | None:
    if older is None or older.uploaded is None or newer.uploaded is None:
        return None
    return max(0, (newer.uploaded - older.uploaded).days)


def _drift(subject: Subject, found: Mapping[Version, Release], target: IndexTarget) -> tuple[Finding | None, dict[str, Any]]:
    current = _parse(subject.version)
    if current is None:
        return None, {}
    latest = newest(found, target, pre=current.is_prerelease)
    allowed = [spec for spec in (_specifier(text) for text in subject.allowed) if spec is not None]
    wanted = newest(found, target, pre=current.is_prerelease, within=allowed) if allowed else latest
    facts: dict[str, Any] = {"latest": latest.text if latest else None, "wanted": wanted.text if wanted else None}
    if latest is None or latest.version <= current:
        return None, facts
    step = _step(current, latest.version)
    days = _days(found.get(current), latest)
    severity = Severity.WARNING if step == "major" else None
    behind = f", {days} days behind" if days is not None else ""
    return (
        finding(
            "RL501",
            f"{subject.name} {subject.version} ({_where(subject)}) is behind the latest release {latest.text} ({step}{behind})",
            package=subject.name,
            location=subject.origin,
            severity=severity,
            current=subject.version,
            latest=latest.text,
            wanted=wanted.text if wanted else None,
            step=step,
            days_behind=days,
        ),
        facts,
    )


def check_index(subjects: Sequence[Subject], data: IndexData) -> tuple[list[Finding], dict[str, dict[str, Any]]]:
    """Index rules RL501, RL502, RL503, RL504, RL505 and RL506.

    Each pinned requirement (`==`/`===`) of the audited files and each installed distribution
    is compared with the index. `latest` is the newest release that is not yanked, not a
    pre-release (unless the version in use is one) and has a file for the target Python (its
    `requires-python` admits it and, for wheels, a tag fits); `wanted` is the newest such
    release that the files' own ranges and constraints (and, for an environment, the installed
    dependents' requirements) allow. Drift is a warning when a major version behind. A release
    is yanked when all its files are. Vulnerabilities come from the index's per-version JSON
    where it offers one and from `--advisories` OSV data; packages with neither are listed by
    RL506 and never reported clean. With `--offline`, projects missing from the cache are
    unknown: no finding claims anything about them.
    """
    found: list[Finding] = []
    facts: dict[str, dict[str, Any]] = {}
    unaudited: list[str] = []
    for subject in subjects:
        vulnerable = _vulnerable(subject, data)
        if vulnerable is None:
            unaudited.append(f"{subject.name}=={subject.version}")
        elif isinstance(vulnerable, Finding):
            found.append(vulnerable)
        if subject.name in data.unknown:
            facts.setdefault(subject.name, {"latest": None, "index": "unknown"})
            continue
        page = data.pages.get(subject.name)
        if page is None:
            found.append(
                finding("RL504", f"{subject.name} is not on the package index", package=subject.name, location=subject.origin, version=subject.version)
            )
            continue
        found.extend(_page_findings(subject, page, data.target, facts))
    if unaudited:
        found.append(_unaudited(sorted(set(unaudited)), data.sources))
    return _unique(found), facts


def _page_findings(subject: Subject, page: ProjectPage, target: IndexTarget, facts: dict[str, dict[str, Any]]) -> list[Finding]:
    """RL505, RL504 (version), RL502 and RL501 for one subject whose project is on the index."""
    found = _status(subject, page)
    versions = releases(page)
    current = _parse(subject.version)
    release = versions.get(current) if current is not None else None
    if release is None:
        found.append(
            finding(
                "RL504",
                f"{subject.name} {subject.version} ({_where(subject)}) is not on the package index",
                package=subject.name,
                location=subject.origin,
                version=subject.version,
            )
        )
    elif release.yanked:
        reason = release.yanked_reason
        found.append(
            finding(
                "RL502",
                f"{subject.name} {subject.version} ({_where(subject)}) is yanked" + (f": {reason}" if reason else " (no reason given)"),
                package=subject.name,
                location=subject.origin,
                version=subject.version,
                reason=reason,
            )
        )
    drift, known = _drift(subject, versions, target)
    if drift is not None:
        found.append(drift)
    row = facts.setdefault(subject.name, {})
    for key, value in known.items():
        row.setdefault(key, value)
    row.setdefault("yanked", bool(release and release.yanked))
    return found


def _status(subject: Subject, page: ProjectPage) -> list[Finding]:
    if (page.status or "").lower() not in _FLAGGED_STATUS:
        return []
    reason = f": {page.status_reason}" if page.status_reason else ""
    return [
        finding(
            "RL505",
            f"{subject.name} is marked {page.status} on the package index{reason}",
            package=subject.name,
            status=page.status,
            reason=page.status_reason,
        )
    ]


def _vulnerable(subject: Subject, data: IndexData) -> Finding | bool | None:
    """RL503, ``False`` when audited and clean, ``None`` when there is no data."""
    known = data.vulnerabilities.get((subject.name, subject.version))
    if known is None:
        return None
    if not known:
        return False
    ids = sorted({item.id for item in known})
    aliases = sorted({alias for item in known for alias in item.aliases} - set(ids))
    fixed = sorted({version for item in known for version in item.fixed_in}, key=lambda text: (_parse(text) or Version("0"), text))
    return finding(
        "RL503",
        f"{subject.name} {subject.version} ({_where(subject)}) has known vulnerabilities: {', '.join(ids)}",
        package=subject.name,
        location=subject.origin,
        version=subject.version,
        ids=ids,
        aliases=aliases,
        fixed_in=fixed,
        sources=sorted({item.source for item in known}),
    )


def _unaudited(packages: list[str], sources: Sequence[str]) -> Finding:
    shown = ", ".join(packages[:5]) + (f" and {len(packages) - 5} more" if len(packages) > 5 else "")
    consulted = ", ".join(sources) if sources else "none available"
    return finding(
        "RL506",
        f"no vulnerability data for {len(packages)} package(s): {shown} (sources: {consulted}; give --advisories PATH with OSV data)",
        packages=packages,
        sources=list(sources),
    )


def _unique(found: Iterable[Finding]) -> list[Finding]:
    seen: dict[tuple[str, str | None, str, Origin | None], Finding] = {}
    for item in found:
        seen.setdefault((item.rule, item.package, item.message, item.location), item)
    return list(seen.values())


def subjects_from(files: Sequence[SourceFile], environment: Environment | None = None) -> list[Subject]:
    """The pinned requirements of ``files`` and the installed distributions of ``environment``."""
    ranges: dict[str, list[str]] = {}
    for source in files:
        for req in source.requirements:
            if req.name is None or not req.specifier:
                continue
            exact = req.pinned_version is not None
            if not exact or req.constraint or source.kind is FileKind.CONSTRAINTS:
                ranges.setdefault(req.name, []).append(str(req.specifier))
    if environment is not None:
        _dependents_ranges(environment, ranges)
    subjects: list[Subject] = []
    for source in files:
        for req in source.requirements:
            version = req.pinned_version
            if req.name is None or version is None or req.is_direct or req.editable or req.name in _PLACEHOLDERS:
                continue
            subjects.append(Subject(req.name, version, req.origin, allowed=tuple(ranges.get(req.name, ()))))
    if environment is not None:
        for dist in environment.winners().values():
            if dist.direct_url or dist.editable or dist.name in _PLACEHOLDERS:
                continue
            subjects.append(Subject(dist.name, dist.version, None, installed=True, allowed=tuple(ranges.get(dist.name, ()))))
    return list(dict.fromkeys(subjects))


def _dependents_ranges(environment: Environment, ranges: dict[str, list[str]]) -> None:
    from packaging.requirements import InvalidRequirement, Requirement  # noqa: PLC0415 - only for environments

    markers = environment.interpreter.marker_env
    for dist in environment.winners().values():
        for text in dist.requires:
            try:
                req = Requirement(text)
            except InvalidRequirement:
                continue
            if req.marker is not None and not _applies(req.marker, markers):
                continue
            if req.specifier:
                ranges.setdefault(canonicalize_name(req.name), []).append(str(req.specifier))


def _applies(marker: Marker, environment: dict[str, str]) -> bool:
    try:
        return marker.evaluate({**environment, "extra": ""})
    except Exception:  # noqa: BLE001 - a marker this Python cannot evaluate does not apply
        return False
