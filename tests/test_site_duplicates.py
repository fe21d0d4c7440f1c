"""Second copies of a distribution (RL301) in real virtualenvs that see the system site-packages.

A ``--system-site-packages`` venv gets pip (and setuptools) from ensurepip at
the version its base Python already has: the same distribution, the same
version, the venv's copy winning, which is no error.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from conftest import findings, run_cli
from envfactory import make_venv, pip_install, site_packages
from wheelfactory import Dist, build_all

PIP_ENV = {**os.environ, "PIP_CONFIG_FILE": "/dev/null", "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PIP_NO_INPUT": "1"}

PYENV_312 = Path("/root/.pyenv/versions/3.12.1/bin/python")
DEBIAN = Path("/usr/bin/python3")


def system_site_venv(python: Path, folder: Path) -> Path:
    done = subprocess.run([str(python), "-m", "venv", "--system-site-packages", str(folder)], capture_output=True, text=True, env=PIP_ENV, check=False)
    if done.returncode != 0:
        pytest.skip(f"{python} cannot make a virtualenv with pip: {done.stderr.strip()[-200:]}")
    return folder


def audit(venv: Path, cwd: Path):
    run = run_cli("audit", "--python", str(venv), "--no-index", "--format", "json", cwd=cwd)
    assert run.code in {0, 1}, run.err
    return run


def _base_has(python: Path, name: str) -> bool:
    code = f"import importlib.metadata as m, sys; sys.exit(0 if m.version({name!r}) else 1)"
    return subprocess.run([str(python), "-I", "-c", code], capture_output=True, check=False).returncode == 0


@pytest.mark.skipif(not PYENV_312.exists(), reason="no pyenv CPython 3.12.1 on this machine")
def test_pip_in_the_venv_and_in_the_pyenv_base_at_one_version(tmp_path):
    venv = system_site_venv(PYENV_312, tmp_path / "venv")
    run = audit(venv, tmp_path)
    shadowed = {item["package"]: item for item in findings(run, "RL301")}
    assert set(shadowed) == {"pip"}
    pip = shadowed["pip"]
    assert pip["severity"] == "info"
    version = pip["detail"]["winner"]["version"]
    base = pip["detail"]["copies"][1]["path"]
    assert pip["message"] == (
        f"pip {version} is installed twice at the same version: the virtualenv's copy in {site_packages(venv)} wins over the copy in {base}"
    )
    assert [item["severity"] for item in run.json["findings"] if item["severity"] == "error"] == []
    assert run.code == 0


@pytest.mark.skipif(not DEBIAN.exists(), reason="no Debian python3")
def test_pip_and_setuptools_in_the_venv_and_in_debians_dist_packages(tmp_path):
    if not _base_has(DEBIAN, "pip"):
        pytest.skip("Debian's python3 has no pip package")
    venv = system_site_venv(DEBIAN, tmp_path / "venv")
    run = audit(venv, tmp_path)
    shadowed = findings(run, "RL301")
    assert shadowed, run.json["findings"]
    assert {item["severity"] for item in shadowed} == {"info"}
    assert "pip" in {item["package"] for item in shadowed}
    assert run.code == 0, [item["message"] for item in run.json["findings"] if item["severity"] == "error"]


def test_a_same_version_copy_that_wins_over_the_venvs_own_is_still_an_error(tmp_path, monkeypatch):
    wheels = tmp_path / "wheels"
    build_all((Dist("dup", "1.0"),), wheels)
    venv = make_venv(tmp_path / "venv")
    pip_install(site_packages(venv), wheels, "dup")
    extra = tmp_path / "pythonpath"
    pip_install(extra, wheels, "dup")
    monkeypatch.setenv("PYTHONPATH", str(extra))
    shadowed = findings(audit(venv, tmp_path), "RL301")
    assert [(item["package"], item["severity"]) for item in shadowed] == [("dup", "error")]
    assert shadowed[0]["message"] == f"dup is installed 2 times: 1.0 in {extra} wins on import over 1.0 in {site_packages(venv)}"
