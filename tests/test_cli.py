"""The command line: exit codes, formats, policy, config and output files."""

from __future__ import annotations

import errno
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from rich.console import Console

import reprolock.commands.audit
from reprolock import __version__
from reprolock.policy import build_policy
from reprolock.render.markdown import render_markdown
from reprolock.render.text import render_text
from reprolock.report import build_report


@pytest.fixture
def project(tmp_path):
    (tmp_path / "requirements.txt").write_text("flask>=2.0\nwsgiref==0.1.2\nsix==1.16.0\n", encoding="utf-8")
    return tmp_path


def test_version(cli):
    result = cli("--version")
    assert result.code == 0
    assert result.out == f"reprolock {__version__}\n"


def test_module_entry_point_runs():
    done = subprocess.run([sys.executable, "-m", "reprolock", "--version"], capture_output=True, text=True, check=False)
    assert done.returncode == 0
    assert done.stdout.strip() == f"reprolock {__version__}"


@pytest.mark.parametrize("extra", [[], ["--no-index"]])
def test_files_only_audit_is_static(cli, project, monkeypatch, extra):
    """No environment and no index named: no index rule runs."""
    monkeypatch.delenv("PIP_INDEX_URL", raising=False)
    monkeypatch.delenv("PIP_EXTRA_INDEX_URL", raising=False)
    result = cli("audit", "requirements.txt", "--format", "json", *extra, cwd=project)
    assert result.code == 1
    assert not any(item["rule"].startswith("RL5") for item in json.loads(result.out)["findings"])


@pytest.mark.parametrize(
    "argv",
    [
        ["audit", "--fail-on", "bogus"],
        ["audit", "--fail-on", ""],
        ["audit", "--fail-on", "never,error"],
        ["audit", "--ignore", "RL999"],
        ["audit", "--format", "pdf"],
        ["audit", "--no-such-flag"],
        ["frobnicate"],
        [],
    ],
)
def test_usage_errors_are_exit_2_without_traceback(project, cli, argv):
    result = cli(*argv, cwd=project)
    assert result.code == 2
    assert "Traceback" not in result.err


def test_unknown_rule_message_names_it(project, cli):
    result = cli("audit", "--ignore", "RL999:flask", cwd=project)
    assert result.err.startswith("reprolock: error: --ignore: unknown rule 'RL999'")


def test_default_fail_on_error(project, cli):
    result = cli("audit", "--format", "json", cwd=project)
    assert result.code == 1
    assert result.json["exit_code"] == 1
    assert result.json["summary"]["error"] >= 1


@pytest.mark.parametrize(
    ("fail_on", "ignores", "code"),
    [
        (["never"], [], 0),
        (["RL203"], ["RL101"], 1),
        (["RL203"], ["RL101", "RL203"], 0),
        (["error"], ["RL101"], 0),
        (["warning"], ["RL101"], 1),
        (["warning"], ["RL101", "RL102", "RL203:wsgiref"], 0),
        (["info,RL109"], ["RL101", "RL102", "RL203"], 0),
    ],
)
def test_fail_on_and_ignore(project, cli, fail_on, ignores, code):
    argv = ["audit", "--format", "json"]
    for value in fail_on:
        argv += ["--fail-on", value]
    for value in ignores:
        argv += ["--ignore", value]
    result = cli(*argv, cwd=project)
    assert result.code == code
    assert result.json["exit_code"] == code


def test_ignore_by_package_keeps_other_packages(project, cli):
    result = cli("audit", "--format", "json", "--ignore", "RL102:Six", cwd=project)
    unhashed = [f["package"] for f in result.json["findings"] if f["rule"] == "RL102"]
    assert unhashed == ["wsgiref"]


def test_rule_names_work_like_codes(project, cli):
    result = cli("audit", "--format", "json", "--ignore", "unpinned", cwd=project)
    assert "RL101" not in result.rules()


def test_config_in_pyproject(project, cli):
    (project / "pyproject.toml").write_text(
        '[tool.reprolock]\nfail-on = "warning"\nignore = ["RL101"]\n[tool.reprolock.severity]\nRL203 = "info"\nRL102 = "error"\n',
        encoding="utf-8",
    )
    result = cli("audit", "requirements.txt", "--format", "json", cwd=project)
    severities = {f["rule"]: f["severity"] for f in result.json["findings"]}
    assert severities == {"RL102": "error", "RL203": "info"}
    assert result.code == 1
    # the command line wins over the config for fail-on
    assert cli("audit", "requirements.txt", "--fail-on", "RL109", cwd=project).code == 0


