"""Resolve root requirements with resolvelib and turn the result into a ``Lock``."""

from __future__ import annotations

import dataclasses
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING

from resolvelib import BaseReporter, ResolutionImpossible, ResolutionTooDeep, Resolver

from reprolock.errors import ReprolockError
from reprolock.lock.candidates import project_table
from reprolock.lock.direct import direct_findings, with_direct
from reprolock.lock.lookahead import Lookahead
from reprolock.lock.metadata import MetadataStore
from reprolock.lock.model import Lock, LockedPackage, Provenance
from reprolock.lock.provider import PYTHON, Candidate, Need, Provider, ResolveOptions
from reprolock.lock.tables import TableStore
from reprolock.records import FileKind

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence
    from pathlib import Path

    from resolvelib.resolvers import Result
    from resolvelib.structs import RequirementInformation

    from reprolock.findings import Finding
    from reprolock.index.models import DistFile, PackageFinder
    from reprolock.lock.direct import Download
    from reprolock.lock.inputs import Roots
    from reprolock.lock.model import DirectSource
    from reprolock.lock.target import LockTarget
    from reprolock.records import Requirement, SourceFile

MAX_ROUNDS = 200_000


class ResolutionConflictError(ReprolockError):
    """The requirements cannot all be met (exit 1, with the clashing requirements named)."""


def _described(info: RequirementInformation[Need, Candidate]) -> str:
    need, parent = info.requirement, info.parent
    if need.name == PYTHON:
        return f"Requires-Python {need.specifier} of {parent}"
    if parent is None:
        where = f" ({need.source.origin})" if need.source is not None else ""
        return f"{need}{where}"
    return f"{need} (required by {parent})"


def explain(causes: Iterable[RequirementInformation[Need, Candidate]], provider: Provider) -> str:
    """A short, deterministic sentence naming the requirements that clash, and the projects with no file for the target that ruled releases out."""
    unfit = provider.unfit_required
    ruled_out = "; ".join(f"{name} has no file for this target, which rules out {', '.join(sorted(unfit[name]))}" for name in sorted(unfit))
    found = _clash(list(causes), provider)
    return f"{found} ({ruled_out})" if ruled_out else found


def _clash(causes: list[RequirementInformation[Need, Candidate]], provider: Provider) -> str:
    names = sorted({info.requirement.name for info in causes})
    parts = sorted({_described(info) for info in causes})
    missing = sorted(name for name in names if name in provider.missing)
    direct = [provider.options.direct[name] for name in names if name in provider.options.direct]
    if direct:
        return f"{direct[0].name} @ {direct[0].source.written} is version {direct[0].version or '(dynamic)'}, which does not meet {'; '.join(parts)}"
    if missing:
        return f"{', '.join(missing)} not found on the index (wanted by {'; '.join(parts)})"
    if names == [PYTHON]:
        return f"no candidate supports Python {provider.target.python_version}: {'; '.join(parts)}"
    if len(parts) == 1:
        return f"no release matches {parts[0]} for Python {provider.target.python_version} (yanked releases and pre-releases are not considered unless pinned)"
    return f"conflicting requirements: {'; '.join(parts)}"


def resolve(
    roots: Roots,
    finder: PackageFinder,
    target: LockTarget,
    options: ResolveOptions,
    *,
    workers: int = 0,
) -> tuple[Result[Need, Candidate, str], Provider]:
    """Run resolvelib; a conflict becomes ``ResolutionConflictError``."""
    store = MetadataStore(finder)
    lookahead = Lookahead(finder, target, store, options, store=table_store(finder, target), workers=workers)
    provider = Provider(lookahead, target, store, options)
    lookahead.explore(roots.needs)
    try:
        result = run_resolver(provider, roots.needs)
    finally:
        lookahead.close()
    return result, provider


