"""The dependency graph: distributions (or locked packages) and the requirements between them.

Every graph algorithm of reprolock lives here (cycles, reachability, the
roots of a graph, narrowing) and hands out plain records (:class:`GraphNode`,
:class:`~reprolock.dependencies.Edge`) and names, never networkx objects.
Build a graph with :func:`build_graph` from any nodes that have ``name``,
``version`` and ``requires`` (an environment's winning distributions or a
lock's packages), or with :func:`graph_of` from edges resolved already.

networkx is the graph library: it names the cycles and narrows (``--package``,
``--reverse``, ``--depth``). Importing it costs 60-75 ms, some 40 % of a whole
``reprolock graph`` run and 25 % of an ``audit --python`` (measured), so it is
imported only for that work: the standard library's :mod:`graphlib` answers
first whether there is a cycle at all (most environments have none), and
reachability is a plain walk over the edges.
"""

from __future__ import annotations

import graphlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from packaging.utils import canonicalize_name

from reprolock.dependencies import Edge, resolve_edges

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

    from reprolock.dependencies import Node

SCHEMA_VERSION = 1

__all__ = ["SCHEMA_VERSION", "DependencyGraph", "Edge", "GraphNode", "build_graph", "find_cycles", "graph_of", "reachable"]


@dataclass(frozen=True, slots=True, order=True)
class GraphNode:
    name: str
    version: str | None
    """``None`` for a dependency that is required but not present."""
    root: bool = False


@dataclass(frozen=True, slots=True)
class DependencyGraph:
    """Nodes sorted by name, edges sorted by (from, to, extra): deterministic by construction."""

    nodes: tuple[GraphNode, ...]
    edges: tuple[Edge, ...]

    @property
    def roots(self) -> list[str]:
        return [node.name for node in self.nodes if node.root]

    def node(self, name: str) -> GraphNode | None:
        return next((node for node in self.nodes if node.name == name), None)

    def children(self, name: str) -> list[Edge]:
        """Edges out of ``name``: what it requires."""
        return [edge for edge in self.edges if edge.source == name]

    def parents(self, name: str) -> list[Edge]:
        """Edges into ``name``: who requires it."""
        return [edge for edge in self.edges if edge.target == name]

    def cycles(self) -> list[tuple[str, ...]]:
        return find_cycles(self.edges)

    def narrow(self, packages: Sequence[str] = (), *, reverse: bool = False, depth: int | None = None) -> DependencyGraph:
        """The part of the graph around ``packages`` and within ``depth`` levels of the roots.

        With ``packages``, keeps each named package and what it requires
        (with ``reverse``: what requires it), and makes the named packages the
        roots. ``reverse`` alone makes the roots the packages that require
        nothing. The edges keep their direction (requirer to required).
        """
        import networkx as nx  # noqa: PLC0415 - 60-75 ms, 25-40 % of a run (measured): only narrowing and cycles load it

        graph: nx.DiGraph[str] = nx.DiGraph()
        graph.add_nodes_from(node.name for node in self.nodes)
        graph.add_edges_from((edge.source, edge.target) for edge in self.edges)
        wanted: list[str] = [canonicalize_name(name) for name in packages]
        unknown = [name for name in wanted if name not in graph]
        if unknown:
            raise KeyError(unknown[0])
        if wanted:
            roots = set(wanted)
        elif reverse:
            roots = {name for name in graph if set(graph.successors(name)) <= {name}}
        else:
            roots = set(self.roots)
        walk = graph.reverse(copy=False) if reverse else graph
        keep: set[str] = set()
        for root in sorted(roots):
            keep.update(nx.single_source_shortest_path_length(walk, root, cutoff=depth))
        nodes = tuple(GraphNode(node.name, node.version, node.name in roots) for node in self.nodes if node.name in keep)
        edges = tuple(edge for edge in self.edges if edge.source in keep and edge.target in keep)
        return DependencyGraph(nodes, edges)

    def to_dict(self) -> dict[str, Any]:
        """The contract's graph JSON."""
        return {
            "schema_version": SCHEMA_VERSION,
            "nodes": [{"name": node.name, "version": node.version, "root": node.root} for node in self.nodes],
            "edges": [{"from": edge.source, "to": edge.target, "specifier": edge.specifier, "extra": edge.extra} for edge in self.edges],
        }


