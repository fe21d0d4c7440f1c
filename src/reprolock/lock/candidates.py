"""Which versions of a project may be locked for a target, and which file describes each.

Rules, in the order pip applies them:

* a file must fit the target: a wheel with a supported tag, or an sdist;
  its ``Requires-Python`` must admit the target's Python;
* yanked files (PEP 592) only when the requirement pins that version exactly;
* pre-releases only with ``--pre``, when a specifier names a pre-release,
  or when pinned exactly;
* the dependencies of a version are read from its most preferred wheel; an
  sdist-only version is usable only when the index serves its metadata
  (reprolock never runs a build backend).
"""

from __future__ import annotations

import functools
import itertools
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from reprolock.errors import InputError
from reprolock.index.compact import file_data
from reprolock.versions import parse_version, python_admits

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator, Sequence

    from reprolock.index.compact import VersionRows
    from reprolock.index.models import DistFile, PackageFinder, ProjectPage
    from reprolock.lock.target import LockTarget

WHEEL = "bdist_wheel"
SDIST = "sdist"


@dataclass(frozen=True, slots=True)
class Release:
    """One version of a project as a lock can use it."""

    name: str
    version: Version
    files: tuple[DistFile, ...]
    """Every file of the version (hashes cover all platforms), sorted by file name."""
    metadata_file: DistFile | None
    """The file whose METADATA gives the dependencies (best wheel, else the sdist)."""
    index_url: str
    yanked: bool = False
    yanked_reason: str | None = None

    @property
    def sdist_only(self) -> bool:
        return self.metadata_file is not None and self.metadata_file.packagetype != WHEEL


@dataclass(frozen=True, slots=True)
class Wanted:
    """What the requirements on one project allow."""

    specifiers: tuple[SpecifierSet, ...] = ()
    allow_pre: bool = False
    """``--pre`` was given."""

    @property
    def exact_pins(self) -> frozenset[str]:
        """Versions pinned with ``==X`` (no wildcard) or ``===X``."""
        pins = set()
        for specifier in self.specifiers:
            for spec in specifier:
                if spec.operator == "===" or (spec.operator == "==" and not spec.version.endswith(".*")):
                    pins.add(spec.version)
        return frozenset(pins)

    def pinned(self, version: Version) -> bool:
        return any(_same(version, pin) for pin in self.exact_pins)

    def pre_ok(self, version: Version) -> bool:
        if not version.is_prerelease or self.allow_pre:
            return True
        return self.pinned(version) or any(spec.prereleases for spec in self.specifiers)

    def admits(self, version: Version) -> bool:
        return all(specifier.contains(version, prereleases=True) for specifier in self.specifiers) and self.pre_ok(version)


def _same(version: Version, pin: str) -> bool:
    parsed = parse_version(pin)
    return version == parsed if parsed is not None else str(version) == pin


def wheel_rank(file: DistFile, target: LockTarget) -> int | None:
    """The wheel's best tag rank for the target (lower is better), ``None`` if it does not fit."""
    return target.wheel_rank(file.filename)


def _usable(file: DistFile, target: LockTarget) -> bool:
    if not python_admits(file.requires_python, target.python_version):
        return False
    if file.packagetype == WHEEL:
        return target.any_wheel or wheel_rank(file, target) is not None
    return file.packagetype == SDIST


def _by_version(files: Iterable[DistFile]) -> dict[Version, list[DistFile]]:
    by_text: dict[str, list[DistFile]] = {}
    for file in files:
        by_text.setdefault(file.version, []).append(file)
    grouped: dict[Version, list[DistFile]] = {}
    for text, group in by_text.items():
        version = parse_version(text)
        if version is not None:
            grouped.setdefault(version, []).extend(group)
    return grouped


def release_of(page: ProjectPage, version: Version, files: Sequence[DistFile], target: LockTarget, *, allow_yanked: bool) -> Release | None:
    """The release made of ``files``, or ``None`` when no file of it fits the target."""
    return make_release(page.name, page.index_url, version, tuple(sorted(files, key=lambda f: f.filename)), target, allow_yanked=allow_yanked)


def uploaded_by(name: str, files: tuple[DistFile, ...], cutoff: datetime | None) -> tuple[DistFile, ...]:
    """The files uploaded at or before ``cutoff`` (``--exclude-newer``); all of them without one.

    A file without a PEP 700 upload time cannot be placed in time: an error, not a guess.
    """
    if cutoff is None:
        return files
    kept = []
    for file in files:
        uploaded = parse_upload_time(file.upload_time)
        if uploaded is None:
            raise InputError(f"--exclude-newer: the index gives no upload time for {file.filename} ({name})", hint="the index must serve PEP 700 upload-time")
        if uploaded <= cutoff:
            kept.append(file)
    return tuple(kept)


