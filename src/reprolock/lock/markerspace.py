"""Markers of a universal lock, computed over the sampled targets and written back as PEP 508 markers.

A universal lock is resolved once per sampled target (each Python minor version
of the range on Linux, macOS and Windows, see :mod:`reprolock.lock.universal`).
A marker is handled here in disjunctive normal form: a set of :class:`Term`,
each the conjunction of

* the sampled targets where its *sampled* atoms hold (Python version,
  ``sys_platform``, ``platform_system``, ``os_name``: each sample fixes them), and
* its *residual* atoms, which no sample decides and which are kept as written
  (``platform_machine``, the implementation, a patch-level
  ``python_full_version < "3.11.3"``).

Conjunction intersects the sample sets and unites the residual atoms;
``extra`` atoms are settled by the extras the parent was asked for. When
written back, a sample set becomes version ranges and platform names,
as uv writes them: ``python_full_version < "3.10"``,
``sys_platform == "win32"``, ``sys_platform != "win32"``.

The parsed form of a marker comes from ``packaging`` (``Marker._markers``: a
list of ``(Variable|Value, Op, Value|Variable)`` tuples, ``"and"``/``"or"`` and
nested lists); packaging has no public accessor for it.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

from packaging.markers import Marker

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

_PLATFORM_VARIABLES = frozenset({"sys_platform", "platform_system", "os_name"})


@dataclass(frozen=True, slots=True)
class Term:
    """A conjunction: true on ``samples`` (indexes into the space) where every ``residual`` atom also holds."""

    samples: frozenset[int]
    residual: frozenset[str] = frozenset()


Dnf = frozenset[Term]
"""A disjunction of terms; empty is false."""


@dataclass(frozen=True, eq=False)
class Space:
    """The sampled targets: Python minor versions (ascending) times platforms (``linux``, ``darwin``, ``win32``)."""

    minors: tuple[int, ...]
    platforms: tuple[str, ...]
    envs: tuple[Mapping[str, str], ...]
    """The marker environment of each sample, ``minors`` major, ``platforms`` minor."""

    def holds(self, sample: int, marker: str | None, extras: Iterable[str] = ("",)) -> bool:
        """Whether ``marker`` may hold on the sample: its sampled atoms do, and its residual ones could.

        A universal resolution follows every requirement some machine or
        implementation of the sample could need (``greenlet; platform_machine
        == "x86_64"`` on macOS too), and the lock's marker keeps the condition.
        """
        return marker is None or any(sample in term.samples for term in _parse(self, marker, frozenset(extras)))

    @cached_property
    def everywhere(self) -> frozenset[int]:
        return frozenset(range(len(self.envs)))

    def sample(self, minor: int, platform: str) -> int:
        return self.minors.index(minor) * len(self.platforms) + self.platforms.index(platform)

    def true(self) -> Dnf:
        return frozenset({Term(self.everywhere)})

    def parse(self, marker: str | None, extras: Iterable[str] = ()) -> Dnf:
        """``marker`` as terms; ``extra`` atoms hold when one of ``extras`` satisfies them."""
        if marker is None:
            return self.true()
        return _parse(self, marker, frozenset(extras))

    def _dnf(self, items: list[Any], extras: frozenset[str]) -> Dnf:
        groups: list[list[Any]] = [[]]
        for item in items:
            if item == "or":
                groups.append([])
            elif item != "and":
                groups[-1].append(item)
        found: set[Term] = set()
        for group in groups:
            terms: Dnf = self.true()
            for item in group:
                terms = conjoin(terms, self._dnf(item, extras) if isinstance(item, list) else self._atom(item, extras))
            found.update(terms)
        return frozenset(found)

    def _atom(self, item: tuple[Any, Any, Any], extras: frozenset[str]) -> Dnf:
        text = " ".join(part.serialize() for part in item)
        variable = next((part.value for part in item if type(part).__name__ == "Variable"), "")
        if variable == "extra":
            holds = any(Marker(text).evaluate({"extra": extra}) for extra in extras)
            return self.true() if holds else frozenset()
        if variable in _PLATFORM_VARIABLES or _by_minor(variable, item):
            samples = frozenset(index for index, env in enumerate(self.envs) if _holds(text, env))
            return frozenset({Term(samples)}) if samples else frozenset()
        return frozenset({Term(self.possible(text), frozenset({text}))})

    def possible(self, atom: str) -> frozenset[int]:
        """The samples where a residual atom could hold: a patch-level Python version is tried at X.Y.0, its own patch and X.Y.99."""
        patch = _patch(atom)
        if patch is None:
            return self.everywhere
        found = set()
        for index, env in enumerate(self.envs):
            minor = env["python_version"]
            if any(_holds(atom, {**env, "python_full_version": f"{minor}.{tried}"}) for tried in {"0", "99", patch}):
                found.add(index)
        return frozenset(found)

    def render(self, terms: Dnf) -> str | None:
        """The terms as one marker (``None``: true everywhere); terms on the same samples share their region; deterministic."""
        groups: dict[frozenset[int], list[frozenset[str]]] = {}
        for term in simplify(terms):
            groups.setdefault(term.samples, []).append(term.residual)
        covered = frozenset().union(*(samples for samples, residuals in groups.items() if frozenset() in residuals))
        parts = sorted({self._group(samples, residuals, covered) for samples, residuals in groups.items()})
        if "" in parts:
            return None
        if not parts:
            return 'python_version < "0"'  # never true; a package no sample installs is not written at all
        text = parts[0] if len(parts) == 1 else " or ".join(_wrapped(part) for part in parts)
        return str(Marker(text))

    def _group(self, samples: frozenset[int], residuals: list[frozenset[str]], covered: frozenset[int]) -> str:
        """``region and (residual or residual ...)``, with the shortest region that means the same.

        The region may take in samples where the residual atoms cannot hold,
        or that an unconditional term already covers (``covered``): so
        ``python_full_version < "3.11.3"`` needs no region of its own.
        """
        alternatives = sorted(" and ".join(sorted(residual)) for residual in residuals)
        if "" in alternatives:
            return self.region(samples)
        possible = frozenset().union(*(frozenset.intersection(*(self.possible(atom) for atom in residual)) for residual in residuals))
        region = min((self.region(wider) for wider in self._widenings(samples, possible, covered)), key=lambda text: (len(text), text))
        either = _any_of(alternatives)
        return _all_of([region, either]) if region else either

    def _widenings(self, samples: frozenset[int], possible: frozenset[int], covered: frozenset[int]) -> list[frozenset[int]]:
        """``samples`` and the larger sets that mean the same next to residual atoms true only on ``possible``."""
        free = (self.everywhere - possible) | covered
        count = len(self.platforms)
        platforms = {index % count for index in samples}
        minors = {index // count for index in samples}
        by_platform = frozenset(index for index in self.everywhere if index % count in platforms)
        by_minor = frozenset(index for index in self.everywhere if index // count in minors)
        wider = [samples, samples | free, by_platform, by_minor]
        return [item for item in wider if (item & possible) - covered <= samples <= item]

    def region(self, samples: frozenset[int]) -> str:
        """A marker true on exactly ``samples`` (``""``: all of them), by Python version ranges and platforms."""
        if samples == self.everywhere:
            return ""
        count = len(self.platforms)
        minors_of = {
            platform: frozenset(self.minors[i // count] for i in samples if i % count == p) for p, platform in enumerate(self.platforms)
        }
        everything = frozenset(self.minors)
        full = [platform for platform, minors in minors_of.items() if minors == everything]
        common = frozenset.intersection(*minors_of.values())
        parts = [part for part in (self._versions(common) if common else "", self._platforms(full) if full else "") if part]
        by_minors: dict[frozenset[int], list[str]] = {}
        for platform, minors in minors_of.items():
            if platform not in full and minors - common:
                by_minors.setdefault(minors - common, []).append(platform)
        for minors, platforms in sorted(by_minors.items(), key=lambda item: sorted(item[0])):
            parts.append(_all_of([part for part in (self._versions(minors), self._platforms(platforms)) if part]))
        return _any_of(parts)

    def _versions(self, minors: frozenset[int]) -> str:
        runs: list[list[int]] = []
        for minor in self.minors:
            if minor in minors:
                if runs and runs[-1][-1] == self.minors[self.minors.index(minor) - 1]:
                    runs[-1].append(minor)
                else:
                    runs.append([minor])
        texts = [self._run(run[0], run[-1]) for run in runs]
        return " or ".join(texts) if all(texts) else ""

    def _run(self, low: int, high: int) -> str:
        first, last = self.minors[0], self.minors[-1]
        if low == high and first < low < last:
            return f'python_full_version == "3.{low}.*"'
        atoms = []
        if low > first:
            atoms.append(f'python_full_version >= "3.{low}"')
        if high < last:
            atoms.append(f'python_full_version < "3.{high + 1}"')
        return " and ".join(atoms)

    def _platforms(self, platforms: Sequence[str]) -> str:
        if len(platforms) == len(self.platforms):
            return ""
        if len(platforms) == 1:
            return f'sys_platform == "{platforms[0]}"'
        missing = [platform for platform in self.platforms if platform not in platforms]
        if len(missing) == 1:
            return f'sys_platform != "{missing[0]}"'
        return " or ".join(f'sys_platform == "{platform}"' for platform in platforms)


def conjoin(left: Dnf, right: Dnf) -> Dnf:
    """``left and right``; a conjunction whose residual atoms contradict each other is dropped."""
    found = set()
    for a in left:
        for b in right:
            residual = _reduced(a.residual | b.residual) if a.residual and b.residual else a.residual | b.residual
            if a.samples & b.samples and residual is not None:
                found.add(Term(a.samples & b.samples, residual))
    return frozenset(found)


_EQUALITY = re.compile(r'(\w+) (==|!=) "([^"]*)"')


def _reduced(atoms: frozenset[str]) -> frozenset[str] | None:
    """``variable == "a"`` makes ``variable != "b"`` redundant and ``variable == "b"`` or ``!= "a"`` impossible (``None``)."""
    equal: dict[str, str] = {}
    for atom in atoms:
        found = _EQUALITY.fullmatch(atom)
        if found and found.group(2) == "==" and equal.setdefault(found.group(1), found.group(3)) != found.group(3):
            return None
    kept = set()
    for atom in atoms:
        found = _EQUALITY.fullmatch(atom)
        if found and found.group(2) == "!=" and found.group(1) in equal:
            if equal[found.group(1)] == found.group(3):
                return None
            continue
        kept.add(atom)
    return frozenset(kept)


def restrict(terms: Dnf, samples: frozenset[int]) -> Dnf:
    """``terms`` on ``samples`` only."""
    return frozenset(Term(term.samples & samples, term.residual) for term in terms if term.samples & samples)


def simplify(terms: Iterable[Term]) -> Dnf:
    """Terms with the same residual atoms merged; samples a more general term covers dropped from the others."""
    merged: dict[frozenset[str], frozenset[int]] = {}
    for term in terms:
        merged[term.residual] = merged.get(term.residual, frozenset()) | term.samples
    kept = {}
    for residual, samples in merged.items():
        covered = frozenset().union(*(other for atoms, other in merged.items() if atoms < residual))
        if samples - covered:
            kept[residual] = samples - covered
    return frozenset(Term(samples, residual) for residual, samples in kept.items())


def _all_of(items: Sequence[str]) -> str:
    """``items`` joined by ``and``, an item holding an ``or`` in parentheses."""
    return " and ".join(f"({item})" if " or " in item else item for item in items)


def _any_of(items: Sequence[str]) -> str:
    """``items`` joined by ``or``, an item holding an ``and`` in parentheses (for the reader: ``and`` binds first); one item as it is."""
    if len(items) == 1:
        return items[0]
    return " or ".join(f"({item})" if " and " in item else item for item in items)


def _wrapped(part: str) -> str:
    return f"({part})" if " and " in part or " or " in part else part


@functools.lru_cache(maxsize=65536)
def _parse(space: Space, marker: str, extras: frozenset[str]) -> Dnf:
    return space._dnf(_parsed(marker), extras)  # noqa: SLF001 - the cached entry point of Space.parse


def _patch(atom: str) -> str | None:
    """The patch number a ``python_full_version`` atom names (``None``: not such an atom)."""
    if not atom.startswith("python_full_version") and not atom.endswith("python_full_version"):
        return None
    parts = atom.split('"')[1].split(".") if '"' in atom else []
    return parts[2] if len(parts) >= 3 and parts[2].isdigit() else "0"


@functools.lru_cache(maxsize=4096)
def _parsed(marker: str) -> list[Any]:
    return Marker(marker)._markers  # noqa: SLF001 - packaging's parsed form; it has no public accessor


@functools.lru_cache(maxsize=16384)
def _holds_cached(text: str, env: tuple[tuple[str, str], ...]) -> bool:
    return Marker(text).evaluate(dict(env))


def _holds(text: str, env: Mapping[str, str]) -> bool:
    return _holds_cached(text, tuple(sorted(env.items())))


def _by_minor(variable: str, item: tuple[Any, Any, Any]) -> bool:
    """Whether a Python version atom is decided by the minor version alone (then a sample decides it)."""
    if variable == "python_version":
        return True
    if variable != "python_full_version":
        return False
    value = next((part.value for part in item if type(part).__name__ == "Value"), "")
    op = item[1].value
    release = value.removesuffix(".*").split(".")
    if value.endswith(".*"):
        return op in {"==", "!="} and len(release) <= 2
    if len(release) <= 2:
        return op in {"<", ">="}
    return len(release) == 3 and release[2] == "0" and op in {"<", ">="}
