"""``--format markdown``: a summary, a collapsible table per severity and the direct dependencies, for a PR comment or a job summary."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from reprolock.redaction import MASK
from reprolock.render.graph import mermaid_text
from reprolock.render.grouping import Row, sections, worst_severity
from reprolock.render.places import image_place
from reprolock.render.views import GraphView, as_graph
from reprolock.rules import Severity

if TYPE_CHECKING:
    from collections.abc import Mapping

    from reprolock.report import Report

_ICONS = {Severity.ERROR: ":x:", Severity.WARNING: ":warning:", Severity.INFO: ":information_source:"}


def _code(text: str) -> str:
    """A code span in a table cell: only the pipe needs escaping there."""
    return "`" + text.replace("`", "'").replace("|", "\\|") + "`"


def _cell(text: str) -> str:
    """Escape Markdown in a table cell; a masked secret stays readable as a code span."""
    return f"`{MASK}`".join(_escape(part) for part in text.split(MASK))


def _escape(text: str) -> str:
    for char in "\\|*_`[]":
        text = text.replace(char, f"\\{char}")
    return text.replace("\n", " ").replace("<", "&lt;").replace(">", "&gt;")


MAX_CHARS = 65_000
"""GitHub's limit for a comment body is 65,536 characters; the report stays under this."""
MERMAID_MAX_EDGES = 150
_NOTE_ROOM = 200  # kept free for the truncation note


def _mermaid(graph: GraphView, worst: dict[str, Severity]) -> list[str]:
    """The direct dependencies (roots and what they require) as a Mermaid flowchart."""
    direct = graph.direct()
    ids = {node.name: f"n{index}" for index, node in enumerate(direct.nodes)}
    edges = direct.edges[:MERMAID_MAX_EDGES]
    lines = ["```mermaid", "graph LR"]
    for node in direct.nodes:
        label = f"{node.name} {node.version}" if node.version else node.name
        lines.append(f'  {ids[node.name]}["{mermaid_text(label)}"]')
    lines += [f"  {ids[edge.source]} --> {ids[edge.target]}" for edge in edges]
    lines += ["  classDef root stroke-width:3px", "  classDef error stroke:#d1242f,stroke-width:2px", "  classDef warning stroke:#bf8700,stroke-width:2px"]
    roots = [ids[node.name] for node in direct.roots]
    if roots:
        lines.append(f"  class {','.join(roots)} root")
    for severity in (Severity.ERROR, Severity.WARNING):
        marked = [ids[name] for name, worst_ in worst.items() if worst_ is severity and name in ids]
        if marked:
            lines.append(f"  class {','.join(marked)} {severity.value}")
    lines.append("```")
    more = len(direct.edges) - len(edges)
    heading = f"### Direct dependencies ({len(direct.roots)} roots, {len(direct.edges)} requirements)"
    return ["", heading, "", *lines, *(["", f"{more} more requirements are not drawn."] if more > 0 else [])]


def _location(path: str | None, line: int | None) -> str:
    if path is None:
        return ""
    return _code(f"{path}:{line}" if line else path)


def _head(report: Report) -> list[str]:
    """The title, the verdict, the environment, the counts and the files."""
    counts = report.summary
    verdict = "fails" if report.exit_code else "passes"
    files = len(report.inputs)
    head = [
        f"## reprolock {report.command}",
        "",
        f"{files} file{'' if files == 1 else 's'}, {len(report.packages)} package{'' if len(report.packages) == 1 else 's'}: **{verdict}** (fail-on `{report.fail_on}`, exit {report.exit_code}).",
        "",
        "| Severity | Findings |",
        "| --- | ---: |",
        *(f"| {_ICONS[s]} {s.value} | {counts[s.value]} |" for s in Severity),
    ]
    if report.environment is not None:
        interpreter = report.environment.interpreter
        managed = ", externally managed" if interpreter.externally_managed else ""
        head[4:4] = [f"Environment: {_code(interpreter.python)} (Python {interpreter.version}, prefix {_code(interpreter.prefix)}{managed}).", ""]
    if report.inputs:
        head += [
            "",
            "| File | Kind | Requirements |",
            "| --- | --- | ---: |",
            *(f"| {_code(source.path)} | {source.kind.value} | {len(source.requirements)} |" for source in report.inputs),
        ]
    return head


