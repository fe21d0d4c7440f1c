"""``--format html``: one self-contained page for a reviewer.

Inline CSS, JavaScript and SVG only; a Content-Security-Policy forbids the page
from loading anything. It holds the summary, every finding (filterable by
severity, rule and package; the filter lives in the URL fragment, e.g.
``#severity=error,warning&rule=RL101``), the drift table, the lock contents
and the dependency graph. Every text from the report is HTML-escaped.
"""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING, Any

from reprolock import __version__
from reprolock.render.grouping import worst_severity
from reprolock.render.html_assets import CSS, JS
from reprolock.render.places import image_place
from reprolock.render.svg import graph_svg
from reprolock.render.views import GraphView, LockContents, as_graph
from reprolock.rules import RULES, Severity

if TYPE_CHECKING:
    from collections.abc import Mapping

    from reprolock.report import PackageRow, Report

_CSP = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"


def _e(value: object) -> str:
    return escape("" if value is None else str(value), quote=True)


def _summary(report: Report) -> str:
    counts = report.summary
    verdict = "fails" if report.exit_code else "passes"
    cards = "".join(
        f'<button type="button" class="card {s.value}" data-severity="{s.value}" title="show only {s.value} findings">'
        f'<span class="count">{counts[s.value]}</span>{s.value}</button>'
        for s in Severity
    )
    return (
        '<section id="summary"><h2>Summary</h2>'
        f'<p><span class="verdict {verdict}">{verdict}</span> '
        f"fail-on <code>{_e(report.fail_on)}</code>, exit code {report.exit_code}; "
        f"{len(report.inputs)} file{'s' if len(report.inputs) != 1 else ''}, {len(report.packages)} package{'s' if len(report.packages) != 1 else ''}, {len(report.findings)} finding{'s' if len(report.findings) != 1 else ''}.</p>"
        f'<div class="cards">{cards}</div></section>'
    )


def _inputs(report: Report) -> str:
    if not report.inputs and report.environment is None:
        return ""
    per_file: dict[str, dict[Severity, int]] = {}
    for item in report.findings:
        if item.location is not None:
            per_file.setdefault(item.location.path, dict.fromkeys(Severity, 0))[item.severity] += 1
    rows = []
    for source in report.inputs:
        counts = per_file.get(source.path, dict.fromkeys(Severity, 0))
        cells = "".join(f'<td class="num">{counts[s]}</td>' for s in Severity)
        rows.append(f'<tr><td><code>{_e(source.path)}</code></td><td>{_e(source.kind.value)}</td><td class="num">{len(source.requirements)}</td>{cells}</tr>')
    heads = "".join(f'<th class="num">{s.value}</th>' for s in Severity)
    out = ['<section id="inputs"><h2>Inputs</h2>']
    if rows:
        out.append(f'<table><thead><tr><th>File</th><th>Kind</th><th class="num">Requirements</th>{heads}</tr></thead><tbody>{"".join(rows)}</tbody></table>')
    if report.environment is not None:
        interpreter = report.environment.interpreter
        managed = "yes" if interpreter.externally_managed else "no"
        out.append(
            f"<p>Environment: <code>{_e(interpreter.python)}</code> (Python {_e(interpreter.version)}), prefix <code>{_e(interpreter.prefix)}</code>, "
            f"{len(report.environment.distributions)} distributions, externally managed: {managed}.</p>",
        )
    out.append("</section>")
    return "".join(out)


def _findings(report: Report) -> str:
    fired: dict[str, int] = {}
    for item in report.findings:
        fired[item.rule] = fired.get(item.rule, 0) + 1
    counts = report.summary
    boxes = "".join(
        f'<label><input type="checkbox" name="severity" value="{s.value}" checked> <span class="sev {s.value}">{s.value}</span> ({counts[s.value]})</label>' for s in Severity
    )
    options = "".join(f'<option value="{code}">{code} {_e(RULES[code].name)} ({fired[code]})</option>' for code in sorted(fired))
    rows = []
    for item in report.findings:
        where = item.location
        location = "" if where is None else f"<code>{_e(where.path)}{':' + str(where.line) if where.line else ''}</code>"
        place = image_place(item)
        location += f'<div class="muted">in the image: {_e(place)}</div>' if place else ""
        rows.append(
            f'<tr class="finding" data-severity="{item.severity.value}" data-rule="{item.rule}" data-package="{_e(item.package or "")}">'
            f'<td><span class="sev {item.severity.value}">{item.severity.value}</span></td>'
            f'<td class="rule"><code>{item.rule}</code> {_e(item.name)}</td><td>{_e(item.package or "")}</td><td>{location}</td><td>{_e(item.message)}</td></tr>',
        )
    empty = "No findings." if not report.findings else "No finding matches the filters."
    return (
        '<section id="findings"><h2>Findings</h2>'
        f'<div class="filters" role="group" aria-label="filters">{boxes}'
        f'<label>Rule <select id="rule-filter"><option value="">all rules</option>{options}</select></label>'
        '<label>Package <input type="search" id="package-filter" placeholder="name" size="16"></label>'
        f'<span class="muted">showing <b id="shown-count">{len(report.findings)}</b> of {len(report.findings)}</span></div>'
        '<div class="scroll"><table id="findings-table"><thead><tr><th>Severity</th><th>Rule</th><th>Package</th><th>Location</th><th>Message</th></tr></thead>'
        f'<tbody>{"".join(rows)}<tr id="no-match"{"" if not report.findings else " hidden"}><td colspan="5" class="muted">{empty}</td></tr></tbody></table></div></section>'
    )


