"""Arrange findings for people: by file, in line order, long runs of one rule folded; the worst severity per package."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from reprolock.rules import Severity

if TYPE_CHECKING:
    from reprolock.findings import Finding
    from reprolock.report import Report

FOLD_OVER = 8
"""A warning or info rule firing more than this many times in one file is shown as one row."""


@dataclass(frozen=True, slots=True)
class Row:
    line: int | None
    finding: Finding
    count: int = 1
    packages: tuple[str, ...] = ()

    @property
    def message(self) -> str:
        if self.count == 1:
            return self.finding.message
        shown = ", ".join(self.packages[:6])
        more = f", +{len(self.packages) - 6} more" if len(self.packages) > 6 else ""
        return f"{self.count} x {self.finding.name}: {shown}{more} (--verbose lists each)"


@dataclass(frozen=True, slots=True)
class Section:
    title: str
    kind: str | None
    rows: tuple[Row, ...]


def sections(report: Report, *, verbose: bool = False) -> list[Section]:
    """One section per input file with findings, then one for findings with no file."""
    by_path: dict[str | None, list[Finding]] = {}
    for item in report.findings:
        by_path.setdefault(item.location.path if item.location else None, []).append(item)
    kinds = {source.path: source.kind.value for source in report.inputs}
    order = [source.path for source in report.inputs] + sorted(p for p in by_path if p is not None and p not in kinds)
    result = [Section(path, kinds.get(path), _rows(by_path[path], verbose=verbose)) for path in order if path in by_path]
    if None in by_path:
        result.append(Section("(not tied to a file)", None, _rows(by_path[None], verbose=verbose)))
    return result


def _rows(findings: list[Finding], *, verbose: bool) -> tuple[Row, ...]:
    per_rule: dict[tuple[str, str], list[Finding]] = {}
    for item in findings:
        per_rule.setdefault((item.rule, item.severity.value), []).append(item)
    rows: list[Row] = []
    for items in per_rule.values():
        if verbose or len(items) <= FOLD_OVER or items[0].severity is Severity.ERROR:
            rows.extend(Row(item.location.line if item.location else None, item) for item in items)
        else:
            items.sort(key=lambda f: f.location.line if f.location and f.location.line else 0)
            packages = tuple(dict.fromkeys(item.package or "?" for item in items))
            first = items[0]
            rows.append(Row(first.location.line if first.location else None, first, len(items), packages))
    rows.sort(key=lambda row: (row.line or 0, -row.finding.severity.rank, row.finding.rule))
    return tuple(rows)


def worst_severity(report: Report) -> dict[str, Severity]:
    """The worst severity among each package's findings: how the HTML and Markdown graphs mark a package."""
    worst: dict[str, Severity] = {}
    for item in report.findings:
        if item.package and (item.package not in worst or item.severity.rank > worst[item.package].rank):
            worst[item.package] = item.severity
    return worst
