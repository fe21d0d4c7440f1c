"""Write a small real project folder that real pip builds and installs without the network.

The project carries its own PEP 517 backend in its tree (``backend-path``), so
``pip install --no-build-isolation --no-index PROJECT`` builds it with nothing
installed; its ``[build-system]`` still names the requirements a real project
would (hatchling by default), which pip then does not need.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from packaging.utils import canonicalize_name

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from pathlib import Path

BACKEND = """\
import base64, hashlib, os, zipfile

METADATA = {metadata!r}
STEM = {stem!r}
PACKAGE = {package!r}


def _hash(data):
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    info = STEM + ".dist-info"
    members = {{
        PACKAGE + "/__init__.py": b"VALUE = 1\\n",
        info + "/METADATA": METADATA.encode(),
        info + "/WHEEL": b"Wheel-Version: 1.0\\nGenerator: projectfactory\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n",
    }}
    record = "".join(path + "," + _hash(data) + "," + str(len(data)) + "\\n" for path, data in members.items())
    members[info + "/RECORD"] = (record + info + "/RECORD,,\\n").encode()
    name = STEM + "-py3-none-any.whl"
    with zipfile.ZipFile(os.path.join(wheel_directory, name), "w") as archive:
        for path, data in members.items():
            archive.writestr(path, data)
    return name
"""


def _toml_list(items: Sequence[str]) -> str:
    return json.dumps(list(items))


def make_project(
    folder: Path,
    name: str,
    version: str,
    *,
    requires: Sequence[str] = (),
    extras: Mapping[str, Sequence[str]] | None = None,
    groups: Mapping[str, Sequence[str]] | None = None,
    build_requires: Sequence[str] = ("hatchling>=1.24",),
) -> Path:
    """A project folder with ``pyproject.toml`` and its in-tree backend; the wheel installs one package named after it."""
    extras = extras or {}
    package = canonicalize_name(name).replace("-", "_")
    lines = [
        "[build-system]",
        f"requires = {_toml_list(build_requires)}",
        'build-backend = "tinybackend"',
        'backend-path = ["_backend"]',
        "",
        "[project]",
        f"name = {json.dumps(name)}",
        f"version = {json.dumps(version)}",
        f"dependencies = {_toml_list(requires)}",
    ]
    if extras:
        lines += ["", "[project.optional-dependencies]", *(f"{extra} = {_toml_list(items)}" for extra, items in extras.items())]
    if groups:
        lines += ["", "[dependency-groups]", *(f"{group} = {_toml_list(items)}" for group, items in groups.items())]
    metadata = [f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"]
    metadata += [f"Requires-Dist: {req}\n" for req in requires]
    for extra, items in extras.items():
        metadata.append(f"Provides-Extra: {extra}\n")
        metadata += [f"Requires-Dist: {req}; extra == '{extra}'\n" for req in items]
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "pyproject.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (folder / "_backend").mkdir(exist_ok=True)
    stem = f"{package}-{version}"
    backend = BACKEND.format(metadata="".join(metadata) + "\n", stem=stem, package=package)
    (folder / "_backend" / "tinybackend.py").write_text(backend, encoding="utf-8")
    return folder