def parse_upload_time(value: str | None) -> datetime | None:
    """A PEP 700 ``upload-time`` as an aware datetime (UTC when it names no zone); ``None`` when missing or unreadable."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def make_release(name: str, index_url: str, version: Version, files: tuple[DistFile, ...], target: LockTarget, *, allow_yanked: bool) -> Release | None:
    """The release of ``files`` (sorted by file name), or ``None`` when no file of it fits the target."""
    files = uploaded_by(name, files, target.exclude_newer)
    fitting = [file for file in files if _usable(file, target) and (allow_yanked or not file.yanked)]
    if not fitting:
        return None
    wheels = [(rank, file.filename, file) for file in fitting if file.packagetype == WHEEL and (rank := wheel_rank(file, target)) is not None]
    if wheels:
        metadata_file = min(wheels, key=lambda item: (item[0], item[1]))[2]
    else:  # no wheel for the target's tags (only a universal sample admits such wheels): any wheel, else the sdist
        metadata_file = min([file for file in fitting if file.packagetype == WHEEL] or fitting, key=lambda f: f.filename)
    yanked = all(file.yanked for file in fitting)
    reasons = sorted({file.yanked_reason for file in fitting if file.yanked and file.yanked_reason})
    return Release(
        name=name,
        version=version,
        files=files,
        metadata_file=metadata_file,
        index_url=index_url,
        yanked=yanked,
        yanked_reason=reasons[0] if reasons else None,
    )


@functools.lru_cache(maxsize=65536)
def _admitted(specifier: str, version: Version) -> bool:
    try:
        return SpecifierSet(specifier).contains(version, prereleases=True)
    except InvalidSpecifier:
        return False


class ProjectTable:
    """One project's releases for one target, grouped and sorted once per run.

    ``versions`` lists every valid version, newest first; whether a version has
    a file that fits the target is found out when the resolver gets to it (a
    page may list thousands of wheels, of which it looks at a few), so a
    :class:`Release` is built on first use
    and kept. Subclasses may load a version's files lazily (see
    :mod:`reprolock.lock.tables`).
    """

    def __init__(self, name: str, index_url: str, versions: Sequence[Version], target: LockTarget) -> None:
        self.name = name
        self.index_url = index_url
        self.versions = tuple(versions)
        self.target = target
        self._known = frozenset(self.versions)
        self._releases: dict[tuple[Version, bool], Release | None] = {}

    def files(self, version: Version) -> tuple[DistFile, ...]:
        """Every file of ``version`` (sorted by file name)."""
        raise NotImplementedError

    def files_of(self, text: str) -> tuple[DistFile, ...]:
        """Every file of version ``text``, compared by value (``1.0`` is ``1.0.0``); sorted by file name.

        Tables that know the page's files also answer a version that is not PEP 440 valid (by its text).
        """
        version = parse_version(text)
        return self.files(version) if version is not None and version in self._known else ()

    def file_data(self, version: Version) -> list[list[Any]]:
        """The files of ``version`` in the compact form of the cache (see :func:`reprolock.index.compact.file_data`)."""
        return [file_data(file) for file in self.files(version)]

    def encoded(self, version: Version) -> bytes:
        """:meth:`file_data` of ``version`` as compact JSON (how a stored table keeps it)."""
        return json.dumps(self.file_data(version), separators=(",", ":")).encode()

    def release(self, version: Version, *, allow_yanked: bool) -> Release | None:
        key = (version, allow_yanked)
        if key not in self._releases:
            self._releases[key] = make_release(self.name, self.index_url, version, self.files(version), self.target, allow_yanked=allow_yanked)
        return self._releases[key]

    def iter_releases(self, wanted: Wanted, *, prefer: str | None = None) -> Iterator[Release]:
        """The releases ``wanted`` admits, ``prefer`` first, then newest first; built lazily."""
        order: Iterable[Version] = self.versions
        preferred = parse_version(prefer) if prefer is not None else None
        if preferred is not None and preferred in self._known:
            order = itertools.chain((preferred,), (version for version in self.versions if version != preferred))
        texts = tuple(str(specifier) for specifier in wanted.specifiers)
        pins = wanted.exact_pins
        pre_named = wanted.allow_pre or any(specifier.prereleases for specifier in wanted.specifiers)
        for version in order:
            if not all(_admitted(text, version) for text in texts):
                continue
            pinned = any(_same(version, pin) for pin in pins)
            if version.is_prerelease and not (pre_named or pinned):
                continue
            release = self.release(version, allow_yanked=pinned)
            if release is not None:
                yield release


class PageTable(ProjectTable):
    """A :class:`ProjectTable` over a page held in memory."""

    def __init__(self, page: ProjectPage, target: LockTarget) -> None:
        self._grouped = _by_version(page.files)
        self._page = page
        self._files: dict[Version, tuple[DistFile, ...]] = {}
        super().__init__(page.name, page.index_url, sorted(self._grouped, reverse=True), target)

    def files(self, version: Version) -> tuple[DistFile, ...]:
        if version not in self._files:
            self._files[version] = tuple(sorted(self._grouped.get(version, ()), key=lambda f: f.filename))
        return self._files[version]

    def files_of(self, text: str) -> tuple[DistFile, ...]:
        if parse_version(text) is None:
            return tuple(sorted((f for f in self._page.files if f.version == text), key=lambda f: f.filename))
        return super().files_of(text)


class RowTable(ProjectTable):
    """A :class:`ProjectTable` over a page's files grouped by version text (:class:`VersionRows`).

    The versions are parsed once per distinct text and sorted; a version's
    :class:`DistFile` objects are built when the resolver (or the lookahead)
    first asks for them, so a page of thousands of files costs a few built
    versions. :attr:`built` tells which versions were built.
    """

    def __init__(self, rows: VersionRows, target: LockTarget) -> None:
        self.rows = rows
        texts: dict[Version, list[str]] = {}
        for text in rows.groups:
            version = parse_version(text)
            if version is not None:
                found = texts.get(version)
                if found is None:
                    texts[version] = [text]
                else:
                    found.append(text)
        self._texts = texts
        self._files: dict[Version, tuple[DistFile, ...]] = {}
        super().__init__(rows.name, rows.index_url, sorted(texts, reverse=True), target)

    @property
    def built(self) -> frozenset[Version]:
        """The versions whose files have been built so far."""
        return frozenset(self._files)

    def files(self, version: Version) -> tuple[DistFile, ...]:
        found = self._files.get(version)
        if found is None:
            built = [file for text in self._texts.get(version, ()) for file in self.rows.files(text)]
            found = self._files[version] = tuple(sorted(built, key=lambda f: f.filename))
        return found

    def files_of(self, text: str) -> tuple[DistFile, ...]:
        if parse_version(text) is None:
            return tuple(sorted(self.rows.files(text), key=lambda f: f.filename))
        return super().files_of(text)

    def encoded(self, version: Version) -> bytes:
        """The page's own encoded group when one version text names ``version`` (the common case): nothing decoded."""
        texts = self._texts.get(version, ())
        if len(texts) == 1:
            return self.rows.groups[texts[0]]
        return super().encoded(version)

    def file_data(self, version: Version) -> list[list[Any]]:
        """From the page's entries, building no file (the files of every version are stored)."""
        data = [row for text in self._texts.get(version, ()) for row in self.rows.data(text)]
        data.sort(key=lambda row: row[0])
        return data


