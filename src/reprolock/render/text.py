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

    from reprolock.records import Environment
    from reprolock.report import Report

STYLES = {Severity.ERROR: "bold red", Severity.WARNING: "yellow", Severity.INFO: "cyan"}
_SHORT = {Severity.ERROR: "Err", Severity.WARNING: "Warn", Severity.INFO: "Info"}
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


def environment_line(environment: Environment) -> str:
    """One line naming the inspected interpreter."""
    interpreter = environment.interpreter
    managed = ", externally managed" if interpreter.externally_managed else ""
    return f"Environment: {interpreter.python} (Python {interpreter.version}, prefix {interpreter.prefix}{managed})"


def _inputs_table(report: Report) -> Table:
    per_file: dict[str, dict[Severity, int]] = {}
    for item in report.findings:
        if item.location is not None:
            counts = per_file.setdefault(item.location.path, dict.fromkeys(Severity, 0))
            counts[item.severity] += 1
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
    widest = max((len(source.path) for source in report.inputs), default=4)
    table.add_column("File", overflow="fold", min_width=min(widest, 60))
    table.add_column("Kind", no_wrap=True)
    table.add_column("Reqs", justify="right", no_wrap=True)
    for severity in Severity:
        table.add_column(_SHORT[severity], justify="right", no_wrap=True)
    for source in report.inputs:
        counts = per_file.get(source.path, dict.fromkeys(Severity, 0))
        cells = [Text(str(counts[s]), style=STYLES[s] if counts[s] else "dim") for s in Severity]
        table.add_row(Text(source.path), source.kind.value, str(len(source.requirements)), *cells)
    return table


def render_text(report: Report, console: Console, *, verbose: bool = False) -> None:
    """Print the report on ``console``."""
    files = len(report.inputs)
    heading = Text(f"reprolock {report.command}", style="bold")
    heading.append(f"  {files} file{'s' if files != 1 else ''}, {len(report.packages)} package{'s' if len(report.packages) != 1 else ''}", style="dim")
    console.print(heading)
    console.print(summary_line(report))
    if report.environment is not None:
        console.print(Text(environment_line(report.environment), style="dim"))
    if report.inputs:
        console.print()
        console.print(_inputs_table(report))
    options = {source.path: source for source in report.inputs}
    for section in sections(report, verbose=verbose):
        console.print()
        title = Text(section.title, style="bold")
        if section.kind:
            title.append(f"  ({section.kind})", style="dim")
        console.print(title)
        source = options.get(section.title)
        for option in source.options if source else ():
            console.print(Text(f"  {option.origin.line}: {option.option} {option.value}".rstrip(), style="dim"))
        for note in source.notes if source else ():
            console.print(Text(f"  note: {note}", style="dim"))
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
                item.rule,
                Text(item.package or "" if row.count == 1 else f"{row.count} packages"),
                Text(row.message),  # user text: never rich markup
            )
        console.print(table)
    if report.findings:
        fired = sorted({(item.rule, item.name) for item in report.findings})
        console.print()
        console.print(Text("Rules: " + ", ".join(f"{code} {name}" for code, name in fired), style="dim"))
    else:
        console.print(Text("No findings.", style="green"))
