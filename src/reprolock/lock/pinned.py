"""Freeze-equivalent locks: pin given versions exactly, no resolution.

``--from-env`` and ``--from-freeze`` both end here with a set of pins (name,
version and, when known, the ``Requires-Dist`` lines). The closure of the
root requirements is walked over those lines with the target's markers and
the extras each edge asks for; the index supplies every file and hash of each
pinned version. What the index cannot reproduce is kept, marked, and
reported.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from reprolock.findings import Finding, finding
from reprolock.lock.candidates import project_table
from reprolock.lock.metadata import MetadataError, MetadataStore
from reprolock.lock.model import Lock, LockedPackage, Provenance
from reprolock.lock.resolve import needs_by_name, reached_from, root_marker, via_file
from reprolock.versions import parse_version

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

    from reprolock.index.models import DistFile, PackageFinder
    from reprolock.lock.provider import Need
    from reprolock.lock.target import LockTarget
    from reprolock.records import Origin


@dataclass(frozen=True, slots=True)
class Pin:
    """One exactly pinned distribution, from a freeze line or an installed distribution."""

    name: str
    version: str
    requires: tuple[str, ...] | None = None
    """``Requires-Dist`` lines; ``None``: read them from the index's metadata."""
    unreproducible: str | None = None
    rule: str | None = None
    """The finding that reports why it is unreproducible (RL105, RL106, RL202, RL304, ...)."""
    origin: Origin | None = None


@dataclass(slots=True)
class _Fetched:
    files: dict[str, tuple[DistFile, ...]]
    index: dict[str, str]
    requires: dict[str, tuple[Requirement, ...]]
    findings: dict[str, Finding]
    """Per package: kept only for packages in the closure."""
    not_on_index: dict[str, str]


def _parse_requires(lines: Iterable[str]) -> tuple[Requirement, ...]:
    parsed = []
    for line in lines:
        try:
            parsed.append(Requirement(line))
        except InvalidRequirement:
            continue  # an installed distribution's broken metadata line; pip skips it too
    return tuple(parsed)


def _fetch(pins: Mapping[str, Pin], finder: PackageFinder, target: LockTarget, *, workers: int) -> _Fetched:
    """Files, hashes and (when the pin does not carry them) dependencies from the index."""
    fetched = _Fetched({}, {}, {}, {}, {})
    wanted = sorted(name for name, pin in pins.items() if pin.unreproducible is None)
    finder.prefetch(wanted)
    store = MetadataStore(finder, workers=workers)
    releases = {}
    try:
        for name in wanted:
            pin = pins[name]
            table = project_table(finder, name, target)
            files = table.files_of(pin.version) if table is not None else ()
            if table is None or not files:
                where = "the project is not on the index" if table is None else f"the index has no files of version {pin.version}"
                fetched.not_on_index[name] = where
                fetched.findings[name] = finding("RL504", f"{name}=={pin.version} cannot be reproduced from the index: {where}", package=name, location=pin.origin)
                continue
            fetched.files[name] = files
            fetched.index[name] = table.index_url
            if pin.requires is None:
                version = parse_version(pin.version)
                release = table.release(version, allow_yanked=True) if version is not None else None
                if release is not None:
                    releases[name] = release
        store.warm(releases.values())
        for name, release in releases.items():
            try:
                fetched.requires[name] = store.get(release).requires
            except MetadataError as exc:
                fetched.findings[name] = finding("RL402", f"the dependencies of {name}=={pins[name].version} are unknown: {exc}", package=name)
    finally:
        store.close()
    for name, pin in pins.items():
        if pin.requires is not None:
            fetched.requires[name] = _parse_requires(pin.requires)
    return fetched


