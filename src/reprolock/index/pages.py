"""Pages held the cheap way: the index's file entries as decoded, turned into objects only on demand.

A PEP 691 page of a project with many wheels lists tens of thousands of files.
``reprolock audit`` needs a handful of fields per release (see
:mod:`reprolock.index.summary`), so a :class:`LazyPage` keeps the decoded file
entries and builds :class:`~reprolock.index.models.DistFile` objects only when
:meth:`LazyPage.page` is called (the lock resolver does; the audit does not).
The compact cache form is written straight from the entries too.
"""

from __future__ import annotations

import json
import threading
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin

from packaging.utils import canonicalize_name

from reprolock.index.compact import VersionRows, file_data, page_from_data, page_to_data
from reprolock.index.models import DistFile, ProjectPage
from reprolock.index.summary import FactsBuilder

if TYPE_CHECKING:

    from reprolock.index.models import IndexTarget, ProjectFacts

WHEEL = "bdist_wheel"
SDIST = "sdist"
_SDIST_SUFFIXES = (".tar.gz", ".zip", ".tar.bz2", ".tgz", ".tar.xz", ".tar")

Row = tuple[str, str, str, dict[str, Any]]
"""``(filename, version, packagetype, entry)``: a usable file of a PEP 691 page and its decoded JSON entry."""


class PageError(ValueError):
    """A page that cannot be understood (malformed JSON, wrong shape)."""


def file_version(filename: str, project: str) -> tuple[str, str] | None:
    """``(version, packagetype)`` from a wheel or sdist file name; ``None`` for other files.

    Not packaging's ``parse_wheel_filename``/``parse_sdist_filename``: they refuse the legacy names and
    versions indexes still list (which the summary skips by version instead), and at a few microseconds
    a file they would cost a cold audit of a large environment a fifth of its time.
    """
    if filename.endswith(".whl"):
        parts = filename[:-4].split("-")
        return (parts[1], WHEEL) if len(parts) >= 5 else None
    lowered = filename.lower()
    for suffix in _SDIST_SUFFIXES:
        if lowered.endswith(suffix):
            stem = filename[: -len(suffix)]
            break
    else:
        return None
    # The name may itself hold dashes: split at the first dash where the prefix names the project.
    # Usually the prefix is the project's own length (canonical names keep the length of "A_b.c").
    size = len(project)
    if len(stem) > size + 1 and stem[size] == "-" and canonicalize_name(stem[:size]) == project:
        return stem[size + 1 :], SDIST
    position = stem.find("-")
    while position != -1:
        if canonicalize_name(stem[:position]) == project:
            return (stem[position + 1 :], SDIST) if position + 1 < len(stem) else None
        position = stem.find("-", position + 1)
    name, _, version = stem.rpartition("-")
    return (version, SDIST) if name and version else None


def hash_pairs(value: object) -> tuple[tuple[str, str], ...]:
    if isinstance(value, dict):
        return tuple(sorted((str(key), str(digest)) for key, digest in value.items()))
    return ()


class _Absolute:
    """Resolve file URLs against the page URL; absolute URLs (the usual case) pass through."""

    __slots__ = ("_page_url",)

    def __init__(self, page_url: str) -> None:
        self._page_url = page_url

    def __call__(self, url: str) -> str:
        return url if url.startswith(("https://", "http://")) else urljoin(self._page_url, url)


