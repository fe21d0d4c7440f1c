"""``reprolock audit`` in an ordinary project folder: the quick start, and project files named like the stdlib.

A small real project (its own PEP 517 backend in the tree, a ``[build-system]``
requirement, optional extras and a dependency group) is installed from its
folder into its ``./.venv`` by real pip, then audited with no arguments, as
the README's quick start does in this repository.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from conftest import findings, run_cli
from envfactory import make_venv, site_packages
from projectfactory import make_project
from wheelfactory import Dist, build_all

PIP_ENV = {**os.environ, "PIP_CONFIG_FILE": "/dev/null", "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PIP_NO_INPUT": "1"}
for _name in ("PIP_FIND_LINKS", "PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL"):
    PIP_ENV.pop(_name, None)

@pytest.fixture(scope="module")
def wheelhouse(tmp_path_factory):
    folder = tmp_path_factory.mktemp("project-wheels")
    build_all((Dist("lib", "1.0"), Dist("speedup", "1.0"), Dist("stray", "1.0")), folder)
    return folder


def pip(*args: str) -> None:
    done = subprocess.run([sys.executable, "-m", "pip", *args], capture_output=True, text=True, env=PIP_ENV, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.fixture(scope="module")
def quick_start(tmp_path_factory, wheelhouse):
    """``python -m venv .venv && .venv/bin/pip install .`` in the project folder (no network: the test's wheelhouse)."""
    project = make_project(
        tmp_path_factory.mktemp("quick-start"),
        "Small_Proj",
        "0.1",
        requires=["lib>=1"],
        extras={"test": ["pytest>=8", "lib>=5"], "fast": ["speedup>=1"]},
        groups={"dev": ["devtool>=2"]},
    )
    venv = make_venv(project / ".venv")
    python = str(venv / "bin" / "python")
    pip("--python", python, "install", "--quiet", "--no-index", "--no-build-isolation", "--find-links", str(wheelhouse), str(project))
    return project


def test_the_quick_start_state_audits_clean(quick_start):
    run = run_cli("audit", "--no-index", "--format", "json", cwd=quick_start)
    assert run.json["environment"]["prefix"] == str(quick_start / ".venv")
    assert [row["path"] for row in run.json["inputs"]] == ["pyproject.toml"]
    errors = [item for item in run.json["findings"] if item["severity"] != "info"]
    assert errors == []
    assert run.code == 0


def test_build_requirements_and_extras_not_asked_for_are_not_required(quick_start):
    run = run_cli("audit", "--no-index", "--format", "json", cwd=quick_start)
    assert findings(run, "RL402") == []  # hatchling, pytest, devtool: not runtime requirements
    assert findings(run, "RL401") == []  # lib>=5 of the test extra: nobody asked for it
    assert findings(run, "RL404") == []  # small-proj itself is the project installed from its own folder
    rows = {row["name"] for row in run.json["packages"]}
    assert {"small-proj", "lib", "hatchling"} <= rows


def test_the_project_root_still_leaves_strays_extraneous(quick_start, wheelhouse, tmp_path):
    venv = quick_start / ".venv"
    pip("--python", str(venv / "bin" / "python"), "install", "--quiet", "--no-index", "--find-links", str(wheelhouse), "stray", "speedup")
    try:
        run = run_cli("audit", "--no-index", "--format", "json", cwd=quick_start)
        assert [item["package"] for item in findings(run, "RL404")] == ["stray"]  # speedup: the project's optional extra 'fast'
        assert run.code == 0  # RL404 is a warning in audit
        elsewhere = run_cli("audit", "--python", str(venv), "--no-index", "--format", "json", cwd=tmp_path)
        assert elsewhere.json["inputs"] == []
    finally:
        pip("--python", str(venv / "bin" / "python"), "uninstall", "--quiet", "--yes", "stray", "speedup")


def test_an_extra_asked_for_is_required(quick_start, tmp_path):
    (tmp_path / "requirements.in").write_text("small-proj[fast]\n", encoding="utf-8")
    run = run_cli("audit", "requirements.in", "--python", str(quick_start / ".venv"), "--no-index", "--format", "json", cwd=tmp_path)
    missing = findings(run, "RL402")
    assert [(item["package"], item["detail"]["extra"]) for item in missing] == [("speedup", "fast")]
    assert run.code == 1


@pytest.fixture(scope="module")
def empty_venv(tmp_path_factory):
    return make_venv(tmp_path_factory.mktemp("stdlib-shadow") / "venv")


def test_project_files_named_like_the_stdlib_are_reported(empty_venv, tmp_path):
    (tmp_path / "json.py").write_text("raise ImportError('mine')\n", encoding="utf-8")
    (tmp_path / "typing.py").write_text("", encoding="utf-8")
    (tmp_path / "logging").mkdir()
    (tmp_path / "logging" / "__init__.py").write_text("", encoding="utf-8")
    (tmp_path / "os.py").write_text("", encoding="utf-8")  # imported while Python starts, before the folder is on sys.path
    (tmp_path / "test").mkdir()  # the stdlib's own regression tests: a test/ package shadows nothing anyone imports
    (tmp_path / "test" / "__init__.py").write_text("", encoding="utf-8")
    python = str(empty_venv / "bin" / "python")
    loaded = subprocess.run(
        [python, "-c", "import os, typing, logging; print(typing.__file__, logging.__file__, os.__file__)"], capture_output=True, text=True, cwd=tmp_path, check=True
    ).stdout.split()
    assert loaded[:2] == [str(tmp_path / "typing.py"), str(tmp_path / "logging" / "__init__.py")]
    assert loaded[2] != str(tmp_path / "os.py")
    run = run_cli("audit", "--python", str(empty_venv), "--no-index", "--format", "json", cwd=tmp_path)
    shadows = {item["detail"]["module"]: item for item in findings(run, "RL308")}
    assert sorted(shadows) == ["json", "logging", "typing"]
    assert shadows["json"]["message"] == "json.py in the project directory shadows the standard library module 'json'"
    assert shadows["logging"]["detail"]["local"] == "logging/"
    assert shadows["json"]["package"] is None
    assert shadows["json"]["severity"] == "error"
    assert run.code == 1


def test_a_project_named_like_nothing_in_the_stdlib_is_clean(empty_venv, tmp_path):
    (tmp_path / "mytool.py").write_text("", encoding="utf-8")
    run = run_cli("audit", "--python", str(empty_venv), "--no-index", "--format", "json", cwd=tmp_path)
    assert findings(run, "RL308") == []
    assert site_packages(empty_venv).is_dir()