def test_unknown_config_key_is_exit_2(project, cli):
    (project / "pyproject.toml").write_text('[tool.reprolock]\nfail_on = "warning"\n', encoding="utf-8")
    result = cli("audit", "requirements.txt", cwd=project)
    assert result.code == 2
    assert "unknown key 'fail_on'" in result.err


def test_unknown_rule_in_config_is_exit_2(project, cli):
    (project / "pyproject.toml").write_text('[tool.reprolock]\nignore = ["RL000"]\n', encoding="utf-8")
    result = cli("audit", "requirements.txt", cwd=project)
    assert result.code == 2
    assert "pyproject.toml [tool.reprolock] ignore: unknown rule 'RL000'" in result.err


def test_json_report_has_the_contract_shape(project, cli):
    report = cli("audit", "--format", "json", cwd=project).json
    assert list(report) == ["schema_version", "tool", "inputs", "environment", "packages", "findings", "summary", "exit_code"]
    assert report["schema_version"] == 1
    assert report["tool"] == {"name": "reprolock", "version": __version__}
    assert report["environment"] is None
    for package in report["packages"]:
        assert {"name", "pinned", "installed", "latest"} <= set(package)
    for item in report["findings"]:
        assert set(item) == {"rule", "name", "severity", "package", "message", "location", "detail"}
    assert report["summary"] == {s: sum(f["severity"] == s for f in report["findings"]) for s in ("error", "warning", "info")}
    ranks = {"error": 0, "warning": 1, "info": 2}
    keys = [(ranks[f["severity"]], f["package"] or "", f["rule"]) for f in report["findings"]]
    assert keys == sorted(keys)


def test_output_is_deterministic(project, cli):
    first = cli("audit", "--format", "json", cwd=project).out
    second = cli("audit", "--format", "json", cwd=project).out
    assert first == second


def test_output_file_is_written_atomically(project, cli):
    target = project / "report.json"
    target.write_text("old", encoding="utf-8")
    result = cli("audit", "requirements.txt", "--format", "json", "-o", "report.json", cwd=project)
    assert result.code == 1
    assert result.out == ""
    assert json.loads(target.read_text(encoding="utf-8"))["exit_code"] == 1
    assert "wrote report.json" in result.err
    assert sorted(p.name for p in project.iterdir()) == ["report.json", "requirements.txt"]


def test_output_into_missing_folder_is_exit_3_and_writes_nothing(project, cli):
    result = cli("audit", "requirements.txt", "-o", "no/such/dir/report.txt", cwd=project)
    assert result.code == 3
    assert not (project / "no").exists()


def test_bad_input_leaves_no_output_file(project, cli):
    (project / "bad.txt").write_bytes(b"\x00\x01")
    result = cli("audit", "bad.txt", "-o", "report.json", "--format", "json", cwd=project)
    assert result.code == 3
    assert not (project / "report.json").exists()


def test_text_report_lists_files_and_severities(project, cli):
    result = cli("audit", cwd=project)
    assert "requirements.txt" in result.out
    assert "(requirements)" in result.out
    assert "RL101 unpinned" in result.out
    assert "\x1b[" not in result.out  # NO_COLOR / not a terminal: plain text


def test_markdown_report(project, cli):
    result = cli("audit", "--format", "markdown", cwd=project)
    assert result.out.startswith("## reprolock audit")
    assert "\n1 file, " in result.out  # one file, not "1 files"
    assert "| Location | Rule | Package | Message |" in result.out
    assert "RL203 stdlib-backport" in result.out


def test_reports_count_one_package_in_the_singular(tmp_path, cli):
    (tmp_path / "requirements.txt").write_text("six==1.16.0\n", encoding="utf-8")
    assert "1 file, 1 package\n" in cli("audit", cwd=tmp_path).out
    assert "1 file, 1 package: " in cli("audit", "--format", "markdown", cwd=tmp_path).out
    assert "1 file, 1 package, 1 finding." in cli("audit", "--format", "html", cwd=tmp_path).out


def test_offline_is_accepted(project, cli):
    assert cli("audit", "--offline", "--format", "json", cwd=project).json["exit_code"] == 1


