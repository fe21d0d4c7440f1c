"""The browser tests are optional on a developer's machine and required in CI.

Runs ``tests/test_html_in_chromium.py`` in a real pytest subprocess with
Chromium removed from ``PATH``: skipped with a reason naming what to install
when ``CI`` is unset, failing when ``CI`` is set (CI installs Chromium, so a
missing browser there is a broken job, not a skip).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT

BROWSERS = ("chromium", "chromium-browser")
MODULE = "tests/test_html_in_chromium.py"
DEADLINE = 300  # generous: only proves the run ends instead of hanging


def _path_without_chromium() -> str:
    """PATH minus every folder that holds a Chromium executable."""
    folders = os.environ.get("PATH", "").split(os.pathsep)
    return os.pathsep.join(folder for folder in folders if folder and not any((Path(folder) / name).exists() for name in BROWSERS))


def _run_browser_module(*, ci: str | None) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if key != "CI"}
    env["PATH"] = _path_without_chromium()
    if ci is not None:
        env["CI"] = ci
    argv = [sys.executable, "-m", "pytest", MODULE, "-q", "-rs", "-p", "no:cacheprovider"]
    return subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, check=False, timeout=DEADLINE)


def test_path_really_hides_chromium():
    env_path = _path_without_chromium()
    assert not any(Path(folder, name).exists() for folder in env_path.split(os.pathsep) if folder for name in BROWSERS)


@pytest.mark.parametrize("ci", [None, "", "false", "0"])
def test_without_chromium_and_without_ci_the_browser_tests_skip(ci):
    done = _run_browser_module(ci=ci)
    assert done.returncode == 0, done.stdout + done.stderr
    assert " skipped" in done.stdout
    assert "passed" not in done.stdout
    assert "error" not in done.stdout.lower()
    assert "chromium is not installed" in done.stdout
    assert "apt-get install chromium" in done.stdout  # the reason names what to install


@pytest.mark.parametrize("ci", ["true", "1"])
def test_without_chromium_in_ci_the_browser_tests_fail(ci):
    done = _run_browser_module(ci=ci)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "skipped" not in done.stdout
    assert "chromium is not installed" in done.stdout
