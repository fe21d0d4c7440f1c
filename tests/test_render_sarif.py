"""``--format sarif``: valid SARIF 2.1.0, every rule described, stable fingerprints, no secrets."""

from __future__ import annotations

import dataclasses
import json
import re

import jsonschema
import pytest

from conftest import ROOT
from reportkit import SARIF_SCHEMA, at, finding, make_report
from reprolock.records import Environment, FileKind, Interpreter, SourceFile
from reprolock.render.sarif import FINGERPRINT_KEY, normalised_message, to_sarif
from reprolock.rules import RULES

EXAMPLE = ["audit", "examples/webapp", "--freeze", "examples/webapp/pip-freeze.txt", "--format", "sarif"]


@pytest.fixture(scope="module")
def schema():
    return json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))


def test_example_is_valid_sarif(cli, schema):
    result = cli(*EXAMPLE)
    assert result.code == 1, result.err
    log = json.loads(result.out)
    jsonschema.validate(log, schema)
    assert log["version"] == "2.1.0"
    assert len(log["runs"][0]["results"]) == 83  # 73 in the requirement files, 10 in the Dockerfile


def test_secrets_never_appear(cli):
    out = cli(*EXAMPLE).out
    assert "s3cr3t" not in out
    assert "deploy:" not in out
    assert "https://****@pypi.internal.example.com/simple" in out or "****" in out


def test_every_rule_is_described_with_a_help_link_into_the_docs(cli):
    rules = json.loads(cli(*EXAMPLE).out)["runs"][0]["tool"]["driver"]["rules"]
    assert [rule["id"] for rule in rules] == list(RULES)
    docs = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    for rule in rules:
        registry = RULES[rule["id"]]
        assert rule["name"] == registry.name
        assert rule["shortDescription"]["text"].startswith(registry.name + ": ")
        assert rule["fullDescription"]["text"]
        assert rule["defaultConfiguration"]["level"] == {"error": "error", "warning": "warning", "info": "note"}[registry.severity.value]
        assert rule["helpUri"] == f"docs/rules.md#{registry.code.lower()}"
        assert f'<a id="{registry.code.lower()}"></a>' in docs
        assert "://" not in rule["helpUri"]


def test_docs_base_url_comes_from_the_environment(cli, monkeypatch):
    monkeypatch.setenv("REPROLOCK_DOCS_URL", "https://docs.example.org/reprolock/rules.html")
    rules = json.loads(cli(*EXAMPLE).out)["runs"][0]["tool"]["driver"]["rules"]
    assert rules[0]["helpUri"] == "https://docs.example.org/reprolock/rules.html#rl101"


def test_results_point_at_file_and_line(cli):
    log = json.loads(cli(*EXAMPLE).out)
    run = log["runs"][0]
    first = run["results"][0]
    assert first["ruleId"] == "RL108"
    assert run["tool"]["driver"]["rules"][first["ruleIndex"]]["id"] == "RL108"
    location = first["locations"][0]["physicalLocation"]
    assert location["artifactLocation"] == {"uri": "examples/webapp/requirements.txt", "uriBaseId": "%SRCROOT%"}
    assert location["region"] == {"startLine": 2}
    assert {r["level"] for r in run["results"]} == {"error", "warning", "note"}


def test_findings_without_a_file_point_at_the_first_input_and_keep_a_logical_location(schema):
    report = make_report(
        finding("RL404", "six is installed but nothing requires it", package="six"),
        finding("RL305", "the interpreter is externally managed"),
        finding("RL102", "x==1 has no --hash", package="x", location=at("/abs/path with space/reqs.txt", 3)),
    )
    log = to_sarif(report)
    jsonschema.validate(log, schema)
    results = log["runs"][0]["results"]
    first_input = {"artifactLocation": {"uri": "file:///abs/path%20with%20space/reqs.txt"}, "region": {"startLine": 1}}
    assert results[0]["locations"] == [
        {"physicalLocation": first_input, "logicalLocations": [{"name": "six", "fullyQualifiedName": "python-package:six", "kind": "module"}]},
    ]
    assert results[1]["locations"][0]["physicalLocation"] == first_input
    assert results[1]["locations"][0]["logicalLocations"][0]["fullyQualifiedName"] == "python-environment:environment"
    absolute = results[2]["locations"][0]["physicalLocation"]
    assert absolute == {"artifactLocation": {"uri": "file:///abs/path%20with%20space/reqs.txt"}, "region": {"startLine": 3}}


