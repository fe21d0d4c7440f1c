"""``audit`` and ``verify`` of a universal lock (issue 18, item 5): every entry judged for the targets its marker names.

The locks are made by ``lock --universal`` against the local index; the
venvs are real (the test interpreter's Python, 3.11, on linux) and filled by
real pip from the index's own wheels.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from conftest import findings
from envfactory import PIP_ENV, make_venv, site_packages
from wheelfactory import Dist

# alabaster and numpy need another version before 3.10; colorama is for windows (and numpy 2.0.2's)
WORLD = [
    Dist("app", "1.0", requires=("alabaster", "colorama; sys_platform == 'win32'", "numpy")),
    Dist("alabaster", "0.7.16", requires_python=">=3.9"),
    Dist("alabaster", "1.0.0", requires_python=">=3.10"),
    Dist("colorama", "0.4.6"),
    Dist("numpy", "2.0.2", requires_python=">=3.9", requires=("colorama",)),
    Dist("numpy", "2.2.6", requires_python=">=3.10"),
]
LOCKS = ("lock.txt", "pylock.toml")
OLD_ALABASTER = 'python_full_version < "3.10"'
NEW_ALABASTER = 'python_full_version >= "3.10"'


@pytest.fixture
def world(index_server, cli, tmp_path):
    """The index, and a universal lock of ``app`` in both formats (for 3.9 to 3.14) in ``tmp_path``."""
    for dist in WORLD:
        index_server.add_wheel(dist)
    (tmp_path / "requirements.in").write_text("app\n", encoding="utf-8")
    for output in LOCKS:
        made = cli("lock", "requirements.in", "--universal", "--python-version", "3.9", "-o", output, "--index-url", index_server.url, "--no-cache", "-q", cwd=tmp_path)
        assert made.code == 0, made.err
    return index_server


def audit(cli, folder, server, *paths, extra=()):
    run = cli("audit", *paths, "--index-url", server.url, "--no-cache", "-q", "--files-only", "--format", "json", *extra, cwd=folder)
    assert run.code in {0, 1}, run.err
    return run


def entry_line(folder, lock, name, version):
    """The line a finding names for an entry: its requirement line, or a pylock entry's ``name`` line (just above its version)."""
    lines = (folder / lock).read_text(encoding="utf-8").splitlines()
    if lock.endswith(".toml"):
        return next(number for number, line in enumerate(lines, 1) if line == f'version = "{version}"' and lines[number - 2] == f'name = "{name}"') - 1
    return next(number for number, line in enumerate(lines, 1) if line.startswith(f"{name}=={version} "))


def wheel(server, name, version):
    return server.folder / next(dist for dist in WORLD if (dist.name, dist.version) == (name, version)).wheel_name


@pytest.mark.parametrize("lock", LOCKS)
def test_each_entry_newest_for_its_pythons_is_no_drift(cli, tmp_path, world, lock):
    text = (tmp_path / "lock.txt").read_text(encoding="utf-8")
    assert f"alabaster==0.7.16 ; {OLD_ALABASTER}" in text
    assert f"numpy==2.2.6 ; {NEW_ALABASTER}" in text
    run = audit(cli, tmp_path, world, lock)
    assert findings(run, "RL501") == []
    assert sorted(run.rules()) == ["RL506"]  # the test index has no vulnerability data


@pytest.mark.parametrize("lock", LOCKS)
def test_an_entry_behind_for_its_pythons_is_reported_alone(cli, tmp_path, world, lock):
    world.add_wheel(Dist("alabaster", "0.7.17", requires_python=">=3.9"))
    run = audit(cli, tmp_path, world, lock)
    drift = findings(run, "RL501")
    assert len(drift) == 1, drift
    (item,) = drift
    assert item["package"] == "alabaster"
    assert item["location"] == {"path": lock, "line": entry_line(tmp_path, lock, "alabaster", "0.7.16")}
    assert item["detail"]["latest"] == "0.7.17"
    assert item["detail"]["marker"] == OLD_ALABASTER
    assert item["message"] == f"alabaster 0.7.16 (pinned; {OLD_ALABASTER}) is behind the latest release 0.7.17 (patch, 0 days behind)"


def test_a_platform_marker_is_judged_with_every_platforms_wheels(cli, tmp_path, index_server):
    """``sys_platform == "win32"`` admits every Python: a newer Windows-only wheel is newer for that entry (not for this linux machine)."""
    index_server.add_wheel(Dist("winonly", "1.0"))
    index_server.add_wheel(Dist("winonly", "2.0", tag="cp311-cp311-win_amd64"))
    (tmp_path / "lock.txt").write_text('winonly==1.0 ; sys_platform == "win32"\nplain==1.0\n', encoding="utf-8")
    index_server.add_wheel(Dist("plain", "1.0"))
    index_server.add_wheel(Dist("plain", "2.0", tag="cp311-cp311-win_amd64"))
    run = audit(cli, tmp_path, index_server, "lock.txt")
    drift = findings(run, "RL501")
    assert [(item["package"], item["detail"]["latest"]) for item in drift] == [("winonly", "2.0")]  # plain: judged for this machine, as before


