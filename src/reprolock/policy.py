"""What fails a run and what is dropped: ``--fail-on``, ``--ignore`` and ``[tool.reprolock]``."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from packaging.utils import canonicalize_name

from reprolock.errors import InputError, UsageError
from reprolock.rules import RULES, Severity, lookup
from reprolock.sources.pyproject import load_toml
from reprolock.sources.textfile import read_text

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence
    from pathlib import Path

    from reprolock.findings import Finding

_NEVER = {"never", "none"}


@dataclass(frozen=True, slots=True)
class Policy:
    """Which findings are kept, at which severity, and which ones fail the run."""

    fail_level: Severity | None = Severity.ERROR
    fail_rules: frozenset[str] = frozenset()
    ignores: tuple[tuple[str, str | None], ...] = ()
    severities: dict[str, Severity] = field(default_factory=dict)
    fail_on_text: str = "error"

    def apply(self, findings: Iterable[Finding]) -> list[Finding]:
        """Drop ignored findings, apply severity overrides, sort as the contract says."""
        kept = []
        for item in findings:
            if any(rule == item.rule and package in (None, item.package) for rule, package in self.ignores):
                continue
            severity = self.severities.get(item.rule)
            kept.append(replace(item, severity=severity) if severity else item)
        return sorted(kept, key=lambda f: f.sort_key())

    def fails(self, item: Finding) -> bool:
        if item.rule in self.fail_rules:
            return True
        return self.fail_level is not None and item.severity.rank >= self.fail_level.rank


def _rule_code(value: str, where: str) -> str:
    rule = lookup(value)
    if rule is None:
        raise UsageError(f"{where}: unknown rule {value!r}", hint="rule codes are RL101..RL506; see docs/rules.md")
    return rule.code


def parse_fail_on(values: Sequence[str], where: str) -> tuple[Severity | None, frozenset[str], str]:
    """``error``, ``warning``, ``info``, ``never`` and/or rule codes, comma separated."""
    level: Severity | None = None
    never = False
    rules: set[str] = set()
    items = [part.strip() for value in values for part in value.split(",") if part.strip()]
    if not items:
        raise UsageError(f"{where}: empty value", hint="use error, warning, info, never or rule codes")
    for item in items:
        if item.lower() in _NEVER:
            never = True
        elif item.lower() in {s.value for s in Severity}:
            candidate = Severity(item.lower())
            level = candidate if level is None or candidate.rank < level.rank else level
        elif lookup(item) is not None:
            rules.add(_rule_code(item, where))
        else:
            raise UsageError(f"{where}: unknown value {item!r}", hint="use error, warning, info, never or rule codes such as RL101")
    if never and (level or rules):
        raise UsageError(f"{where}: 'never' cannot be combined with other values")
    return level, frozenset(rules), ",".join(items)


def parse_ignore(value: str, where: str) -> tuple[str, str | None]:
    """``RULE`` or ``RULE:PACKAGE``."""

    code, _, package = value.partition(":")
    return _rule_code(code, where), canonicalize_name(package) if package.strip() else None


def _as_list(value: Any, where: str) -> list[str]:  # noqa: ANN401 - raw TOML value
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return value
    raise UsageError(f"{where}: expected a string or a list of strings")


def read_config(pyproject: Path, *, inputs: Sequence[str] = ()) -> dict[str, Any]:
    """The ``[tool.reprolock]`` table of ``pyproject`` (empty when there is none).

    ``inputs`` are the paths the command reads as inputs, relative to the folder of
    ``pyproject`` (files, or folders to discover in). When the file is one of them, a
    broken file is reported as that input, as any input is; otherwise the error says
    it was read for configuration, since the user may not have asked for it at all.
    """
    if not pyproject.is_file():
        return {}
    data = _parse(pyproject, as_input=_is_input(pyproject, inputs))
    tool = data.get("tool", {})
    if not isinstance(tool, dict):
        raise UsageError(f"{pyproject.name}: [tool] must be a table")
    table = tool.get("reprolock", {})
    if not isinstance(table, dict):
        raise UsageError(f"{pyproject.name}: [tool.reprolock] must be a table")
    return table


def _is_input(pyproject: Path, inputs: Sequence[str]) -> bool:
    """Whether ``pyproject`` is among ``inputs``: named, or found in a folder searched for inputs."""
    folder = pyproject.parent.resolve()
    return any((pyproject.parent / given).resolve() in {pyproject.resolve(), folder} for given in inputs)


def _parse(pyproject: Path, *, as_input: bool) -> dict[str, Any]:
    """Parse ``pyproject``; read for configuration only, its errors say why it was read and what to do."""


    if as_input:
        return load_toml(read_text(pyproject, pyproject.name), pyproject.name)
    why = "(read for [tool.reprolock] configuration)"
    advice = "fix it or run from another directory"
    try:
        return tomllib.loads(read_text(pyproject, pyproject.name))
    except InputError as exc:
        raise InputError(f"{exc.message} {why}; {advice}") from None
    except tomllib.TOMLDecodeError as exc:
        line = re.search(r"line (\d+)", str(exc))
        where = f"{pyproject.name}:{line.group(1)}" if line else pyproject.name
        raise InputError(f"{where}: invalid TOML {why}: {exc}; {advice}") from None


def build_policy(config: dict[str, Any], *, fail_on: Sequence[str], ignore: Sequence[str], config_name: str = "pyproject.toml") -> Policy:
    """Combine ``[tool.reprolock]`` with the command line (which wins for fail-on)."""
    where = f"{config_name} [tool.reprolock]"
    unknown = set(config) - {"fail-on", "ignore", "severity"}
    if unknown:
        raise UsageError(f"{where}: unknown key {min(unknown)!r}", hint="keys are fail-on, ignore and severity")
    fail_values = list(fail_on) or _as_list(config.get("fail-on", "error"), f"{where} fail-on")
    level, rules, text = parse_fail_on(fail_values, "--fail-on" if fail_on else f"{where} fail-on")
    ignores = [parse_ignore(item, f"{where} ignore") for item in _as_list(config.get("ignore", []), f"{where} ignore")]
    ignores += [parse_ignore(item, "--ignore") for item in ignore]
    severities: dict[str, Severity] = {}
    overrides = config.get("severity", {})
    if not isinstance(overrides, dict):
        raise UsageError(f'{where} severity: expected a table such as {{RL102 = "error"}}')
    for key, value in overrides.items():
        if not isinstance(value, str) or value.lower() not in {s.value for s in Severity}:
            raise UsageError(f"{where} severity.{key}: expected error, warning or info")
        severities[_rule_code(key, f"{where} severity")] = Severity(value.lower())
    return Policy(fail_level=level, fail_rules=rules, ignores=tuple(ignores), severities=severities, fail_on_text=text)


__all__ = ["RULES", "Policy", "build_policy", "parse_fail_on", "parse_ignore", "read_config"]
