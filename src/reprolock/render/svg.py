"""Draw a dependency graph as inline SVG.

The layout is reprolock's own (:mod:`reprolock.render.layout`). When asked to,
and when Graphviz's ``dot`` is on ``PATH``, ``dot -Tsvg`` lays the graph out
instead; any failure of ``dot`` falls back to the built-in layout.
"""

from __future__ import annotations

import shutil
import subprocess
from html import escape
from typing import TYPE_CHECKING

from reprolock.render import dot
from reprolock.render.layout import NODE_HEIGHT, Layout, layout

if TYPE_CHECKING:
    from collections.abc import Mapping

    from reprolock.render.views import GraphView
    from reprolock.rules import Severity

LAYOUT_ENGINES = ("builtin", "dot", "auto")
"""``builtin``: always reprolock's layout; ``dot``/``auto``: Graphviz when installed, else built-in."""

_NAME_CHAR = 7.4
_VERSION_CHAR = 6.2
_PAD = 20.0
_DOT_TIMEOUT = 20


def _label_width(name: str, version: str | None) -> float:
    return max(len(name) * _NAME_CHAR, len(version or "") * _VERSION_CHAR, 24.0) + _PAD


def _marks(name: str, root: bool, severities: Mapping[str, Severity]) -> str:
    """The classes that style a package's box: ``root`` and its worst ``sev-*``."""
    classes = []
    if root:
        classes.append("root")
    if name in severities:
        classes.append(f"sev-{severities[name].value}")
    return " ".join(classes)


def _path(points: tuple[tuple[float, float], ...]) -> str:
    """A smooth left-to-right curve through the points."""
    (x0, y0), rest = points[0], points[1:]
    parts = [f"M{x0:.1f},{y0:.1f}"]
    px, py = x0, y0
    for x, y in rest:
        mid = (x - px) / 2
        parts.append(f"C{px + mid:.1f},{py:.1f} {x - mid:.1f},{y:.1f} {x:.1f},{y:.1f}")
        px, py = x, y
    return " ".join(parts)


def builtin_svg(graph: GraphView, severities: Mapping[str, Severity]) -> str:
    """The graph drawn with the built-in layered layout."""
    widths = {node.name: _label_width(node.name, node.version) for node in graph.nodes}
    placed: Layout = layout([node.name for node in graph.nodes], [(e.source, e.target) for e in graph.edges], widths)
    specifiers = {(e.source, e.target): e.specifier for e in graph.edges}
    width, height = max(placed.width, 120.0), max(placed.height, 60.0)
    out = [
        (f'<svg xmlns="http://www.w3.org/2000/svg" class="graph" data-engine="builtin" role="img" aria-label="dependency graph" '
        f'width="{width:.0f}" height="{height:.0f}" viewBox="0 0 {width:.0f} {height:.0f}">'),
        ('<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">'
        '<path d="M0,0 L10,5 L0,10 z" class="arrowhead"/></marker></defs>'),
        '<g class="edges">',
    ]
    for route in placed.routes:
        spec = specifiers.get((route.source, route.target)) or ""
        title = escape(f"{route.source} requires {route.target}{' ' + spec if spec else ''}")
        cls = "edge cycle" if route.reversed else "edge"
        out.append(
            f'<path class="{cls}" data-from="{escape(route.source)}" data-to="{escape(route.target)}" '
            f'd="{_path(route.points)}" marker-end="url(#arrow)"><title>{title}</title></path>',
        )
    out.append('</g><g class="nodes">')
    for node in graph.nodes:
        box = placed.boxes[node.name]
        left, top = box.x - box.width / 2, box.y - NODE_HEIGHT / 2
        name = escape(node.name)
        classes = f"node {_marks(node.name, node.root, severities)}".rstrip()
        tooltip = escape(f"{node.name} {node.version or '(version unknown)'}{' (root)' if node.root else ''}")
        out.append(
            f'<g class="{classes}" id="pkg-{name}" data-package="{name}" tabindex="0">'
            f"<title>{tooltip}</title>"
            f'<rect x="{left:.1f}" y="{top:.1f}" width="{box.width:.1f}" height="{NODE_HEIGHT:.0f}" rx="6"/>'
            f'<text x="{box.x:.1f}" y="{box.y - 3:.1f}" class="name">{name}</text>'
            f'<text x="{box.x:.1f}" y="{box.y + 11:.1f}" class="version">{escape(node.version or "?")}</text></g>',
        )
    out.append("</g></svg>")
    return "".join(out)


def to_dot(graph: GraphView, severities: Mapping[str, Severity]) -> str:
    """The graph in Graphviz's language, with the classes and ids the HTML report styles."""
    nodes = [
        (
            node.name,
            {
                "label": f"{node.name}\n{node.version or '?'}",
                "id": f"pkg-{node.name}",
                "class": _marks(node.name, node.root, severities) or None,  # dot adds the class "node" itself
            },
        )
        for node in graph.nodes
    ]
    return dot.digraph(
        nodes,
        [(edge.source, edge.target, {"class": "edge"}) for edge in graph.edges],
        graph={"rankdir": "LR", "nodesep": "0.25", "ranksep": "0.6", "bgcolor": "transparent"},
        node={"shape": "box", "style": "rounded", "fontname": "sans-serif", "fontsize": "11"},
        edge={"arrowsize": "0.7"},
    )


def dot_svg(graph: GraphView, severities: Mapping[str, Severity]) -> str | None:
    """``dot -Tsvg`` of the graph, without the XML prologue; ``None`` when Graphviz is missing or fails."""
    program = shutil.which("dot")
    if program is None:
        return None
    try:
        done = subprocess.run([program, "-Tsvg"], input=to_dot(graph, severities), capture_output=True, text=True, timeout=_DOT_TIMEOUT, check=False)  # noqa: S603 - fixed argv, the graph goes through stdin
    except (OSError, subprocess.TimeoutExpired):
        return None
    start = done.stdout.find("<svg")
    if done.returncode != 0 or start < 0:
        return None
    svg = done.stdout[start:]
    return svg.replace("<svg ", '<svg class="graph" data-engine="dot" ', 1)


def graph_svg(graph: GraphView, severities: Mapping[str, Severity], *, engine: str = "builtin") -> str:
    """The graph as an inline ``<svg>`` element, by the requested engine."""
    if engine not in LAYOUT_ENGINES:
        raise ValueError(f"unknown layout engine {engine!r} (choose from {', '.join(LAYOUT_ENGINES)})")
    if engine != "builtin":
        drawn = dot_svg(graph, severities)
        if drawn is not None:
            return drawn
    return builtin_svg(graph, severities)
