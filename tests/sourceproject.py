"""A real tiny source project for the direct-reference tests: static ``[project]`` metadata and an in-tree build backend.

Real pip builds it offline: ``[build-system] requires = []`` with a PEP 517/660
backend in the project itself (``backend-path``), which packs the package
folder into a wheel (``build_wheel``) or a ``.pth`` wheel (``build_editable``).
"""

from __future__ import annotations

import json
import subprocess
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

BACKEND = '''\
"""An in-tree PEP 517/660 backend for tests: no build requirements, metadata from pyproject.toml."""
import base64, hashlib, os, tomllib, zipfile

HERE = os.path.dirname(os.path.abspath(__file__))


def _project():
    with open(os.path.join(HERE, "pyproject.toml"), "rb") as handle:
        return tomllib.load(handle)["project"]


def _metadata(project):
    lines = ["Metadata-Version: 2.1", f"Name: {project['name']}", f"Version: {project['version']}"]
    lines += [f"Requires-Dist: {item}" for item in project.get("dependencies", [])]
    return "\\n".join(lines) + "\\n\\n"


def _wheel(directory, members):
    project = _project()
    stem = f"{project['name'].replace('-', '_')}-{project['version']}"
    info = f"{stem}.dist-info"
    members = {**members, f"{info}/METADATA": _metadata(project), f"{info}/WHEEL": "Wheel-Version: 1.0\\nGenerator: test\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n"}
    record = []
    for name, text in members.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=").decode()
        record.append(f"{name},sha256={digest},{len(text.encode())}")
    members[f"{info}/RECORD"] = "\\n".join([*record, f"{info}/RECORD,,"]) + "\\n"
    filename = f"{stem}-py3-none-any.whl"
    with zipfile.ZipFile(os.path.join(directory, filename), "w") as archive:
        for name, text in members.items():
            archive.writestr(name, text)
    return filename


def _package_files():
    module = _project()["name"].replace("-", "_")
    folder = os.path.join(HERE, module)
    return {f"{module}/{name}": open(os.path.join(folder, name), encoding="utf-8").read() for name in sorted(os.listdir(folder)) if name.endswith(".py")}


def get_requires_for_build_wheel(config_settings=None):
    return []


def get_requires_for_build_editable(config_settings=None):
    return []


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    return _wheel(wheel_directory, _package_files())


def build_editable(wheel_directory, config_settings=None, metadata_directory=None):
    return _wheel(wheel_directory, {f"{_project()['name'].replace('-', '_')}.pth": HERE + "\\n"})
'''


def make_project(folder: Path, name: str, version: str, dependencies: list[str], *, value: int = 1, dynamic: tuple[str, ...] = ()) -> Path:
    """Write the project into ``folder``: ``pyproject.toml``, the backend, and a module whose ``VALUE`` tells versions apart."""
    folder.mkdir(parents=True, exist_ok=True)
    module = name.replace("-", "_")
    lines = ["[project]", f"name = {json.dumps(name)}", f"version = {json.dumps(version)}"]
    if "dependencies" in dynamic:
        lines.append(f"dynamic = {json.dumps(list(dynamic))}")
    else:
        lines.append(f"dependencies = {json.dumps(dependencies)}")
    lines += ["", "[build-system]", "requires = []", 'build-backend = "inbackend"', 'backend-path = ["."]', ""]
    (folder / "pyproject.toml").write_text("\n".join(lines), encoding="utf-8")
    (folder / "inbackend.py").write_text(BACKEND, encoding="utf-8")
    (folder / module).mkdir(exist_ok=True)
    (folder / module / "__init__.py").write_text(f"VALUE = {value}\n", encoding="utf-8")
    return folder


def git(folder: Path, *argv: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(folder), "-c", "user.name=test", "-c", "user.email=test@invalid", *argv], capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def make_repository(folder: Path, name: str, version: str, dependencies: list[str], **options: object) -> str:
    """A git repository (branch ``main``) holding the project; returns the commit id of ``main``."""
    make_project(folder, name, version, dependencies, **options)  # type: ignore[arg-type]
    git(folder, "init", "--quiet", "--initial-branch=main")
    git(folder, "add", "-A")
    git(folder, "commit", "--quiet", "-m", "first")
    return git(folder, "rev-parse", "main")


def commit_value(folder: Path, name: str, value: int) -> str:
    """A new commit on ``main`` that changes the module's ``VALUE``; returns its id."""
    (folder / name.replace("-", "_") / "__init__.py").write_text(f"VALUE = {value}\n", encoding="utf-8")
    git(folder, "commit", "--quiet", "-am", f"value {value}")
    return git(folder, "rev-parse", "main")
