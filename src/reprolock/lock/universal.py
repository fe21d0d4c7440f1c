"""``lock --universal``: one lock for every supported Python version on Linux, macOS and Windows.

The inputs are resolved once per sampled target, each CPython minor version of
the range (from ``requires-python`` or ``--python-version`` up to
:data:`LATEST_MINOR`) on each of the three platforms, with the same index
client, candidate tables and metadata. The resolutions are then merged:

* a package at a version is one entry; a package resolved to different
  versions on different targets (numpy for 3.9 and for 3.13) has one entry per
  version;
* each entry's marker is the union, over every path from a root, of the
  markers along the path (a root line's marker, then each ``Requires-Dist``
  marker), limited to the samples where that version was chosen (see
  :mod:`reprolock.lock.markerspace`); a package every sample installs through
  unguarded edges has no marker;
* the edges between entries are kept, with the versions they link.

This is sampling, not uv's symbolic forking: a requirement that only another
platform (FreeBSD, emscripten) or a Python after 3.14 would need is not found.
Markers the samples cannot decide (``platform_machine``, the implementation,
a patch-level ``python_full_version``) are followed in every sample and kept
as written along the paths, so a PyPy-only requirement is locked with its
marker. As in uv's universal resolution, a release is judged by its
Requires-Python, not by whether a wheel's tags fit the sample.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from packaging.markers import InvalidMarker, Marker
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import Version

from reprolock.errors import UsageError
from reprolock.lock.direct import direct_findings, with_direct
from reprolock.lock.inputs import collect_roots
from reprolock.lock.lookahead import Lookahead
from reprolock.lock.markerspace import Space, Term, conjoin, restrict, simplify
from reprolock.lock.metadata import MetadataStore
from reprolock.lock.model import Lock, LockedPackage
from reprolock.lock.othertarget import UNIVERSAL_MINORS, UNIVERSAL_PLATFORMS, NamedTarget, python_version_parts, sample_targets
from reprolock.lock.provider import PYTHON, Provider
from reprolock.lock.resolve import ResolutionConflictError, needs_by_name, origin_of, provenance, reached_from, run_resolver, table_store
from reprolock.records import FileKind

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping, Sequence
    from datetime import datetime
    from pathlib import Path

    from resolvelib.resolvers import Result

    from reprolock.findings import Finding
    from reprolock.index.models import PackageFinder
    from reprolock.lock.direct import DirectProject, Download
    from reprolock.lock.inputs import Roots
    from reprolock.lock.markerspace import Dnf
    from reprolock.lock.provider import Candidate, Need, ResolveOptions
    from reprolock.lock.target import LockTarget
    from reprolock.records import SourceFile

FIRST_MINOR, LATEST_MINOR = UNIVERSAL_MINORS[0], UNIVERSAL_MINORS[-1]

Key = tuple[str, str]
"""A lock entry: (name, version)."""


@dataclass(frozen=True)
class Universe:
    """What a universal lock covers: the sampled targets and the ``requires-python`` it states."""

    space: Space
    targets: tuple[SampleTarget, ...]
    requires_python: str

    @property
    def description(self) -> str:
        minors = self.space.minors
        versions = f"3.{minors[0]}" if len(minors) == 1 else f"3.{minors[0]} to 3.{minors[-1]}"
        return f"CPython {versions} on {', '.join(UNIVERSAL_PLATFORMS[:-1])} and {UNIVERSAL_PLATFORMS[-1]}"


def universe(
    python_version: str | None, files: Sequence[SourceFile], running: LockTarget, *, exclude_newer: datetime | None = None
) -> Universe:
    """The targets of ``--universal``: ``--python-version`` as the lower bound, else the inputs' ``requires-python``."""
    specifier = _requires_python(python_version, files, running)
    minors = tuple(
        minor
        for minor in UNIVERSAL_MINORS
        if specifier.contains(Version(f"3.{minor}.99"), prereleases=True) or specifier.contains(Version(f"3.{minor}"), prereleases=True)
    )
    if not minors:
        raise UsageError(f"--universal: requires-python {specifier} admits no CPython from 3.{FIRST_MINOR} to 3.{LATEST_MINOR}")
    named = [target for minor in minors for target in sample_targets(minor, running)]
    space = Space(
        minors,
        tuple(target.marker_env["sys_platform"] for target in named[: len(UNIVERSAL_PLATFORMS)]),
        tuple(target.marker_env for target in named),
    )
    targets = tuple(
        SampleTarget(
            target.python_version,
            target.markers,
            target.tags,
            exclude_newer=exclude_newer,
            any_wheel=True,
            named=target.named,
            exact=False,
            space=space,
            sample=index,
        )
        for index, target in enumerate(named)
    )
    return Universe(space, targets, str(specifier))