def test_long_runs_of_one_warning_fold_unless_verbose(tmp_path, cli):
    lines = "".join(f"pkg{i}==1.0\n" for i in range(12))
    (tmp_path / "requirements.txt").write_text(lines, encoding="utf-8")
    folded = cli("audit", cwd=tmp_path).out
    assert "12 x unhashed: pkg0, pkg1" in folded
    assert "pkg11" not in folded
    verbose = cli("audit", "--verbose", cwd=tmp_path).out
    assert "pkg11==1.0 has no --hash" in verbose


def test_internal_errors_are_one_line(project, cli, monkeypatch):
    def boom(*_args):
        raise RuntimeError("simulated bug")

    monkeypatch.setattr(reprolock.commands.audit, "run_file_checks", boom)
    result = cli("audit", cwd=project)
    assert result.code == 70
    assert result.err == "reprolock: internal error: RuntimeError: simulated bug (run with --debug for the traceback and report it)\n"


def test_report_heading_names_the_command():
    report = build_report((), [], build_policy({}, fail_on=[], ignore=[]), command="verify")
    buffer = io.StringIO()
    render_text(report, Console(file=buffer, width=100, no_color=True))
    assert buffer.getvalue().startswith("reprolock verify")
    assert render_markdown(report).startswith("## reprolock verify")


def test_output_onto_a_folder_is_exit_3_and_leaves_no_temporary_file(project, cli):
    (project / "reports").mkdir()
    result = cli("audit", "requirements.txt", "-o", "reports", cwd=project)
    assert result.code == 3
    assert "is a folder" in result.err
    assert "internal error" not in result.err
    assert sorted(p.name for p in project.iterdir()) == ["reports", "requirements.txt"]
    assert list((project / "reports").iterdir()) == []


def test_output_into_missing_folder_names_the_folder(project, cli):
    result = cli("audit", "requirements.txt", "-o", "no/such/dir/report.txt", cwd=project)
    assert result.code == 3
    assert "the folder" in result.err
    assert "no/such/dir does not exist" in result.err


def test_failed_write_is_exit_3_and_keeps_the_old_file(project, cli, monkeypatch):
    target = project / "report.json"
    target.write_text("old", encoding="utf-8")

    def full_disk(self, other):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Path, "replace", full_disk)
    result = cli("audit", "requirements.txt", "--format", "json", "-o", "report.json", cwd=project)
    assert result.code == 3
    assert "No space left on device" in result.err
    assert target.read_text(encoding="utf-8") == "old"
    assert sorted(p.name for p in project.iterdir()) == ["report.json", "requirements.txt"]


@pytest.mark.parametrize("argv", [("verify", "lock.txt"), ("lock", "--from-env", "lock.txt", "-o", "out.txt"), ("graph",)])
def test_no_environment_to_inspect_is_a_usage_error(tmp_path, cli, argv):
    (tmp_path / "lock.txt").write_text("six==1.16.0\n", encoding="utf-8")
    result = cli(*argv, cwd=tmp_path)
    assert result.code == 2
    assert "--python PATH" in result.err
    assert not (tmp_path / "out.txt").exists()


def test_text_report_shows_brackets_literally(tmp_path, cli):
    """Messages are user text, never rich markup: ``[/x]`` must not crash and ``[security]`` must stay."""
    (tmp_path / "requirements.txt").write_text("requests[security]==2.0 ; [/x]\nflask[async]>=2 ; python_version >= '3.8'\n", encoding="utf-8")
    result = cli("audit", cwd=tmp_path)
    assert result.code == 1, result.err
    assert "internal error" not in result.err
    assert "[/x]" in result.out
    assert "requests[security]" in result.out




DEBUG_CASES = [
    pytest.param(["audit", "missing.txt"], 3, id="missing-file"),
    pytest.param(["audit", "requirements.txt", "--index", "--retries", "0", "--index-url", "http://127.0.0.1:9/simple/"], 4, id="index-unreachable"),
    pytest.param(["audit", "requirements.txt", "--fail-on", "bogus"], 2, id="usage"),
    pytest.param(["audit", "requirements.txt"], 1, id="findings"),
]


