"""The PEP 751 ``pylock.toml`` writer, with dependency edges and provenance.

A small, fixed TOML layout written by hand (no TOML writer dependency), so
the bytes depend only on the ``Lock``; the tables of direct references are
made as ``packaging.pylock`` records first. Packages the index cannot reproduce
(editables, local paths, system packages) cannot be valid ``[[packages]]``
entries without a source; they are listed under ``[tool.reprolock]``.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Mapping
from datetime import datetime
from pathlib import PurePath
from typing import TYPE_CHECKING

from packaging.pylock import PackageArchive, PackageDirectory, PackageVcs

from reprolock.lock.candidates import WHEEL
from reprolock.lock.writers.requirements import target_note, unhashable_note

if TYPE_CHECKING:
    from reprolock.index.models import DistFile
    from reprolock.lock.model import DirectSource, Lock, LockedPackage

INDENT = "    "


def toml_string(value: str) -> str:
    """A TOML literal string when that reads better (markers), else a basic one (JSON's escapes are valid TOML)."""
    if '"' in value and "'" not in value and value.isprintable():
        return f"'{value}'"
    return json.dumps(value, ensure_ascii=False)


def toml_array(values: list[str], *, multiline: bool = False) -> str:
    if not values:
        return "[]"
    if not multiline:
        return f"[{', '.join(values)}]"
    return "[\n" + "".join(f"{INDENT}{value},\n" for value in values) + "]"


def _upload_time(value: str | None) -> str | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    text = moment.isoformat()
    return text.removesuffix("+00:00") + "Z" if text.endswith("+00:00") else text


def _file_table(file: DistFile) -> str | None:
    """``{ name = ..., url = ..., size = ..., upload-time = ..., hashes = { ... } }``; ``None`` without hashes."""
    if not file.hashes:
        return None
    parts = [f"name = {toml_string(file.filename)}", f"url = {toml_string(file.url)}"]
    if file.size is not None:
        parts.append(f"size = {file.size}")
    if (moment := _upload_time(file.upload_time)) is not None:
        parts.append(f"upload-time = {moment}")
    hashes = ", ".join(f"{algorithm} = {toml_string(digest)}" for algorithm, digest in sorted(file.hashes))
    parts.append(f"hashes = {{ {hashes} }}")
    return f"{{ {', '.join(parts)} }}"


def _inline(table: Mapping[str, object]) -> str:
    """A TOML inline table of strings, integers, booleans and tables (``None`` values left out)."""
    parts = []
    for key, value in table.items():
        if value is None:
            continue
        if isinstance(value, bool):
            text = "true" if value else "false"
        elif isinstance(value, int):
            text = str(value)
        elif isinstance(value, Mapping):
            text = _inline(value)
        else:
            text = toml_string(str(value))
        parts.append(f"{key} = {text}")
    return f"{{ {', '.join(parts)} }}"


def _pylock_fields(item: object) -> dict[str, object]:
    """A ``packaging.pylock`` record's fields under their TOML names, in declaration order."""
    return {field.name.replace("_", "-"): getattr(item, field.name) for field in dataclasses.fields(item)}  # type: ignore[arg-type]


def _path(source: DirectSource, base: PurePath | None) -> str | None:
    """A local path for the lock: relative to the lock's folder when written relative (PEP 751), else as written."""
    if source.path is None or source.folder is None:
        return None
    if base is None or PurePath(source.path).is_absolute():
        return source.path
    return PurePath(os.path.relpath(source.folder, base)).as_posix()


def _direct_table(source: DirectSource, base: PurePath | None) -> str:
    """``vcs = {...}``, ``archive = {...}`` or ``directory = {...}``, made as ``packaging.pylock`` records them."""
    hashes = dict(source.hashes)
    record: PackageVcs | PackageArchive | PackageDirectory
    if source.kind == "vcs":
        record = PackageVcs(
            type=source.vcs or "git", url=source.url, requested_revision=source.requested_revision, commit_id=source.commit_id or "", subdirectory=source.subdirectory
        )
    elif source.kind == "archive":
        url = None if source.path is not None else source.url
        record = PackageArchive(url=url, path=_path(source, base), size=source.size, hashes=hashes, subdirectory=source.subdirectory)
    else:
        record = PackageDirectory(path=_path(source, base) or source.written, editable=source.editable or None, subdirectory=source.subdirectory)
    return f"{source.kind} = {_inline(_pylock_fields(record))}"


def _package(package: LockedPackage, base: PurePath | None = None) -> list[str]:
    wheels = [table for file in package.files if file.packagetype == WHEEL and (table := _file_table(file))]
    sdists = [table for file in package.files if file.packagetype != WHEEL and (table := _file_table(file))]
    lines = ["[[packages]]", f"name = {toml_string(package.name)}"]
    # PEP 751: no version for a source tree (VCS, directory), which may hold another one by install time
    if package.direct is None or package.direct.kind == "archive":
        lines.append(f"version = {toml_string(package.version)}")
    if package.marker:
        lines.append(f"marker = {toml_string(package.marker)}")
    if package.requires_python:
        lines.append(f"requires-python = {toml_string(package.requires_python)}")
    if package.index:
        lines.append(f"index = {toml_string(package.index)}")
    if package.dependencies:
        lines.append(f"dependencies = {toml_array([f'{{ name = {toml_string(name)} }}' for name in package.dependencies])}")
    if package.direct is not None:
        lines.append(_direct_table(package.direct, base))
    if sdists:
        lines.append(f"sdist = {sdists[0]}")
    if wheels:
        lines.append(f"wheels = {toml_array(wheels, multiline=True)}")
    tool = _provenance(package)
    if tool:
        lines += ["", "[packages.tool.reprolock]", *tool]
    return lines


def _provenance(package: LockedPackage) -> list[str]:
    lines = []
    facts = (
        ("requested-by", package.provenance.requested),
        ("required-by", package.parents),
        ("roots", package.provenance.roots),
        ("requires", package.requires),
    )
    for key, values in facts:
        if values:
            lines.append(f"{key} = {toml_array([toml_string(value) for value in values])}")
    if package.yanked_reason:
        lines.append(f"yanked = {toml_string(package.yanked_reason)}")
    return lines


def lockable(package: LockedPackage) -> bool:
    """Whether the package can be a ``[[packages]]`` entry (reproducible: a direct reference, or a hashed file)."""
    return package.unreproducible is None and (package.direct is not None or any(file.hashes for file in package.files))


def write_pylock(lock: Lock, *, base: PurePath | None = None) -> str:
    """The lock as ``pylock.toml`` text (ends with a newline); ``base``: the lock's folder, which local paths are relative to."""
    lines = [
        "# This file is generated by reprolock. To regenerate it, run:",
        f"#    {lock.command}",
        *(target_note(lock, pip_checks=True) if lock.target else []),
        *(unhashable_note(lock, "pip install --no-require-hashes -r <this file>") if lock.unhashable else []),
        'lock-version = "1.0"',
    ]
    if lock.environment_marker:
        lines.append(f"environments = [{toml_string(lock.environment_marker)}]")
    if lock.requires_python:
        lines.append(f"requires-python = {toml_string(lock.requires_python)}")
    lines.append(f"created-by = {toml_string('reprolock')}")
    for package in lock.packages:
        if lockable(package):
            lines += ["", *_package(package, base)]
    left_out = [package for package in lock.packages if not lockable(package)]
    lines += ["", "[tool.reprolock]", f"command = {toml_string(lock.command)}"]
    if left_out:
        entries = []
        for package in left_out:
            reason = package.unreproducible or "the index gives no hashes for this version"
            entries.append(f"{{ name = {toml_string(package.name)}, version = {toml_string(package.version)}, reason = {toml_string(reason)} }}")
        lines.append(f"unreproducible = {toml_array(entries, multiline=True)}")
    return "\n".join(lines) + "\n"
