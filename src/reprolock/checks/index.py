"""The index rules (RL501-RL506): pure functions of pinned/installed versions and index data.

Nothing here touches the network: ``reprolock.index.audit`` gathers the pages
and the vulnerability data, and these functions only compare.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from packaging.utils import canonicalize_name
from packaging.version import Version

from reprolock.dependencies import parse_requirement
from reprolock.findings import Finding, finding
from reprolock.records import FileKind
from reprolock.rules import Severity
from reprolock.versions import parse_specifier, parse_version

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

    from packaging.markers import Marker
    from packaging.specifiers import SpecifierSet

    from reprolock.index.advisories import Vulnerability
    from reprolock.index.models import ProjectFacts, ReleaseFacts
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
    hashes: tuple[str, ...] = ()
    """``algorithm:digest`` values pinned with the version (``--hash``, pylock hashes)."""
    marker: str | None = None
    """The entry's PEP 508 marker (a universal lock's per-version entries): where it is installed."""


@dataclass(frozen=True)
class IndexData:
    """What the index (and the advisory sources) said about the subjects."""

    pages: Mapping[str, ProjectFacts | None]
    """Normalised name -> the project's releases for the target, ``None`` when the index does not have it."""
    unknown: frozenset[str] = frozenset()
    """Names with no answer at all (offline and not cached)."""
    vulnerabilities: Mapping[tuple[str, str], Sequence[Vulnerability]] = field(default_factory=dict)
    """``(name, version)`` -> advisories; a key with an empty list was audited and is clean."""
    sources: tuple[str, ...] = ()
    """The vulnerability sources consulted, for RL506's message."""
    hashes: Mapping[tuple[str, str], frozenset[str]] = field(default_factory=dict)
    """``(name, version)`` -> every ``algorithm:digest`` the index lists for that version's files (for pinned hashes)."""


def newest(project: ProjectFacts, *, pre: bool, within: Sequence[SpecifierSet] = ()) -> ReleaseFacts | None:
    """The newest release that is not yanked, final unless ``pre``, has a file for the target and fits ``within``."""
    for release in project.releases:
        if (release.prerelease and not pre) or release.yanked or not release.fits:
            continue
        if not within:
            return release
        if all(spec.contains(release.normalized, prereleases=True) for spec in within):
            return release
    return None


def _uploaded(release: ReleaseFacts | None) -> datetime | None:
    if release is None or not release.uploaded:
        return None
    try:
        return datetime.fromisoformat(release.uploaded)
    except ValueError:
        return None


def _step(current: Version, latest: Version) -> str:
    old, new = (*current.release, 0, 0)[:3], (*latest.release, 0, 0)[:3]
    if new[0] != old[0]:
        return "major"
    if new[1] != old[1]:
        return "minor"
    return "patch"


def _where(subject: Subject) -> str:
    if subject.installed:
        return "installed"
    return f"pinned; {subject.marker}" if subject.marker else "pinned"


def _days(older: ReleaseFacts | None, newer: ReleaseFacts) -> int | None:
    start, end = _uploaded(older), _uploaded(newer)
    if start is None or end is None:
        return None
    return max(0, (end - start).days)


def drift(subject: Subject, project: ProjectFacts, release: ReleaseFacts | None) -> tuple[Finding | None, dict[str, Any]]:
    """RL501 for ``subject`` against ``project``'s releases that fit (``release``: its own), and the facts ``latest`` and ``wanted``."""
    current = parse_version(subject.version)
    if current is None:
        return None, {}
    latest = newest(project, pre=current.is_prerelease)
    allowed = [spec for spec in (parse_specifier(text) for text in subject.allowed) if spec is not None]
    wanted = newest(project, pre=current.is_prerelease, within=allowed) if allowed else latest
    facts: dict[str, Any] = {"latest": latest.version if latest else None, "wanted": wanted.version if wanted else None}
    newer = parse_version(latest.normalized) if latest else None
    if latest is None or newer is None or newer <= current:
        return None, facts
    step = _step(current, newer)
    days = _days(release, latest)
    severity = Severity.WARNING if step == "major" else None
    behind = f", {days} days behind" if days is not None else ""
    marked = {"marker": subject.marker} if subject.marker else {}
    return (
        finding(
            "RL501",
            f"{subject.name} {subject.version} ({_where(subject)}) is behind the latest release {latest.version} ({step}{behind})",
            package=subject.name,
            location=subject.origin,
            severity=severity,
            current=subject.version,
            latest=latest.version,
            wanted=wanted.version if wanted else None,
            step=step,
            days_behind=days,
            **marked,
        ),
        facts,
    )


