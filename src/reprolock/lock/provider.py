"""The resolvelib provider: requirements and candidates over a ``PackageFinder``.

Extras follow the usual scheme: ``name[x]`` is its own identifier whose
candidate depends on ``name==<same version>`` plus the requirements the extra
adds, so one version serves every extra. ``Requires-Python`` from a
release's metadata becomes a requirement on the pseudo-identifier
``<python>``, which only the target's Python satisfies.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version
from resolvelib import AbstractProvider

from reprolock.lock.candidates import Wanted
from reprolock.lock.metadata import MetadataError
from reprolock.versions import parse_specifier, parse_version

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence

    from packaging.requirements import Requirement as PepRequirement
    from resolvelib.structs import RequirementInformation

    from reprolock.lock.candidates import ProjectTable, Release
    from reprolock.lock.direct import DirectProject
    from reprolock.lock.lookahead import Lookahead
    from reprolock.lock.metadata import MetadataStore
    from reprolock.lock.target import LockTarget
    from reprolock.records import Requirement

PYTHON = "<python>"


def identifier_of(name: str, extras: Iterable[str] = ()) -> str:
    extras = sorted(set(extras))
    return f"{name}[{','.join(extras)}]" if extras else name


@dataclass(frozen=True, slots=True, eq=False)
class Need:
    """A requirement as the resolver sees it."""

    name: str
    specifier: SpecifierSet
    extras: frozenset[str] = frozenset()
    source: Requirement | None = None
    """The input line, for root requirements."""
    marker: str | None = None
    """The marker that was true for the target (kept for ``# via`` and lock markers)."""

    @property
    def identifier(self) -> str:
        return identifier_of(self.name, self.extras)

    def __str__(self) -> str:
        extras = f"[{','.join(sorted(self.extras))}]" if self.extras else ""
        return f"{self.name}{extras}{self.specifier}"


@dataclass(frozen=True, slots=True, eq=False)
class Candidate:
    """A release (or the target's Python) the resolver may pick."""

    name: str
    version: Version
    release: Release | None = None
    extras: frozenset[str] = frozenset()
    direct: DirectProject | None = None
    """Set for a direct reference (then ``release`` is ``None``)."""

    @property
    def identifier(self) -> str:
        return PYTHON if self.release is None and self.direct is None else identifier_of(self.name, self.extras)

    def _key(self) -> tuple[str, Version, frozenset[str]]:
        return (self.name, self.version, self.extras)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Candidate) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __str__(self) -> str:
        if self.direct is not None:
            return f"{self.name} @ {self.direct.source.written}"
        return f"{self.name} {self.version}"


UNKNOWN_VERSION = Version("0")
"""The version of a direct reference to a source tree whose version is dynamic (any specifier accepts it)."""


@dataclass(frozen=True, slots=True)
class ResolveOptions:
    """What the command line says about choosing versions."""

    allow_pre: bool = False
    preferred: Mapping[str, str] = field(default_factory=dict)
    """Pins of the existing output (minus the ones being upgraded)."""
    constraints: Mapping[str, tuple[Need, ...]] = field(default_factory=dict)
    direct: Mapping[str, DirectProject] = field(default_factory=dict)
    """Direct references by name: each is the only candidate of its name."""


def requirement_needs(what: str, requires: Iterable[PepRequirement], target: LockTarget, *, extras: Iterable[str]) -> Iterator[Need]:
    """The requirements of a release that apply to the target (markers evaluated), as :class:`Need`.

    With ``extras``, only what the extras add (the base release brings the rest).
    A dependency guarded by a marker that is false for the target (say
    ``colorama; sys_platform == "win32"`` on Linux) is left out, so it is
    never locked unless something else needs it.
    """
    extras = tuple(extras)
    for requirement in requires:
        if extras:
            if not target.holds(requirement.marker, extras) or target.holds(requirement.marker):
                continue
        elif not target.holds(requirement.marker):
            continue
        if requirement.url:
            raise MetadataError(f"{what}: requires {requirement} (a direct URL), which a lock from an index cannot pin")
        yield Need(
            canonicalize_name(requirement.name),
            requirement.specifier,
            frozenset(canonicalize_name(extra) for extra in requirement.extras),
            marker=str(requirement.marker) if requirement.marker else None,
        )


