"""The index client the checks and the resolver use: pages, metadata and advisories.

:class:`IndexFinder` implements :class:`~reprolock.index.models.PackageFinder`
over one or more indexes (the first one listed wins a file name that several
list). It answers from memory, then from the on-disk cache while fresh, and
only then asks the network, so a run with a warm cache never imports httpx.
``file://`` indexes are read from disk. With ``offline=True`` the cache is
used whatever its age; what it does not hold is *unknown*, not missing.
"""

from __future__ import annotations

import hashlib
import json
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO
from urllib.parse import unquote, urlsplit

from reprolock.errors import IndexUnreachableError
from reprolock.index.cache import DEFAULT_FRESHNESS, Cache, Entry, Freshness
from reprolock.index.metadata import MetadataError, RangeReader, sdist_metadata, wheel_metadata
from reprolock.index.simple import ACCEPT, PageError, parse_html, parse_page
from reprolock.index.summary import facts_from_data, facts_to_data, summarize
from reprolock.redaction import redacted

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from reprolock.index.client import Answer, HttpClient
    from reprolock.index.config import IndexSource
    from reprolock.index.models import DistFile, IndexTarget, ProjectFacts, ProjectPage

_MISSING = object()
_REMOTE = object()
_CAPABILITY_FRESHNESS = 86400.0


class NotCachedError(IndexUnreachableError):
    """``--offline`` and the cache does not hold what is needed."""


class _Progress:
    """A one-line counter on stderr, only when stderr is a terminal."""

    def __init__(self, stream: TextIO | None, total: int) -> None:
        self._stream = stream if stream is not None and stream.isatty() and total > 1 else None
        self._total = total
        self._done = 0
        self._lock = threading.Lock()

    def advance(self) -> None:
        if self._stream is None:
            return
        with self._lock:
            self._done += 1
            width = 30
            filled = width * self._done // self._total
            self._stream.write(f"\rreprolock: index [{'#' * filled}{'.' * (width - filled)}] {self._done}/{self._total}")
            self._stream.flush()

    def close(self) -> None:
        if self._stream is not None and self._done:
            self._stream.write("\r\x1b[2K")
            self._stream.flush()


