"""The dependency graph: distributions (or locked packages) and the requirements between them.

The only module that imports networkx, and only for the graph algorithms
behind narrowing (``--package``, ``--reverse``, ``--depth``): importing
networkx costs more than the whole default ``reprolock graph`` run, so the
plain build (edges from ``reprolock.dependencies``, roots by reachability)
does without it. It hands out plain records (:class:`GraphNode`,
:class:`~reprolock.dependencies.Edge`) and names, never networkx objects. Build one with :func:`build_graph` from any nodes that have
``name``, ``version`` and ``requires``: an environment's winning
distributions or a lock's packages.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from packaging.utils import canonicalize_name

from reprolock.dependencies import Edge, find_cycles, reachable, resolve_edges

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

    import networkx as nx

    from reprolock.dependencies import Node

SCHEMA_VERSION = 1

__all__ = ["SCHEMA_VERSION", "DependencyGraph", "Edge", "GraphNode", "build_graph"]


@dataclass(frozen=True, slots=True, order=True)
class GraphNode:
    name: str
    version: str | None
    """``None`` for a dependency that is required but not present."""
    root: bool = False


@dataclass(frozen=True)
class DependencyGraph:
    """Nodes sorted by name, edges sorted by (from, to, extra): deterministic by construction."""

    nodes: tuple[GraphNode, ...]
    edges: tuple[Edge, ...]
    _digraph: Any = field(default=None, repr=False, compare=False)

    def _graph(self) -> nx.DiGraph[str]:
        import networkx as nx  # noqa: PLC0415 - heavy: only narrowing needs it

        if self._digraph is None:
            graph: nx.DiGraph[str] = nx.DiGraph()
            graph.add_nodes_from(node.name for node in self.nodes)
            graph.add_edges_from((edge.source, edge.target) for edge in self.edges)
            object.__setattr__(self, "_digraph", graph)
        result: nx.DiGraph[str] = self._digraph
        return result

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
        import networkx as nx  # noqa: PLC0415 - heavy: only narrowing needs it

        graph = self._graph()
        wanted: list[str] = [canonicalize_name(name) for name in packages]
        unknown = [name for name in wanted if name not in graph]
        if unknown:
            raise KeyError(unknown[0])
        if wanted:
            roots = set(wanted)
        elif reverse:
            roots = {name for name in graph if graph.out_degree(name) == 0 or set(graph.successors(name)) == {name}}
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
    """The graph of ``nodes`` with markers and extras evaluated for ``markers``.

    ``roots`` are the names the user asked for (requirement files); without
    them, the roots are the nodes nothing else requires, plus one name from
    each cycle that nothing outside it requires, so every node hangs under a
    root. A dependency that is required but absent is a node with no version.
    """
    listed = list(nodes)
    present: dict[str, str] = {canonicalize_name(node.name): node.version for node in listed}
    deps = resolve_edges(listed, markers, root_extras=root_extras)
    names = set(present) | {edge.target for edge in deps.edges}
    if roots:
        chosen: set[str] = {canonicalize_name(name) for name in roots}
        names |= chosen
    else:
        required = {edge.target for edge in deps.edges if edge.source != edge.target}
        chosen = names - required
        unreached = names - reachable(deps.edges, chosen)
        while unreached:
            first = min(unreached)
            chosen.add(first)
            unreached -= reachable(deps.edges, [first])
    built = tuple(GraphNode(name, present.get(name), name in chosen) for name in sorted(names))
    return DependencyGraph(built, deps.edges)