def _walk(
    starts: Iterable[tuple[str, frozenset[str]]],
    pins: Mapping[str, Pin],
    requires: Mapping[str, tuple[Requirement, ...]],
    target: LockTarget,
) -> tuple[dict[str, set[str]], list[tuple[str, Requirement]]]:
    """Edges of the closure of ``starts`` (with their extras), and requirements nothing pinned meets."""
    active: dict[str, set[str]] = {}
    edges: dict[str, set[str]] = {}
    unmet: list[tuple[str, Requirement]] = []
    queue: deque[tuple[str, frozenset[str]]] = deque()
    for name, extras in starts:
        if name in pins:
            queue.append((name, extras))
    while queue:
        name, extras = queue.popleft()
        known = active.get(name)
        if known is not None and extras <= known:
            continue
        active[name] = (known or set()) | extras
        children = edges.setdefault(name, set())
        for requirement in requires.get(name, ()):
            if not target.holds(requirement.marker, ("", *sorted(active[name]))):
                continue
            dep = canonicalize_name(requirement.name)
            if dep not in pins:
                unmet.append((name, requirement))
                continue
            if dep != name:
                children.add(dep)
            queue.append((dep, frozenset(canonicalize_name(extra) for extra in requirement.extras)))
    return edges, unmet


def _root_findings(roots: Sequence[Need], pins: Mapping[str, Pin]) -> Iterable[Finding]:
    for need in roots:
        where = need.source.origin if need.source else None
        if need.name not in pins:
            yield finding("RL402", f"{need} is required but not present", package=need.name, location=where)
        elif not need.specifier.contains(pins[need.name].version, prereleases=True):
            yield finding("RL401", f"{need.name} {pins[need.name].version} does not satisfy {need}", package=need.name, location=where)


def _closure_findings(pins: Mapping[str, Pin], fetched: _Fetched, edges: Mapping[str, set[str]], unmet: Iterable[tuple[str, Requirement]]) -> Iterable[Finding]:
    """What the index could not give for the closure's pins, what nothing pinned meets, what cannot be reproduced."""
    yield from (item for name, item in sorted(fetched.findings.items()) if name in edges)
    for parent, requirement in unmet:
        yield finding("RL402", f"{parent} requires {requirement}, which is not present", package=canonicalize_name(requirement.name), required_by=parent)
    for name, pin in sorted(pins.items()):
        if name in edges and pin.unreproducible and pin.rule:
            yield finding(pin.rule, f"{name}=={pin.version} cannot be reproduced from the index: {pin.unreproducible}", package=name, location=pin.origin)


def pinned_lock(
    pins: Mapping[str, Pin],
    roots: Sequence[Need] | None,
    finder: PackageFinder,
    target: LockTarget,
    *,
    command: str,
    workers: int = 0,
) -> tuple[Lock, list[Finding]]:
    """A lock of exactly ``pins`` (only the closure of ``roots`` when roots are given)."""
    findings = list(_root_findings(roots or (), pins))
    starts = [(need.name, need.extras) for need in roots] if roots is not None else [(name, frozenset()) for name in pins]
    if roots is not None and all(pin.requires is not None for pin in pins.values()):
        # The pins carry their dependencies: fetch only the closure's pages.
        local = {name: _parse_requires(pin.requires) for name, pin in pins.items() if pin.requires is not None}
        pins = {name: pins[name] for name in _walk(starts, pins, local, target)[0]}
    fetched = _fetch(pins, finder, target, workers=workers)
    edges, unmet = _walk(starts, pins, fetched.requires, target)
    findings.extend(_closure_findings(pins, fetched, edges, unmet))
    parents: dict[str, set[str]] = {name: set() for name in edges}
    for parent, children in edges.items():
        for child in children:
            parents[child].add(parent)
    reached = reached_from(roots or (), edges)
    root_needs = needs_by_name(roots or ())
    packages = []
    for name in sorted(edges):
        pin = pins[name]
        sources = [need.source for need in root_needs.get(name, ()) if need.source is not None]
        packages.append(
            LockedPackage(
                name=name,
                version=pin.version,
                files=fetched.files.get(name, ()),
                index=fetched.index.get(name),
                dependencies=tuple(sorted(edges[name])),
                parents=tuple(sorted(parents[name])),
                provenance=Provenance(
                    requested=tuple(sorted({str(source.origin) for source in sources})),
                    via_files=tuple(sorted({via_file(source) for source in sources})),
                    roots=tuple(sorted(reached[name])),
                ),
                marker=root_marker(root_needs.get(name, []), bool(parents[name])),
                unreproducible=pin.unreproducible or fetched.not_on_index.get(name),
            ),
        )
    lock = Lock(tuple(packages), command, environment_marker=target.environment_marker, requires_python=target.requires_python, target=target.description, exclude_newer=target.as_of)
    return lock, findings
