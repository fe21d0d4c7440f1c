"""Dependency metadata of releases: fetched through the index client, parsed once.

Fetches can be started ahead of need (``warm``) on a small thread pool, so
the metadata of the next layer of the graph arrives while the resolver works
on this one; ``get`` then only waits for what is already under way.
"""

from __future__ import annotations

import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING

from packaging.metadata import parse_email
from packaging.requirements import InvalidRequirement, Requirement
from packaging.version import InvalidVersion, Version

from reprolock.errors import IndexUnreachableError, ReprolockError

if TYPE_CHECKING:
    from collections.abc import Iterable

    from reprolock.index.models import PackageFinder
    from reprolock.lock.candidates import Release


class MetadataError(ReprolockError):
    """A release's dependencies cannot be known without building it (exit 1)."""


@dataclass(frozen=True, slots=True)
class Dependencies:
    """What a release's METADATA says it needs."""

    requires: tuple[Requirement, ...]
    requires_python: str | None = None


def parse_dependencies(data: bytes, what: str, *, from_sdist: bool = False) -> Dependencies:
    """``Requires-Dist`` and ``Requires-Python`` of a METADATA file."""
    raw, _ = parse_email(data)
    if from_sdist:
        _check_static(raw.get("metadata_version"), raw.get("dynamic") or [], what)
    requires = []
    for line in raw.get("requires_dist") or []:
        try:
            requires.append(Requirement(line))
        except InvalidRequirement as exc:
            raise MetadataError(f"{what}: invalid Requires-Dist {line!r} in its metadata: {exc}") from None
    return Dependencies(tuple(requires), raw.get("requires_python"))


def _check_static(metadata_version: str | None, dynamic: list[str], what: str) -> None:
    """An sdist's PKG-INFO can be trusted only from Metadata-Version 2.2 on, when Requires-Dist is not dynamic."""
    try:
        static = metadata_version is not None and Version(metadata_version) >= Version("2.2")
    except InvalidVersion:
        static = False
    if not static or any(field.lower() == "requires-dist" for field in dynamic):
        raise MetadataError(
            f"{what} has only an sdist whose dependencies are not static metadata; reprolock never builds packages to find out",
            hint="pin a version that has wheels, or ask the project to publish wheels",
        )


class MetadataStore:
    """Dependencies per release, fetched at most once."""

    def __init__(self, finder: PackageFinder, *, workers: int = 0) -> None:
        self._finder = finder
        self._parsed: dict[tuple[str, str], Dependencies] = {}
        self._pending: dict[tuple[str, str], Future[bytes]] = {}
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="reprolock-metadata") if workers else None

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)

    @staticmethod
    def _key(release: Release) -> tuple[str, str]:
        return (release.name, str(release.version))

    def warm(self, releases: Iterable[Release]) -> None:
        """Start fetching the metadata of ``releases`` in the background."""
        if self._pool is None:
            return
        for release in releases:
            key = self._key(release)
            file = release.metadata_file
            with self._lock:
                if file is None or key in self._parsed or key in self._pending:
                    continue
                self._pending[key] = self._pool.submit(self._finder.core_metadata, file)

    def get(self, release: Release) -> Dependencies:
        key = self._key(release)
        if key in self._parsed:
            return self._parsed[key]
        what = f"{release.name} {release.version}"
        file = release.metadata_file
        if file is None:
            raise MetadataError(f"{what}: no file of this release fits the target")
        with self._lock:
            pending = self._pending.pop(key, None)
        try:
            data = pending.result() if pending is not None else self._finder.core_metadata(file)
        except IndexUnreachableError:
            raise
        except (ReprolockError, OSError, ValueError) as exc:
            if release.sdist_only:
                raise MetadataError(
                    f"{what} has only an sdist ({file.filename}) and the index serves no metadata for it; reprolock never builds packages",
                    hint="pin a version that has wheels, or ask the project to publish wheels",
                ) from None
            raise MetadataError(f"{what}: cannot read the metadata of {file.filename}: {exc}") from None
        parsed = parse_dependencies(data, what, from_sdist=release.sdist_only)
        self._parsed[key] = parsed
        return parsed
