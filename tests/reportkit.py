"""Small builders for report-renderer tests: reports made of chosen findings."""

from __future__ import annotations

import json
from typing import Any

from conftest import ROOT
from reprolock.findings import finding
from reprolock.records import FileKind, Origin, SourceFile
from reprolock.render.views import GraphView
from reprolock.report import PackageRow, Report

SARIF_SCHEMA = ROOT / "fixtures" / "schemas" / "sarif-schema-2.1.0.json"  # a copy of ../shared/schemas (see its README)
WEBAPP_GRAPH = ROOT / "examples" / "webapp" / "graph.json"


def webapp_graph() -> GraphView:
    return GraphView.from_contract(json.loads(WEBAPP_GRAPH.read_text(encoding="utf-8")))


def make_report(*findings: Any, packages: tuple[PackageRow, ...] = (), graph: GraphView | None = None, **extra: Any) -> Report:
    inputs = tuple(dict.fromkeys(SourceFile(item.location.path, FileKind.REQUIREMENTS) for item in findings if item.location))
    return Report(inputs=inputs, packages=packages, findings=tuple(findings), fail_on="error", exit_code=1 if findings else 0, graph=graph, **extra)


def at(path: str, line: int | None = None) -> Origin:
    return Origin(path, line)


__all__ = ["at", "finding", "make_report", "webapp_graph"]
