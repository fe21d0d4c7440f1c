"""From loaded input files to the resolver's root requirements and constraints."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from packaging.markers import InvalidMarker, Marker
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

from reprolock.errors import InputError, UsageError
from reprolock.lock.provider import Need
from reprolock.records import FileKind
from reprolock.sources.pyproject import included_groups

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

    from reprolock.lock.target import LockTarget
    from reprolock.records import Requirement, SourceFile

_OPTIONAL = "project.optional-dependencies."
_GROUPS = "dependency-groups."


@dataclass(frozen=True, slots=True)
class Roots:
    """What to resolve: root requirements and constraints, both already marker-filtered."""

    needs: tuple[Need, ...]
    constraints: Mapping[str, tuple[Need, ...]]
    skipped: tuple[Requirement, ...] = ()
    """Input requirements whose marker is false for the target."""
    direct: tuple[Requirement, ...] = ()
    """Direct references (VCS, URL, local path), located before resolving (see :mod:`reprolock.lock.direct`)."""


def _selected(requirement: Requirement, extras: set[str], groups: set[str]) -> bool:
    section = requirement.section
    if section is None or section == "project.dependencies":
        return True
    if section.startswith(_OPTIONAL):
        return canonicalize_name(section.removeprefix(_OPTIONAL)) in extras
    if section.startswith(_GROUPS):
        return canonicalize_name(section.removeprefix(_GROUPS)) in groups
    return False  # build-system.requires: not a runtime dependency


def _check_names(files: Sequence[SourceFile], extras: set[str], groups: set[str]) -> None:
    known_extras: set[str] = set()
    known_groups: set[str] = set()
    for source in files:
        for requirement in source.requirements:
            section = requirement.section or ""
            if section.startswith(_OPTIONAL):
                known_extras.add(canonicalize_name(section.removeprefix(_OPTIONAL)))
            elif section.startswith(_GROUPS):
                known_groups.add(canonicalize_name(section.removeprefix(_GROUPS)))
        known_groups.update(include.group for include in source.group_includes)
    if unknown := sorted(extras - known_extras):
        raise UsageError(f"--extra {unknown[0]}: no such optional-dependencies table in the inputs", hint=f"known: {', '.join(sorted(known_extras)) or 'none'}")
    if unknown := sorted(groups - known_groups):
        raise UsageError(f"--group {unknown[0]}: no such dependency group in the inputs", hint=f"known: {', '.join(sorted(known_groups)) or 'none'}")


def _need(requirement: Requirement) -> Need:
    assert requirement.name is not None  # noqa: S101 - only a direct reference can be unnamed
    return Need(requirement.name, requirement.specifier, frozenset(requirement.extras), source=requirement, marker=requirement.marker)


def _applies(requirement: Requirement, target: LockTarget) -> bool:
    if requirement.marker is None:
        return True
    try:
        marker = Marker(requirement.marker)
    except InvalidMarker as exc:
        raise InputError(f"{requirement.origin}: invalid marker: {exc}") from None
    return target.holds(marker)


def collect_roots(files: Sequence[SourceFile], target: LockTarget, *, extras: Iterable[str] = (), groups: Iterable[str] = ()) -> Roots:
    """Root requirements (from requirement, ``.in`` and pyproject inputs) and constraints (``-c`` files): the lines whose marker holds for ``target``."""
    extra_names: set[str] = {canonicalize_name(name) for name in extras}
    group_names: set[str] = {canonicalize_name(name) for name in groups}
    _check_names(files, extra_names, group_names)
    needs: list[Need] = []
    constraints: dict[str, list[Need]] = {}
    skipped: list[Requirement] = []
    direct: list[Requirement] = []
    for source in files:
        if source.invalid:
            bad = source.invalid[0]
            raise InputError(f"{bad.origin}: cannot parse {bad.text!r}: {bad.message}", hint="fix the line before locking")
        is_constraint_file = source.kind is FileKind.CONSTRAINTS
        selected_groups = set(included_groups(source, sorted(group_names))) if source.group_includes else group_names
        for requirement in source.requirements:
            if not _selected(requirement, extra_names, selected_groups):
                continue
            if not _applies(requirement, target):
                skipped.append(requirement)
                continue
            constraint = requirement.constraint or is_constraint_file
            if requirement.url is not None and constraint:
                raise InputError(f"{requirement.origin}: {requirement.text}: a constraint cannot be a direct reference", hint="give it as a requirement")
            if requirement.url is not None or requirement.name is None:
                direct.append(requirement)
            elif constraint:
                constraints.setdefault(requirement.name, []).append(_need(requirement))
            else:
                needs.append(_need(requirement))
    if not needs and not direct:
        raise InputError("the inputs hold no requirement to lock", hint="give requirement, .in or pyproject.toml files")
    return Roots(tuple(needs), {name: tuple(items) for name, items in constraints.items()}, tuple(skipped), tuple(direct))


def named_needs(roots: Roots) -> tuple[Need, ...]:
    """Root requirements for a lock of given pins (``--from-env``, ``--from-freeze``): a named direct reference is its name."""
    unnamed = next((requirement for requirement in roots.direct if requirement.name is None), None)
    if unnamed is not None:
        raise InputError(f"{unnamed.origin}: {unnamed.text}: an unnamed reference cannot be matched to an installed distribution", hint="write it as NAME @ URL")
    return (*roots.needs, *(Need(requirement.name or "", SpecifierSet(), frozenset(requirement.extras), source=requirement, marker=requirement.marker) for requirement in roots.direct))