class IndexFinder:
    """Pages, core metadata and per-version vulnerability data from the selected indexes."""

    def __init__(
        self,
        indexes: Sequence[IndexSource],
        *,
        cache: Cache | None = None,
        offline: bool = False,
        concurrency: int = 16,
        progress: TextIO | None = None,
        http: HttpClient | None = None,
        freshness: float = DEFAULT_FRESHNESS,
    ) -> None:
        self.indexes = tuple(indexes)
        self.cache = cache
        self.offline = offline
        self.concurrency = concurrency
        self.freshness = freshness
        self._progress = progress if progress is not None else sys.stderr
        self._http = http
        self._lock = threading.Lock()
        self._pages: dict[str, ProjectPage | None] = {}
        self.unknown: set[str] = set()
        """Projects whose page could not be had (offline and not cached)."""
        self._capabilities: dict[str, bool] = {}
        self.requests = 0

    # -- network ---------------------------------------------------------

    def http(self) -> HttpClient:
        """The HTTP client, created (and httpx imported) on first use."""
        with self._lock:
            if self._http is None:
                from reprolock.index.client import HttpClient  # noqa: PLC0415 - httpx only when the network is used

                auth = {source.host: source.auth for source in self.indexes if source.auth}
                self._http = HttpClient(auth=auth, concurrency=self.concurrency)
            return self._http

    def _get(self, url: str, headers: dict[str, str] | None = None) -> Answer:
        if self.offline:
            raise NotCachedError(f"{redacted(url)} is not in the cache and --offline was given", hint="run once without --offline")
        with self._lock:
            self.requests += 1
        return self.http().get(url, headers)

    def close(self) -> None:
        if self._http is not None:
            self._http.close()

    # -- pages -------------------------------------------------------------

    def project(self, name: str) -> ProjectPage | None:
        """The merged page of ``name`` from every index; ``None`` when none has it."""
        self.prefetch([name])
        if name in self.unknown:
            raise NotCachedError(f"the index page of {name} is not in the cache and --offline was given", hint="run once without --offline")
        return self._pages.get(name)

    def pages(self, names: Iterable[str]) -> dict[str, ProjectPage | None]:
        """Pages for many projects at once; names in :attr:`unknown` are left out."""
        wanted = list(dict.fromkeys(names))
        self.prefetch(wanted)
        return {name: self._pages.get(name) for name in wanted if name not in self.unknown}

    def summaries(self, names: Iterable[str], target: IndexTarget) -> dict[str, ProjectFacts | None]:
        """What the index rules need per project, for ``target``; names in :attr:`unknown` are left out.

        Summaries are cached beside the pages (for the default freshness), so a
        warm run reads a few kilobytes per project instead of whole pages.
        """
        wanted = list(dict.fromkeys(names))
        scope = " ".join(source.url for source in self.indexes)
        found: dict[str, ProjectFacts | None] = {}
        missing = []
        for name in wanted:
            stored = self.cache.get_data(scope, f"facts-{target.key()}-{name}", None if self.offline else self.freshness) if self.cache else None
            if isinstance(stored, dict) and "facts" in stored:
                found[name] = facts_from_data(stored["facts"]) if stored["facts"] is not None else None
            else:
                missing.append(name)
        for name, page in self.pages(missing).items():
            facts = summarize(page, target) if page is not None else None
            found[name] = facts
            if self.cache:
                self.cache.put_data(scope, f"facts-{target.key()}-{name}", {"facts": facts_to_data(facts) if facts else None})
        return {name: found[name] for name in wanted if name in found}

    def prefetch(self, names: Iterable[str]) -> None:
        """Fetch what memory and the fresh cache cannot answer, ``concurrency`` at a time."""
        todo = [name for name in dict.fromkeys(names) if name not in self._pages and name not in self.unknown]
        if not todo:
            return
        found: dict[str, list[ProjectPage | object | None]] = {name: [None] * len(self.indexes) for name in todo}
        remote: list[tuple[str, int]] = []
        for name in todo:
            for position, source in enumerate(self.indexes):
                answer = self._from_disk(source, name)
                if answer is _REMOTE:
                    remote.append((name, position))
                else:
                    found[name][position] = answer
        self._fetch_all(remote, found)
        for name, answers in found.items():
            if any(answer is _MISSING for answer in answers):
                self.unknown.add(name)
                continue
            self._pages[name] = _merge([answer for answer in answers if answer is not None])  # type: ignore[misc]  # sentinels removed above

    def _from_disk(self, source: IndexSource, name: str) -> ProjectPage | object | None:
        """The page from a ``file://`` index or the cache, else ``_REMOTE`` (ask) or ``_MISSING`` (offline)."""
        if source.is_local:
            return _local_page(source, name)
        entry = self.cache.get(source.url, name) if self.cache else None
        if entry is not None and (self.offline or entry.is_fresh(time.time())):
            return entry.page
        return _MISSING if self.offline else _REMOTE

    def _fetch_all(self, remote: list[tuple[str, int]], found: dict[str, list[ProjectPage | object | None]]) -> None:
        if not remote:
            return
        progress = _Progress(self._progress, len(remote))

        def fetch(job: tuple[str, int]) -> None:
            name, position = job
            found[name][position] = self._fetch_page(self.indexes[position], name)
            progress.advance()

        try:
            if len(remote) == 1:
                fetch(remote[0])
            else:
                with ThreadPoolExecutor(max_workers=min(self.concurrency, len(remote))) as pool:
                    for _ in pool.map(fetch, remote):
                        pass
        finally:
            progress.close()

    def _fetch_page(self, source: IndexSource, name: str) -> ProjectPage | None:
        url = f"{source.url}{name}/"
        headers = {"Accept": ACCEPT}
        entry = self.cache.get(source.url, name) if self.cache else None
        if entry is not None and entry.etag:
            headers["If-None-Match"] = entry.etag
        elif entry is not None and entry.last_modified:
            headers["If-Modified-Since"] = entry.last_modified
        answer = self._get(url, headers)
        freshness = Freshness.from_headers(answer.headers.get("cache-control"), self.freshness)
        if answer.status == 304 and entry is not None:
            if self.cache:
                self.cache.touch(source.url, name, entry, freshness)
            return entry.page
        if answer.status in {404, 410}:
            page = None
        elif answer.status != 200:
            hint = "check the credentials for this index" if answer.status in {401, 403} else "check --index-url"
            raise IndexUnreachableError(f"the package index answered HTTP {answer.status} for {redacted(url)}", hint=hint)
        else:
            try:
                page = parse_page(answer.body, answer.headers.get("content-type", ""), answer.url, source.url, name)
            except PageError as exc:
                raise IndexUnreachableError(f"{exc} ({redacted(url)})", hint="the index sent a page reprolock cannot read; try again later") from None
        if self.cache and freshness.store:
            self.cache.put(
                source.url,
                name,
                Entry(page, time.time(), freshness.max_age, answer.headers.get("etag"), answer.headers.get("last-modified")),
            )
        return page

    # -- core metadata -----------------------------------------------------

    def core_metadata(self, file: DistFile) -> bytes:
        """METADATA of ``file``: PEP 658 (advertised or not), else a ranged read, else the whole file."""
        cached = self._metadata_cache(file)
        if cached is not None and cached.is_file():
            return cached.read_bytes()
        data = self._core_metadata(file)
        if cached is not None:
            try:
                cached.parent.mkdir(parents=True, exist_ok=True)
                temporary = cached.with_suffix(f".tmp{threading.get_ident()}")
                temporary.write_bytes(data)
                temporary.replace(cached)
            except OSError:
                pass
        return data

    def _metadata_cache(self, file: DistFile) -> Path | None:
        if self.cache is None:
            return None
        key = file.sha256 or hashlib.sha256(file.url.encode()).hexdigest()
        return self.cache.folder / "metadata-v1" / key[:2] / f"{key}.metadata"

    def _core_metadata(self, file: DistFile) -> bytes:
        if file.url.startswith("file:"):
            return _local_metadata(file)
        answer = self._get(file.url + ".metadata")
        if answer.status == 200 and answer.body:
            return answer.body
        if file.packagetype == "bdist_wheel":
            try:
                return self._ranged_wheel_metadata(file)
            except MetadataError:
                pass
        whole = self._download(file)
        if file.packagetype == "bdist_wheel":
            import io  # noqa: PLC0415

            return wheel_metadata(io.BytesIO(whole), file.filename)
        return sdist_metadata(whole, file.filename)

    def _download(self, file: DistFile) -> bytes:
        answer = self._get(file.url)
        if answer.status != 200:
            raise IndexUnreachableError(f"could not download {file.filename}: HTTP {answer.status}", hint="check the index")
        return answer.body

    def _ranged_wheel_metadata(self, file: DistFile) -> bytes:
        answer = self._get(file.url, {"Range": "bytes=-65536"})
        if answer.status == 200:
            import io  # noqa: PLC0415

            return wheel_metadata(io.BytesIO(answer.body), file.filename)
        total = answer.headers.get("content-range", "").rpartition("/")[2]
        if answer.status != 206 or not total.isdigit():
            raise MetadataError(f"{file.filename}: the server does not serve byte ranges")

        def fetch(start: int, end: int) -> bytes:
            part = self._get(file.url, {"Range": f"bytes={start}-{end - 1}"})
            if part.status != 206:
                raise MetadataError(f"{file.filename}: range request refused")
            return part.body

        return wheel_metadata(RangeReader(int(total), fetch, tail=answer.body), file.filename)

    # -- vulnerabilities ---------------------------------------------------

    def vulnerabilities(self, name: str, version: str) -> list[dict[str, Any]] | None:
        """The index's per-version JSON ``vulnerabilities`` list; ``None`` when the index offers none.

        An index that answers 404 for a version its simple page lists does not
        offer the per-version JSON API; that is remembered (a day, in the cache)
        so later calls cost nothing.
        """
        source = next((item for item in self.indexes if not item.is_local), None)
        if source is None or not source.url.rstrip("/").endswith("/simple") or not self._offers_json(source):
            return None
        key = f"vulnerabilities-{name}-{version}"
        if self.cache is not None:
            known = self.cache.get_data(source.url, key, None if self.offline else self.freshness)
            if isinstance(known, list):
                return known
        if self.offline:
            return None
        base = source.url.rstrip("/")[: -len("simple")]
        answer = self._get(f"{base}pypi/{name}/{version}/json", {"Accept": "application/json"})
        if answer.status in {404, 410}:
            page = self._pages.get(name)
            if page is not None and version in {item.version for item in page.files}:
                self._remember_capability(source, offers=False)
            return None
        try:
            found = json.loads(answer.body).get("vulnerabilities") if answer.status == 200 else None
        except (ValueError, AttributeError):
            found = None
        if not isinstance(found, list):
            return None
        self._remember_capability(source, offers=True)
        if self.cache is not None:
            self.cache.put_data(source.url, key, found)
        return found

    def vulnerabilities_many(self, pairs: Iterable[tuple[str, str]]) -> dict[tuple[str, str], list[dict[str, Any]] | None]:
        """:meth:`vulnerabilities` for many versions: one probe, then concurrently when the index offers the API."""
        todo = list(dict.fromkeys(pairs))
        if not todo:
            return {}
        answers = {todo[0]: self.vulnerabilities(*todo[0])}
        rest = todo[1:]
        source = next((item for item in self.indexes if not item.is_local), None)
        if source is None or not self._offers_json(source):
            answers.update(dict.fromkeys(rest))
            return answers
        with ThreadPoolExecutor(max_workers=max(1, min(self.concurrency, len(rest)))) as pool:
            answers.update(zip(rest, pool.map(lambda pair: self.vulnerabilities(*pair), rest), strict=True))
        return answers

    def _offers_json(self, source: IndexSource) -> bool:
        known = self._capabilities.get(source.url)
        if known is None and self.cache is not None:
            stored = self.cache.get_data(source.url, "capabilities", None if self.offline else _CAPABILITY_FRESHNESS)
            known = stored.get("per_version_json") if isinstance(stored, dict) else None
        if known is None:
            return True
        self._capabilities[source.url] = bool(known)
        return bool(known)

    def _remember_capability(self, source: IndexSource, *, offers: bool) -> None:
        with self._lock:
            if self._capabilities.get(source.url) == offers:
                return
            self._capabilities[source.url] = offers
        if self.cache is not None:
            self.cache.put_data(source.url, "capabilities", {"per_version_json": offers})


