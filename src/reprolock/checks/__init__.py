"""The checks: small pure functions from records to findings, one per rule family.

Each family's docstring is its entry in ``docs/rules.md``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from reprolock.checks.freeze import check_freeze
from reprolock.checks.hygiene import check_hygiene
from reprolock.checks.pins import check_pins
from reprolock.checks.references import check_references
from reprolock.checks.stdlib import Target, check_stdlib

if TYPE_CHECKING:
    from collections.abc import Sequence

    from reprolock.findings import Finding
    from reprolock.records import SourceFile

FILE_CHECKS = (check_pins, check_references, check_hygiene, check_freeze, check_stdlib)


def run_file_checks(files: Sequence[SourceFile], target: Target) -> list[Finding]:
    """Every finding the static file rules (RL1xx, RL2xx) give for ``files``."""
    found: list[Finding] = []
    found.extend(check_pins(files))
    found.extend(check_references(files))
    found.extend(check_hygiene(files))
    found.extend(check_freeze(files))
    found.extend(check_stdlib(files, target))
    return found


__all__ = ["FILE_CHECKS", "Target", "run_file_checks"]
