"""Dependency edges between distributions, with markers and extras evaluated for one target.

Pure and light (``packaging`` only): ``audit`` and ``verify`` use it for the
consistency rules without paying for networkx, which ``reprolock.graph``
adds on top for drawing and narrowing. Any record with ``name``, ``version``
and ``requires`` (``Requires-Dist`` strings) is a node: an installed
distribution or a locked package.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Protocol

from packaging.markers import InvalidMarker, Marker, UndefinedComparison, UndefinedEnvironmentName
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

# ``name...; extra == "docs"``: most Requires-Dist lines of real distributions. Recognising the form
# lets an extra that nobody asked for be skipped without parsing (PEP 508 parsing is the hot spot).
_ONLY_EXTRA = re.compile(r"""[^;]*;\s*extra\s*==\s*(?:"([^"]+)"|'([^']+)')\s*""")

ALWAYS_KEPT = frozenset({"pip", "setuptools", "wheel"})
"""Installer tooling: never called extraneous."""


class Node(Protocol):
    """What a graph node needs: an installed distribution or a locked package."""

    @property
    def name(self) -> str: ...
    @property
    def version(self) -> str: ...
    @property
    def requires(self) -> tuple[str, ...]: ...


@dataclass(frozen=True, slots=True)
class LockedNode:
    """A locked package as a :class:`Node`: its requirements as the lock records them (bare names when it has no specifiers)."""

    name: str
    version: str
    requires: tuple[str, ...]


@dataclass(frozen=True, slots=True, order=True)
class Edge:
    """``source`` requires ``target``; ``extra`` is the source's extra that brought it in (``None``: always)."""

    source: str
    target: str
    specifier: str
    """The version specifier as ``packaging`` prints it (``<3,>=1.21.1``); empty when any version will do."""
    extra: str | None = None
    requirement: str = ""
    """The ``Requires-Dist`` string as written."""
    target_extras: tuple[str, ...] = ()
    """Extras requested of the target (``b[x]``)."""
    url: str | None = None
    """A direct reference (``name @ URL``)."""


@dataclass(frozen=True, slots=True)
class Dependencies:
    """The edges among a set of nodes, and the requirement strings that could not be read."""

    edges: tuple[Edge, ...]
    invalid: tuple[tuple[str, str], ...] = ()
    """``(node name, requirement string)`` pairs that are not valid PEP 508."""
    extras: tuple[tuple[str, tuple[str, ...]], ...] = ()
    """Which extras ended up active for each node (sorted)."""


@lru_cache(maxsize=8192)
def parse_requirement(text: str) -> Requirement | None:
    """A PEP 508 requirement, or ``None`` when the string is not valid."""
    try:
        return Requirement(text)
    except InvalidRequirement:
        return None


@lru_cache(maxsize=8192)
def _marker(text: str) -> Marker | None:
    try:
        return Marker(text)
    except InvalidMarker:
        return None


class MarkerEvaluator:
    """Evaluates markers for one target, each (marker, extra) pair once."""

    def __init__(self, environment: Mapping[str, str]) -> None:
        self._environment = dict(environment)
        self._cache: dict[tuple[str, str], bool] = {}

    def __call__(self, marker: str | None, extra: str = "") -> bool:
        if marker is None:
            return True
        key = (marker, extra)
        known = self._cache.get(key)
        if known is None:
            parsed = _marker(marker)
            try:
                known = parsed is None or parsed.evaluate({**self._environment, "extra": extra})
            except (UndefinedComparison, UndefinedEnvironmentName):
                known = True  # a marker we cannot judge: keep the edge rather than hide a problem
            self._cache[key] = known
        return known


