"""The PEP 751 ``pylock.toml`` writer, with dependency edges and provenance.

The lock is made as ``packaging.pylock`` records (``Pylock``, ``Package``,
``PackageWheel``...) and written by ``tomli-w``, so the file has the fields
and escapes the standard and TOML ask for; the bytes depend only on the
``Lock`` (field order is the records', packages and files keep the lock's
order). Packages the index cannot reproduce (editables, local paths, system
packages) cannot be valid ``[[packages]]`` entries without a source; they are
listed under ``[tool.reprolock]``.
"""

from __future__ import annotations

import dataclasses
import functools
import os
from datetime import datetime
from pathlib import PurePath
from typing import TYPE_CHECKING, Any

import tomli_w
from packaging.markers import Marker
from packaging.pylock import Package, PackageArchive, PackageDirectory, PackageSdist, PackageVcs, PackageWheel, Pylock
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version

from reprolock.lock.candidates import WHEEL
from reprolock.lock.writers.requirements import as_of_note, target_note, unhashable_note, universal_note
from reprolock.versions import parse_specifier, parse_version

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

    from reprolock.index.models import DistFile
    from reprolock.lock.model import DirectSource, Lock, LockedPackage

LOCK_VERSION = Version("1.0")
_COMMENT_ESCAPES = {code: f"\\x{code:02x}" for code in (*range(9), *range(10, 32), 127)}
"""Control characters TOML forbids in a comment (all but tab), written as Python escapes in the header."""


def _upload_time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def _sdist(file: DistFile) -> PackageSdist:
    return PackageSdist(name=file.filename, upload_time=_upload_time(file.upload_time), url=file.url, size=file.size, hashes=dict(sorted(file.hashes)))


def _wheel(file: DistFile) -> PackageWheel:
    return PackageWheel(name=file.filename, upload_time=_upload_time(file.upload_time), url=file.url, size=file.size, hashes=dict(sorted(file.hashes)))


def _path(source: DirectSource, base: PurePath | None) -> str | None:
    """A local path for the lock: relative to the lock's folder when written relative (PEP 751), else as written."""
    if source.path is None or source.folder is None:
        return None
    if base is None or PurePath(source.path).is_absolute():
        return source.path
    return PurePath(os.path.relpath(source.folder, base)).as_posix()


def _direct(source: DirectSource | None, base: PurePath | None) -> tuple[PackageVcs | None, PackageArchive | None, PackageDirectory | None]:
    """The ``vcs``, ``archive`` and ``directory`` fields of a package: one of them for a direct reference."""
    if source is None:
        return None, None, None
    if source.kind == "vcs":
        vcs = PackageVcs(type=source.vcs or "git", url=source.url, requested_revision=source.requested_revision, commit_id=source.commit_id or "", subdirectory=source.subdirectory)
        return vcs, None, None
    if source.kind == "archive":
        url = None if source.path is not None else source.url
        return None, PackageArchive(url=url, path=_path(source, base), size=source.size, hashes=dict(source.hashes), subdirectory=source.subdirectory), None
    return None, None, PackageDirectory(path=_path(source, base) or source.written, editable=source.editable or None, subdirectory=source.subdirectory)


def _provenance(package: LockedPackage) -> dict[str, Any] | None:
    """``[packages.tool.reprolock]``: why the package is there and what it requires; ``None`` when nothing is known."""
    facts: dict[str, Any] = {
        "requested-by": list(package.provenance.requested),
        "required-by": list(package.parents),
        "roots": list(package.provenance.roots),
        "requires": list(package.requires),
        "yanked": package.yanked_reason,
    }
    kept = {key: value for key, value in facts.items() if value}
    return {"reprolock": kept} if kept else None


def _dependencies(package: LockedPackage) -> list[dict[str, Any]]:
    """The edges: a name, with the version when the lock has several entries of that name (a universal lock), one per entry reached."""
    versions: dict[str, list[str]] = {}
    for name, version in package.pinned_dependencies:
        versions.setdefault(name, []).append(version)
    return [
        edge
        for name in package.dependencies
        for edge in ([{"name": name, "version": version} for version in versions[name]] if name in versions else [{"name": name}])
    ]


