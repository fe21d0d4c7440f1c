"""Build real virtualenvs for environment tests: ``python -m venv --without-pip`` plus real pip.

Wheels come from ``wheelfactory``; pip installs them with ``--no-index
--find-links`` (never the network) into a folder with ``--target``, using the
test interpreter's own pip.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

PIP_ENV = {**os.environ, "PIP_CONFIG_FILE": "/dev/null", "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PIP_NO_INPUT": "1"}


def base_python() -> str:
    """The real interpreter behind the test virtualenv (``sys.executable`` may itself be a venv)."""
    candidate = Path(sys.base_prefix) / "bin" / f"python{sys.version_info[0]}.{sys.version_info[1]}"
    return str(candidate) if candidate.exists() else sys.executable


def make_venv(folder: Path, *, python: str | None = None, system_site: bool = False) -> Path:
    argv = [python or base_python(), "-m", "venv", "--without-pip"]
    if system_site:
        argv.append("--system-site-packages")
    subprocess.run([*argv, str(folder)], check=True, env=PIP_ENV)
    return folder


def site_packages(venv: Path) -> Path:
    found = sorted((venv / "lib").glob("python3.*/site-packages"))
    assert found, venv
    return found[0]


def pip_install(target: Path, wheelhouse: Path, *names: str) -> None:
    """Install ``names`` (no dependencies) from ``wheelhouse`` into the folder ``target``."""
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-index", "--no-deps", "--find-links", str(wheelhouse), "--target", str(target), *names],
        check=True,
        env=PIP_ENV,
        capture_output=True,
    )
