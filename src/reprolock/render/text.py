"""``--format text``: a rich summary by severity and a table per file."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich import box
from rich.measure import Measurement
from rich.segment import Segment, Segments
from rich.table import Table
from rich.text import Text

from reprolock.render.grouping import Row, Section, sections
from reprolock.render.places import image_place
from reprolock.rules import Severity

if TYPE_CHECKING:
    from collections.abc import Sequence

    from rich.console import Console, RenderableType

    from reprolock.records import Environment, SourceFile
    from reprolock.report import Report

STYLES = {Severity.ERROR: "bold red", Severity.WARNING: "yellow", Severity.INFO: "cyan"}
_SHORT = {Severity.ERROR: "Err", Severity.WARNING: "Warn", Severity.INFO: "Info"}
_PLURAL = {Severity.ERROR: "errors", Severity.WARNING: "warnings", Severity.INFO: "info"}
PIPED_MAX_WIDTH = 200
"""Piped or redirected, a finding stays on one line up to this width; a longer one wraps (never cut)."""
_UNBOUNDED = 100_000  # the width a block is measured at, to learn what it needs


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
    table.add_column("File", overflow="fold", min_width=min(widest, 60), ratio=1)
    table.add_column("Kind", no_wrap=True)
    table.add_column("Reqs", justify="right", no_wrap=True)
    for severity in Severity:
        table.add_column(_SHORT[severity], justify="right", no_wrap=True)
    for source in report.inputs:
        counts = per_file.get(source.path, dict.fromkeys(Severity, 0))
        cells = [Text(str(counts[s]), style=STYLES[s] if counts[s] else "dim") for s in Severity]
        table.add_row(Text(source.path), source.kind.value, str(len(source.requirements)), *cells)
    return table


def _findings_table(section: Section) -> Table:
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
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
            _message(row),
        )
    return table


def _message(row: Row) -> Text:
    """The row's message (user text: never rich markup), and where in an image its file is."""
    text = Text(row.message)
    place = image_place(row.finding) if row.count == 1 else None
    if place:
        text.append(f"\nin the image: {place}", style="dim")
    return text


def _section(section: Section, source: SourceFile | None) -> list[RenderableType]:
    title = Text(section.title, style="bold")
    if section.kind:
        title.append(f"  ({section.kind})", style="dim")
    lines: list[RenderableType] = [title]
    lines += [Text(f"  {option.origin.line}: {option.option} {option.value}".rstrip(), style="dim") for option in (source.options if source else ())]
    lines += [Text(f"  note: {note}", style="dim") for note in (source.notes if source else ())]
    return [*lines, _findings_table(section)]


def report_width(console: Console, blocks: Sequence[RenderableType]) -> int:
    """One width for the whole report, its tables drawn that wide.

    On a terminal it is the terminal's. Piped or redirected, nobody sees the edge:
    it is wide enough to show every column and every unbreakable word (a path, a
    URL), and to keep each finding on one line up to :data:`PIPED_MAX_WIDTH`.
    """
    if console.is_terminal:
        return console.width
    unbounded = console.options.update_width(_UNBOUNDED)
    sizes = [Measurement.get(console, unbounded, block) for block in blocks]
    least = max((size.minimum for size in sizes), default=0)
    natural = max((size.maximum for size in sizes), default=0)
    return max(console.width, least, min(natural, PIPED_MAX_WIDTH))


def _emit(console: Console, block: RenderableType, width: int) -> None:
    """Print ``block`` laid out ``width`` wide; piped, that may be wider than the console, and lines lose their trailing blanks."""
    if console.is_terminal:
        console.print(block)
        return
    segments: list[Segment] = []
    for line in console.render_lines(block, console.options.update_width(width), pad=False):
        segments += [*_rstrip(line), Segment.line()]
    console.print(Segments(segments), crop=False, end="")


def _rstrip(line: list[Segment]) -> list[Segment]:
    """``line`` without trailing blanks (the table's padding), which only add noise to a file or a log."""
    kept = list(line)
    while kept and not kept[-1].control and not kept[-1].text.strip():
        kept.pop()
    if kept and not kept[-1].control:
        last = kept[-1]
        kept[-1] = Segment(last.text.rstrip(), last.style)
    return kept


def render_text(report: Report, console: Console, *, verbose: bool = False) -> None:
    """Print the report on ``console``."""
    files = len(report.inputs)
    heading = Text(f"reprolock {report.command}", style="bold")
    heading.append(f"  {files} file{'s' if files != 1 else ''}, {len(report.packages)} package{'s' if len(report.packages) != 1 else ''}", style="dim")
    head: list[RenderableType] = [heading, summary_line(report)]
    if report.environment is not None:
        head.append(Text(environment_line(report.environment), style="dim"))
    blocks: list[list[RenderableType]] = [[_inputs_table(report)]] if report.inputs else []
    options = {source.path: source for source in report.inputs}
    blocks += [_section(section, options.get(section.title)) for section in sections(report, verbose=verbose)]
    width = report_width(console, [item for block in blocks for item in block])
    for item in head:
        _emit(console, item, width)
    for block in blocks:
        console.print()
        for item in block:
            if isinstance(item, Table):
                item.expand = True  # every table as wide as the report: one width, one edge
            _emit(console, item, width)
    if report.findings:
        fired = sorted({(item.rule, item.name) for item in report.findings})
        console.print()
        _emit(console, Text("Rules: " + ", ".join(f"{code} {name}" for code, name in fired), style="dim"), width)
    else:
        console.print(Text("No findings.", style="green"))
