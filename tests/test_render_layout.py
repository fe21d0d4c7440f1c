"""The built-in layered layout, and Graphviz with its fallback."""

from __future__ import annotations

import html
import itertools
import shutil

import pytest

from reportkit import webapp_graph
from reprolock.render import svg
from reprolock.render.layout import NODE_GAP, NODE_HEIGHT, layout
from reprolock.render.views import GraphView


def _layout_of(graph: GraphView):
    widths = {node.name: 40.0 + 7 * len(node.name) for node in graph.nodes}
    return layout([n.name for n in graph.nodes], [(e.source, e.target) for e in graph.edges], widths)


def _graph(edges, roots=()):
    names = sorted({name for edge in edges for name in edge} | set(roots))
    return GraphView.from_contract(
        {
            "schema_version": 1,
            "nodes": [{"name": n, "version": "1.0", "root": n in roots} for n in names],
            "edges": [{"from": a, "to": b, "specifier": None, "extra": None} for a, b in edges],
        },
    )


def _assert_no_overlap(placed):
    by_layer = {}
    for box in placed.boxes.values():
        by_layer.setdefault(box.layer, []).append(box)
    for boxes in by_layer.values():
        boxes.sort(key=lambda b: b.y)
        for upper, lower in itertools.pairwise(boxes):
            assert lower.y - upper.y >= NODE_HEIGHT + NODE_GAP - 1e-6, (upper.name, lower.name)


def test_dependencies_sit_in_later_columns_and_boxes_never_overlap():
    graph = webapp_graph()
    placed = _layout_of(graph)
    assert set(placed.boxes) == {node.name for node in graph.nodes}
    for edge in graph.edges:
        assert placed.boxes[edge.source].layer < placed.boxes[edge.target].layer, edge
        assert placed.boxes[edge.source].x < placed.boxes[edge.target].x
    _assert_no_overlap(placed)
    assert placed.boxes["webapp"].layer == 0
    assert placed.boxes["vine"].layer == 4  # webapp -> celery -> kombu -> amqp -> vine
    for box in placed.boxes.values():
        assert box.x - box.width / 2 > 0
        assert box.x + box.width / 2 < placed.width
        assert box.y - NODE_HEIGHT / 2 > 0
        assert box.y + NODE_HEIGHT / 2 < placed.height


def test_routes_start_and_end_at_the_boxes():
    placed = _layout_of(webapp_graph())
    for route in placed.routes:
        source, target = placed.boxes[route.source], placed.boxes[route.target]
        assert route.points[0] == pytest.approx((source.x + source.width / 2, source.y))
        assert route.points[-1] == pytest.approx((target.x - target.width / 2, target.y))
        assert len(route.points) == target.layer - source.layer + 1  # one bend point per layer crossed


def test_layout_is_deterministic():
    graph = webapp_graph()
    shuffled = GraphView(tuple(reversed(graph.nodes)), tuple(reversed(graph.edges)))
    assert _layout_of(graph) == _layout_of(shuffled)


def test_crossing_reduction_untangles_a_simple_case():
    # a -> d and b -> c: drawn in name order the edges would cross.
    placed = _layout_of(_graph([("a", "d"), ("b", "c")]))
    boxes = placed.boxes
    assert (boxes["a"].y < boxes["b"].y) == (boxes["d"].y < boxes["c"].y)


def test_cycles_are_drawn_with_one_reversed_edge():
    placed = _layout_of(_graph([("a", "b"), ("b", "c"), ("c", "a"), ("c", "d")]))
    reversed_routes = [route for route in placed.routes if route.reversed]
    assert len(reversed_routes) == 1
    assert len(placed.routes) == 4
    _assert_no_overlap(placed)
    page = svg.builtin_svg(_graph([("a", "b"), ("b", "a")]), {})
    assert 'class="edge cycle"' in page


def test_self_loops_and_unknown_endpoints_are_ignored_by_the_layout():
    placed = layout(["a", "b"], [("a", "a"), ("a", "b"), ("a", "zzz")], {"a": 50.0, "b": 50.0})
    assert [(r.source, r.target) for r in placed.routes] == [("a", "b")]


def test_empty_graph():
    placed = layout([], [], {})
    assert placed.boxes == {}
    assert svg.builtin_svg(GraphView((), ()), {}).startswith("<svg")


def test_a_wide_graph_of_a_hundred_packages():
    edges = [(f"root{i}", f"lib{j}") for i in range(10) for j in range(i, i + 12)] + [(f"lib{j}", f"base{j % 7}") for j in range(22)]
    placed = _layout_of(_graph(edges))
    assert len(placed.boxes) == 10 + 22 + 7
    _assert_no_overlap(placed)


def test_graph_svg_rejects_unknown_engines():
    with pytest.raises(ValueError, match="unknown layout engine"):
        svg.graph_svg(webapp_graph(), {}, engine="neato")


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz is not installed; the built-in layout is tested above")
def test_graphviz_draws_when_installed():
    drawn = svg.graph_svg(webapp_graph(), {}, engine="dot")
    assert 'data-engine="dot"' in drawn
    assert drawn.count('<g id="pkg') == 36
    assert 'id="pkg-webapp" class="node root"' in html.unescape(drawn)


def test_graphviz_missing_falls_back_to_builtin(monkeypatch):
    monkeypatch.setattr(svg.shutil, "which", lambda _name: None)
    assert 'data-engine="builtin"' in svg.graph_svg(webapp_graph(), {}, engine="auto")


def test_graphviz_failing_falls_back_to_builtin(monkeypatch, tmp_path):
    broken = tmp_path / "dot"
    broken.write_text("#!/bin/sh\necho 'dot: simulated crash' >&2\nexit 3\n", encoding="utf-8")
    broken.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert 'data-engine="builtin"' in svg.graph_svg(webapp_graph(), {}, engine="dot")


def test_dot_source_quotes_names():
    text = svg.to_dot(_graph([('we"ird', "b")]), {})
    assert '"we\\"ird" -> "b"' in text