def run_resolver(provider: Provider, needs: Sequence[Need], *, where: str = "") -> Result[Need, Candidate, str]:
    """resolvelib over ``provider``; a conflict becomes ``ResolutionConflictError`` (``where``: the target, for its message)."""
    resolver: Resolver[Need, Candidate, str] = Resolver(provider, BaseReporter())
    try:
        return resolver.resolve(needs, max_rounds=MAX_ROUNDS)
    except ResolutionImpossible as exc:
        raise ResolutionConflictError(f"cannot resolve{where}: {explain(exc.causes, provider)}") from None
    except ResolutionTooDeep:
        raise ResolutionConflictError(f"cannot resolve{where}: gave up after too many backtracking rounds", hint="add tighter version bounds") from None


def table_store(finder: PackageFinder, target: LockTarget) -> TableStore | None:
    """Where candidate tables are kept between runs: beside the index cache, for remote indexes only."""
    cache = getattr(finder, "cache", None)
    indexes = getattr(finder, "indexes", ())
    if cache is None or not indexes or any(source.is_local for source in indexes):
        return None
    max_age = None if getattr(finder, "offline", False) else float(getattr(finder, "freshness", 0.0))
    scope = " ".join(source.url for source in indexes)
    # saved on the cache's writer (in the background); a stored table found damaged is built again from the index
    return TableStore(cache.folder, scope, target, max_age=max_age, writer=cache.writer, rebuild=lambda name: project_table(finder, name, target))


def via_file(requirement: Requirement, kind: FileKind | None = None) -> str:
    """How a ``# via`` line names an input file."""
    if requirement.section is not None:
        return f"{requirement.origin.path} ({requirement.section})"
    flag = "-c" if requirement.constraint or kind is FileKind.CONSTRAINTS else "-r"
    return f"{flag} {requirement.origin.path}"


def _closure(start: str, children: Mapping[str, set[str]]) -> set[str]:
    seen = {start}
    queue = deque([start])
    while queue:
        for child in children.get(queue.popleft(), ()):
            if child not in seen:
                seen.add(child)
                queue.append(child)
    return seen


def reached_from(roots: Iterable[Need], children: Mapping[str, set[str]]) -> dict[str, set[str]]:
    """Each package of ``children`` (name -> the names it requires) -> the input lines whose closure brings it in."""
    reached: dict[str, set[str]] = {name: set() for name in children}
    for need in roots:
        if need.source is not None and need.name in children:
            for name in _closure(need.name, children):
                reached[name].add(str(need.source.origin))
    return reached


def needs_by_name(needs: Iterable[Need]) -> dict[str, list[Need]]:
    found: dict[str, list[Need]] = {}
    for need in needs:
        found.setdefault(need.name, []).append(need)
    return found


def root_marker(needs: Sequence[Need], has_parent: bool) -> str | None:
    """The marker of a package only marker-guarded input lines ask for (a parent needs it whatever the marker says)."""
    if has_parent or not needs or any(need.marker is None for need in needs):
        return None
    markers = sorted({need.marker for need in needs if need.marker})
    return markers[0] if len(markers) == 1 else " or ".join(f"({marker})" for marker in markers)


def _edges(result: Result[Need, Candidate, str], pinned: Mapping[str, Candidate]) -> tuple[dict[str, set[str]], dict[str, set[str]], dict[str, set[str]]]:
    """Parents, children and the requirement texts (with specifiers) of each pinned package."""
    parents: dict[str, set[str]] = {name: set() for name in pinned}
    children: dict[str, set[str]] = {name: set() for name in pinned}
    requires: dict[str, set[str]] = {name: set() for name in pinned}
    for identifier, criterion in result.criteria.items():
        if identifier == PYTHON or identifier not in result.mapping:
            continue
        name = result.mapping[identifier].name
        for info in criterion.information:
            if info.parent is not None and info.parent.name != name:
                parents[name].add(info.parent.name)
                children[info.parent.name].add(name)
                requires.setdefault(info.parent.name, set()).add(str(info.requirement))
    return parents, children, requires


@dataclass(frozen=True, slots=True)
class ReleaseOrigin:
    """What a pinned candidate's lock entry takes from where it comes from: index files, or a direct reference."""

    version: str
    requires_python: str | None
    files: tuple[DistFile, ...] = ()
    index: str | None = None
    yanked_reason: str | None = None
    direct: DirectSource | None = None


