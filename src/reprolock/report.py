"""The report: inputs, packages and findings of one run, and its exit code."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from reprolock import __version__
from reprolock.rules import Severity

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from reprolock.findings import Finding
    from reprolock.policy import Policy
    from reprolock.records import SourceFile

SCHEMA_VERSION = 1


@dataclass(frozen=True, slots=True)
class PackageRow:
    name: str
    pinned: str | None
    specifiers: tuple[str, ...]
    sources: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Report:
    inputs: tuple[SourceFile, ...]
    packages: tuple[PackageRow, ...]
    findings: tuple[Finding, ...]
    fail_on: str
    exit_code: int

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
            "environment": None,
            "packages": [
                {
                    "name": row.name,
                    "pinned": row.pinned,
                    "installed": None,
                    "latest": None,
                    "specifiers": list(row.specifiers),
                    "sources": list(row.sources),
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


def _packages(files: Iterable[SourceFile]) -> tuple[PackageRow, ...]:
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
    return tuple(PackageRow(name, pinned[name], tuple(specifiers[name]), tuple(sources[name])) for name in sorted(pinned))


def build_report(files: Sequence[SourceFile], findings: Iterable[Finding], policy: Policy) -> Report:
    """Apply the policy to the findings and decide the exit code."""
    kept = tuple(policy.apply(findings))
    exit_code = 1 if any(policy.fails(item) for item in kept) else 0
    return Report(inputs=tuple(files), packages=_packages(files), findings=kept, fail_on=policy.fail_on_text, exit_code=exit_code)
