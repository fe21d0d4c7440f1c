"""What the index says about a project, as frozen records (no network here)."""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple, Protocol

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping


@dataclass(frozen=True, slots=True)
class Answer:
    """An HTTP answer, read in full."""

    status: int
    headers: Mapping[str, str]
    """Lower-case names; repeated headers joined with ``, ``."""
    body: bytes
    url: str
    """The final URL (after redirects), without credentials."""


@dataclass(frozen=True, slots=True)
class DistFile:
    """One file of a release, as the simple API lists it."""

    filename: str
    url: str
    """Absolute URL with no credentials in it (the client adds them per host)."""
    version: str
    """Parsed from the file name (PEP 427 / sdist naming); may not be PEP 440 valid for old sdists."""
    packagetype: str
    """``bdist_wheel`` or ``sdist``."""
    hashes: tuple[tuple[str, str], ...] = ()
    """``(algorithm, hexdigest)`` pairs, sorted."""
    requires_python: str | None = None
    yanked: bool = False
    yanked_reason: str | None = None
    upload_time: str | None = None
    """ISO 8601, as the index gives it."""
    size: int | None = None
    core_metadata: bool = False
    """The index advertises a PEP 658 ``.metadata`` file."""
    core_metadata_hashes: tuple[tuple[str, str], ...] = ()

    @property
    def sha256(self) -> str | None:
        return dict(self.hashes).get("sha256")


@dataclass(frozen=True, slots=True)
class ProjectPage:
    """A project's simple API page: files, versions and PEP 792 status."""

    name: str
    """PEP 503 normalised."""
    index_url: str
    """The index it came from (no credentials)."""
    files: tuple[DistFile, ...]
    versions: tuple[str, ...] = ()
    """PEP 700 ``versions`` when given, else the versions of ``files``."""
    status: str | None = None
    """PEP 792 ``project-status``: ``active``, ``archived``, ``quarantined``, ``deprecated``."""
    status_reason: str | None = None


class PackageFinder(Protocol):
    """What the checks and the resolver need from an index client."""

    def project(self, name: str) -> ProjectPage | None:
        """The project's page (cached per run); ``None`` when the index does not have it."""

    def prefetch(self, names: Iterable[str]) -> None:
        """Fetch many pages concurrently so later ``project`` calls are answered from memory."""

    def core_metadata(self, file: DistFile) -> bytes:
        """The file's METADATA (PEP 658, else a ranged read of the wheel, else the whole wheel)."""


@dataclass(frozen=True, slots=True)
class IndexTarget:
    """The Python whose files count when choosing releases."""

    python_version: str
    """``3.11.7``."""
    tags: frozenset[str] | None = None
    """Compatible wheel tags (``cp311-cp311-manylinux_2_17_x86_64``); ``None``: any wheel counts."""

    def key(self) -> str:
        """A stable short text naming this target (for cache keys); computed once per target."""
        return _target_key(self.python_version, self.tags)


@functools.lru_cache(maxsize=8)
def _target_key(python_version: str, tags: frozenset[str] | None) -> str:

    text = python_version + "|" + ",".join(sorted(tags or ()))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


class ReleaseFacts(NamedTuple):
    """What the index rules need of one release, for one target (a few fields, cheap to cache).

    A named tuple rather than a dataclass: a warm run makes one per release of
    every audited project (thousands) straight from the cached rows.
    """

    version: str
    """As the index writes it."""
    normalized: str
    """``str(Version(version))``, for matching pins written differently."""
    yanked: bool
    """Every file of the release is yanked (PEP 592)."""
    yanked_reason: str | None
    uploaded: str | None
    """The earliest upload time of its files (ISO 8601)."""
    fits: bool
    """Some file suits the target (``requires-python`` and wheel tags)."""
    prerelease: bool


@dataclass(frozen=True, slots=True)
class ProjectFacts:
    """A project page boiled down for the index rules: releases newest first, and its status."""

    name: str
    releases: tuple[ReleaseFacts, ...]
    status: str | None = None
    status_reason: str | None = None
