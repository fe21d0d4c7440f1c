"""Pages held the cheap way: the index's file entries as decoded, turned into objects only on demand.

A PEP 691 page of a project with many wheels lists tens of thousands of files.
``reprolock audit`` needs a handful of fields per release (see
:mod:`reprolock.index.summary`), so a :class:`LazyPage` keeps the decoded file
entries and builds :class:`~reprolock.index.models.DistFile` objects only when
:meth:`LazyPage.page` is called (the lock resolver does; the audit does not).
The compact cache form is written straight from the entries too.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from reprolock.index.compact import VersionRows, file_data, page_from_data, page_to_data
from reprolock.index.entries import (
    Absolute,
    PageError,
    compact_row,
    decode_page,
    dist_file,
    entry_rows,
    file_version,
    merge_pages,
    page_status,
    page_versions,
    row_of,
)
from reprolock.index.models import ProjectPage
from reprolock.index.summary import FactsBuilder

if TYPE_CHECKING:
    from reprolock.index.entries import Row
    from reprolock.index.models import IndexTarget, ProjectFacts


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
            return page_status(data)
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
            return merge_pages([part.page() for part in self._parts])
        data, rows = self._json() or ({}, [])
        absolute = Absolute(self._page_url)
        files = tuple(dist_file(row, absolute) for row in rows)
        status, reason = page_status(data)
        return ProjectPage(name=self.name, index_url=self.index_url, files=files, versions=page_versions(data, rows), status=status, status_reason=reason)

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
        return [row_of(item) for item in self.page().files]

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
        absolute = Absolute(self._page_url)
        files = [compact_row(row, absolute) for row in rows]
        status, reason = page_status(data)
        self._stored = {
            "name": self.name,
            "index_url": self.index_url,
            "versions": list(page_versions(data, rows)),
            "status": status,
            "status_reason": reason,
            "files": files,
        }
        return self._stored  # kept: the lock's stored tables are written from the same rows (see version_rows)


__all__ = ["LazyPage", "PageError", "file_version"]