def test_every_result_has_a_physical_location_rl506_included(cli, schema, tmp_path, monkeypatch):
    """RL506 (no vulnerability data) is tied to no file: it points at the first input, line 1, as code scanning requires."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "empty-cache"))  # offline with nothing cached: every pin unaudited
    result = cli("audit", "examples/webapp", "--freeze", "examples/webapp/pip-freeze.txt", "--offline", "--format", "sarif")
    assert result.code == 1, result.err
    log = json.loads(result.out)
    jsonschema.validate(log, schema)
    results = log["runs"][0]["results"]
    assert "RL506" in {item["ruleId"] for item in results}
    for item in results:
        physical = item["locations"][0]["physicalLocation"]
        assert physical["artifactLocation"]["uri"].startswith("examples/webapp/"), item
        assert physical["region"]["startLine"] >= 1
    unaudited = next(item for item in results if item["ruleId"] == "RL506")
    first = log["runs"][0]["artifacts"][0]["location"]
    assert unaudited["locations"][0]["physicalLocation"] == {"artifactLocation": first, "region": {"startLine": 1}}


def test_a_file_finding_without_a_line_is_at_line_1(schema):
    report = make_report(finding("RL406", "requirements.txt is stale", location=at("requirements.txt")))
    result = to_sarif(report)["runs"][0]["results"][0]
    assert result["locations"][0]["physicalLocation"] == {"artifactLocation": {"uri": "requirements.txt", "uriBaseId": "%SRCROOT%"}, "region": {"startLine": 1}}


@pytest.mark.parametrize(
    ("inputs", "environment", "expected"),
    [
        pytest.param(("<stdin>", "b/constraints.txt"), None, "b/constraints.txt", id="the first input that is a file"),
        pytest.param((), ".venv/bin/python", ".venv/bin/python", id="no input: the inspected interpreter"),
        pytest.param(("<stdin>",), None, "%3Cstdin%3E", id="only stdin: stdin"),
    ],
)
def test_the_file_a_result_without_one_points_at(schema, inputs, environment, expected):
    report = make_report(finding("RL403", "dependency cycle: a -> b -> a"))
    report = dataclasses.replace(report, inputs=tuple(SourceFile(path, FileKind.REQUIREMENTS) for path in inputs))
    if environment is not None:
        report = dataclasses.replace(report, environment=_environment(environment))
    log = to_sarif(report)
    jsonschema.validate(log, schema)
    physical = log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]
    assert physical["artifactLocation"]["uri"] == expected
    assert physical["region"] == {"startLine": 1}


def _environment(python: str) -> Environment:
    interpreter = Interpreter(python=python, version="3.12.0", prefix="/x", base_prefix="/x", sys_path=(), markers=(), stdlib=frozenset())
    return Environment(interpreter=interpreter, distributions=())


def test_fingerprints_survive_moved_lines(tmp_path, cli):
    requirements = tmp_path / "requirements.txt"
    body = "flask>=2.0\nsix==1.16.0\nwsgiref==0.1.2\n"
    requirements.write_text(body, encoding="utf-8")
    (tmp_path / "other.txt").write_text("flask==2.0.1\n", encoding="utf-8")
    (tmp_path / "pinned.txt").write_text("six==1.15.0\n", encoding="utf-8")

    def fingerprints():
        results = json.loads(cli("audit", "--format", "sarif", cwd=tmp_path).out)["runs"][0]["results"]
        return {(r["ruleId"], r["message"]["text"].split(" ")[0]): (r["partialFingerprints"][FINGERPRINT_KEY], r["locations"]) for r in results}

    before = fingerprints()
    assert fingerprints() == before  # stable across runs
    requirements.write_text("# a comment moves every line down\n\n" + body, encoding="utf-8")
    after = fingerprints()
    assert before.keys() == after.keys()
    assert {k: v[0] for k, v in before.items()} == {k: v[0] for k, v in after.items()}
    assert {k: v[1] for k, v in before.items()} != {k: v[1] for k, v in after.items()}  # the lines did move
    assert len({v[0] for v in after.values()}) == len(after)  # distinct findings, distinct fingerprints


def test_normalised_message_drops_line_numbers_only():
    text = "flask is pinned to 2 different versions: 2.0.1 in a/requirements.txt:6, 2.2.5 in b.txt:11"
    assert normalised_message(text) == "flask is pinned to 2 different versions: 2.0.1 in a/requirements.txt, 2.2.5 in b.txt"
    assert not re.search(r"\.txt:\d", normalised_message(text))


def test_the_schema_is_the_shared_copy_unchanged():
    shared = ROOT.parent / "shared" / "schemas" / "sarif-schema-2.1.0.json"
    if not shared.exists():
        pytest.skip("../shared is not beside this checkout")
    assert SARIF_SCHEMA.read_bytes() == shared.read_bytes()
