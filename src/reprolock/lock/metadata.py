"""Dependency metadata of releases: fetched through the index client, parsed once.

Fetches can be started ahead of need (``warm``) on a small thread pool, so
the metadata of the next layer of the graph arrives while the resolver works
on this one; ``get`` then only waits for what is already under way.
"""

from __future__ import annotations

import functools
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar, cast

from packaging.requirements import InvalidRequirement, Requirement
from packaging.version import InvalidVersion, Version

from reprolock.errors import IndexUnreachableError, ReprolockError
from reprolock.sources.coremetadata import parse_fields

if TYPE_CHECKING:
    from collections.abc import Callable, Hashable, Iterable

    from reprolock.index.models import PackageFinder
    from reprolock.lock.candidates import Release


T = TypeVar("T")


class MetadataError(ReprolockError):
    """A release's dependencies cannot be known without building it (exit 1)."""


@dataclass(frozen=True, slots=True)
class Dependencies:
    """What a release's METADATA says it needs."""

    requires: tuple[Requirement, ...]
    requires_python: str | None = None


@functools.lru_cache(maxsize=8192)
def _requirement(line: str) -> Requirement:
    """A ``Requires-Dist`` value, parsed once per distinct text (many releases repeat the same lines)."""
    return Requirement(line)


def parse_dependencies(data: bytes, what: str, *, from_sdist: bool = False) -> Dependencies:
    """``Requires-Dist`` and ``Requires-Python`` of a METADATA file."""
    fields = parse_fields(data)
    if from_sdist:
        _check_static(fields.metadata_version, fields.dynamic, what)
    requires = []
    for line in fields.requires_dist:
        try:
            requires.append(_requirement(line))
        except InvalidRequirement as exc:
            raise MetadataError(f"{what}: invalid Requires-Dist {line!r} in its metadata: {exc}") from None
    return Dependencies(tuple(requires), fields.requires_python)


def _check_static(metadata_version: str | None, dynamic: tuple[str, ...], what: str) -> None:
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


class Once:
    """Compute each key's value at most once, in whichever thread asks first; others wait for it.

    Computations must not wait on other keys (they only fetch and parse), so
    worker threads that use this cannot deadlock.
    """

    def __init__(self) -> None:
        self._futures: dict[Hashable, Future[Any]] = {}
        self._lock = threading.Lock()

    def started(self, key: Hashable) -> bool:
        return key in self._futures

    def run(self, key: Hashable, compute: Callable[[], T]) -> T:
        with self._lock:
            future = self._futures.get(key)
            owner = future is None
            if future is None:
                future = self._futures[key] = Future()
        if owner:
            try:
                future.set_result(compute())
            except BaseException as exc:  # noqa: BLE001 - handed on to every waiting thread by result()
                future.set_exception(exc)
        return cast("T", future.result())


class MetadataStore:
    """Dependencies per release, fetched and parsed at most once (thread-safe)."""

    def __init__(self, finder: PackageFinder, *, workers: int = 0) -> None:
        self._finder = finder
        self._once = Once()
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="reprolock-metadata") if workers else None

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)

    @staticmethod
    def _key(release: Release) -> tuple[str, str]:
        return (release.name, str(release.version))

    def warm(self, releases: Iterable[Release]) -> None:
        """Start fetching the metadata of ``releases`` in the background (needs ``workers``)."""
        if self._pool is None:
            return
        for release in releases:
            if release.metadata_file is not None and not self._once.started(self._key(release)):
                self._pool.submit(self.get, release)

    def get(self, release: Release) -> Dependencies:
        return self._once.run(self._key(release), lambda: self._read(release))

    def _read(self, release: Release) -> Dependencies:
        what = f"{release.name} {release.version}"
        file = release.metadata_file
        if file is None:
            raise MetadataError(f"{what}: no file of this release fits the target")
        try:
            data = self._finder.core_metadata(file)
        except IndexUnreachableError:
            raise
        except (ReprolockError, OSError, ValueError) as exc:
            if release.sdist_only:
                raise MetadataError(
                    f"{what} has only an sdist ({file.filename}) and the index serves no metadata for it; reprolock never builds packages",
                    hint="pin a version that has wheels, or ask the project to publish wheels",
                ) from None
            raise MetadataError(f"{what}: cannot read the metadata of {file.filename}: {exc}") from None
        return parse_dependencies(data, what, from_sdist=release.sdist_only)
