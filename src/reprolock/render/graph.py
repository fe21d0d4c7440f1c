"""Draw a dependency graph: a rich tree, the contract's JSON, Graphviz dot or Mermaid."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING

from reprolock.render import dot

if TYPE_CHECKING:
    from rich.console import Console
    from rich.tree import Tree

    from reprolock.dependencies import Edge
    from reprolock.graph import DependencyGraph, GraphNode


def render_json(graph: DependencyGraph) -> str:
    return json.dumps(graph.to_dict(), indent=2, sort_keys=False) + "\n"


def _requirement(edge: Edge, *, reverse: bool) -> str:
    spec = edge.specifier or "any"
    who = f"{edge.source} requires {spec}" if reverse else f"requires {spec}"
    if edge.extra:
        who += f" via extra {edge.extra}"
    return who


def _label(graph: DependencyGraph, name: str) -> str:
    node = graph.node(name)
    if node is None or node.version is None:
        return f"{name} (not installed)"
    return f"{name} {node.version}"


def _edge_label(graph: DependencyGraph, edge: Edge, *, reverse: bool) -> str:
    name = edge.source if reverse else edge.target
    return f"{_label(graph, name)} [{_requirement(edge, reverse=reverse)}]"


def render_tree(graph: DependencyGraph, console: Console, *, reverse: bool = False, depth: int | None = None) -> None:
    """One rich tree per root; a package already drawn with its subtree is marked instead of drawn again."""
    # rich takes ~35 ms to import; json, dot and mermaid never need it.
    from rich.markup import escape  # noqa: PLC0415 - heavy, only the tree format uses it
    from rich.tree import Tree  # noqa: PLC0415 - heavy, only the tree format uses it

    expanded: set[str] = set()

    def grow(branch: Tree, name: str, path: tuple[str, ...], level: int) -> None:
        edges = graph.parents(name) if reverse else graph.children(name)
        if depth is not None and level >= depth:
            return
        for edge in edges:
            other = edge.source if reverse else edge.target
            text = escape(_edge_label(graph, edge, reverse=reverse))
            if other in path:
                branch.add(f"{text} (cycle)")
                continue
            further = graph.parents(other) if reverse else graph.children(other)
            if other in expanded and further:
                branch.add(f"{text} (shown above)")
                continue
            expanded.add(other)
            grow(branch.add(text), other, (*path, other), level + 1)

    roots = graph.roots
    if not roots:
        console.print("(no packages)")
        return
    for root in roots:
        expanded.add(root)
        tree = Tree(escape(_label(graph, root)), guide_style="dim")
        grow(tree, root, (root,), 0)
        console.print(tree)


def _edge_text(edge: Edge) -> str:
    """What an edge is labelled with in dot and Mermaid: the specifier and the extra that brought it in."""
    return edge.specifier + (f" [{edge.extra}]" if edge.extra else "")


def _dot_style(node: GraphNode) -> str | None:
    if node.root:
        return "bold"
    return "dashed" if node.version is None else None


def render_dot(graph: DependencyGraph) -> str:
    nodes = [(node.name, {"label": f"{node.name}\n{node.version or '(not installed)'}", "style": _dot_style(node)}) for node in graph.nodes]
    edges = [(edge.source, edge.target, {"label": _edge_text(edge) or None}) for edge in graph.edges]
    return dot.digraph(nodes, edges, graph={"rankdir": "LR"}, node={"shape": "box"})


_MERMAID_ID = re.compile(r"[^A-Za-z0-9_]")


def _mermaid_id(name: str) -> str:
    return "p_" + _MERMAID_ID.sub("_", name)


def mermaid_text(text: str) -> str:
    """``text`` inside a quoted Mermaid label (Mermaid's entity for a double quote)."""
    return text.replace('"', "#quot;")


def render_mermaid(graph: DependencyGraph) -> str:
    lines = ["flowchart TD"]
    for node in graph.nodes:
        label = f"{node.name} {node.version}" if node.version else f"{node.name} (not installed)"
        lines.append(f'    {_mermaid_id(node.name)}["{mermaid_text(label)}"]')
    for edge in graph.edges:
        label = _edge_text(edge)
        arrow = f'-->|"{mermaid_text(label)}"|' if label else "-->"
        lines.append(f"    {_mermaid_id(edge.source)} {arrow} {_mermaid_id(edge.target)}")
    return "\n".join(lines) + "\n"
