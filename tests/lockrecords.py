"""Records for the lock's unit tests: index pages made from real wheels in a folder.

``FolderFinder`` answers the ``PackageFinder`` protocol from files on disk
(no HTTP): the page lists each file with its real sha256 and size, and
``core_metadata`` reads the wheel's own METADATA. The end-to-end tests use
the real test index server instead.
"""

from __future__ import annotations

import hashlib
import zipfile
from typing import TYPE_CHECKING

from packaging.utils import canonicalize_name, parse_sdist_filename, parse_wheel_filename

from reprolock.index.models import DistFile, ProjectPage
from wheelfactory import Dist, build_sdist, build_wheel

if TYPE_CHECKING:
    from collections.abc import Iterable
    from pathlib import Path

INDEX = "https://index.invalid/simple/"


def dist_file(path: Path, *, yanked: str | None = None, requires_python: str | None = None) -> DistFile:
    data = path.read_bytes()
    if path.name.endswith(".whl"):
        name, version, _, _ = parse_wheel_filename(path.name)
        kind = "bdist_wheel"
    else:
        name, version = parse_sdist_filename(path.name)
        kind = "sdist"
    return DistFile(
        filename=path.name,
        url=f"https://files.invalid/{name}/{path.name}",
        version=str(version),
        packagetype=kind,
        hashes=(("sha256", hashlib.sha256(data).hexdigest()),),
        requires_python=requires_python,
        yanked=yanked is not None,
        yanked_reason=yanked or None,
        upload_time="2024-01-01T00:00:00.000000Z",
        size=len(data),
    )


class FolderFinder:
    """A ``PackageFinder`` over wheels and sdists built into a folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.pages: dict[str, list[DistFile]] = {}
        self.paths: dict[str, Path] = {}
        self.requested: list[str] = []
        self.prefetched: list[str] = []

    def add(self, dist: Dist, *, yanked: str | None = None, sdist: bool = False, wheel: bool = True) -> None:
        built = []
        if wheel:
            built.append(build_wheel(dist, self.folder))
        if sdist:
            built.append(build_sdist(dist, self.folder))
        for path in built:
            file = dist_file(path, yanked=yanked, requires_python=dist.requires_python)
            self.pages.setdefault(canonicalize_name(dist.name), []).append(file)
            self.paths[file.filename] = path

    def add_all(self, dists: Iterable[Dist]) -> FolderFinder:
        for dist in dists:
            self.add(dist)
        return self

    def project(self, name: str) -> ProjectPage | None:
        self.requested.append(name)
        files = self.pages.get(name)
        if files is None:
            return None
        return ProjectPage(name=name, index_url=INDEX, files=tuple(files))

    def prefetch(self, names: Iterable[str]) -> None:
        self.prefetched.extend(names)

    def core_metadata(self, file: DistFile) -> bytes:
        path = self.paths[file.filename]
        if not file.filename.endswith(".whl"):
            msg = "no metadata for sdists here"
            raise OSError(msg)
        with zipfile.ZipFile(path) as archive:
            member = next(item for item in archive.namelist() if item.endswith(".dist-info/METADATA"))
            return archive.read(member)