@pytest.mark.parametrize("lock", LOCKS)
def test_same_name_entries_are_no_conflict_and_are_counted(cli, tmp_path, world, lock):
    run = cli("audit", lock, "--no-index", "--files-only", "--format", "json", cwd=tmp_path)
    assert run.code == 0, run.out
    assert run.rules() == []
    both = cli("audit", *LOCKS, "--no-index", "--files-only", "--format", "json", cwd=tmp_path)
    assert both.rules() == []  # the same entries in both files: no RL109
    rows = {row["name"]: row for row in run.json["packages"]}
    assert sorted(rows) == ["alabaster", "app", "colorama", "numpy"]
    assert rows["numpy"]["specifiers"] == ["==2.0.2", "==2.2.6"]
    text = cli("audit", lock, "--no-index", "--files-only", cwd=tmp_path)
    assert "1 file, 4 packages" in text.out
    assert " 6 " in next(line for line in text.out.splitlines() if line.startswith(lock))  # Reqs: every entry


def test_two_pins_of_one_name_for_overlapping_markers_are_still_a_conflict(cli, tmp_path):
    (tmp_path / "a.txt").write_text('six==1.16.0 ; python_version < "3.10"\n', encoding="utf-8")
    (tmp_path / "b.txt").write_text('six==1.17.0 ; python_version < "3.10"\n', encoding="utf-8")
    run = cli("audit", "a.txt", "b.txt", "--no-index", "--files-only", "--format", "json", cwd=tmp_path)
    assert [item["package"] for item in findings(run, "RL109")] == ["six"]


@pytest.mark.parametrize("lock", LOCKS)
def test_audit_for_a_named_target_judges_only_its_entries(cli, tmp_path, world, lock):
    world.add_wheel(Dist("alabaster", "0.7.17", requires_python=">=3.9"))
    old = audit(cli, tmp_path, world, lock, extra=("--python-version", "3.9", "--platform", "windows"))
    assert [(item["package"], item["detail"]["latest"]) for item in findings(old, "RL501")] == [("alabaster", "0.7.17")]
    assert findings(old, "RL506")[0]["detail"]["packages"] == ["alabaster==0.7.16", "app==1.0", "colorama==0.4.6", "numpy==2.0.2"]
    new = audit(cli, tmp_path, world, lock, extra=("--python-version", "3.12", "--platform", "linux"))
    assert findings(new, "RL501") == []
    assert findings(new, "RL506")[0]["detail"]["packages"] == ["alabaster==1.0.0", "app==1.0", "numpy==2.2.6"]


def test_audit_for_a_named_target_takes_no_environment(cli, tmp_path):
    (tmp_path / "lock.txt").write_text("six==1.16.0\n", encoding="utf-8")
    run = cli("audit", "lock.txt", "--python", sys.executable, "--python-version", "3.9", "--no-index", cwd=tmp_path)
    assert run.code == 2
    assert "--python-version/--platform" in run.err
    bad = cli("audit", "lock.txt", "--platform", "amiga", "--no-index", cwd=tmp_path)
    assert bad.code == 2
    assert "not a supported platform" in bad.err


# -- verify --------------------------------------------------------------------


def venv_with(folder, wheels):
    venv = make_venv(folder)
    done = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-index", "--no-deps", "--target", str(site_packages(venv)), *map(str, wheels)],
        capture_output=True,
        text=True,
        env=PIP_ENV,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return venv


def verify(cli, folder, lock, venv):
    run = cli("verify", lock, "--python", str(venv), "--format", "json", cwd=folder)
    assert run.code in {0, 1}, run.err
    return run


@pytest.mark.skipif(sys.version_info[:2] < (3, 10) or sys.platform != "linux", reason="the venv must be a linux CPython 3.10 or later")
def test_verify_holds_a_venv_to_the_entries_for_it(cli, tmp_path, world):
    right = venv_with(tmp_path / "right", [wheel(world, *pin) for pin in (("app", "1.0"), ("alabaster", "1.0.0"), ("numpy", "2.2.6"))])
    wrong = venv_with(tmp_path / "wrong", [wheel(world, *pin) for pin in (("app", "1.0"), ("alabaster", "0.7.16"), ("numpy", "2.2.6"), ("colorama", "0.4.6"))])
    for lock in LOCKS:
        exact = verify(cli, tmp_path, lock, right)
        assert exact.code == 0, exact.out
        assert exact.json["findings"] == []
        run = verify(cli, tmp_path, lock, wrong)
        assert run.code == 1
        assert sorted((item["rule"], item["package"], item["severity"]) for item in run.json["findings"]) == [
            ("RL404", "colorama", "error"),  # its entry is for windows and Pythons before 3.10
            ("RL405", "alabaster", "error"),
            ("RL507", "alabaster", "error"),  # installed from a file: pip recorded its hash, which is 0.7.16's, not the entry's
        ]
        (mismatch,) = findings(run, "RL405")
        assert mismatch["message"] == f"alabaster is pinned to 1.0.0 (the entry for {NEW_ALABASTER}) but 0.7.16 is installed"
        assert mismatch["location"] == {"path": lock, "line": entry_line(tmp_path, lock, "alabaster", "1.0.0")}