@dataclass(frozen=True)
class SampleTarget(NamedTarget):
    """One sampled target of a universal lock: markers are judged by :meth:`Space.holds` (residual atoms may hold)."""

    space: Space | None = None
    sample: int = 0

    def holds(self, marker: Marker | None, extras: Iterable[str] = ("",)) -> bool:
        if self.space is None or marker is None:
            return super().holds(marker, extras)
        return self.space.holds(self.sample, str(marker), extras)


def _requires_python(python_version: str | None, files: Sequence[SourceFile], running: LockTarget) -> SpecifierSet:
    if python_version is not None:
        python_version_parts(python_version)  # a usage error unless 3.X or 3.X.Y, 3.8 or later
        return SpecifierSet(f">={python_version}")
    for source in files:
        if source.kind is FileKind.PYPROJECT and source.requires_python:
            try:
                return SpecifierSet(source.requires_python)
            except InvalidSpecifier:
                raise UsageError(f"{source.path}: requires-python {source.requires_python!r} is not a version specifier") from None
    return SpecifierSet(f">={running.marker_env['python_version']}")


@dataclass
class _Entry:
    """What the resolutions say of one (name, version)."""

    candidate: Candidate
    samples: set[int] = field(default_factory=set)
    incoming: set[tuple[Key | None, str | None, frozenset[str]]] = field(default_factory=set)
    """(parent entry or ``None`` for an input line, the requirement's marker, the extras the parent was asked with)."""
    children: set[Key] = field(default_factory=set)
    requires: set[str] = field(default_factory=set)


def _key(candidate: Candidate) -> Key:
    return (candidate.name, str(candidate.version))


def _record(entries: dict[Key, _Entry], result: Result[Need, Candidate, str], sample: int, space: Space) -> None:
    """Add one sample's resolution: its entries, and every edge with its requirement's marker.

    The requirement text kept for the lock has its ``extra`` conditions settled by
    the extras the parent was asked with: the edge holds wherever the rest of the
    marker does (``redis; extra == "redis"`` of ``celery[redis]`` is ``redis``).
    """
    for identifier, criterion in result.criteria.items():
        candidate = result.mapping.get(identifier)
        if identifier == PYTHON or candidate is None:
            continue
        entry = entries.setdefault(_key(candidate), _Entry(candidate))
        entry.samples.add(sample)
        for info in criterion.information:
            parent = info.parent
            if parent is None:
                entry.incoming.add((None, info.requirement.marker, frozenset()))
            elif parent.name != candidate.name:
                entry.incoming.add((_key(parent), info.requirement.marker, parent.extras))
                found = entries.setdefault(_key(parent), _Entry(parent))
                found.children.add(_key(candidate))
                marker = space.render(space.parse(info.requirement.marker, {"", *parent.extras})) if info.requirement.marker else None
                found.requires.add(f"{info.requirement}; {marker}" if marker else str(info.requirement))


def _markers(entries: Mapping[Key, _Entry], space: Space) -> dict[Key, Dnf]:
    """Each entry's marker: the union over its paths from the roots, on the samples that chose it (a fixed point)."""
    found: dict[Key, Dnf] = {key: frozenset() for key in entries}
    for _ in range(len(entries) + 2):
        changed = False
        for key in sorted(entries):
            entry = entries[key]
            terms: set[Term] = set()
            for parent, marker, extras in entry.incoming:
                base = space.true() if parent is None else found.get(parent, frozenset())
                terms.update(conjoin(base, space.parse(marker, {"", *extras})))
            new = simplify(restrict(frozenset(terms), frozenset(entry.samples)))
            if new != found[key]:
                found[key], changed = new, True
        if not changed:
            break
    return found


def _resolve_all(
    universe: Universe,
    roots_for: Callable[[LockTarget], tuple[Roots, Mapping[str, DirectProject]]],
    finder: PackageFinder,
    options_for: Callable[[LockTarget], ResolveOptions],
    *,
    metadata: MetadataStore,
    workers: int,
) -> tuple[dict[Key, _Entry], list[Roots]]:
    entries: dict[Key, _Entry] = {}
    every_roots: list[Roots] = []
    per_minor = len(UNIVERSAL_PLATFORMS)
    for start in range(0, len(universe.targets), per_minor):
        first = universe.targets[start]
        samples = [(universe.targets[sample], *roots_for(universe.targets[sample])) for sample in range(start, start + per_minor)]
        shared = dataclasses.replace(options_for(first), constraints=samples[0][1].constraints, direct=samples[0][2])
        lookahead = Lookahead(finder, first, metadata, shared, store=table_store(finder, first), workers=workers)
        try:
            for target, roots, direct in samples:
                every_roots.append(roots)
                provider = Provider(lookahead, target, metadata, dataclasses.replace(options_for(target), constraints=roots.constraints, direct=direct))
                lookahead.explore(roots.needs)
                where = f" for CPython {target.marker_env['python_version']} on {target.marker_env['sys_platform']}"
                try:
                    result = run_resolver(provider, roots.needs, where=where)
                except ResolutionConflictError as exc:
                    hint = exc.hint or f"--universal covers {universe.description}: give the lowest Python with --python-version or requires-python"
                    raise ResolutionConflictError(exc.message, hint=hint) from None
                _record(entries, result, target.sample, universe.space)
        finally:
            lookahead.close()
    return entries, every_roots


