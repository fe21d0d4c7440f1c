"""The frozen result of locking: packages, their files, edges and provenance."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from reprolock.index.models import DistFile


@dataclass(frozen=True, slots=True)
class Provenance:
    """Why a package is in the lock."""

    requested: tuple[str, ...] = ()
    """Input lines that name it (``requirements.in:3``)."""
    via_files: tuple[str, ...] = ()
    """``-r requirements.in`` / ``-c constraints.txt`` / ``pyproject.toml (project.dependencies)``."""
    roots: tuple[str, ...] = ()
    """Input lines whose dependency closure brings it in."""


@dataclass(frozen=True, slots=True)
class LockedPackage:
    """One pinned distribution."""

    name: str
    """PEP 503 normalised."""
    version: str
    files: tuple[DistFile, ...] = ()
    """Every file of the version (sorted by file name); empty when not from an index."""
    index: str | None = None
    dependencies: tuple[str, ...] = ()
    """Names of the locked packages it requires (markers evaluated for the target)."""
    requires: tuple[str, ...] = ()
    """Those requirements with their specifiers and extras (``markupsafe>=2.0``), sorted; empty when unknown."""
    parents: tuple[str, ...] = ()
    """Names of the locked packages that require it."""
    provenance: Provenance = field(default_factory=Provenance)
    marker: str | None = None
    """When only marker-guarded input lines ask for it, their markers."""
    requires_python: str | None = None
    unreproducible: str | None = None
    """Why the index cannot reproduce it (editable, local path, system package); ``None`` when it can."""
    yanked_reason: str | None = None
    """Set when a yanked release was pinned on purpose."""

    @property
    def sha256s(self) -> tuple[str, ...]:
        return tuple(sorted({digest for file in self.files if (digest := file.sha256)}))


@dataclass(frozen=True, slots=True)
class Lock:
    """What a lockfile holds, independent of its format."""

    packages: tuple[LockedPackage, ...]
    """Sorted by name."""
    command: str
    """The command that regenerates the file."""
    environment_marker: str | None = None
    """The target the markers were evaluated for."""
    requires_python: str | None = None
    target: str | None = None
    """The one interpreter the lock is for (see ``LockTarget.description``), named in the file's header."""

    def package(self, name: str) -> LockedPackage | None:
        return next((package for package in self.packages if package.name == name), None)