def origin_of(candidate: Candidate, metadata: MetadataStore) -> ReleaseOrigin:
    if candidate.direct is not None:
        direct = candidate.direct
        return ReleaseOrigin(direct.version or "", direct.dependencies.requires_python, direct=direct.source)
    release = candidate.release
    assert release is not None  # noqa: S101 - pinned candidates have one or the other
    yanked = (release.yanked_reason or "yanked") if release.yanked else None
    return ReleaseOrigin(str(candidate.version), metadata.get(release).requires_python, release.files, release.index_url, yanked)


def build_lock(
    result: Result[Need, Candidate, str],
    provider: Provider,
    roots: Roots,
    files: Sequence[SourceFile],
    command: str,
) -> Lock:
    """The frozen lock: one package per resolved name, with its edges and provenance."""
    kinds = {source.path: source.kind for source in files}
    pinned = {c.name: c for ident, c in result.mapping.items() if ident != PYTHON and (c.release is not None or c.direct is not None)}
    parents, children, requires = _edges(result, pinned)
    root_needs = needs_by_name(roots.needs)
    reached = reached_from(roots.needs, children)
    packages = []
    for name in sorted(pinned):
        origin = origin_of(pinned[name], provider.metadata)
        packages.append(
            LockedPackage(
                name=name,
                version=origin.version,
                files=origin.files,
                index=origin.index,
                dependencies=tuple(sorted(children[name])),
                requires=tuple(sorted(requires.get(name, ()))),
                parents=tuple(sorted(parents[name])),
                provenance=provenance(root_needs.get(name, ()), provider.options.constraints.get(name, ()), reached[name], kinds),
                marker=root_marker(root_needs.get(name, []), bool(parents[name])),
                requires_python=origin.requires_python,
                yanked_reason=origin.yanked_reason,
                direct=origin.direct,
            ),
        )
    target = provider.target
    return Lock(tuple(packages), command, environment_marker=target.environment_marker, requires_python=target.requires_python, target=target.description, exclude_newer=target.as_of)


def provenance(needs: Iterable[Need], constraints: Iterable[Need], reached: Iterable[str], kinds: Mapping[str, FileKind]) -> Provenance:
    """Why a package is in the lock: the input lines that ask for it (``needs``) or constrain it, and the input lines whose closure reaches it."""
    requested = [need.source for need in needs if need.source is not None]
    constrained = [need.source for need in constraints if need.source is not None]
    return Provenance(
        requested=in_line_order(str(req.origin) for req in requested),
        via_files=in_line_order(via_file(req, kinds.get(req.origin.path)) for req in (*requested, *constrained)),
        roots=tuple(sorted(reached, key=line_order)),
    )


def in_line_order(items: Iterable[str]) -> tuple[str, ...]:
    """Distinct ``path:line`` texts, by path and then line number."""
    return tuple(sorted(set(items), key=line_order))


def line_order(text: str) -> tuple[str, int]:
    """The sort key of a ``path:line`` text (``requirements.in:10`` after ``requirements.in:9``)."""
    path, _, line = text.rpartition(":")
    return (path, int(line)) if line.isdigit() else (text, 0)


def lock_from_roots(
    roots: Roots,
    files: Sequence[SourceFile],
    finder: PackageFinder,
    target: LockTarget,
    options: ResolveOptions,
    *,
    command: str,
    workers: int = 0,
) -> Lock:
    result, provider = resolve(roots, finder, target, options, workers=workers)
    return build_lock(result, provider, roots, files, command)


def lock_inputs(
    roots: Roots,
    files: Sequence[SourceFile],
    finder: PackageFinder,
    target: LockTarget,
    options: ResolveOptions,
    *,
    download: Download,
    cwd: Path,
    offline: bool = False,
    command: str,
    workers: int = 0,
) -> tuple[Lock, list[Finding]]:
    """The lock of the inputs' roots: direct references located first (``download`` fetches an archive URL), then resolved.

    The findings are what an audit reports of the local references (RL105, RL106).
    """
    roots, direct = with_direct(roots, download, cwd, offline=offline)
    options = dataclasses.replace(options, constraints=roots.constraints, direct=direct)
    return lock_from_roots(roots, files, finder, target, options, command=command, workers=workers), direct_findings(direct)