def project_table(finder: PackageFinder, name: str, target: LockTarget) -> ProjectTable | None:
    """The candidate table of ``name`` (``None``: the index does not have it).

    Over the page's grouped entries when the finder offers them (see
    :meth:`reprolock.index.finder.IndexFinder.version_rows`), else over its built page.
    """
    version_rows: Callable[[str], VersionRows | None] | None = getattr(finder, "version_rows", None)
    if version_rows is not None:
        rows = version_rows(name)
        return RowTable(rows, target) if rows is not None else None
    page = finder.project(name)
    return PageTable(page, target) if page is not None else None


def iter_releases(page: ProjectPage, target: LockTarget, wanted: Wanted, *, prefer: str | None = None) -> Iterator[Release]:
    """The releases ``wanted`` admits for ``target``, ``prefer`` first, then newest first; built lazily."""
    return PageTable(page, target).iter_releases(wanted, prefer=prefer)


def releases(page: ProjectPage, target: LockTarget, wanted: Wanted, *, prefer: str | None = None) -> list[Release]:
    """All of :func:`iter_releases`."""
    return list(iter_releases(page, target, wanted, prefer=prefer))


def files_of_version(page: ProjectPage, version: str) -> tuple[DistFile, ...]:
    """Every file of ``version`` on the page (compared by value: ``1.0`` is ``1.0.0``)."""
    try:
        wanted = Version(version)
    except InvalidVersion:
        return tuple(sorted((f for f in page.files if f.version == version), key=lambda f: f.filename))
    return tuple(sorted(_by_version(page.files).get(wanted, ()), key=lambda f: f.filename))