def _package(package: LockedPackage, base: PurePath | None) -> Package:
    hashed = [file for file in package.files if file.hashes]
    sdists = [_sdist(file) for file in hashed if file.packagetype != WHEEL]
    wheels = [_wheel(file) for file in hashed if file.packagetype == WHEEL]
    # PEP 751: no version for a source tree (VCS, directory), which may hold another one by install time
    has_version = package.direct is None or package.direct.kind == "archive"
    requires_python = parse_specifier(package.requires_python) if package.requires_python else None  # an unparsable one would make the file invalid
    vcs, archive, directory = _direct(package.direct, base)
    return Package(
        name=canonicalize_name(package.name),
        version=parse_version(package.version) if has_version else None,
        marker=Marker(package.marker) if package.marker else None,
        requires_python=requires_python,
        dependencies=_dependencies(package) or None,
        vcs=vcs,
        directory=directory,
        archive=archive,
        index=package.index,
        sdist=sdists[0] if sdists else None,
        wheels=wheels or None,
        tool=_provenance(package),
    )


def lockable(package: LockedPackage) -> bool:
    """Whether the package can be a ``[[packages]]`` entry (reproducible: a direct reference, or a hashed file)."""
    return package.unreproducible is None and (package.direct is not None or any(file.hashes for file in package.files))


def _tool(lock: Lock) -> dict[str, Any]:
    """``[tool.reprolock]``: the command that regenerates the file, and the packages left out of ``[[packages]]``."""
    facts: dict[str, Any] = {"command": lock.command}
    if lock.exclude_newer:
        facts["exclude-newer"] = lock.exclude_newer
    if lock.universal:
        facts["universal"] = lock.universal
    left_out = [
        {"name": package.name, "version": package.version, "reason": package.unreproducible or "the index gives no hashes for this version"}
        for package in lock.packages
        if not lockable(package)
    ]
    if left_out:
        facts["unreproducible"] = left_out
    return {"reprolock": facts}


def pylock_record(lock: Lock, *, base: PurePath | None = None) -> Pylock:
    """The lock as a ``packaging.pylock`` record; ``base``: the lock's folder, which local paths are relative to."""
    return Pylock(
        lock_version=LOCK_VERSION,
        environments=[Marker(lock.environment_marker)] if lock.environment_marker else [Marker(marker) for marker in lock.environments] or None,
        requires_python=parse_specifier(lock.requires_python) if lock.requires_python else None,
        created_by="reprolock",
        packages=[_package(package, base) for package in lock.packages if lockable(package)],
        tool=_tool(lock),
    )


@functools.cache
def _keys(record: type[DataclassInstance]) -> tuple[tuple[str, str], ...]:
    """A record's fields and their TOML keys (``upload_time`` is ``upload-time``), in declaration order."""
    return tuple((field.name, field.name.replace("_", "-")) for field in dataclasses.fields(record))


def _toml(value: object) -> object:
    """``packaging.pylock`` records as TOML data, as ``Pylock.to_dict()`` gives them (``None`` fields left out).

    Not ``to_dict()`` itself: it deep-copies every value (``dataclasses.asdict``),
    which takes longer than writing the file.
    """
    if isinstance(value, str | int | datetime):
        return value
    if isinstance(value, Version | Marker | SpecifierSet):
        return str(value)
    if isinstance(value, list | tuple):
        return [_toml(item) for item in value]
    if isinstance(value, dict):
        return {key: _toml(item) for key, item in value.items()}
    if not dataclasses.is_dataclass(value) or isinstance(value, type):
        raise TypeError(f"not a pylock record: {value!r}")
    return {key: _toml(item) for name, key in _keys(type(value)) if (item := getattr(value, name)) is not None}


def write_pylock(lock: Lock, *, base: PurePath | None = None) -> str:
    """The lock as ``pylock.toml`` text (ends with a newline), under a comment header saying how to regenerate it."""
    header = [
        "# This file is generated by reprolock. To regenerate it, run:",
        f"#    {lock.command}",
        *(target_note(lock, pip_checks=True) if lock.target else []),
        *(universal_note(lock) if lock.universal else []),
        *(as_of_note(lock) if lock.exclude_newer else []),
        *(unhashable_note(lock, "pip install --no-require-hashes -r <this file>") if lock.unhashable else []),
    ]
    comments = "".join(f"{line.translate(_COMMENT_ESCAPES)}\n" for line in header)
    return comments + tomli_w.dumps(_toml(pylock_record(lock, base=base)))  # type: ignore[arg-type]  # a record is a table
