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
class DirectSource:
    """Where a direct reference (VCS, archive URL, local path) is installed from, as the lock records it."""

    kind: str
    """``vcs``, ``archive`` or ``directory`` (the PEP 751 table)."""
    written: str
    """The URL or path as the input wrote it (credentials masked)."""
    url: str | None = None
    """VCS: the repository (no ``git+``, no ``@ref``); archive: the URL, no fragment; ``None`` for a local path."""
    path: str | None = None
    """A local directory or archive: the path as written, a ``file:`` URL turned into a path."""
    folder: str | None = None
    """That path made absolute (from the current directory), for a lock written elsewhere."""
    vcs: str | None = None
    requested_revision: str | None = None
    commit_id: str | None = None
    subdirectory: str | None = None
    hashes: tuple[tuple[str, str], ...] = ()
    """Archive: ``(algorithm, hex digest)`` of the bytes read."""
    size: int | None = None
    editable: bool = False

    @property
    def hashable(self) -> bool:
        """Whether pip can check this source against a hash (not a VCS checkout, not a directory)."""
        return self.kind == "archive"

    @property
    def requirement_url(self) -> str:
        """What follows ``name @`` in a requirements-style lock: the VCS URL at the commit, else the URL or path as written."""
        if self.kind == "vcs" and self.url and self.commit_id:
            tail = f"#subdirectory={self.subdirectory}" if self.subdirectory else ""
            return f"{self.vcs}+{self.url}@{self.commit_id}{tail}"
        return self.written


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
    """Those requirements with their specifiers and extras (``markupsafe>=2.0``), sorted; in a universal lock with their markers too; empty when unknown."""
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
    direct: DirectSource | None = None
    """Set for a direct reference; ``version`` is then ``""`` when the source tree's version is dynamic."""
    pinned_dependencies: tuple[tuple[str, str], ...] = ()
    """In a universal lock, (name, version) of each dependency that has several entries: which of them the edge reaches."""

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
    exclude_newer: str | None = None
    """``--exclude-newer``: files uploaded after this moment were ignored (see ``LockTarget.as_of``)."""
    universal: str | None = None
    environments: tuple[str, ...] = ()
    """A universal lock's pylock ``environments``: one marker per platform it was resolved for."""
    """``--universal``: the targets the lock covers (``CPython 3.9 to 3.14 on linux, macos and windows``); ``None`` for one target."""

    @property
    def unhashable(self) -> tuple[LockedPackage, ...]:
        """Direct references pip cannot hash (VCS checkouts, directories): pip's hash-checking mode refuses them."""
        return tuple(package for package in self.packages if package.direct is not None and not package.direct.hashable)

    def package(self, name: str) -> LockedPackage | None:
        return next((package for package in self.packages if package.name == name), None)