def resolve_edges(
    nodes: Iterable[Node],
    markers: Mapping[str, str],
    *,
    root_extras: Mapping[str, Iterable[str]] | None = None,
) -> Dependencies:
    """The edges among ``nodes`` for a target with marker environment ``markers``.

    A requirement whose marker is false for the target is no edge. Extras
    spread: when ``a`` requires ``b[x]`` (or ``root_extras`` asks for
    ``b[x]``), ``b``'s requirements under ``extra == "x"`` become edges too,
    marked with ``extra="x"``. Targets that are not among ``nodes`` still get
    their edge (that is a missing dependency). Output is sorted.
    """
    by_name = {canonicalize_name(node.name): node for node in nodes}
    evaluate = MarkerEvaluator(markers)
    active: dict[str, set[str]] = {name: set() for name in by_name}
    for name, extras in (root_extras or {}).items():
        active.setdefault(canonicalize_name(name), set()).update(canonicalize_name(extra) for extra in extras)
    edges: set[Edge] = set()
    invalid: set[tuple[str, str]] = set()
    done: dict[str, set[str | None]] = {}
    pending = list(by_name)
    while pending:
        name = pending.pop()
        node = by_name.get(name)
        if node is None:
            continue
        todo = ({None} | active[name]) - done.setdefault(name, set())
        if not todo:
            continue
        done[name] |= todo
        wanted_extras = {extra for extra in todo if extra is not None}
        for text in node.requires:
            only = _ONLY_EXTRA.fullmatch(text)
            if only is not None and canonicalize_name(only.group(1) or only.group(2)) not in wanted_extras:
                continue  # behind an extra nobody asks for (this round)
            req = parse_requirement(text)
            if req is None:
                invalid.add((name, text))
                continue
            marker = str(req.marker) if req.marker is not None else None
            for extra in sorted(todo, key=lambda item: item or ""):
                if extra is None:
                    if not evaluate(marker):
                        continue
                elif evaluate(marker) or not evaluate(marker, extra):
                    continue  # an unconditional edge is recorded once, without the extra
                target = canonicalize_name(req.name)
                edges.add(
                    Edge(
                        name,
                        target,
                        str(req.specifier),
                        extra,
                        text,
                        tuple(sorted(canonicalize_name(item) for item in req.extras)),
                        req.url,
                    ),
                )
                wanted = {canonicalize_name(item) for item in req.extras}
                if target in by_name and not wanted <= active[target]:
                    active[target] |= wanted
                    pending.append(target)
    return Dependencies(
        edges=tuple(sorted(edges, key=_edge_key)),
        invalid=tuple(sorted(invalid)),
        extras=tuple((name, tuple(sorted(found))) for name, found in sorted(active.items()) if found),
    )


def _edge_key(edge: Edge) -> tuple[str, str, str, str, str]:
    return (edge.source, edge.target, edge.extra or "", edge.specifier, edge.requirement)


def reachable(edges: Iterable[Edge], roots: Iterable[str]) -> set[str]:
    """Every name reachable from ``roots`` (roots included) along ``edges``."""
    children: dict[str, list[str]] = {}
    for edge in edges:
        children.setdefault(edge.source, []).append(edge.target)
    seen: set[str] = set()
    stack: list[str] = [canonicalize_name(root) for root in roots]
    while stack:
        name = stack.pop()
        if name in seen:
            continue
        seen.add(name)
        stack.extend(children.get(name, ()))
    return seen


def find_cycles(edges: Sequence[Edge]) -> list[tuple[str, ...]]:
    """The dependency cycles: each strongly connected group of two or more names (or a self-loop), sorted.

    Tarjan's algorithm, iterative so deep graphs cannot hit the recursion limit.
    """
    children: dict[str, list[str]] = {}
    for edge in edges:
        children.setdefault(edge.source, []).append(edge.target)
        children.setdefault(edge.target, [])
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    groups: list[tuple[str, ...]] = []
    counter = 0
    for start in sorted(children):
        if start in index:
            continue
        work: list[tuple[str, int]] = [(start, 0)]
        while work:
            name, position = work.pop()
            if position == 0:
                index[name] = low[name] = counter
                counter += 1
                stack.append(name)
                on_stack.add(name)
            targets = children[name]
            if position < len(targets):
                work.append((name, position + 1))
                target = targets[position]
                if target not in index:
                    work.append((target, 0))
                elif target in on_stack:
                    low[name] = min(low[name], index[target])
                continue
            if low[name] == index[name]:
                group = _pop_group(stack, on_stack, name)
                if len(group) > 1 or name in children[name]:
                    groups.append(group)
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[name])
    return sorted(groups)


def _pop_group(stack: list[str], on_stack: set[str], root: str) -> tuple[str, ...]:
    """Pop one strongly connected group (down to ``root``) off Tarjan's stack, sorted."""
    group: list[str] = []
    while True:
        member = stack.pop()
        on_stack.discard(member)
        group.append(member)
        if member == root:
            return tuple(sorted(group))
