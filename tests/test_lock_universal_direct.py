"""``lock --universal`` with direct references (issue 18): each is located once and locked on every target that selects it.

The git repository is made in the test (``git+file://``); its project has a
dependency guarded by a Python-version marker, so the universal lock keeps
that marker on the dependency; real pip installs the lock.
"""

from __future__ import annotations

from sourceproject import make_project, make_repository
from test_lock_direct import pip_in
from test_lock_e2e import fresh_venv, installed
from wheelfactory import Dist


def test_a_git_reference_is_locked_once_at_its_commit_with_its_dependencies_markers(cli, tmp_path, index_server):
    index_server.add_wheel(Dist("lib", "1.0"))
    index_server.add_wheel(Dist("backport", "1.0"))
    repo = tmp_path / "repo"
    commit = make_repository(repo, "mylib", "1.0", ["lib", 'backport; python_version < "3.11"'])
    (tmp_path / "requirements.in").write_text(f"mylib @ git+file://{repo}@main\n", encoding="utf-8")
    result = cli("lock", "requirements.in", "--universal", "--python-version", "3.9", "--index-url", index_server.url, "--no-cache", "-o", "lock.txt", cwd=tmp_path)
    assert result.code == 0, result.err
    text = (tmp_path / "lock.txt").read_text(encoding="utf-8")
    assert text.count("mylib @ ") == 1
    assert f"mylib @ git+file://{repo}@{commit}\n" in text  # no marker: every target needs it
    assert 'backport==1.0 ; python_full_version < "3.11" \\\n' in text
    assert "lib==1.0 \\\n" in text
    python = fresh_venv(tmp_path / "venv")
    pip_in(tmp_path, "--python", str(python), "install", "--no-require-hashes", "--no-deps", "--index-url", index_server.url, "-r", "lock.txt")
    pip_in(tmp_path, "--python", str(python), "check")
    assert installed(python) == {"mylib": "1.0", "lib": "1.0"}  # the running Python is 3.11: no backport


def test_a_local_path_on_one_platform_only_keeps_its_marker_and_is_reported(cli, tmp_path, index_server):
    index_server.add_wheel(Dist("lib", "1.0"))
    make_project(tmp_path / "winhelper", "winhelper", "0.1", ["lib"])
    (tmp_path / "requirements.in").write_text('./winhelper ; sys_platform == "win32"\nlib\n', encoding="utf-8")
    result = cli("lock", "requirements.in", "--universal", "--index-url", index_server.url, "--no-cache", "-o", "lock.txt", "--format", "json", cwd=tmp_path)
    assert result.code == 0, result.err
    assert [(item["rule"], item["package"]) for item in result.json["findings"]] == [("RL105", "winhelper")]
    text = (tmp_path / "lock.txt").read_text(encoding="utf-8")
    assert './winhelper ; sys_platform == "win32"\n' in text
    assert "lib==1.0 \\\n" in text  # required on every platform (a root line without a marker)
