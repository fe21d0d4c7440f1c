"""The HTML report in a real headless Chromium: loads cleanly, draws the graph, filters work.

Needs Debian's ``chromium``: skipped without it, except when ``CI`` is set
(``.ci/run`` installs it), where its absence fails the run.
"""

from __future__ import annotations

import dataclasses
import sys

import pytest

from chromium import Page, require_chromium
from conftest import ROOT
from reportkit import webapp_graph
from reprolock.checks import Target, run_file_checks
from reprolock.policy import build_policy
from reprolock.render.html import render_html
from reprolock.report import build_report
from reprolock.rules import Severity
from reprolock.sources.loader import load

VISIBLE = "Array.from(document.querySelectorAll('#findings-table tr.finding')).filter(r => r.offsetParent !== null)"


@pytest.fixture(scope="module")
def report():
    files = load(["examples/webapp"], cwd=ROOT, kind=None, freeze=["examples/webapp/pip-freeze.txt"], stdin=sys.stdin)
    base = build_report(files, run_file_checks(files, Target.running()), build_policy({}, fail_on=[], ignore=[]))
    return dataclasses.replace(base, graph=webapp_graph())


@pytest.fixture(scope="module")
def page_url(report, tmp_path_factory):
    path = tmp_path_factory.mktemp("html") / "report.html"
    path.write_text(render_html(report), encoding="utf-8")
    return path.as_uri()


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    page = Page(require_chromium(), tmp_path_factory.mktemp("chromium-profile"))
    yield page
    page.close()


@pytest.fixture
def page(browser, page_url):
    browser.open(page_url)
    return browser


def visible(page):
    return page.evaluate(f"{VISIBLE}.map(r => [r.dataset.severity, r.dataset.rule, r.dataset.package])")


def test_loads_without_errors_and_fetches_nothing(page, page_url):
    assert page.evaluate("document.title") == "reprolock report: fails"
    assert page.problems() == []
    assert page.requests() == [page_url]


def test_graph_is_drawn(page, report):
    count = page.evaluate("document.querySelectorAll('svg.graph g.node').length")
    assert count == len(report.graph.nodes)
    sizes = page.evaluate("Array.from(document.querySelectorAll('svg.graph g.node rect')).map(r => { const b = r.getBBox(); return [b.width, b.height]; })")
    assert all(width > 20 and height > 20 for width, height in sizes)
    box = page.evaluate("(() => { const b = document.querySelector('svg.graph').getBoundingClientRect(); return [b.width, b.height]; })()")
    assert box[0] > 300
    assert box[1] > 300
    edges = page.evaluate("Array.from(document.querySelectorAll('svg.graph path.edge')).filter(p => p.getTotalLength() > 10).length")
    assert edges == len(report.graph.edges)


def test_all_findings_shown_at_first(page, report):
    assert len(visible(page)) == len(report.findings)
    assert page.evaluate("document.getElementById('shown-count').textContent") == str(len(report.findings))


def test_severity_filter(page, report):
    page.evaluate("document.querySelector('input[name=severity][value=warning]').click()")
    rows = visible(page)
    assert len(rows) == sum(1 for f in report.findings if f.severity is not Severity.WARNING)
    assert {severity for severity, _, _ in rows} == {"error", "info"}
    assert page.evaluate("location.hash") == "#severity=error%2Cinfo"
    assert page.problems() == []


def test_rule_filter(page, report):
    page.evaluate("(() => { const s = document.getElementById('rule-filter'); s.value = 'RL109'; s.dispatchEvent(new Event('change')); })()")
    rows = visible(page)
    assert len(rows) == sum(1 for f in report.findings if f.rule == "RL109") == 5
    assert {rule for _, rule, _ in rows} == {"RL109"}


def test_filters_from_the_url_fragment(browser, page_url, report):
    browser.open(page_url + "#severity=info&rule=RL101")
    rows = visible(browser)
    expected = [f for f in report.findings if f.severity is Severity.INFO and f.rule == "RL101"]
    assert len(rows) == len(expected) == 6
    assert browser.evaluate("document.querySelector('input[name=severity][value=error]').checked") is False


def test_filter_that_matches_nothing_says_so(browser, page_url):
    browser.open(page_url + "#severity=info&rule=RL108")
    assert visible(browser) == []
    assert browser.evaluate("document.getElementById('no-match').offsetParent !== null") is True


def test_summary_card_shows_one_severity(page, report):
    page.evaluate("document.querySelector('button.card[data-severity=error]').click()")
    rows = visible(page)
    assert len(rows) == report.summary["error"]


def test_clicking_a_graph_node_filters_by_package(page, report):
    page.evaluate("document.getElementById('pkg-flask').dispatchEvent(new MouseEvent('click', {bubbles: true}))")
    rows = visible(page)
    assert len(rows) == sum(1 for f in report.findings if f.package == "flask")
    assert {package for _, _, package in rows} == {"flask"}
    assert page.evaluate("document.getElementById('pkg-flask').classList.contains('selected')") is True
    assert page.problems() == []
