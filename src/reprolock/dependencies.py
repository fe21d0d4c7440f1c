"""Dependency edges between distributions, with markers and extras evaluated for one target.

Pure and light (``packaging`` only): the edges, resolved once per run, that
the consistency rules judge and :mod:`reprolock.graph` walks (cycles,
reachability, narrowing). Any record with ``name``, ``version`` and
``requires`` (``Requires-Dist`` strings) is a node: an installed distribution
or a locked package.
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
    from collections.abc import Iterable, Iterator, Mapping, Sequence

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
    walk = _Walk({canonicalize_name(node.name): node for node in nodes}, MarkerEvaluator(markers))
    for name, extras in (root_extras or {}).items():
        walk.active.setdefault(canonicalize_name(name), set()).update(canonicalize_name(extra) for extra in extras)
    pending = list(walk.nodes)
    while pending:
        pending.extend(walk.visit(pending.pop()))
    return Dependencies(
        edges=tuple(sorted(walk.edges, key=_edge_key)),
        invalid=tuple(sorted(walk.invalid)),
        extras=tuple((name, tuple(sorted(found))) for name, found in sorted(walk.active.items()) if found),
    )


class _Walk:
    """One resolution in progress: the extras active on each node, what is resolved already, the edges found.

    A node is visited again whenever someone asks it for an extra it has not
    resolved yet, and then resolves only that extra's requirements.
    """

    def __init__(self, nodes: dict[str, Node], evaluate: MarkerEvaluator) -> None:
        self.nodes = nodes
        self.evaluate = evaluate
        self.active: dict[str, set[str]] = {name: set() for name in nodes}
        self.done: dict[str, set[str | None]] = {}
        self.edges: set[Edge] = set()
        self.invalid: set[tuple[str, str]] = set()

    def visit(self, name: str) -> list[str]:
        """Resolve ``name`` for its base (``None``) and the extras not resolved yet; return the targets asked for new extras."""
        todo = ({None} | self.active[name]) - self.done.setdefault(name, set())
        if not todo:
            return []
        self.done[name] |= todo
        wanted = {extra for extra in todo if extra is not None}
        rounds = sorted(todo, key=lambda item: item or "")
        grown: list[str] = []
        for text in self.nodes[name].requires:
            req = self._parse(name, text, wanted)
            if req is not None:
                grown.extend(self._follow(name, text, req, rounds))
        return grown

    def _parse(self, name: str, text: str, wanted: set[str]) -> Requirement | None:
        """``text`` as a requirement; ``None`` when it is behind an extra nobody asks for (this round) or not PEP 508 (kept aside)."""
        only = _ONLY_EXTRA.fullmatch(text)
        if only is not None and canonicalize_name(only.group(1) or only.group(2)) not in wanted:
            return None
        req = parse_requirement(text)
        if req is None:
            self.invalid.add((name, text))
        return req

    def _follow(self, name: str, text: str, req: Requirement, rounds: Sequence[str | None]) -> Iterator[str]:
        """Add the edge ``req`` gives in each round its marker holds; yield its target each time that asks it for new extras."""
        marker = str(req.marker) if req.marker is not None else None
        target = canonicalize_name(req.name)
        asked = tuple(sorted(canonicalize_name(item) for item in req.extras))
        for extra in rounds:
            if not self._holds(marker, extra):
                continue
            self.edges.add(Edge(name, target, str(req.specifier), extra, text, asked, req.url))
            if target in self.nodes and not self.active[target].issuperset(asked):
                self.active[target].update(asked)
                yield target

    def _holds(self, marker: str | None, extra: str | None) -> bool:
        if extra is None:
            return self.evaluate(marker)
        # under an extra, only what its marker adds: an unconditional edge is recorded once, without the extra
        return not self.evaluate(marker) and self.evaluate(marker, extra)


def _edge_key(edge: Edge) -> tuple[str, str, str, str, str]:
    return (edge.source, edge.target, edge.extra or "", edge.specifier, edge.requirement)