class Provider(AbstractProvider[Need, Candidate, str]):
    """Chooses among the index's releases for one target."""

    def __init__(self, lookahead: Lookahead, target: LockTarget, metadata: MetadataStore, options: ResolveOptions) -> None:
        self.lookahead = lookahead
        self.target = target
        self.metadata = metadata
        self.options = options
        self.python = Candidate(PYTHON, Version(target.python_version))
        self.missing: set[str] = set()
        """Projects the index does not have."""
        self.unfit_required: dict[str, set[str]] = {}
        """Projects no release of which fits the target -> the releases left out because they require them."""
        self._unfit_names: dict[str, bool] = {}
        self._needs: dict[tuple[str, Version, frozenset[str]], tuple[Need, ...]] = {}
        self._satisfied: dict[tuple[Need, Candidate], bool] = {}
        self._python: dict[int, tuple[SpecifierSet, bool]] = {}
        """Requires-Python verdicts by specifier identity (the specifier is kept so the id stays its own)."""

    # -- tables ----------------------------------------------------------------------------------
    def table(self, name: str) -> ProjectTable | None:
        found = self.lookahead.table(name)
        if found is None:
            self.missing.add(name)
        return found

    def _wanted(self, name: str, needs: Sequence[Need]) -> Wanted:
        constraints = [need.specifier for need in self.options.constraints.get(name, ())]
        return Wanted((*(need.specifier for need in needs), *constraints), allow_pre=self.options.allow_pre)

    # -- resolvelib ------------------------------------------------------------------------------
    def identify(self, requirement_or_candidate: Need | Candidate) -> str:
        return requirement_or_candidate.identifier

    def get_preference(
        self,
        identifier: str,
        resolutions: Mapping[str, Candidate],  # noqa: ARG002 - part of resolvelib's signature
        candidates: Mapping[str, Iterator[Candidate]],  # noqa: ARG002 - part of resolvelib's signature
        information: Mapping[str, Iterator[RequirementInformation[Need, Candidate]]],
        backtrack_causes: Sequence[RequirementInformation[Need, Candidate]],
    ) -> Any:  # noqa: ANN401 - any sortable key
        infos = list(information[identifier])
        pinned = any(spec.operator in {"==", "==="} for info in infos for spec in info.requirement.specifier)
        root = any(info.parent is None for info in infos)
        cause = any(info.requirement.identifier == identifier for info in backtrack_causes)
        return (identifier != PYTHON, not cause, not pinned, not root, identifier)

    def find_matches(
        self,
        identifier: str,
        requirements: Mapping[str, Iterator[Need]],
        incompatibilities: Mapping[str, Iterator[Candidate]],
    ) -> Callable[[], Iterator[Candidate]] | list[Candidate]:
        needs = list(requirements[identifier])
        if identifier == PYTHON:
            return [self.python] if all(self._python_ok(need.specifier) for need in needs) else []
        name = needs[0].name
        extras = frozenset().union(*(need.extras for need in needs))
        bad = {candidate.version for candidate in incompatibilities[identifier]}
        direct = self.options.direct.get(name)
        if direct is not None:
            candidate = Candidate(name, parse_version(direct.version or "") or UNKNOWN_VERSION, extras=extras, direct=direct)
            return [candidate] if candidate.version not in bad and all(self.is_satisfied_by(need, candidate) for need in needs) else []
        table = self.table(name)
        if table is None:
            return []
        wanted = self._wanted(name, needs)
        prefer = self.options.preferred.get(name)

        def candidates() -> Iterator[Candidate]:
            for release in table.iter_releases(wanted, prefer=prefer):
                if release.version not in bad and not self._dead_end(release, extras):
                    yield Candidate(name, release.version, release, extras)

        return candidates

    def _dead_end(self, release: Release, extras: frozenset[str]) -> bool:
        """Whether the release requires a project no release of which fits the target (it can never be installed there).

        Such a release is not offered at all: trying it would make the resolver
        backtrack through every combination of its dependents' versions before
        giving up (pywin32 with no wheel for CPython 3.14 yet, under jupyter-core).
        """
        try:
            needs = [*self._needs_of(release, frozenset()), *(self._needs_of(release, extras) if extras else ())]
        except (MetadataError, OSError, ValueError):
            return False  # the resolver meets the same error if it tries this release
        dead = next((need.name for need in needs if need.name not in self.options.direct and self._unfit(need.name)), None)
        if dead is not None:
            self.unfit_required.setdefault(dead, set()).add(f"{release.name} {release.version}")
        return dead is not None

    def _needs_of(self, release: Release, extras: frozenset[str]) -> tuple[Need, ...]:
        """The requirements of ``release`` that apply to the target (with ``extras``: what they add), worked out once per release."""
        key = (release.name, release.version, extras)
        known = self._needs.get(key)
        if known is None:
            requires = self.metadata.get(release).requires
            known = self._needs[key] = tuple(requirement_needs(f"{release.name} {release.version}", requires, self.target, extras=extras))
        return known

    def _unfit(self, name: str) -> bool:
        """Whether the index lists ``name`` but no release of it fits the target, whatever the version (kept per name)."""
        known = self._unfit_names.get(name)
        if known is None:
            table = self.lookahead.table(name)
            known = self._unfit_names[name] = table is not None and all(table.release(version, allow_yanked=True) is None for version in table.versions)
        return known

    def _python_ok(self, specifier: SpecifierSet) -> bool:
        """Whether a ``Requires-Python`` admits the target (kept per specifier object: many releases share one)."""
        key = id(specifier)
        known = self._python.get(key)
        if known is None:
            known = self._python[key] = (specifier, specifier.contains(self.python.version, prereleases=True))
        return known[1]

    def is_satisfied_by(self, requirement: Need, candidate: Candidate) -> bool:
        if candidate.direct is not None and candidate.direct.version is None:
            return True  # a source tree with a dynamic version: only its build could tell it
        key = (requirement, candidate)
        known = self._satisfied.get(key)
        if known is None:
            known = self._satisfied[key] = requirement.specifier.contains(candidate.version, prereleases=True)
        return known

    def get_dependencies(self, candidate: Candidate) -> list[Need]:
        if candidate.direct is not None:
            deps = candidate.direct.dependencies
        elif candidate.release is not None:
            deps = self.metadata.get(candidate.release)
        else:
            return []
        needs: list[Need] = []
        if deps.requires_python and (python := parse_specifier(deps.requires_python)) is not None:
            needs.append(Need(PYTHON, python))
        if candidate.extras:
            needs.append(Need(candidate.name, SpecifierSet(f"=={candidate.version}")))
        if candidate.release is not None:
            needs.extend(self._needs_of(candidate.release, candidate.extras))  # as _dead_end found them
        else:
            needs.extend(requirement_needs(str(candidate), deps.requires, self.target, extras=candidate.extras))
        self.lookahead.explore(needs)
        return needs