def _behind(row: PackageRow) -> bool:
    current = row.installed or row.pinned
    return bool(row.latest and current and row.latest != current)


def _drift(report: Report) -> str:
    if not report.packages:
        return ""
    known = any(row.latest for row in report.packages)
    rows = []
    for row in report.packages:
        wanted = row.facts.get("wanted")
        yanked = row.facts.get("yanked")
        status = ""
        if yanked:
            status = '<span class="yanked">yanked</span>'
        elif _behind(row):
            status = '<span class="behind">behind</span>'
        elif row.latest:
            status = '<span class="muted">current</span>'
        rows.append(
            f"<tr><td>{_e(row.name)}</td><td>{_e(row.pinned)}</td><td>{_e(row.installed)}</td><td>{_e(row.latest)}</td><td>{_e(wanted)}</td>"
            f'<td>{status}</td><td class="muted">{_e(", ".join(row.specifiers))}</td></tr>',
        )
    note = "" if known else '<p class="muted">No index data in this report: latest and wanted versions are unknown (the index rules did not run).</p>'
    behind = sum(1 for row in report.packages if _behind(row))
    return (
        f'<section id="drift"><h2>Packages and drift</h2><p>{len(report.packages)} packages; {behind} behind the latest release.</p>{note}'
        '<div class="scroll"><table><thead><tr><th>Package</th><th>Pinned</th><th>Installed</th><th>Latest</th><th>Wanted</th><th>Status</th><th>Specifiers</th></tr></thead>'
        f'<tbody>{"".join(rows)}</tbody></table></div></section>'
    )


def _lock(lock: LockContents | None) -> str:
    if lock is None:
        return ""
    rows = "".join(
        f'<tr><td>{_e(p.name)}</td><td>{_e(p.version)}</td><td class="num">{p.hashes}</td><td>{_e(", ".join(p.via))}</td>'
        f'<td class="mono">{_e(p.marker)}</td><td class="mono">{_e(p.source)}</td></tr>'
        for p in lock.packages
    )
    return (
        f'<section id="lock"><h2>Lock contents</h2><p><code>{_e(lock.path)}</code>: {len(lock.packages)} packages.</p>'
        '<table><thead><tr><th>Package</th><th>Version</th><th class="num">Hashes</th><th>Via</th><th>Marker</th><th>Source</th></tr></thead>'
        f"<tbody>{rows}</tbody></table></section>"
    )


def _graph(graph: GraphView | None, report: Report, engine: str) -> str:
    if graph is None:
        return ""
    legend = (
        '<div class="legend"><span><i style="border-color:#1d3f9a;background:#dbe7ff"></i>root</span>'
        '<span><i style="border-color:var(--error);background:#fde8e7"></i>has errors</span>'
        '<span><i style="border-color:var(--warning);background:#fff4e5"></i>has warnings</span>'
        '<span><i style="border-color:var(--info);background:#eef4ff"></i>has info</span>'
        "<span>click a package to filter the findings</span></div>"
    )
    return (
        f'<section id="graph"><h2>Dependency graph</h2><p>{len(graph.nodes)} packages, {len(graph.edges)} requirements '
        f"(an arrow points from a package to what it requires).</p>{legend}"
        f'<div class="graph-box">{graph_svg(graph, worst_severity(report), engine=engine)}</div></section>'
    )


def render_html(
    report: Report,
    *,
    graph: GraphView | Mapping[str, Any] | None = None,
    lock: LockContents | None = None,
    engine: str = "builtin",
) -> str:
    """The whole page. ``graph`` and ``lock`` default to the report's own."""
    drawn = as_graph(graph) or report.graph
    verdict = "fails" if report.exit_code else "passes"
    title = f"reprolock report: {verdict}"
    return "".join(
        [
            "<!DOCTYPE html>\n",
            '<html lang="en"><head><meta charset="utf-8">',
            f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            '<meta name="referrer" content="no-referrer">',
            f"<title>{_e(title)}</title><style>{CSS}</style></head><body>",
            (f'<header><h1>reprolock report</h1><div class="meta">reprolock {_e(__version__)} &middot; '
            f"{report.summary['error']} errors, {report.summary['warning']} warnings, {report.summary['info']} info</div></header><main>"),
            _summary(report),
            _inputs(report),
            _findings(report),
            _graph(drawn, report, engine),
            _drift(report),
            _lock(lock or report.lock),
            f"<footer>Generated by reprolock {_e(__version__)}. This page is self-contained: it loads nothing.</footer>",
            f"</main><script>{JS}</script></body></html>\n",
        ],
    )
