"""``--format sarif``: SARIF 2.1.0 for code scanning.

Every rule of the registry is listed in ``tool.driver.rules`` (so a result's
``ruleIndex`` is stable), with a help link into ``docs/rules.md``. Every
result carries a physical location, as code scanning requires: its file and
line, else (line 1 of) the first input; a finding not tied to a file also
names its package or the environment as a logical location. ``partialFingerprints``
hash what identifies a finding across runs (rule, package, file, and the
message without line numbers), so code scanning does not reopen alerts when
lines move. Messages and details are already redacted at the source; nothing
here adds text from the user's files.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from reprolock import __version__
from reprolock.render.places import image_place
from reprolock.rules import RULES, Rule, Severity

if TYPE_CHECKING:
    from reprolock.findings import Finding
    from reprolock.report import Report

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
DOCS_BASE = "docs/rules.md"
"""Where help links point unless a base URL is given (``REPROLOCK_DOCS_URL``)."""
FINGERPRINT_KEY = "reprolock/v1"

_LEVELS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}
_LINE_SUFFIX = re.compile(r"(?<=\S):\d+\b")
_MARKDOWN_CODE = re.compile(r"`([^`]*)`")
_NOT_FILES = frozenset({"", "-", "<stdin>"})


def help_uri(rule: Rule, base: str = DOCS_BASE) -> str:
    """The rule's anchor in the rule reference (``docs/rules.md#rl101``)."""
    return f"{base}#{rule.code.lower()}"


def _plain(text: str) -> str:
    return _MARKDOWN_CODE.sub(r"\1", text)


def _first_sentence(text: str) -> str:
    head, dot, _ = text.partition(". ")
    return head + ("." if dot or not head.endswith(".") else "")


def _rule(rule: Rule, base: str) -> dict[str, Any]:
    uri = help_uri(rule, base)
    return {
        "id": rule.code,
        "name": rule.name,
        "shortDescription": {"text": f"{rule.name}: {_plain(_first_sentence(rule.summary))}"},
        "fullDescription": {"text": _plain(rule.summary), "markdown": rule.summary},
        "help": {
            "text": f"{_plain(rule.summary)} See {uri}.",
            "markdown": f"**{rule.code} {rule.name}** ({rule.severity.value} by default)\n\n{rule.summary}\n\n[Rule reference]({uri})",
        },
        "helpUri": uri,
        "defaultConfiguration": {"level": _LEVELS[rule.severity]},
        "properties": {"tags": ["reproducibility", "supply-chain"], "problem.severity": rule.severity.value},
    }


def normalised_message(message: str) -> str:
    """The message as a fingerprint sees it: no ``file:line`` line numbers, no case or spacing noise."""
    return " ".join(_LINE_SUFFIX.sub("", message).lower().split())


def fingerprint(item: Finding) -> str:
    path = item.location.path if item.location else ""
    key = "\0".join((item.rule, item.package or "", path, normalised_message(item.message)))
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]


def artifact_uri(path: str) -> str:
    """A file path as a SARIF URI: relative paths stay relative (to ``%SRCROOT%``), absolute ones become ``file:`` URIs."""
    posix = path.replace("\\", "/")
    if PurePosixPath(posix).is_absolute():
        return "file://" + quote(posix)
    return quote(posix.removeprefix("./"))


def _physical(path: str, line: int | None) -> dict[str, Any]:
    artifact: dict[str, Any] = {"uri": artifact_uri(path)}
    if not PurePosixPath(path.replace("\\", "/")).is_absolute():
        artifact["uriBaseId"] = "%SRCROOT%"
    return {"artifactLocation": artifact, "region": {"startLine": line or 1}}


def _anchor(report: Report) -> str:
    """The file a result not tied to one points at: the first input, else the first file a finding names,
    else the inspected interpreter, else standard input as it was shown."""
    named = [source.path for source in report.inputs] + [item.location.path for item in report.findings if item.location]
    files = [path for path in named if path not in _NOT_FILES]
    if files:
        return files[0]
    if report.environment is not None:
        return report.environment.interpreter.python
    return next((path for path in named if path), ".")


def _locations(item: Finding, report: Report, fallback: str) -> dict[str, Any]:
    """A physical location always (code scanning rejects results without one); a logical one names the
    package or the environment when the finding is not tied to a file."""
    where = item.location
    if where is not None and where.path not in _NOT_FILES:
        return {"locations": [{"physicalLocation": _physical(where.path, where.line)}]}
    line = where.line if where is not None and where.path == fallback else None
    if item.package:
        logical = {"name": item.package, "fullyQualifiedName": f"python-package:{item.package}", "kind": "module"}
    else:
        python = report.environment.interpreter.python if report.environment else "environment"
        logical = {"name": python, "fullyQualifiedName": f"python-environment:{python}", "kind": "namespace"}
    return {"locations": [{"physicalLocation": _physical(fallback, line), "logicalLocations": [logical]}]}


def _message(item: Finding) -> str:
    """The finding's message; for a file in a container image, where in the image it is."""
    place = image_place(item)
    return f"{item.message} (in the image: {place})" if place else item.message


def _result(item: Finding, index: dict[str, int], report: Report, fallback: str) -> dict[str, Any]:
    result: dict[str, Any] = {
        "ruleId": item.rule,
        "ruleIndex": index[item.rule],
        "level": _LEVELS[item.severity],
        "message": {"text": _message(item)},
        **_locations(item, report, fallback),
        "partialFingerprints": {FINGERPRINT_KEY: fingerprint(item)},
    }
    properties: dict[str, Any] = {"severity": item.severity.value}
    if item.package:
        properties["package"] = item.package
    if item.detail:
        properties["detail"] = item.detail
    result["properties"] = properties
    return result


def to_sarif(report: Report, *, docs_base: str = DOCS_BASE) -> dict[str, Any]:
    """The report as a SARIF log (one run)."""
    index = {code: position for position, code in enumerate(RULES)}
    fallback = _anchor(report)
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "reprolock",
                "version": __version__,
                "semanticVersion": __version__,
                "rules": [_rule(rule, docs_base) for rule in RULES.values()],
            },
        },
        "automationDetails": {"id": "reprolock/"},
        "columnKind": "unicodeCodePoints",
        "results": [_result(item, index, report, fallback) for item in report.findings],
        "invocations": [
            {
                "executionSuccessful": True,
                "exitCode": report.exit_code,
                "properties": {"failOn": report.fail_on, "summary": report.summary},
            },
        ],
    }
    artifacts = [source.path for source in report.inputs if source.path not in _NOT_FILES]
    if artifacts:
        run["artifacts"] = [
            {"location": {"uri": artifact_uri(path), **({} if PurePosixPath(path).is_absolute() else {"uriBaseId": "%SRCROOT%"})}}
            for path in artifacts
        ]
    return {"$schema": SARIF_SCHEMA, "version": SARIF_VERSION, "runs": [run]}


def render_sarif(report: Report, *, docs_base: str = DOCS_BASE) -> str:
    return json.dumps(to_sarif(report, docs_base=docs_base), indent=2, ensure_ascii=False) + "\n"
