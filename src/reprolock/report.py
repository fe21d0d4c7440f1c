"""The report: inputs, packages and findings of one run, and its exit code."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from reprolock import __version__
from reprolock.rules import Severity

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

    from reprolock.findings import Finding
    from reprolock.policy import Policy
    from reprolock.records import Environment, SourceFile
    from reprolock.render.views import GraphView, LockContents

SCHEMA_VERSION = 1


@dataclass(frozen=True, slots=True)
class PackageRow:
    name: str
    pinned: str | None
    specifiers: tuple[str, ...]
    sources: tuple[str, ...]
    installed: str | None = None
    latest: str | None = None
    facts: Mapping[str, Any] = field(default_factory=dict)
    """More keys for the JSON row (``installer``, ``location``, ``wanted``, ``yanked``, ...)."""


@dataclass(frozen=True, slots=True)
class Report:
    inputs: tuple[SourceFile, ...]
    packages: tuple[PackageRow, ...]
    findings: tuple[Finding, ...]
    fail_on: str
    exit_code: int
    environment: Environment | None = None
    command: str = "audit"
    """The command that made the report (``audit``, ``lock``, ``verify``), shown in its heading."""
    graph: GraphView | None = None
    """The dependency graph, drawn by the HTML and Markdown reports (not part of the JSON report)."""
    lock: LockContents | None = None
    """The lockfile's contents, listed by the HTML report."""

    @property
    def summary(self) -> dict[str, int]:
        counts = {severity.value: 0 for severity in Severity}
        for item in self.findings:
            counts[item.severity.value] += 1
        return counts

    def to_dict(self) -> dict[str, Any]:
        """The contract's JSON report."""
        return {
            "schema_version": SCHEMA_VERSION,
            "tool": {"name": "reprolock", "version": __version__},
            "inputs": [{"path": source.path, "kind": source.kind.value} for source in self.inputs],
            "environment": _environment(self.environment),
            "packages": [
                {
                    "name": row.name,
                    "pinned": row.pinned,
                    "installed": row.installed,
                    "latest": row.latest,
                    "specifiers": list(row.specifiers),
                    "sources": list(row.sources),
                    **row.facts,
                }
                for row in self.packages
            ],
            "findings": [
                {
                    "rule": item.rule,
                    "name": item.name,
                    "severity": item.severity.value,
                    "package": item.package,
                    "message": item.message,
                    "location": {"path": item.location.path, "line": item.location.line} if item.location else None,
                    "detail": item.detail,
                }
                for item in self.findings
            ],
            "summary": self.summary,
            "exit_code": self.exit_code,
        }


def _environment(environment: Environment | None) -> dict[str, Any] | None:
    if environment is None:
        return None
    interpreter = environment.interpreter
    return {
        "python": interpreter.python,
        "version": interpreter.version,
        "prefix": interpreter.prefix,
        "externally_managed": interpreter.externally_managed is not None,
        "sys_path": list(interpreter.sys_path),
    }


def _packages(
    files: Iterable[SourceFile],
    environment: Environment | None,
    facts: Mapping[str, Mapping[str, Any]],
) -> tuple[PackageRow, ...]:
    """One row per package named in a file or installed, with what is known of it."""
    pinned: dict[str, str | None] = {}
    specifiers: dict[str, dict[str, None]] = {}
    sources: dict[str, dict[str, None]] = {}
    for source in files:
        for req in source.requirements:
            if req.name is None:
                continue
            if pinned.get(req.name) is None:
                pinned[req.name] = req.pinned_version
            spec = str(req.specifier) if req.specifier else (req.url or "")
            specifiers.setdefault(req.name, {})
            if spec:
                specifiers[req.name][spec] = None
            sources.setdefault(req.name, {})[str(req.origin)] = None
    installed = {name: dist.version for name, dist in environment.winners().items()} if environment else {}
    rows = []
    for name in sorted({*pinned, *installed}):
        known = dict(facts.get(name, {}))
        latest = known.pop("latest", None)
        rows.append(
            PackageRow(
                name,
                pinned.get(name),
                tuple(specifiers.get(name, ())),
                tuple(sources.get(name, ())),
                installed=installed.get(name),
                latest=latest,
                facts=known,
            ),
        )
    return tuple(rows)


def build_report(
    files: Sequence[SourceFile],
    findings: Iterable[Finding],
    policy: Policy,
    *,
    environment: Environment | None = None,
    facts: Mapping[str, Mapping[str, Any]] | None = None,
    command: str = "audit",
) -> Report:
    """Apply the policy to the findings and decide the exit code.

    ``facts`` adds per-package keys to the JSON rows (``latest``, ``wanted``,
    ``installer``, ...), keyed by normalised name.
    """
    kept = tuple(policy.apply(findings))
    exit_code = 1 if any(policy.fails(item) for item in kept) else 0
    return Report(
        inputs=tuple(files),
        packages=_packages(files, environment, facts or {}),
        findings=kept,
        fail_on=policy.fail_on_text,
        exit_code=exit_code,
        environment=environment,
        command=command,
    )