def build_graph(
    nodes: Iterable[Node],
    markers: Mapping[str, str],
    *,
    roots: Sequence[str] | None = None,
    root_extras: Mapping[str, Iterable[str]] | None = None,
) -> DependencyGraph:
    """The graph of ``nodes`` with markers and extras evaluated for ``markers`` (see :func:`graph_of`)."""
    listed = list(nodes)
    return graph_of(listed, resolve_edges(listed, markers, root_extras=root_extras).edges, roots=roots)


def graph_of(nodes: Iterable[Node], edges: Sequence[Edge], *, roots: Sequence[str] | None = None) -> DependencyGraph:
    """The graph of ``nodes`` joined by ``edges`` (resolved by :func:`~reprolock.dependencies.resolve_edges`).

    ``roots`` are the names the user asked for (requirement files); without
    them, the roots are the nodes nothing else requires, plus one name from
    each cycle that nothing outside it requires, so every node hangs under a
    root. A dependency that is required but absent is a node with no version.
    """
    present: dict[str, str] = {canonicalize_name(node.name): node.version for node in nodes}
    names = set(present) | {edge.target for edge in edges}
    if roots:
        chosen: set[str] = {canonicalize_name(name) for name in roots}
        names |= chosen
    else:
        chosen = _unrequired_roots(names, edges)
    built = tuple(GraphNode(name, present.get(name), name in chosen) for name in sorted(names))
    return DependencyGraph(built, tuple(edges))


def _unrequired_roots(names: set[str], edges: Sequence[Edge]) -> set[str]:
    """The names nothing else requires; then, while some name hangs under none of the roots, the first of them."""
    required = {edge.target for edge in edges if edge.source != edge.target}
    chosen = names - required
    unreached = names - reachable(edges, chosen)
    while unreached:
        first = min(unreached)
        chosen.add(first)
        unreached -= reachable(edges, [first])
    return chosen


def reachable(edges: Iterable[Edge], roots: Iterable[str]) -> set[str]:
    """Every name reachable from ``roots`` (roots included) along ``edges``.

    A plain walk, not networkx's ``descendants``: every ``reprolock graph``
    and every audit of requirement files with an environment asks this, and
    importing networkx would cost more than the whole answer.
    """
    children: dict[str, list[str]] = {}
    for edge in edges:
        children.setdefault(edge.source, []).append(edge.target)
    seen: set[str] = set()
    stack: list[str] = [canonicalize_name(root) for root in roots]
    while stack:
        name = stack.pop()
        if name not in seen:
            seen.add(name)
            stack.extend(children.get(name, ()))
    return seen


def find_cycles(edges: Sequence[Edge]) -> list[tuple[str, ...]]:
    """The dependency cycles: each strongly connected group of two or more names (or a self-loop), sorted."""
    if not _has_cycle(edges):
        return []
    import networkx as nx  # noqa: PLC0415 - 60-75 ms, 25-40 % of a run (measured): only narrowing and cycles load it

    graph: nx.DiGraph[str] = nx.DiGraph()
    graph.add_edges_from((edge.source, edge.target) for edge in edges)
    looped = {edge.source for edge in edges if edge.source == edge.target}
    return sorted(tuple(sorted(group)) for group in nx.strongly_connected_components(graph) if len(group) > 1 or group & looped)


def _has_cycle(edges: Iterable[Edge]) -> bool:
    """Whether ``edges`` close any cycle: the standard library's check, cheap next to importing networkx to name them."""
    sorter: graphlib.TopologicalSorter[str] = graphlib.TopologicalSorter()
    for edge in edges:
        sorter.add(edge.target, edge.source)
    try:
        sorter.prepare()
    except graphlib.CycleError:
        return True
    return False