def universal_lock(
    universe: Universe,
    files: Sequence[SourceFile],
    finder: PackageFinder,
    options_for: Callable[[LockTarget], ResolveOptions],
    *,
    download: Download,
    cwd: Path,
    offline: bool = False,
    extras: Iterable[str] = (),
    groups: Iterable[str] = (),
    command: str,
    workers: int = 0,
) -> tuple[Lock, list[Finding]]:
    """Resolve ``files`` for every target of ``universe`` and merge the results into one lock.

    A direct reference is located once (cloned, downloaded or read) and is the
    only candidate of its name on every target whose markers select it. The
    findings are what an audit reports of the local references (RL105, RL106).
    """
    extras, groups = tuple(extras), tuple(groups)
    located: dict[str, DirectProject] = {}
    memo: dict[int, DirectProject] = {}

    def roots_for(target: LockTarget) -> tuple[Roots, Mapping[str, DirectProject]]:
        roots = collect_roots(files, target, extras=extras, groups=groups)
        roots, direct = with_direct(roots, download, cwd, offline=offline, memo=memo)
        located.update(direct)
        return roots, direct

    metadata = MetadataStore(finder)
    entries, every_roots = _resolve_all(universe, roots_for, finder, options_for, metadata=metadata, workers=workers)
    markers = _markers(entries, universe.space)
    packages = _packages(entries, markers, universe.space, every_roots=every_roots, files=files, metadata=metadata)
    target = universe.targets[0]
    environments = tuple(f'sys_platform == "{platform}"' for platform in universe.space.platforms)
    lock = Lock(packages, command, requires_python=universe.requires_python, exclude_newer=target.as_of, universal=universe.description, environments=environments)
    return lock, direct_findings(located)


def _packages(
    entries: Mapping[Key, _Entry],
    markers: Mapping[Key, Dnf],
    space: Space,
    *,
    every_roots: Sequence[Roots],
    files: Sequence[SourceFile],
    metadata: MetadataStore,
) -> tuple[LockedPackage, ...]:
    kinds = {source.path: source.kind for source in files}
    # each sample collects the same input lines again: one need per line and name (reached_from walks each one's closure)
    root_needs = list({(need.name, id(need.source)): need for roots in every_roots for need in roots.needs}.values())
    requested = needs_by_name(root_needs)
    constraints = needs_by_name(need for roots in every_roots for needs in roots.constraints.values() for need in needs)
    children: dict[str, set[str]] = {}
    for (name, _), entry in entries.items():
        children.setdefault(name, set()).update(child for child, _ in entry.children)
    reached = reached_from(root_needs, children)
    versions = Counter(name for name, _ in entries)
    packages = []
    for key in sorted(entries, key=lambda key: (key[0], entries[key].candidate.version)):
        entry, name = entries[key], key[0]
        origin = origin_of(entry.candidate, metadata)
        parents = sorted({parent[0] for parent, _, _ in entry.incoming if parent is not None})
        packages.append(
            LockedPackage(
                name=name,
                version=origin.version,
                files=origin.files,
                index=origin.index,
                dependencies=tuple(sorted({child for child, _ in entry.children})),
                requires=tuple(sorted(entry.requires)),
                parents=tuple(parents),
                provenance=provenance(requested.get(name, ()), constraints.get(name, ()), reached.get(name, ()), kinds),
                marker=space.render(markers[key]),
                requires_python=origin.requires_python,
                yanked_reason=origin.yanked_reason,
                direct=origin.direct,
                pinned_dependencies=tuple(sorted(child for child in entry.children if versions[child[0]] > 1)),
            ),
        )
    return tuple(packages)


def preferred_for(entries: Sequence[tuple[str, str, str | None]], target: LockTarget, upgrade: Iterable[str]) -> dict[str, str]:
    """The pins of an existing universal lock that apply to ``target``: entries whose marker may hold there, judged as the resolution judges markers."""
    skip = set(upgrade)
    found: dict[str, str] = {}
    for name, version, marker in entries:
        if name in skip or name in found:
            continue
        try:
            if marker is None or target.holds(Marker(marker)):
                found[name] = version
        except InvalidMarker:
            continue
    return found


def sample_options(options: ResolveOptions, preferred: Callable[[LockTarget], dict[str, str]]) -> Callable[[LockTarget], ResolveOptions]:
    """``options`` with each target's own preferred pins."""
    return lambda target: dataclasses.replace(options, preferred=preferred(target))
