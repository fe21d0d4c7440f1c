"""The index client the checks and the resolver use: memory, then the disk cache, then the network.

:class:`IndexFinder` implements :class:`~reprolock.index.models.PackageFinder`
over one or more indexes (the first one listed wins a file name that several
list). Pages are settled many at a time on a thread pool over one HTTP client:
a fresh cache entry is used as it is, a stale one is revalidated with its
``ETag``/``Last-Modified`` (a 304 keeps it), anything else is fetched.
``file://`` indexes are read from disk. With ``offline`` the cache is used
whatever its age; what it does not hold is *unknown*, not missing.

Core metadata is :mod:`.coremetadata`'s job, per-version vulnerability data
:mod:`.vulns`'s; this module owns the pages and their per-target summaries.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from reprolock.errors import IndexUnreachableError
from reprolock.index.cache import DEFAULT_FRESHNESS, Cache, Entry, Freshness
from reprolock.index.coremetadata import CoreMetadata
from reprolock.index.pages import LazyPage, PageError
from reprolock.index.progress import progress_bar
from reprolock.index.simple import ACCEPT, local_page, parse_lazy
from reprolock.index.summary import facts_from_data, facts_to_data
from reprolock.index.vulns import Vulnerabilities
from reprolock.redaction import redacted

if TYPE_CHECKING:
    from collections.abc import Iterable

    from rich.console import Console

    from reprolock.index.compact import VersionRows
    from reprolock.index.config import IndexSource
    from reprolock.index.http import IndexHttp
    from reprolock.index.models import Answer, DistFile, IndexTarget, ProjectFacts, ProjectPage
    from reprolock.index.options import IndexOptions


class NotCachedError(IndexUnreachableError):
    """``--offline`` and the cache does not hold what is needed."""


class _Local:
    """Marks a ``file://`` index in a project's list of cached answers."""


_LOCAL = _Local()
_Known = LazyPage | Entry | _Local | None
"""Per index: a ``file://`` tree, a cache entry (fresh or to revalidate), or nothing cached."""


