"""``--format text``: a rich summary by severity and a table per file."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich import box
from rich.table import Table
from rich.text import Text

from reprolock.render.grouping import sections
from reprolock.rules import Severity

if TYPE_CHECKING:
    from rich.console import Console

    from reprolock.report import Report

STYLES = {Severity.ERROR: "bold red", Severity.WARNING: "yellow", Severity.INFO: "cyan"}
_PLURAL = {Severity.ERROR: "errors", Severity.WARNING: "warnings", Severity.INFO: "info"}


def summary_line(report: Report) -> Text:
    counts = report.summary
    text = Text()
    for severity in Severity:
        count = counts[severity.value]
        label = severity.value if count == 1 and severity is not Severity.INFO else _PLURAL[severity]
        text.append(f"{count} {label}", style=STYLES[severity] if count else "dim")
        text.append("  ")
    verdict = "fails" if report.exit_code else "passes"
    text.append(f"-> {verdict} (fail-on: {report.fail_on}, exit {report.exit_code})", style="bold" if report.exit_code else "green")
    return text


def render_text(report: Report, console: Console, *, verbose: bool = False) -> None:
    """Print the report on ``console``."""
    files = len(report.inputs)
    heading = Text("reprolock audit", style="bold")
    heading.append(f"  {files} file{'s' if files != 1 else ''}, {len(report.packages)} packages", style="dim")
    console.print(heading)
    console.print(summary_line(report))
    for source in report.inputs:
        if source.notes:
            for note in source.notes:
                console.print(Text(f"note: {note}", style="dim"))
    for section in sections(report, verbose=verbose):
        console.print()
        title = Text(section.title, style="bold")
        if section.kind:
            title.append(f"  ({section.kind})", style="dim")
        console.print(title)
        table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False, expand=False)
        table.add_column("Line", justify="right", no_wrap=True)
        table.add_column("Severity", no_wrap=True)
        table.add_column("Rule", no_wrap=True)
        table.add_column("Package", overflow="fold")
        table.add_column("Message", overflow="fold", ratio=1)
        for row in section.rows:
            item = row.finding
            table.add_row(
                str(row.line) if row.line else "",
                Text(item.severity.value, style=STYLES[item.severity]),
                f"{item.rule} {item.name}",
                item.package or "" if row.count == 1 else f"{row.count} packages",
                row.message,
            )
        console.print(table)
    if not report.findings:
        console.print(Text("No findings.", style="green"))