@pytest.mark.parametrize(("argv", "code"), DEBUG_CASES)
@pytest.mark.parametrize("where", ["first", "after-command", "last"])
def test_debug_never_changes_the_exit_code(project, cli, argv, code, where):
    plain = cli(*argv, cwd=project)
    assert plain.code == code, plain.err
    position = {"first": 0, "after-command": 1, "last": len(argv)}[where]
    debug = cli(*argv[:position], "--debug", *argv[position:], cwd=project)
    assert debug.code == code, debug.err
    assert debug.out == plain.out
    if code >= 2:
        assert "Traceback (most recent call last)" in debug.err
        assert debug.err.rstrip().endswith(plain.err.rstrip())  # the traceback, then the same one-line error


def test_debug_after_the_command_is_accepted_by_every_command(tmp_path, cli):
    for argv in (["lock", "missing.in", "-o", "out.txt"], ["graph", "--python", "missing"], ["verify", "missing.txt", "--python", "missing"]):
        result = cli(*argv, "--debug", cwd=tmp_path)
        assert result.code == 3, (argv, result.err)
        assert "Traceback (most recent call last)" in result.err
        assert "unrecognized arguments" not in result.err


def test_debug_shows_the_traceback_of_an_internal_error_and_keeps_its_code(project, cli, monkeypatch):
    def boom(*_args):
        raise RuntimeError("simulated bug")

    monkeypatch.setattr(reprolock.commands.audit, "run_file_checks", boom)
    result = cli("audit", "--debug", cwd=project)
    assert result.code == 70
    assert "Traceback (most recent call last)" in result.err
    assert "RuntimeError: simulated bug" in result.err


def test_debug_keeps_the_exit_code_of_the_real_program(project):
    done = subprocess.run(
        [sys.executable, "-m", "reprolock", "audit", "missing.txt", "--files-only", "--debug"],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 3
    assert "Traceback (most recent call last)" in done.stderr
    assert done.stderr.splitlines()[-1] == "reprolock: error: missing.txt: no such file (check the path)"


BROKEN_TOML = '[project]\nname = "demo"\nthis is not toml\n'
CONFIG_ERROR = "reprolock: error: pyproject.toml:3: invalid TOML (read for [tool.reprolock] configuration): "


@pytest.fixture
def broken_config(tmp_path):
    (tmp_path / "pyproject.toml").write_text(BROKEN_TOML, encoding="utf-8")
    (tmp_path / "other.txt").write_text("six==1.16.0\n", encoding="utf-8")
    (tmp_path / "other.in").write_text("six\n", encoding="utf-8")
    return tmp_path


@pytest.mark.parametrize(
    "argv",
    [
        ["audit", "other.txt", "--files-only"],
        ["verify", "other.txt", "--python", "no-such-python"],
        ["lock", "other.in", "-o", "out.txt", "--offline"],
    ],
)
def test_broken_pyproject_read_for_configuration_says_so(broken_config, cli, argv):
    result = cli(*argv, cwd=broken_config)
    assert result.code == 3
    assert result.err.startswith(CONFIG_ERROR), result.err
    assert result.err.endswith("; fix it or run from another directory\n")
    assert result.err.count("\n") == 1
    assert not (broken_config / "out.txt").exists()


@pytest.mark.parametrize(
    "argv",
    [
        ["audit", "--files-only"],
        ["audit", ".", "--files-only"],
        ["audit", "pyproject.toml", "other.txt", "--files-only"],
        ["lock", "pyproject.toml", "-o", "out.txt", "--offline"],
    ],
)
def test_broken_pyproject_that_is_an_input_is_an_input_error(broken_config, cli, argv):
    result = cli(*argv, cwd=broken_config)
    assert result.code == 3
    assert result.err.startswith("reprolock: error: pyproject.toml:3: invalid TOML: "), result.err
    assert "configuration" not in result.err


def test_unreadable_pyproject_read_for_configuration_says_so(broken_config, cli):
    (broken_config / "pyproject.toml").write_bytes(b"\x00\x01binary")
    result = cli("audit", "other.txt", "--files-only", cwd=broken_config)
    assert result.code == 3
    assert result.err.startswith("reprolock: error: pyproject.toml: not a text file"), result.err
    assert "(read for [tool.reprolock] configuration); fix it or run from another directory" in result.err


def test_tool_that_is_not_a_table_is_a_usage_error(broken_config, cli):
    (broken_config / "pyproject.toml").write_text("tool = 1\n", encoding="utf-8")
    result = cli("audit", "other.txt", "--files-only", cwd=broken_config)
    assert result.code == 2, result.err
    assert result.err == "reprolock: error: pyproject.toml: [tool] must be a table\n"
