"""RL107 env-var, RL108 credentials-in-url, RL110 insecure-index, RL111 invalid-line."""

from __future__ import annotations

import pytest

from conftest import ROOT, audit_cases, findings, lines, run_cli

SECRETS = ["s3cret-pw", "alice", "ghp_tokenvalue123", "hunter2-token", "deploy:", "qs-secret-99"]


def test_env_vars_are_reported_unexpanded(monkeypatch):
    monkeypatch.setenv("PYPI_TOKEN", "expanded-secret-value")
    monkeypatch.setenv("PKG_PATH", "expanded-path")
    run = audit_cases("hygiene/env_vars.txt")
    assert [(f["location"]["line"], f["detail"]["variable"]) for f in findings(run, "RL107")] == [
        (1, "PYPI_USER"),
        (1, "PYPI_TOKEN"),
        (2, "PKG_PATH"),
    ]
    assert "${PYPI_TOKEN}" in findings(run, "RL107")[1]["message"]
    assert "expanded-secret-value" not in run.out
    assert "expanded-path" not in run.out
    # ${VAR} credentials are the recommended way: not RL108
    assert "RL108" not in run.rules()


def test_credentials_are_reported():
    run = audit_cases("hygiene/credentials.txt")
    got = [(f["location"]["line"], f["package"], f["severity"]) for f in findings(run, "RL108")]
    assert got == [(1, None, "error"), (2, None, "error"), (3, "private", "error"), (5, "query", "error")]
    assert "--index-url" in findings(run, "RL108")[0]["message"]


@pytest.mark.parametrize("fmt", ["json", "text", "markdown"])
def test_secrets_never_appear_in_any_output(fmt):
    run = run_cli("audit", "fixtures/cases/hygiene/credentials.txt", "--format", fmt, "--verbose")
    assert run.code == 1
    for secret in SECRETS:
        assert secret not in run.out
        assert secret not in run.err
    assert "****" in run.out


def test_secrets_never_reach_an_output_file(tmp_path):
    target = tmp_path / "report.md"
    run = run_cli("audit", str(ROOT / "fixtures/cases/hygiene/credentials.txt"), "--format", "markdown", "-o", str(target), cwd=tmp_path)
    text = target.read_text(encoding="utf-8")
    assert run.code == 1
    for secret in SECRETS:
        assert secret not in text
        assert secret not in run.err


def test_secrets_in_invalid_lines_are_masked(tmp_path):
    (tmp_path / "requirements.txt").write_text("broken[ @ https://bob:pa55word@host.example.org/x.whl\n", encoding="utf-8")
    run = run_cli("audit", "--format", "json", cwd=tmp_path)
    assert "pa55word" not in run.out
    assert {"RL108", "RL111"} <= set(run.rules())


def test_invalid_line_messages_are_one_clean_line(tmp_path):
    (tmp_path / "requirements.txt").write_text("x ===== 1\nflask[\nsix==1.0 --foo\n", encoding="utf-8")
    messages = [f["message"] for f in findings(run_cli("audit", "--format", "json", cwd=tmp_path), "RL111")]
    assert messages == [
        "cannot parse 'x ===== 1': Expected comma (within version specifier), semicolon (after version specifier) or end (at column 9)",
        "cannot parse 'flask[': Expected matching RIGHT_BRACKET for LEFT_BRACKET, after extras (at column 7)",
        "cannot parse 'six==1.0 --foo': no such option: --foo",
    ]


def test_invalid_pyproject_dependency_message_is_one_line(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\nversion = "1"\ndependencies = ["flask["]\n', encoding="utf-8")
    [message] = [f["message"] for f in findings(run_cli("audit", "--format", "json", cwd=tmp_path), "RL111")]
    assert message == "cannot parse 'flask[': project.dependencies: Expected matching RIGHT_BRACKET for LEFT_BRACKET, after extras (at column 7)"


def test_insecure_index():
    run = audit_cases("hygiene/insecure_index.txt")
    got = [(f["location"]["line"], f["detail"]["option"]) for f in findings(run, "RL110")]
    assert got == [(1, "--index-url"), (2, "--find-links"), (3, "--trusted-host")]
    assert {f["severity"] for f in findings(run, "RL110")} == {"warning"}


def test_invalid_lines_do_not_stop_the_audit():
    run = audit_cases("hygiene/invalid_lines.txt")
    assert lines(run, "RL111") == [2, 3, 4]
    assert {f["severity"] for f in findings(run, "RL111")} == {"error"}
    assert "--unknown-option" in findings(run, "RL111")[1]["message"]
    # the lines after the bad ones are still audited
    assert [(f["package"], f["location"]["line"]) for f in findings(run, "RL101")] == [("requests", 5)]
    assert run.code == 1