def check_index(subjects: Sequence[Subject], data: IndexData) -> tuple[list[Finding], dict[str, dict[str, Any]]]:
    """Index rules RL501, RL502, RL503, RL504, RL505, RL506 and RL507.

    Each pinned requirement (`==`/`===`) of the audited files and each installed distribution
    is compared with the index. `latest` is the newest release that is not yanked, not a
    pre-release (unless the version in use is one) and has a file for the target Python (its
    `requires-python` admits it and, for wheels, a tag fits); `wanted` is the newest such
    release that the files' own ranges and constraints (and, for an environment, the installed
    dependents' requirements) allow. A pin with a marker (the per-version entries of a universal
    lock, `numpy==2.0.2 ; python_full_version < "3.10"`) is compared with the newest release for
    the Pythons where its marker holds: CPython 3.8 to 3.14 on linux, macos and windows are
    sampled (a marker with no Python condition admits them all), and a release counts when some
    of those Pythons can install a file of it; each entry is judged and reported on its own.
    With `audit --python-version/--platform`, releases are judged for that target and the
    entries whose marker is false there are left out. Drift is a warning when a major version behind. A release
    is yanked when all its files are. Vulnerabilities come from the index's per-version JSON
    where it offers one and from `--advisories` OSV data; packages with neither are listed by
    RL506 and never reported clean. A pinned requirement with hashes (`--hash`, a pylock's
    file hashes) none of which the index lists for a file of that version is RL507. With
    `--offline`, projects missing from the cache are unknown: no finding claims anything about them.
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
        found.extend(_page_findings(subject, page, facts))
        mismatch = _hash_mismatch(subject, data)
        if mismatch is not None:
            found.append(mismatch)
    if unaudited:
        found.append(_unaudited(sorted(set(unaudited)), data.sources))
    return _unique(found), facts


def _page_findings(subject: Subject, page: ProjectFacts, facts: dict[str, dict[str, Any]]) -> list[Finding]:
    """RL505, RL504 (version), RL502 and RL501 for one subject whose project is on the index."""
    found = _status(subject, page)
    current = parse_version(subject.version)
    normalized = str(current) if current is not None else subject.version
    release = next((item for item in page.releases if item.normalized == normalized), None)
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
    behind, known = drift(subject, page, release)
    if behind is not None:
        found.append(behind)
    row = facts.setdefault(subject.name, {})
    for key, value in known.items():
        row.setdefault(key, value)
    row.setdefault("yanked", bool(release and release.yanked))
    return found


def _hash_mismatch(subject: Subject, data: IndexData) -> Finding | None:
    """RL507: none of the pinned hashes is a hash the index lists for a file of that version."""
    listed = data.hashes.get((subject.name, subject.version))
    if not subject.hashes or not listed:
        return None
    if any(_normal_hash(value) in listed for value in subject.hashes):
        return None
    return finding(
        "RL507",
        f"{subject.name} {subject.version}: no pinned hash matches a file the index lists for it ({len(subject.hashes)} pinned, {len(listed)} listed)",
        package=subject.name,
        location=subject.origin,
        version=subject.version,
        pinned=sorted(subject.hashes),
    )


def _normal_hash(value: str) -> str:
    algorithm, _, digest = value.partition(":")
    return f"{algorithm.strip().lower()}:{digest.strip().lower()}"


def _status(subject: Subject, page: ProjectFacts) -> list[Finding]:
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
    fixed = sorted({version for item in known for version in item.fixed_in}, key=lambda text: (parse_version(text) or Version("0"), text))
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
    ranges = _file_ranges(files)
    if environment is not None:
        _dependents_ranges(environment, ranges)
    subjects = [
        Subject(req.name, req.pinned_version, req.origin, allowed=tuple(ranges.get(req.name, ())), hashes=req.hashes, marker=req.marker)
        for source in files
        for req in source.requirements
        if req.name is not None and req.pinned_version is not None and not (req.is_direct or req.editable or req.name in _PLACEHOLDERS)
    ]
    if environment is not None:
        subjects += [
            Subject(dist.name, dist.version, None, installed=True, allowed=tuple(ranges.get(dist.name, ())))
            for dist in environment.winners().values()
            if not (dist.direct_url or dist.editable or dist.name in _PLACEHOLDERS)
        ]
    return list(dict.fromkeys(subjects))


def _file_ranges(files: Sequence[SourceFile]) -> dict[str, list[str]]:
    """The ranges and constraints the files put on each name (they bound ``wanted``)."""
    ranges: dict[str, list[str]] = {}
    for source in files:
        for req in source.requirements:
            if req.name is not None and req.specifier and (req.pinned_version is None or req.constraint or source.kind is FileKind.CONSTRAINTS):
                ranges.setdefault(req.name, []).append(str(req.specifier))
    return ranges


# ``name...; extra == "docs"``: most Requires-Dist lines of real distributions, and they never
# apply here (no extra is asked for): recognised without parsing them.
_ONLY_EXTRA = re.compile(r"""[^;]*;\s*extra\s*==\s*(?:"[^"]+"|'[^']+')\s*""")


def _dependents_ranges(environment: Environment, ranges: dict[str, list[str]]) -> None:

    markers = environment.interpreter.marker_env
    applies: dict[str, bool] = {}
    for dist in environment.winners().values():
        for text in dist.requires:
            if _ONLY_EXTRA.fullmatch(text):
                continue
            req = parse_requirement(text)
            if req is None:
                continue
            if req.marker is not None:
                key = str(req.marker)
                if key not in applies:
                    applies[key] = _applies(req.marker, markers)
                if not applies[key]:
                    continue
            if req.specifier:
                ranges.setdefault(canonicalize_name(req.name), []).append(str(req.specifier))


def _applies(marker: Marker, environment: dict[str, str]) -> bool:
    try:
        return marker.evaluate({**environment, "extra": ""})
    except Exception:  # noqa: BLE001 - a marker this Python cannot evaluate does not apply
        return False
