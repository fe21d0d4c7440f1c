"""``reprolock lock`` from the command line: usage errors and the index-free part of ``--check``."""

from __future__ import annotations

import pytest

from reprolock.cli import build_parser
from reprolock.commands.lock import regenerate_command


@pytest.fixture
def project(tmp_path):
    (tmp_path / "requirements.in").write_text("lib>=2\napp\n", encoding="utf-8")
    return tmp_path


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["lock", "--from-env", "--from-freeze", "f.txt"], "cannot be combined"),
        (["lock", "requirements.in", "--check"], "--check needs -o"),
        (["lock", "requirements.in", "-o", "lock.json"], "write *.txt"),
    ],
)
def test_usage_errors(cli, project, argv, message):
    result = cli(*argv, cwd=project)
    assert result.code == 2
    assert message in result.err
    assert "Traceback" not in result.err


def test_no_inputs_and_nothing_to_find(cli, tmp_path):
    result = cli("lock", cwd=tmp_path)
    assert result.code == 2
    assert "no requirements.in or pyproject.toml" in result.err


def test_missing_input_file_is_exit_3(cli, tmp_path):
    result = cli("lock", "nope.in", "-o", "out.txt", cwd=tmp_path)
    assert result.code == 3
    assert "nope.in" in result.err


def test_check_without_the_lockfile_is_stale(cli, project):
    result = cli("lock", "requirements.in", "-o", "requirements.txt", "--check", "--format", "json", cwd=project)
    assert result.code == 1
    assert result.rules() == ["RL406"]
    assert not (project / "requirements.txt").exists()


def test_check_finds_an_unmet_root_without_the_index(cli, project):
    lock = "app==1.0 \\\n    --hash=sha256:" + "0" * 64 + "\nlib==1.5 \\\n    --hash=sha256:" + "1" * 64 + "\n"
    (project / "requirements.txt").write_text(lock, encoding="utf-8")
    result = cli("lock", "requirements.in", "-o", "requirements.txt", "--check", "--format", "json", cwd=project)
    assert result.code == 1
    (stale,) = result.json["findings"]
    assert stale["rule"] == "RL406"
    assert stale["package"] == "lib"
    assert "lib==1.5, which does not satisfy lib>=2" in stale["message"]
    assert stale["location"] == {"path": "requirements.in", "line": 1}
    assert (project / "requirements.txt").read_text(encoding="utf-8") == lock


def test_check_finds_a_root_missing_from_a_pylock(cli, project):
    (project / "pylock.toml").write_text('lock-version = "1.0"\ncreated-by = "x"\n[[packages]]\nname = "lib"\nversion = "2.0"\n', encoding="utf-8")
    result = cli("lock", "requirements.in", "-o", "pylock.toml", "--check", "--format", "json", cwd=project)
    assert result.code == 1
    assert [item["package"] for item in result.json["findings"]] == ["app"]


def test_regenerate_command_keeps_what_shapes_the_file():
    args = build_parser().parse_args(["lock", "a.in", "--extra", "dev", "--no-hashes", "--upgrade", "-o", "my lock.txt", "--python", "/opt/py"])
    assert regenerate_command(args, ["a.in"]) == "reprolock lock a.in --python /opt/py --extra dev --no-hashes -o 'my lock.txt'"