def decode_page(body: bytes | str, name: str) -> dict[str, Any]:
    """Decode a PEP 691 page (its ``name`` normalised); :class:`PageError` when it is not one."""
    try:
        data = json.loads(body)
    except ValueError as exc:
        raise PageError(f"malformed JSON from the index for {name}: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("files"), list):
        raise PageError(f"the index's JSON page for {name} has no files list")
    data["name"] = canonicalize_name(str(data.get("name") or name))
    return data


def entry_rows(data: dict[str, Any]) -> list[Row]:
    """The usable files (wheels and sdists with a URL) of a decoded page, as rows."""
    project = data["name"]
    rows: list[Row] = []
    append = rows.append
    for item in data["files"]:
        if type(item) is not dict:
            continue
        filename = item.get("filename", "")
        if type(filename) is not str:
            filename = str(filename)
        if not item.get("url"):
            continue
        if filename.endswith(".whl"):
            parts = filename[:-4].split("-")
            if len(parts) >= 5:  # name-version-python-abi-platform
                append((filename, parts[1], WHEEL, item))
            continue
        parsed = file_version(filename, project)
        if parsed is not None:
            append((filename, parsed[0], parsed[1], item))
    return rows


def json_rows(body: bytes | str, name: str) -> tuple[dict[str, Any], list[Row]]:
    """Decode a PEP 691 page: the document and its usable files."""
    data = decode_page(body, name)
    return data, entry_rows(data)


def _dist_file(row: Row, absolute: _Absolute) -> DistFile:
    return DistFile(*_compact(row, absolute))  # the compact form lists the fields in DistFile's order


def _row_of(item: DistFile) -> Row:
    """A built file as a decoded entry with the fields the summary reads."""
    entry = {"requires-python": item.requires_python, "yanked": item.yanked_reason or item.yanked, "upload-time": item.upload_time}
    return (item.filename, item.version, item.packagetype, entry)


def _merge(pages: list[ProjectPage]) -> ProjectPage:
    from dataclasses import replace  # noqa: PLC0415 - only for several indexes

    first = pages[0]
    files = {item.filename: item for page in reversed(pages) for item in page.files}
    versions = dict.fromkeys(version for page in pages for version in page.versions)
    status = next((page for page in pages if page.status), first)
    return replace(first, files=tuple(files.values()), versions=tuple(versions), status=status.status, status_reason=status.status_reason)


def _status(data: dict[str, Any]) -> tuple[str | None, str | None]:
    status = data.get("project-status")
    if not isinstance(status, dict):
        return None, None
    return status.get("status"), status.get("reason")


class LazyPage:
    """A project page whose :class:`ProjectPage` (and its files) is built on first use.

    Made from a PEP 691 body (:meth:`from_json`, decoded at once so a malformed
    page fails early), from the compact cache form (:meth:`from_data`), from
    pages of several indexes (:meth:`merge`), or from a page already built
    (:meth:`of`). :meth:`release` drops the decoded entries (keeping the body,
    decoded again if the files are wanted after all). Safe to share between
    threads: the built page and the summaries are memoised.
    """

    __slots__ = (
        "_body", "_cached", "_data", "_facts", "_groups", "_kept", "_lock", "_page", "_page_url", "_parts", "_rows", "_stored", "index_url", "name",
    )  # fmt: skip

    def __init__(self, name: str, index_url: str) -> None:
        self.name = name
        self.index_url = index_url
        self._page: ProjectPage | None = None
        self._body: bytes | str | None = None
        self._data: dict[str, Any] | None = None
        self._rows: list[Row] | None = None
        self._page_url = ""
        self._cached: dict[str, Any] | None = None
        self._stored: dict[str, Any] | None = None
        self._parts: list[LazyPage] = []
        self._facts: dict[str, ProjectFacts] = {}
        self._groups: VersionRows | None = None
        self._kept: dict[str, Any] | None = None
        """The page's fields but its files, once only :attr:`_groups` holds them."""
        self._lock = threading.Lock()

    @classmethod
    def of(cls, page: ProjectPage) -> LazyPage:
        lazy = cls(page.name, page.index_url)
        lazy._page = page
        return lazy

    @classmethod
    def from_json(cls, body: bytes | str, page_url: str, index_url: str, name: str) -> LazyPage:
        """A PEP 691 page; relative file URLs are resolved against ``page_url`` when files are built."""
        data = decode_page(body, name)
        lazy = cls(data["name"], index_url)
        lazy._body, lazy._data, lazy._page_url = body, data, page_url
        return lazy

    @classmethod
    def merge(cls, pages: list[LazyPage]) -> LazyPage | None:
        """One page from several indexes: the first index listed wins a file name that several list."""
        if len(pages) <= 1:
            return pages[0] if pages else None
        lazy = cls(pages[0].name, pages[0].index_url)
        lazy._parts = pages
        return lazy

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> LazyPage:
        """The compact cache form (see :func:`page_to_data`), turned into files on first use."""
        lazy = cls(str(data["name"]), str(data["index_url"]))
        lazy._cached = data
        return lazy

    def release(self) -> None:
        """Drop the decoded entries (the summaries stay): the compact form takes their place once it was made
        (:meth:`to_data`, for the cache), else the body is decoded again if they are needed."""
        for part in self._parts:
            part.release()
        with self._lock:
            if self._stored is not None:
                self._compacted()
            elif self._body is not None:
                self._data = self._rows = None

    def _compacted(self) -> None:
        """Keep the compact form only, as a page read from the cache holds it (the decoded entries and the body
        are several times larger)."""
        self._cached, self._stored = self._stored, None
        self._body = self._data = self._rows = None

    def _document(self) -> dict[str, Any] | None:
        """The decoded page, for a page that came as JSON and has no built files."""
        if self._body is None or self._page is not None:
            return None
        data = self._data
        if data is None:
            data = self._data = decode_page(self._body, self.name)
        return data

    def _json(self) -> tuple[dict[str, Any], list[Row]] | None:
        """The decoded page and its usable files, for a page that came as JSON and has no built files."""
        data = self._document()
        if data is None:
            return None
        rows = self._rows
        if rows is None:
            rows = self._rows = entry_rows(data)
        return data, rows

    @property
    def status(self) -> tuple[str | None, str | None]:
        """PEP 792 status and reason."""
        data = self._document()
        if data is not None:
            return _status(data)
        if self._parts and self._page is None:
            statuses = [part.status for part in self._parts]
            return next((status for status in statuses if status[0]), statuses[0])
        page = self.page()
        return page.status, page.status_reason

    def page(self) -> ProjectPage:
        """The page with all its files as :class:`DistFile` objects (built once)."""
        if self._page is not None:
            return self._page
        with self._lock:
            if self._page is None:
                self._page = self._build()
                self._data = self._rows = self._body = None
            return self._page

    def _build(self) -> ProjectPage:
        if self._cached is not None or self._kept is not None:
            return page_from_data(self.to_data())
        if self._parts:
            return _merge([part.page() for part in self._parts])
        data, rows = self._json() or ({}, [])
        absolute = _Absolute(self._page_url)
        files = tuple(_dist_file(row, absolute) for row in rows)
        status, reason = _status(data)
        return ProjectPage(name=self.name, index_url=self.index_url, files=files, versions=_versions(data, rows), status=status, status_reason=reason)

    def file_versions(self) -> set[str]:
        """The versions its files carry (without building the files)."""
        if self._page is None and self._parts:
            return {version for part in self._parts for version in part.file_versions()}
        return {row[1] for row in self.rows()}

    def rows(self) -> list[Row]:
        """Its files as decoded entries, in page order (made from the files when they are built already)."""
        if self._page is None and self._parts:
            merged = {row[0]: row for part in reversed(self._parts) for row in part.rows()}
            return list(merged.values())
        decoded = self._json()
        if decoded is not None:
            return decoded[1]
        return [_row_of(item) for item in self.page().files]

    def version_rows(self) -> VersionRows:
        """Its files grouped by version text, each group encoded until asked for (see :class:`VersionRows`).

        A lock keeps every page it reads for the run: a page made only of
        entries is then held in that form alone, and rebuilt from it if asked
        for anything else.
        """
        with self._lock:
            if self._groups is None:
                if self._page is None and not self._parts:
                    data = self.to_data()
                    self._groups = VersionRows.of(self.name, self.index_url, data["files"])
                    self._kept = {key: value for key, value in data.items() if key != "files"}
                    self._cached = self._stored = self._body = self._data = self._rows = None
                else:
                    page = self._page if self._page is not None else self._build()
                    self._groups = VersionRows.of(page.name, page.index_url, [file_data(item) for item in page.files])
            return self._groups

    def facts(self, target: IndexTarget) -> ProjectFacts:
        """The release summary for ``target`` (memoised per target)."""
        key = target.key()
        known = self._facts.get(key)
        if known is not None:
            return known
        builder = FactsBuilder(self.name, target, several=self._page is None and len(self._parts) > 1)
        self._add_to(builder)
        found = builder.facts(*self.status)
        self._facts[key] = found
        return found

    def _add_to(self, builder: FactsBuilder) -> None:
        """Feed this page's files to ``builder``: decoded entries where they lie, else the built files."""
        if self._page is None and self._parts:
            for part in self._parts:
                part._add_to(builder)  # noqa: SLF001 - a part is a LazyPage too
            return
        data = self._document()
        if data is not None:
            builder.add_entries(data["files"])
        else:
            builder.add_files(self.page().files)

    def to_data(self) -> dict[str, Any]:
        """The compact cache form, written straight from the decoded entries when the files are not built."""
        if self._cached is not None:
            return self._cached
        if self._kept is not None and self._groups is not None:
            return {**self._kept, "files": self._groups.all_data()}
        if self._stored is not None:
            return self._stored
        decoded = self._json()
        if decoded is None:
            return page_to_data(self.page())
        data, rows = decoded
        absolute = _Absolute(self._page_url)
        files = [_compact(row, absolute) for row in rows]
        status, reason = _status(data)
        self._stored = {
            "name": self.name,
            "index_url": self.index_url,
            "versions": list(_versions(data, rows)),
            "status": status,
            "status_reason": reason,
            "files": files,
        }
        return self._stored  # kept: the lock's stored tables are written from the same rows (see version_rows)


def _versions(data: dict[str, Any], rows: list[Row]) -> tuple[str, ...]:
    """PEP 700 ``versions`` when given, else the versions of the files."""
    given = data.get("versions")
    if isinstance(given, list) and given:
        return tuple(str(item) for item in given)
    return tuple(dict.fromkeys(row[1] for row in rows))


def _compact(row: Row, absolute: _Absolute) -> list[Any]:
    """A decoded entry in the compact form, equal to :func:`file_data` of the file it builds."""
    filename, version, packagetype, item = row
    yanked = item.get("yanked", False)
    metadata = item.get("core-metadata", item.get("dist-info-metadata", False))
    size = item.get("size")
    return [
        filename,
        absolute(str(item["url"])),
        version,
        packagetype,
        hash_pairs(item.get("hashes")),
        item.get("requires-python") or None,
        bool(yanked),
        yanked if isinstance(yanked, str) and yanked else None,
        item.get("upload-time"),
        size if isinstance(size, int) else None,
        bool(metadata),
        hash_pairs(metadata),
    ]
