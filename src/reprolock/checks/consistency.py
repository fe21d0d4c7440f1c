"""Consistency of a dependency set: conflicts, missing pieces, cycles, extras and pins.

Pure functions over records, shared by ``audit`` (an installed environment
against the files given) and ``verify`` (an environment against a lock, or a
lock against itself): the "installed" side is any name -> version mapping and
the "declared" side any sequence of :class:`~reprolock.records.Requirement`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from reprolock.dependencies import ALWAYS_KEPT, MarkerEvaluator
from reprolock.findings import Finding, finding

if TYPE_CHECKING:
    from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence

    from reprolock.dependencies import Edge
    from reprolock.records import Requirement


def satisfies(version: str, specifier: str) -> bool | None:
    """Whether ``version`` meets ``specifier`` as pip check judges it (pre-releases allowed); ``None``: cannot tell."""
    if not specifier:
        return True
    try:
        return SpecifierSet(specifier).contains(Version(version), prereleases=True)
    except (InvalidVersion, InvalidSpecifier):
        return None


def check_dependencies(installed: Mapping[str, str], edges: Iterable[Edge], *, what: str = "installed") -> Iterator[Finding]:
    """Conflicting and missing dependencies (RL401, RL402).

    Every dependency of every installed (or locked) distribution, with
    markers evaluated for the target interpreter and the extras that other
    distributions ask for, as ``pip check`` judges it: a dependency that is
    absent is missing, one whose version is outside the specifier (pre-releases
    allowed) is a conflict. ``installed`` maps normalised names to versions.
    """
    for edge in edges:
        via = f" (extra {edge.extra!r})" if edge.extra else ""
        version = installed.get(edge.target)
        if version is None:
            if edge.source not in installed:
                continue
            yield finding(
                "RL402",
                f"{edge.source} {installed[edge.source]} requires {edge.requirement}{via}, which is not {what}",
                package=edge.target,
                required_by=edge.source,
                requirement=edge.requirement,
                extra=edge.extra,
            )
        elif satisfies(version, edge.specifier) is False:
            yield finding(
                "RL401",
                f"{edge.source} {installed.get(edge.source, '')} requires {edge.target}{edge.specifier}{via}, but {version} is {what}",
                package=edge.target,
                required_by=edge.source,
                requirement=edge.requirement,
                specifier=edge.specifier,
                version=version,
                extra=edge.extra,
            )


def check_cycles(cycles: Iterable[Sequence[str]]) -> Iterator[Finding]:
    """Dependency cycles (RL403).

    Distributions that require each other, directly or through others. pip
    installs them, but nothing can be installed or removed on its own and
    some tools that walk the graph loop forever. Reported once per cycle,
    under its first name.
    """
    for names in cycles:
        members = sorted(names)
        shown = " -> ".join([*members, members[0]]) if len(members) > 1 else f"{members[0]} -> {members[0]}"
        yield finding("RL403", f"dependency cycle: {shown}", package=members[0], members=members)


def check_extraneous(candidates: Iterable[str], reached: Collection[str], *, keep: Collection[str] = ALWAYS_KEPT, what: str = "installed") -> Iterator[Finding]:
    """Extraneous distributions (RL404).

    Installed (or frozen) distributions that nothing in the declared
    requirements leads to, directly or through dependencies. Only judged
    when requirement files are given; ``pip``, ``setuptools`` and ``wheel``
    are never extraneous, nor are distributions provided by the operating
    system or a parent environment.
    """
    for name in sorted(set(candidates)):
        if name not in reached and name not in keep:
            yield finding("RL404", f"{name} is {what} but no declared requirement leads to it", package=name)


def check_declared(
    declared: Sequence[Requirement],
    installed: Mapping[str, str],
    markers: Mapping[str, str],
    *,
    what: str = "installed",
) -> Iterator[Finding]:
    """Declared requirements against what is installed (RL405, RL401, RL402).

    Each requirement of the given files whose marker holds for the target
    (of a universal lock's entries of one package, the one for the target):
    an exact pin (``==``/``===``) that differs from the installed version is
    a version mismatch, naming the entry's marker; any other specifier the installed version misses is a
    conflict; a requirement that is not installed at all is missing.
    Constraints only apply to what is installed.
    """
    evaluate = MarkerEvaluator(markers)
    for req in declared:
        if req.name is None or not evaluate(req.marker):
            continue
        version = installed.get(req.name)
        if version is None:
            if not req.constraint:
                yield finding("RL402", f"{req.name} is required by {req.origin} but not {what}", package=req.name, location=req.origin, requirement=req.text)
            continue
        pinned = req.pinned_version
        if pinned is not None:
            if not _same_version(pinned, version, arbitrary=any(spec.operator == "===" for spec in req.specifier)):
                entry = f" (the entry for {req.marker})" if req.marker else ""
                marked: dict[str, Any] = {"marker": req.marker} if req.marker else {}
                yield finding(
                    "RL405",
                    f"{req.name} is pinned to {pinned}{entry} but {version} is {what}",
                    package=req.name,
                    location=req.origin,
                    pinned=pinned,
                    installed=version,
                    **marked,
                )
        elif satisfies(version, str(req.specifier)) is False:
            yield finding(
                "RL401",
                f"{req.name}{req.specifier} is required by {req.origin}, but {version} is {what}",
                package=req.name,
                location=req.origin,
                specifier=str(req.specifier),
                version=version,
            )


def _same_version(pinned: str, version: str, *, arbitrary: bool) -> bool:
    if arbitrary:
        return pinned.strip().lower() == version.strip().lower()
    try:
        return Version(pinned) == Version(version)
    except InvalidVersion:
        return pinned == version
