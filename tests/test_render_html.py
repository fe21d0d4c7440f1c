"""``--format html``: one self-contained, escaped page with findings, drift, lock and graph."""

from __future__ import annotations

import re

import pytest

from reportkit import at, finding, make_report, webapp_graph
from reprolock.render.html import render_html
from reprolock.render.views import GraphView, LockContents, LockedPackage
from reprolock.report import PackageRow

EXAMPLE = ["audit", "examples/webapp", "--freeze", "examples/webapp/pip-freeze.txt", "--format", "html"]


def assert_self_contained(page: str) -> None:
    """Nothing that makes a browser fetch: no src/href to anything, no @import, no url() but local fragments."""
    assert not re.search(r"\ssrc\s*=", page)
    assert not re.search(r"<link\b", page)
    assert "@import" not in page
    assert re.findall(r"url\(([^)]*)\)", page) == ["#arrow"] * page.count("url(#arrow)")
    hrefs = re.findall(r'href="([^"]*)"', page)
    assert all(href.startswith("#") for href in hrefs), hrefs
    assert "Content-Security-Policy" in page
    assert "default-src 'none'" in page


def test_example_page_is_self_contained_and_complete(cli, tmp_path):
    result = cli(*EXAMPLE, "-o", str(tmp_path / "report.html"))
    assert result.code == 1, result.err
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    assert_self_contained(page)
    assert page.count('<tr class="finding"') == 83  # 73 in the requirement files, 10 in the Dockerfile
    assert 'id="rule-filter"' in page
    assert '<option value="RL109">RL109 inconsistent-pin (5)</option>' in page
    assert "s3cr3t" not in page
    assert '<section id="drift">' in page
    assert '<section id="graph">' not in page  # audit of files has no graph yet


def test_everything_from_the_report_is_escaped():
    evil = '<script>alert("x")</script>'
    report = make_report(
        finding("RL111", f"cannot parse {evil}", location=at("we<ird>&.txt", 1)),
        finding("RL404", "extraneous", package='pk"g'),
        packages=(PackageRow('pk"g', "<1>", ("<2",), ("a.txt:1",), latest="<b>9</b>"),),
        graph=GraphView.from_contract({"schema_version": 1, "nodes": [{"name": "<svg onload=x>", "version": "&1", "root": True}], "edges": []}),
        lock=LockContents("lock<.txt", (LockedPackage("<x>", "1", 2, ("<y>",), 'python_version < "3.12"', "https://****@h/simple"),)),
    )
    page = render_html(report)
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
    assert "we&lt;ird&gt;&amp;.txt:1" in page
    assert 'data-package="pk&quot;g"' in page
    assert "<svg onload" not in page
    assert "&lt;svg onload=x&gt;" in page
    assert "<b>9</b>" not in page
    assert "lock&lt;.txt" in page
    assert "&lt;x&gt;" in page
    assert "python_version &lt; &quot;3.12&quot;" in page
    assert page.count("<script>") == 1


def test_graph_is_drawn_with_every_node_and_edge():
    graph = webapp_graph()
    report = make_report(finding("RL109", "flask differs", package="flask", location=at("r.txt", 1)), graph=graph)
    page = render_html(report)
    assert_self_contained(page)
    assert len(re.findall(r'<g class="node[ "]', page)) == len(graph.nodes) == 36
    assert page.count('<path class="edge') == len(graph.edges)
    assert 'class="node sev-error" id="pkg-flask"' in page
    assert 'class="node root" id="pkg-webapp"' in page
    assert 'data-engine="builtin"' in page


def test_graph_accepts_the_contract_json_directly():
    page = render_html(make_report(), graph=webapp_graph().to_contract())
    assert len(re.findall(r'<g class="node[ "]', page)) == 36


def test_drift_table_shows_latest_and_wanted():
    rows = (
        PackageRow("flask", "2.0.1", ("==2.0.1",), ("r.txt:1",), latest="3.1.0", facts={"wanted": "2.3.3"}),
        PackageRow("six", "1.16.0", ("==1.16.0",), ("r.txt:2",), latest="1.16.0"),
        PackageRow("bad", "1.0", ("==1.0",), ("r.txt:3",), latest="1.1", facts={"yanked": True}),
    )
    page = render_html(make_report(packages=rows))
    drift = page.split('<section id="drift">', 1)[1].split("</section>", 1)[0]
    assert "<td>flask</td><td>2.0.1</td><td></td><td>3.1.0</td><td>2.3.3</td>" in drift
    assert '<span class="behind">behind</span>' in drift
    assert '<span class="yanked">yanked</span>' in drift
    assert "2 behind the latest release" in drift
    assert "No index data" not in drift


def test_lock_contents_only_when_given():
    assert '<section id="lock">' not in render_html(make_report())
    lock = LockContents("requirements.lock", (LockedPackage("six", "1.16.0", 2, ("python-dateutil",)),))
    page = render_html(make_report(), lock=lock)
    assert '<section id="lock">' in page
    assert '<td>six</td><td>1.16.0</td><td class="num">2</td><td>python-dateutil</td>' in page


def test_no_findings_says_so():
    page = render_html(make_report())
    assert "No findings." in page
    assert '<span class="verdict passes">passes</span>' in page


def test_unknown_layout_is_a_usage_error(cli, monkeypatch):
    monkeypatch.setenv("REPROLOCK_GRAPH_LAYOUT", "neato")
    result = cli(*EXAMPLE)
    assert result.code == 2
    assert "REPROLOCK_GRAPH_LAYOUT" in result.err


@pytest.mark.parametrize("fmt", ["html", "sarif"])
def test_new_formats_are_listed_in_help(cli, fmt):
    assert fmt in cli("audit", "--help").out
