"""``verify`` checks the target a lock states (issue 18, item 3): a lock made for another Python or platform is an error.

A lock for ``--python-version 3.9`` holds the same packages as one for the
running 3.11 here, so comparing packages alone would pass; the header (or the
pylock's ``environments``/``requires-python``) says it is for 3.9, and verify
says so. A universal lock is for every Python of its range on linux, macOS and
Windows, so the same environment verifies against it.
"""

from __future__ import annotations

import platform

import pytest

from test_lock_e2e import fresh_venv, pip
from wheelfactory import Dist


@pytest.fixture
def venv(index_server, tmp_path):
    """A venv of the running Python holding exactly ``app`` and ``lib`` from the local index."""
    index_server.add_wheel(Dist("app", "1.0", requires=("lib",)))
    index_server.add_wheel(Dist("lib", "1.0"))
    python = fresh_venv(tmp_path / "venv")
    pip("--python", str(python), "install", "-q", "--no-deps", "--index-url", index_server.url, "app==1.0", "lib==1.0")
    (tmp_path / "requirements.in").write_text("app\n", encoding="utf-8")
    return python


def lock(cli, server, folder, output, *options):
    made = cli("lock", "requirements.in", "--index-url", server.url, "--no-cache", "-o", output, *options, cwd=folder)
    assert made.code == 0, made.err


@pytest.mark.parametrize("output", ["requirements.txt", "pylock.toml"])
def test_a_lock_for_another_python_is_refused_naming_both_targets(cli, index_server, tmp_path, venv, output):
    lock(cli, index_server, tmp_path, output, "--python-version", "3.9")
    result = cli("verify", output, "--python", str(venv), "--format", "json", cwd=tmp_path)
    assert result.code == 1, result.out + result.err
    stated = [item for item in result.json["findings"] if item["package"] == "python"]
    assert [item["rule"] for item in stated] == ["RL405"]
    assert 'python_version == "3.9"' in stated[0]["message"]
    assert f"this environment is cpython {platform.python_version()} on linux" in stated[0]["message"]
    assert [item for item in result.json["findings"] if item["package"] != "python"] == []  # the packages themselves match


@pytest.mark.parametrize("output", ["requirements.txt", "pylock.toml"])
def test_a_lock_for_this_python_and_a_universal_lock_verify(cli, index_server, tmp_path, venv, output):
    lock(cli, index_server, tmp_path, output)
    assert cli("verify", output, "--python", str(venv), cwd=tmp_path).code == 0
    lock(cli, index_server, tmp_path, output, "--universal", "--python-version", "3.9", "--upgrade")
    assert cli("verify", output, "--python", str(venv), cwd=tmp_path).code == 0


def test_a_lock_for_windows_is_refused_on_linux(cli, index_server, tmp_path, venv):
    lock(cli, index_server, tmp_path, "requirements.txt", "--platform", "windows")
    result = cli("verify", "requirements.txt", "--python", str(venv), cwd=tmp_path)
    assert result.code == 1
    assert "RL405" in result.out
    assert 'sys_platform == "win32"' in result.out
