"""What the reports draw besides findings: the dependency graph and the lock contents.

These are small frozen inputs for the renderers, independent of how the graph
was built or the lock was read. :meth:`GraphView.from_records` takes the
records of :mod:`reprolock.graph` (or any with the same fields);
:meth:`GraphView.from_contract` reads the contract's graph JSON (``reprolock
graph --format json``), so any producer of that document can feed the HTML
and Markdown reports.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping


class NodeRecord(Protocol):
    """A graph node as :mod:`reprolock.graph` records it."""

    @property
    def name(self) -> str: ...
    @property
    def version(self) -> str | None: ...
    @property
    def root(self) -> bool: ...


class EdgeRecord(Protocol):
    """A graph edge as :mod:`reprolock.dependencies` records it (``specifier`` empty when any version will do)."""

    @property
    def source(self) -> str: ...
    @property
    def target(self) -> str: ...
    @property
    def specifier(self) -> str | None: ...
    @property
    def extra(self) -> str | None: ...


@dataclass(frozen=True, slots=True)
class GraphNode:
    name: str
    version: str | None = None
    root: bool = False


@dataclass(frozen=True, slots=True)
class GraphEdge:
    source: str
    target: str
    specifier: str | None = None
    extra: str | None = None


@dataclass(frozen=True, slots=True)
class GraphView:
    """A dependency graph: nodes by normalised name, edges from dependent to dependency."""

    nodes: tuple[GraphNode, ...]
    edges: tuple[GraphEdge, ...]

    @classmethod
    def from_records(cls, nodes: Iterable[NodeRecord], edges: Iterable[EdgeRecord]) -> GraphView:
        """The view of a graph's records; an empty specifier is none, edges to unknown nodes add a node with no version."""
        return cls._joined(
            (GraphNode(node.name, node.version, node.root) for node in nodes),
            (GraphEdge(edge.source, edge.target, edge.specifier or None, edge.extra) for edge in edges),
        )

    @classmethod
    def from_contract(cls, data: Mapping[str, Any]) -> GraphView:
        """Read the contract's graph JSON; edges to unknown nodes add a node with no version."""
        if data.get("schema_version") != 1:
            raise ValueError(f"unsupported graph schema_version {data.get('schema_version')!r} (expected 1)")
        return cls._joined(
            (GraphNode(str(item["name"]), item.get("version"), bool(item.get("root"))) for item in data.get("nodes", [])),
            (GraphEdge(str(item["from"]), str(item["to"]), item.get("specifier") or None, item.get("extra")) for item in data.get("edges", [])),
        )

    @classmethod
    def _joined(cls, nodes: Iterable[GraphNode], edges: Iterable[GraphEdge]) -> GraphView:
        """Nodes by name (the last of a name wins), then the distinct edges, adding a node for any end not among them."""
        by_name = {node.name: node for node in nodes}
        kept = tuple(dict.fromkeys(edges))
        for edge in kept:
            by_name.setdefault(edge.source, GraphNode(edge.source))
            by_name.setdefault(edge.target, GraphNode(edge.target))
        return cls(tuple(by_name.values()), kept)

    def to_contract(self) -> dict[str, Any]:
        return {
            "schema_version": 1,
            "nodes": [{"name": node.name, "version": node.version, "root": node.root} for node in self.nodes],
            "edges": [{"from": e.source, "to": e.target, "specifier": e.specifier, "extra": e.extra} for e in self.edges],
        }

    @property
    def roots(self) -> tuple[GraphNode, ...]:
        """Nodes marked root; when none is marked, the nodes nothing depends on."""
        marked = tuple(node for node in self.nodes if node.root)
        if marked:
            return marked
        required = {edge.target for edge in self.edges}
        return tuple(node for node in self.nodes if node.name not in required)

    def direct(self) -> GraphView:
        """The roots and the edges leaving them: the direct dependencies."""
        roots = {node.name for node in self.roots}
        edges = tuple(edge for edge in self.edges if edge.source in roots)
        keep = roots | {edge.target for edge in edges}
        return GraphView(tuple(node for node in self.nodes if node.name in keep), edges)


def as_graph(graph: GraphView | Mapping[str, Any] | None) -> GraphView | None:
    """Accept a :class:`GraphView` or the contract's graph JSON."""
    if graph is None or isinstance(graph, GraphView):
        return graph
    return GraphView.from_contract(graph)


@dataclass(frozen=True, slots=True)
class LockedPackage:
    name: str
    version: str
    hashes: int = 0
    """How many file hashes the lock records for this version."""
    via: tuple[str, ...] = ()
    """The packages (or input files) that brought it in."""
    marker: str | None = None
    source: str | None = None
    """Index or direct URL, already redacted."""


@dataclass(frozen=True, slots=True)
class LockContents:
    """A lockfile as the reports show it."""

    path: str
    packages: tuple[LockedPackage, ...]
