"""What the reports draw besides findings: the dependency graph and the lock contents.

These are small frozen inputs for the renderers, independent of how the graph
was built or the lock was read. :meth:`GraphView.from_contract` reads the
contract's graph JSON (``reprolock graph --format json``), so any producer of
that document can feed the HTML and Markdown reports.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Mapping


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
    def from_contract(cls, data: Mapping[str, Any]) -> GraphView:
        """Read the contract's graph JSON; edges to unknown nodes add a node with no version."""
        if data.get("schema_version") != 1:
            raise ValueError(f"unsupported graph schema_version {data.get('schema_version')!r} (expected 1)")
        nodes = {str(item["name"]): GraphNode(str(item["name"]), item.get("version"), bool(item.get("root"))) for item in data.get("nodes", [])}
        edges = []
        for item in data.get("edges", []):
            edge = GraphEdge(str(item["from"]), str(item["to"]), item.get("specifier") or None, item.get("extra"))
            for name in (edge.source, edge.target):
                nodes.setdefault(name, GraphNode(name))
            edges.append(edge)
        return cls(tuple(nodes.values()), tuple(dict.fromkeys(edges)))

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