def _merge(pages: list[ProjectPage]) -> ProjectPage | None:
    if not pages:
        return None
    if len(pages) == 1:
        return pages[0]
    from dataclasses import replace  # noqa: PLC0415

    first = pages[0]
    files = {item.filename: item for page in reversed(pages) for item in page.files}
    versions = dict.fromkeys(version for page in pages for version in page.versions)
    status = next((page for page in pages if page.status), first)
    return replace(first, files=tuple(files.values()), versions=tuple(versions), status=status.status, status_reason=status.status_reason)


def _local_folder(url: str) -> Path:
    return Path(unquote(urlsplit(url).path))


def _local_page(source: IndexSource, name: str) -> ProjectPage | None:
    """A project of a ``file://`` PEP 503 tree: ``NAME/index.html``, else the folder's files."""
    folder = _local_folder(source.url) / name
    page_url = f"{source.url}{name}/"
    index = folder / "index.html"
    try:
        if index.is_file():
            return parse_html(index.read_text(encoding="utf-8", errors="replace"), page_url, source.url, name)
        if folder.is_dir():
            links = "".join(f'<a href="{item.name}">{item.name}</a>' for item in sorted(folder.iterdir()) if item.is_file())
            return parse_html(links, page_url, source.url, name)
    except OSError:
        return None
    return None


def _local_metadata(file: DistFile) -> bytes:
    path = _local_folder(file.url)
    sidecar = path.with_name(path.name + ".metadata")
    try:
        if sidecar.is_file():
            return sidecar.read_bytes()
        if file.packagetype == "bdist_wheel":
            with path.open("rb") as handle:
                return wheel_metadata(handle, file.filename)  # type: ignore[arg-type]  # a real file is seekable
        return sdist_metadata(path.read_bytes(), file.filename)
    except OSError as exc:
        raise MetadataError(f"cannot read {file.filename}: {exc}") from None