class IndexFinder:
    """Pages, core metadata and per-version vulnerability data from the selected indexes."""

    def __init__(
        self,
        options: IndexOptions,
        *,
        cache: Cache | None = None,
        http: IndexHttp | None = None,
        console: Console | None = None,
        freshness: float = DEFAULT_FRESHNESS,
    ) -> None:
        self.options = options
        self.indexes: tuple[IndexSource, ...] = options.indexes
        self.offline = options.offline
        self.cache = cache
        self.freshness = freshness
        self._console = console
        self._http = http
        self._lock = threading.Lock()
        self._pages: dict[str, LazyPage | None] = {}
        self._summaries: dict[tuple[str, str], ProjectFacts | None] = {}
        self._settling: dict[str, threading.Event] = {}
        self._failed: set[str] = set()
        self.unknown: set[str] = set()
        """Projects whose page could not be had (offline and not cached)."""
        self._metadata = CoreMetadata(self.get, cache)
        self._vulnerabilities = Vulnerabilities(self, cache)

    # -- network ---------------------------------------------------------------------------------

    @property
    def requests(self) -> int:
        """HTTP requests sent so far (redirect hops and retries included)."""
        return self._http.requests if self._http is not None else 0

    def get(self, url: str, headers: dict[str, str] | None = None) -> Answer:
        """One GET through the run's client (made on first use); refused with ``--offline``."""
        if self.offline:
            raise NotCachedError(f"{redacted(url)} is not in the cache and --offline was given", hint="run once without --offline")
        with self._lock:
            if self._http is None:
                from reprolock.index.http import IndexHttp  # noqa: PLC0415 - httpx loads only when the network is used

                self._http = IndexHttp(self.options)
        return self._http.get(url, headers)

    def close(self) -> None:
        if self._http is not None:
            self._http.close()
        if self.cache is not None:
            self.cache.close()

    # -- pages -----------------------------------------------------------------------------------

    def project(self, name: str) -> ProjectPage | None:
        """The merged page of ``name`` from every index; ``None`` when none has it."""
        lazy = self._settled(name)
        return lazy.page() if lazy is not None else None

    def version_rows(self, name: str) -> VersionRows | None:
        """The files of ``name`` grouped by version, built only per version asked for (the lock's candidate tables)."""
        lazy = self._settled(name)
        return lazy.version_rows() if lazy is not None else None

    def _settled(self, name: str) -> LazyPage | None:
        self.prefetch([name])
        if name in self.unknown:
            raise NotCachedError(f"the index page of {name} is not in the cache and --offline was given", hint="run once without --offline")
        return self._pages.get(name)

    def pages(self, names: Iterable[str]) -> dict[str, ProjectPage | None]:
        """Pages for many projects at once; names in :attr:`unknown` are left out."""
        wanted = list(dict.fromkeys(names))
        self.prefetch(wanted)
        return {name: (lazy.page() if (lazy := self._pages.get(name)) is not None else None) for name in wanted if name not in self.unknown}

    def prefetch(self, names: Iterable[str]) -> None:
        """Settle the pages of ``names`` that memory does not hold, many at a time."""
        self._settle_all(names, None)

    def summaries(self, names: Iterable[str], target: IndexTarget) -> dict[str, ProjectFacts | None]:
        """What the index rules need per project, for ``target``; names in :attr:`unknown` are left out.

        Summaries are cached per project and target, so a warm run reads a few
        kilobytes per project instead of whole pages.
        """
        wanted = list(dict.fromkeys(names))
        key = target.key()
        found: dict[str, ProjectFacts | None] = {}
        missing = []
        for name in wanted:
            if (key, name) in self._summaries:
                found[name] = self._summaries[(key, name)]
            elif (stored := self._stored_facts(target, name)) is not None:
                found[name] = facts_from_data(stored["facts"]) if stored["facts"] is not None else None
            else:
                missing.append(name)
        self._settle_all(missing, target)
        for name in missing:
            if name not in self.unknown:
                found[name] = self._summaries[(key, name)] if (key, name) in self._summaries else self._summarize(name, self._pages.get(name), target)
        return {name: found[name] for name in wanted if name in found}

    def _stored_facts(self, target: IndexTarget, name: str) -> dict[str, Any] | None:
        if self.cache is None:
            return None
        stored = self.cache.get_data(self._scope, f"facts-{target.key()}-{name}", None if self.offline else self.freshness)
        return stored if isinstance(stored, dict) and "facts" in stored else None

    @property
    def _scope(self) -> str:
        return " ".join(source.url for source in self.indexes)

    def _summarize(self, name: str, lazy: LazyPage | None, target: IndexTarget) -> ProjectFacts | None:
        facts = lazy.facts(target) if lazy is not None else None
        self._summaries[(target.key(), name)] = facts
        if self.cache is not None:
            self.cache.put_data(self._scope, f"facts-{target.key()}-{name}", {"facts": facts_to_data(facts) if facts else None})
        return facts

    def _settle_all(self, names: Iterable[str], target: IndexTarget | None) -> None:
        """Settle every name not in memory: from the fresh cache at once, the rest over the network concurrently.

        A name another thread is settling is waited for, not fetched twice.
        """
        wanted = [name for name in dict.fromkeys(names) if name not in self._pages and name not in self.unknown and name not in self._failed]
        with self._lock:
            todo = [name for name in wanted if name not in self._settling]
            others = [self._settling[name] for name in wanted if name in self._settling]
            for name in todo:
                self._settling[name] = threading.Event()
        try:
            self._settle_these(todo, target)
        except BaseException:
            self._failed.update(name for name in todo if name not in self._pages)  # its error is the run's; not asked again
            raise
        finally:
            with self._lock:
                for name in todo:
                    self._settling.pop(name).set()
        for event in others:
            event.wait()

    def _settle_these(self, todo: list[str], target: IndexTarget | None) -> None:
        network: list[tuple[str, list[_Known]]] = []
        for name in todo:
            known = [self._known(source, name) for source in self.indexes]
            if any(isinstance(item, Entry) or (item is None and not self.offline) for item in known):
                network.append((name, known))
            else:
                self._settle(name, known, target)
        if not network:
            return
        with progress_bar(len(network), self._console) as advance:

            def job(item: tuple[str, list[_Known]]) -> None:
                name, known = item
                self._settle(name, [self._fetched(self.indexes[i], name, entry) for i, entry in enumerate(known)], target)
                advance()

            if len(network) == 1:
                job(network[0])
                return
            with ThreadPoolExecutor(max_workers=min(self.options.concurrency, len(network)), thread_name_prefix="reprolock-index") as pool:
                for _ in pool.map(job, network):
                    pass

    def _known(self, source: IndexSource, name: str) -> _Known:
        """What is known of ``name`` on ``source`` before asking: a fresh page, an entry to revalidate, or nothing."""
        if source.is_local:
            return _LOCAL
        entry = self.cache.get(source.url, name) if self.cache is not None else None
        if entry is not None and (self.offline or entry.is_fresh(time.time())):
            return entry.page if entry.page is not None else _NO_PAGE
        return entry

    def _fetched(self, source: IndexSource, name: str, known: _Known) -> _Known:
        """``known`` with stale or missing pages asked of the index (settled answers pass through; offline, no
        job has either: :meth:`_known` answers from the cache whatever its age)."""
        if known is None or isinstance(known, Entry):
            return self._fetch_page(source, name, known) or _NO_PAGE
        return known

    def _settle(self, name: str, known: list[_Known], target: IndexTarget | None) -> None:
        """Merge the pages of ``name`` (reading ``file://`` trees) and, with a ``target``, summarise them."""
        if any(item is None for item in known):  # offline and not cached
            with self._lock:
                self.unknown.add(name)
            return
        pages: list[LazyPage] = []
        for source, item in zip(self.indexes, known, strict=True):
            page = local_page(source.url, name) if item is _LOCAL else item
            if isinstance(page, LazyPage):
                pages.append(page)
        lazy = LazyPage.merge(pages)
        self._pages[name] = lazy
        if target is not None:
            self._summarize(name, lazy, target)
            if lazy is not None:
                lazy.release()  # the summary is what the audit reads; the decoded page can go

    def _fetch_page(self, source: IndexSource, name: str, entry: Entry | None) -> LazyPage | None:
        url = f"{source.url}{name}/"
        headers = {"Accept": ACCEPT}
        if entry is not None and entry.etag:
            headers["If-None-Match"] = entry.etag
        if entry is not None and entry.last_modified:
            headers["If-Modified-Since"] = entry.last_modified
        answer = self.get(url, headers)
        freshness = Freshness.from_headers(answer.headers.get("cache-control"), self.freshness)
        if answer.status == 304 and entry is not None:
            if self.cache is not None:
                self.cache.touch(source.url, name, entry, freshness)
            return entry.page
        page: LazyPage | None = None
        if answer.status not in {404, 410}:
            if answer.status != 200:
                hint = "check the credentials for this index" if answer.status in {401, 403} else "check --index-url"
                raise IndexUnreachableError(f"the package index answered HTTP {answer.status} for {redacted(url)}", hint=hint)
            try:
                page = parse_lazy(answer.body, answer.headers.get("content-type", ""), answer.url, source.url, name)
            except PageError as exc:
                raise IndexUnreachableError(f"{exc} ({redacted(url)})", hint="the index sent a page reprolock cannot read; try again later") from None
        etag, modified = answer.headers.get("etag"), answer.headers.get("last-modified")
        # A page is kept when the index says how long it stays fresh or how to revalidate it; else a later run
        # fetches it again anyway (the audit's summaries, the lock's tables and the metadata carry warm runs).
        kept = page is None or etag or modified or answer.headers.get("cache-control")
        if self.cache is not None and freshness.store and kept:
            self.cache.put(source.url, name, Entry(page, time.time(), freshness.max_age, etag, modified))
        return page

    def listed_hashes(self, pairs: Iterable[tuple[str, str]]) -> dict[tuple[str, str], frozenset[str]]:
        """Every ``algorithm:digest`` the index lists for the files of each ``(name, version)``, kept in the
        cache like a summary (a warm run reads no page for them); pairs whose project is unknown are left out."""
        found: dict[tuple[str, str], frozenset[str]] = {}
        missing = []
        for name, version in dict.fromkeys(pairs):
            stored = self.cache.get_data(self._scope, f"hashes-{name}-{version}", None if self.offline else self.freshness) if self.cache else None
            if isinstance(stored, list):
                found[(name, version)] = frozenset(map(str, stored))
            else:
                missing.append((name, version))
        self.prefetch(name for name, _ in missing)
        for name, version in missing:
            lazy = self._pages.get(name)
            if name in self.unknown or lazy is None:
                continue
            listed = lazy.version_rows().hashes(version)
            found[(name, version)] = listed
            if self.cache is not None:
                self.cache.put_data(self._scope, f"hashes-{name}-{version}", sorted(listed))
        return found

    # -- core metadata and vulnerabilities ------------------------------------------------------------

    def core_metadata(self, file: DistFile) -> bytes:
        """METADATA of ``file``: PEP 658, else a ranged read of the wheel, else the whole file."""
        return self._metadata.read(file)

    def vulnerabilities(self, name: str, version: str) -> list[dict[str, Any]] | None:
        """The index's per-version JSON ``vulnerabilities`` list; ``None`` when the index offers none."""
        return self._vulnerabilities.one(name, version)

    def vulnerabilities_many(self, pairs: Iterable[tuple[str, str]]) -> dict[tuple[str, str], list[dict[str, Any]] | None]:
        """:meth:`vulnerabilities` for many versions, concurrently once the index is known to offer them."""
        return self._vulnerabilities.many(pairs)

    def lists(self, name: str, version: str) -> bool:
        """Whether the page (or summary) of ``name`` has files of ``version``; settles the page if need be."""
        if name not in self._pages and not any(project == name for _, project in list(self._summaries)):
            self.prefetch([name])
        for (_, project), facts in list(self._summaries.items()):
            if project == name and facts is not None:
                return any(release.version == version for release in facts.releases)
        page = self._pages.get(name)
        return page is not None and version in page.file_versions()


class _NoPage:
    """The index answered that it does not have the project (a settled answer, unlike ``None``)."""


_NO_PAGE: Any = _NoPage()


def open_finder(options: IndexOptions, *, console: Console | None = None) -> IndexFinder:
    """The finder for ``options``, with its cache folder (none when ``options.cache_dir`` is ``None``)."""
    cache = Cache(options.cache_dir, background=True) if options.cache_dir is not None else None  # written off the critical path
    return IndexFinder(options, cache=cache, console=console)
