"""One DOT writer and one quoting rule for `reprolock graph --format dot` and the HTML report's Graphviz layout."""

from __future__ import annotations

import html
import re
import shutil
import subprocess

import pytest

from reprolock.dependencies import Edge
from reprolock.graph import DependencyGraph, GraphNode
from reprolock.render import dot, svg
from reprolock.render.graph import render_dot
from reprolock.render.views import GraphEdge, GraphView
from reprolock.render.views import GraphNode as ViewNode
from reprolock.rules import Severity

AWKWARD = 'we"i\\rd'
"""A name with both characters DOT escapes (real package names never have them; versions from a lock might)."""


def _both(version: str) -> tuple[str, str]:
    """The same two-package graph written by the graph command and by the HTML report's Graphviz path."""
    command = DependencyGraph((GraphNode("app", "1.0", root=True), GraphNode(AWKWARD, version)), (Edge("app", AWKWARD, ">=1"),))
    report = GraphView((ViewNode("app", "1.0", root=True), ViewNode(AWKWARD, version)), (GraphEdge("app", AWKWARD, ">=1"),))
    return render_dot(command), svg.to_dot(report, {"app": Severity.ERROR})


def test_quote_escapes_quotes_and_backslashes_and_writes_line_breaks_as_dot_does():
    assert dot.quote('a"b') == '"a\\"b"'
    assert dot.quote("a\\b") == '"a\\\\b"'
    assert dot.quote("one\ntwo\r\nthree\rfour") == '"one\\ntwo\\nthree\\nfour"'
    assert dot.quote("") == '""'


def test_both_writers_quote_the_same_way():
    command, report = _both("1.0\nrc")
    label = '[label="we\\"i\\\\rd\\n1.0\\nrc"'
    assert f'"we\\"i\\\\rd" {label}' in command
    assert f'"we\\"i\\\\rd" {label}' in report
    assert '"app" -> "we\\"i\\\\rd"' in command
    assert '"app" -> "we\\"i\\\\rd"' in report
    assert all(line.endswith(("{", "}", ";")) for text in (command, report) for line in text.splitlines())


def test_graph_command_output_is_unchanged():
    graph = DependencyGraph(
        (GraphNode("app", "1.0", root=True), GraphNode("ghost", None), GraphNode("graph", "2.0")),
        (Edge("app", "ghost", ""), Edge("app", "graph", ">=1", "fast")),
    )
    assert render_dot(graph) == (
        "digraph dependencies {\n"
        "  rankdir=LR;\n"
        "  node [shape=box];\n"
        '  "app" [label="app\\n1.0", style=bold];\n'
        '  "ghost" [label="ghost\\n(not installed)", style=dashed];\n'
        '  "graph" [label="graph\\n2.0"];\n'
        '  "app" -> "ghost";\n'
        '  "app" -> "graph" [label=">=1 [fast]"];\n'
        "}\n"
    )


def test_attribute_values_are_bare_only_where_dot_reads_them_bare():
    text = dot.digraph([("node", {"class": "edge", "style": "bold", "size": "0.5", "id": "pkg-node", "skip": None})], [])
    assert '  "node" [class="edge", style=bold, size=0.5, id="pkg-node"];' in text


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz is not installed")
def test_graphviz_reads_both_writers_and_keeps_the_labels():
    for text in _both("1.0\nrc"):
        drawn = subprocess.run(["dot", "-Tsvg"], input=text, capture_output=True, text=True, check=True).stdout
        lines = [html.unescape(found) for found in re.findall(r"<text [^>]*>([^<]*)</text>", drawn)]
        assert lines[2:5] == [AWKWARD, "1.0", "rc"]
