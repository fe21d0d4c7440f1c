"""A finding: one rule firing for one package or place."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from reprolock.records import Origin
from reprolock.rules import RULES, Severity


@dataclass(frozen=True, slots=True)
class Finding:
    rule: str
    severity: Severity
    message: str
    package: str | None = None
    location: Origin | None = None
    detail: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @property
    def name(self) -> str:
        return RULES[self.rule].name

    def sort_key(self) -> tuple[int, str, str, str, int]:
        """Severity (worst first), package, rule, location: the contract's order."""
        where = self.location or Origin("")
        return (-self.severity.rank, self.package or "", self.rule, where.path, where.line or 0)


def finding(
    rule: str,
    message: str,
    *,
    package: str | None = None,
    location: Origin | None = None,
    severity: Severity | None = None,
    **detail: Any,  # noqa: ANN401 - detail values are JSON-ready data of any shape
) -> Finding:
    """A finding with the rule's default severity unless one is given."""
    return Finding(
        rule=rule,
        severity=severity or RULES[rule].severity,
        message=message,
        package=package,
        location=location,
        detail=detail,
    )
