"""``--format markdown``: summary, sections per severity, Mermaid graph, the length cap."""

from __future__ import annotations

import re

from reportkit import at, finding, make_report, webapp_graph
from reprolock.render.grouping import worst_severity
from reprolock.render.html import render_html
from reprolock.render.markdown import MAX_CHARS, render_markdown
from reprolock.rules import Severity


def _balanced(text: str) -> None:
    assert text.count("<details") == text.count("</details>")
    assert text.count("```") % 2 == 0


def test_one_collapsible_section_per_severity_errors_open():
    report = make_report(
        finding("RL101", "a is not pinned", package="a", location=at("r.txt", 1)),
        finding("RL102", "b==1 has no --hash", package="b", location=at("r.txt", 2)),
        finding("RL403", "cycle a -> b -> a"),
    )
    text = render_markdown(report)
    assert "<details open><summary>:x: 1 error</summary>" in text
    assert "<details><summary>:warning: 1 warning</summary>" in text
    assert "<details><summary>:information_source: 1 info</summary>" in text
    assert "| `r.txt:1` | RL101 unpinned | a | a is not pinned |" in text
    assert "|  | RL403 cycle |  | cycle a -&gt; b -&gt; a |" in text
    _balanced(text)


def test_mermaid_graph_of_the_direct_dependencies():
    report = make_report(finding("RL109", "flask differs", package="flask", location=at("r.txt", 1)), graph=webapp_graph())
    text = render_markdown(report)
    block = text.split("```mermaid\n", 1)[1].split("```", 1)[0]
    assert block.startswith("graph LR\n")
    labels = dict(re.findall(r'(n\d+)\["([^"]+)"\]', block))
    assert "webapp 0.1.0" in labels.values()
    assert "flask 2.2.5" in labels.values()
    assert "werkzeug 2.2.3" not in labels.values()  # only direct dependencies
    ids = {label.split()[0]: node for node, label in labels.items()}
    assert f"{ids['webapp']} --> {ids['flask']}" in block
    assert f"{ids['pytest']} --> {ids['pluggy']}" in block
    assert re.search(rf"class [n\d,]*\b{ids['flask']}\b[n\d,]* error", block)
    assert "### Direct dependencies (4 roots, 10 requirements)" in text


def test_never_longer_than_the_limit_and_says_so():
    many = [finding("RL111", f"line {i} cannot be parsed: " + "x" * 120, location=at("huge.txt", i)) for i in range(1, 2001)]
    report = make_report(*many, graph=webapp_graph())
    text = render_markdown(report)
    assert len(text) <= MAX_CHARS
    _balanced(text)
    match = re.search(r"\*\*Truncated:\*\* (\d+) of 2000 findings are shown", text)
    assert match
    shown = int(match.group(1))
    assert 100 < shown < 2000
    assert text.count("| `huge.txt:") == shown
    assert "```mermaid" in text


def test_a_small_limit_still_gives_a_wellformed_document():
    many = [finding("RL111", f"line {i} is bad", location=at("f.txt", i)) for i in range(1, 300)]
    text = render_markdown(make_report(*many), limit=2500)
    assert len(text) <= 2500
    _balanced(text)
    assert "**Truncated:**" in text


def test_cells_are_escaped():
    text = render_markdown(make_report(finding("RL111", "a | b * _c_ <x>", location=at("p|q.txt", 1))))
    assert "a \\| b \\* \\_c\\_ &lt;x&gt;" in text
    assert "`p\\|q.txt:1`" in text


def test_no_findings():
    text = render_markdown(make_report())
    assert "No findings." in text
    assert "<details" not in text


def test_a_package_is_marked_by_its_worst_finding_in_both_graphs():
    report = make_report(
        finding("RL102", "flask==2.2.5 has no --hash", package="flask", location=at("r.txt", 1)),
        finding("RL109", "flask differs", package="flask", location=at("r.txt", 1)),
        finding("RL102", "requests==2.28.2 has no --hash", package="requests", location=at("r.txt", 2)),
        finding("RL403", "cycle"),
        graph=webapp_graph(),
    )
    assert worst_severity(report) == {"flask": Severity.ERROR, "requests": Severity.WARNING}
    text = render_markdown(report)
    ids = dict(re.findall(r'^  (n\d+)\["(\S+) ', text, flags=re.MULTILINE))
    names = {name: node for node, name in ids.items()}
    assert f"  class {names['flask']} error" in text
    assert f"  class {names['requests']} warning" in text
    page = render_html(report)
    assert 'class="node sev-error" id="pkg-flask"' in page
    assert 'class="node sev-warning" id="pkg-requests"' in page