def _by_severity(report: Report, *, verbose: bool) -> dict[Severity, list[Row]]:
    """The rows of every file's section, gathered by severity."""
    by_severity: dict[Severity, list[Row]] = {}
    for section in sections(report, verbose=verbose):
        for row in section.rows:
            by_severity.setdefault(row.finding.severity, []).append(row)
    return by_severity


def _row(row: Row) -> str:
    item = row.finding
    path = item.location.path if item.location else None
    package = item.package or "" if row.count == 1 else f"{row.count} packages"
    place = image_place(item) if row.count == 1 else None
    where = f"<br>in the image: {_cell(place)}" if place else ""
    return f"| {_location(path, row.line)} | {item.rule} {item.name} | {_cell(package)} | {_cell(row.message)}{where} |"


def _table(severity: Severity, rows: list[Row], room: int) -> tuple[list[str], int]:
    """The collapsible table of one severity in at most ``room`` characters, and how many findings it shows."""
    findings_here = sum(row.count for row in rows)
    label = severity.value if findings_here == 1 or severity is Severity.INFO else f"{severity.value}s"
    opening = [
        "",
        f"<details{' open' if severity is Severity.ERROR else ''}><summary>{_ICONS[severity]} {findings_here} {label}</summary>",
        "",
        "| Location | Rule | Package | Message |",
        "| --- | --- | --- | --- |",
    ]
    closing = ["", "</details>"]
    cost = len("\n".join(opening + closing)) + 1
    if cost > room:
        return [], 0
    lines: list[str] = []
    shown = 0
    for row in rows:
        line = _row(row)
        if cost + len("\n".join([*lines, line])) + 1 > room:
            break
        lines.append(line)
        shown += row.count
    return (opening + lines + closing, shown) if lines else ([], 0)


def _tables(by_severity: dict[Severity, list[Row]], budget: int) -> tuple[list[str], int]:
    """A table per severity, worst first, until ``budget`` characters are used; the lines and how many findings they show."""
    body: list[str] = []
    shown = 0
    for severity in Severity:
        rows = by_severity.get(severity, [])
        if not rows:
            continue
        table, count = _table(severity, rows, budget - len("\n".join(body)))
        if not table:  # not even one row fits: no less severe table is shown after this one
            break
        body += table
        shown += count
    return body, shown


def render_markdown(
    report: Report,
    *,
    verbose: bool = False,
    graph: GraphView | Mapping[str, Any] | None = None,
    limit: int = MAX_CHARS,
) -> str:
    """GitHub-flavoured Markdown: a summary table, a collapsible table per severity, the direct dependencies.

    The result is never longer than ``limit`` characters: rows that do not fit
    are left out and a note says how many.
    """
    head = _head(report)
    drawn = as_graph(graph) or report.graph
    tail = _mermaid(drawn, worst_severity(report)) if drawn is not None and drawn.nodes else []
    if not report.findings:
        head += ["", "No findings."]
    budget = limit - len("\n".join(head + tail)) - _NOTE_ROOM
    if budget < 0:  # a graph too big for the limit gives way to the findings
        tail, budget = [], limit - len("\n".join(head)) - _NOTE_ROOM
    by_severity = _by_severity(report, verbose=verbose)
    body, shown = _tables(by_severity, budget)
    total = sum(row.count for rows in by_severity.values() for row in rows)
    lines = head + body
    if shown < total:
        lines += ["", f"> **Truncated:** {shown} of {total} findings are shown ({limit:,}-character limit); `--format json` or `--format html` lists every finding."]
    lines += tail
    return "\n".join(lines) + "\n"
