"""``--format markdown``: a summary and a collapsible table per file, for a PR comment."""

from __future__ import annotations

from typing import TYPE_CHECKING

from reprolock.redaction import MASK
from reprolock.render.grouping import sections
from reprolock.rules import Severity

if TYPE_CHECKING:
    from reprolock.report import Report

_ICONS = {Severity.ERROR: ":x:", Severity.WARNING: ":warning:", Severity.INFO: ":information_source:"}


def _code(text: str) -> str:
    """A code span in a table cell: only the pipe needs escaping there."""
    return "`" + text.replace("`", "'").replace("|", "\\|") + "`"


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _cell(text: str) -> str:
    """Escape Markdown in a table cell; a masked secret stays readable as a code span."""
    return f"`{MASK}`".join(_escape(part) for part in text.split(MASK))


def _escape(text: str) -> str:
    for char in "\\|*_`[]":
        text = text.replace(char, f"\\{char}")
    return text.replace("\n", " ").replace("<", "&lt;").replace(">", "&gt;")


def render_markdown(report: Report, *, verbose: bool = False) -> str:
    counts = report.summary
    verdict = "fails" if report.exit_code else "passes"
    lines = [
        "## reprolock audit",
        "",
        f"{len(report.inputs)} files, {len(report.packages)} packages: **{verdict}** (fail-on `{report.fail_on}`, exit {report.exit_code}).",
        "",
        "| Severity | Findings |",
        "| --- | ---: |",
        *(f"| {_ICONS[s]} {s.value} | {counts[s.value]} |" for s in Severity),
        "",
        "| File | Kind | Requirements |",
        "| --- | --- | ---: |",
        *(f"| {_code(source.path)} | {source.kind.value} | {len(source.requirements)} |" for source in report.inputs),
    ]
    for section in sections(report, verbose=verbose):
        worst = max(row.finding.severity.rank for row in section.rows)
        summary = f"<code>{_html(section.title)}</code>: {sum(row.count for row in section.rows)} findings"
        lines += ["", f"<details{' open' if worst == Severity.ERROR.rank else ''}><summary>{summary}</summary>", ""]
        lines += ["| Line | Severity | Rule | Package | Message |", "| ---: | --- | --- | --- | --- |"]
        for row in section.rows:
            item = row.finding
            package = item.package or "" if row.count == 1 else f"{row.count} packages"
            lines.append(
                f"| {row.line or ''} | {_ICONS[item.severity]} {item.severity.value} | {item.rule} {item.name} "
                f"| {_cell(package)} | {_cell(row.message)} |",
            )
        lines += ["", "</details>"]
    if not report.findings:
        lines += ["", "No findings."]
    return "\n".join(lines) + "\n"
