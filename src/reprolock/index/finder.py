"""The index client the checks and the resolver use: pages, metadata and advisories.

:class:`IndexFinder` implements :class:`~reprolock.index.models.PackageFinder`
over one or more indexes (the first one listed wins a file name that several
list). It answers from memory, then from the on-disk cache while fresh, and
only then asks the network, so a run with a warm cache opens no connection
(and never imports the HTTP client).
``file://`` indexes are read from disk. With ``offline=True`` the cache is
used whatever its age; what it does not hold is *unknown*, not missing.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO
from urllib.parse import unquote, urlsplit

from reprolock.collector import collector_paused
from reprolock.errors import IndexUnreachableError
from reprolock.index.cache import DEFAULT_FRESHNESS, Cache, Entry, Freshness
from reprolock.index.forked import Forked, JobQueue, Standby, can_fork
from reprolock.index.pages import LazyPage, PageError
from reprolock.index.summary import facts_from_data, facts_to_data
from reprolock.redaction import redacted

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Sequence
    from concurrent.futures import Future

    from reprolock.index.client import HttpClient
    from reprolock.index.config import IndexSource
    from reprolock.index.forked import Helper, Report
    from reprolock.index.models import Answer, DistFile, IndexTarget, ProjectFacts, ProjectPage
    from reprolock.index.pages import VersionRows

_MISSING = object()
_LOCAL = object()
_CAPABILITY_FRESHNESS = 86400.0
_SHARE_FROM = 8
_TAIL = 65536
"""Bytes read from the end of a wheel for its central directory (and, often, its METADATA)."""
"""Pages to fetch from which the work is shared with a forked copy of the process (see :mod:`.forked`)."""


class _Stale:
    """A page to ask the index for, with the cache entry whose validators go along (if any)."""

    __slots__ = ("entry",)

    def __init__(self, entry: Entry | None) -> None:
        self.entry = entry


class NotCachedError(IndexUnreachableError):
    """``--offline`` and the cache does not hold what is needed."""


class _Progress:
    """A one-line counter on stderr, only when stderr is a terminal."""

    def __init__(self, stream: TextIO | None, total: int) -> None:
        self._stream = stream if stream is not None and stream.isatty() and total > 1 else None
        self._total = total
        self._done = 0
        self._lock = threading.Lock()

    def advance(self, count: int = 1) -> None:
        if self._stream is None:
            return
        with self._lock:
            self._done += count
            width = 30
            filled = width * self._done // self._total
            self._stream.write(f"\rreprolock: index [{'#' * filled}{'.' * (width - filled)}] {self._done}/{self._total}")
            self._stream.flush()

    def mute(self) -> None:
        """Write nothing from now on (a forked copy leaves the terminal to its parent)."""
        self._stream = None

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
        processes: int = 2,
        progress: TextIO | None = None,
        http: HttpClient | None = None,
        freshness: float = DEFAULT_FRESHNESS,
    ) -> None:
        self.indexes = tuple(indexes)
        self.cache = cache
        self.offline = offline
        self.concurrency = concurrency
        self.processes = processes
        """Processes that share a batch of pages (a forked copy where :func:`~.forked.can_fork`); 1: this one only."""
        self.forked_jobs = 0
        self.standby: Standby | None = None
        self._handed: tuple[Standby, list[tuple[str, list[Any]]], IndexTarget, _Progress] | None = None
        """A copy forked early (see :func:`reprolock.index.audit.prepare_standby`) to share the first batch of pages with."""
        """How many pages a forked copy fetched and summarised for this finder."""
        self.freshness = freshness
        self._progress = progress if progress is not None else sys.stderr
        self._http = http
        self._lock = threading.Lock()
        self._pages: dict[str, LazyPage | None] = {}
        self._pending: dict[tuple[str, str], Entry] = {}
        self._summaries: dict[tuple[str, str], ProjectFacts | None] = {}
        self._early: dict[str, Answer] = {}
        self.unknown: set[str] = set()
        """Projects whose page could not be had (offline and not cached)."""
        self._capabilities: dict[str, bool] = {}
        self.requests = 0

    # -- network ---------------------------------------------------------

    def http(self) -> HttpClient:
        """The HTTP client, created (and imported) on first use."""
        with self._lock:
            if self._http is None:
                from reprolock.index.client import HttpClient  # noqa: PLC0415 - only when the network is used

                auth = {source.host: source.auth for source in self.indexes if source.auth}
                self._http = HttpClient(auth=auth, concurrency=self.concurrency)  # makes its client (and name lookups) on first use
            return self._http

    def _get(self, url: str, headers: dict[str, str] | None = None) -> Answer:
        if self.offline:
            raise NotCachedError(f"{redacted(url)} is not in the cache and --offline was given", hint="run once without --offline")
        with self._lock:
            self.requests += 1
        return self.http().get(url, headers)

    def close(self) -> None:
        if self._handed is not None:  # never collected (the run failed, or the pages were for a wrong guess): the copies stop
            self._handed[0].abandon()
            self._handed = None
        if self.standby is not None:
            self.standby.cancel()
            self.standby = None
        if self._http is not None:
            self._http.close()

    # -- pages -------------------------------------------------------------

    def project(self, name: str) -> ProjectPage | None:
        """The merged page of ``name`` from every index; ``None`` when none has it."""
        self.prefetch([name])
        if name in self.unknown:
            raise NotCachedError(f"the index page of {name} is not in the cache and --offline was given", hint="run once without --offline")
        lazy = self._pages.get(name)
        return lazy.page() if lazy is not None else None

    def version_rows(self, name: str) -> VersionRows | None:
        """The files of ``name`` grouped by version, built only per version asked for (the lock's candidate tables).

        Like :meth:`project` (merged from every index, ``None`` when none has it),
        without turning every file of the page into a :class:`DistFile`.
        """
        self.prefetch([name])
        if name in self.unknown:
            raise NotCachedError(f"the index page of {name} is not in the cache and --offline was given", hint="run once without --offline")
        lazy = self._pages.get(name)
        return lazy.version_rows() if lazy is not None else None

    def pages(self, names: Iterable[str]) -> dict[str, ProjectPage | None]:
        """Pages for many projects at once; names in :attr:`unknown` are left out."""
        wanted = list(dict.fromkeys(names))
        self.prefetch(wanted)
        found: dict[str, ProjectPage | None] = {}
        for name in wanted:
            if name not in self.unknown:
                lazy = self._pages.get(name)
                found[name] = lazy.page() if lazy is not None else None
        return found

    def summaries(self, names: Iterable[str], target: IndexTarget, *, probe: tuple[str, str] | None = None) -> dict[str, ProjectFacts | None]:
        """What the index rules need per project, for ``target``; names in :attr:`unknown` are left out.

        Summaries are cached per project and target (for the default freshness),
        so a warm run reads a few kilobytes per project instead of whole pages.
        Pages fetched for summaries are summarised as they arrive, without
        building their files, and are cached only when the index sent
        validators (``ETag``/``Last-Modified``) or :meth:`project` asks for them.
        ``probe`` (a name and version) has its per-version JSON asked for
        alongside the pages (see :meth:`vulnerabilities`).
        """
        wanted = list(dict.fromkeys(names))
        self._finish_hand_over()
        found: dict[str, ProjectFacts | None] = {}
        missing = []
        key = target.key()
        for name in wanted:
            if (key, name) in self._summaries:  # handed over early (see begin_summaries)
                found[name] = self._summaries[(key, name)]
                continue
            stored = self._stored_facts(target, name)
            if stored is not None:
                found[name] = facts_from_data(stored["facts"]) if stored["facts"] is not None else None
            else:
                missing.append(name)
        self._fetch(missing, target=target, keep=False, probe=None if self._early else probe)
        for name in missing:
            if name in self.unknown:
                continue
            if (key, name) in self._summaries:  # summarised (and cached) as its page arrived
                found[name] = self._summaries[(key, name)]
            else:
                found[name] = self._summarize(name, self._pages.get(name), target)
        return {name: found[name] for name in wanted if name in found}

    def begin_summaries(self, names: Iterable[str], target: IndexTarget, *, probe: tuple[str, str] | None = None) -> None:
        """Hand the pages :meth:`summaries` will need for ``names`` to the waiting :attr:`standby` copy now, and return.

        The copy fetches them while this process goes on (reading the environment,
        running the other checks); :meth:`summaries` then collects them. Nothing
        happens without a waiting standby copy or with few pages to fetch.
        """
        standby = self.standby
        if standby is None or not standby.waiting or self.offline or self._handed is not None:
            return
        key = target.key()
        jobs = []
        for name in dict.fromkeys(names):
            if (key, name) in self._summaries or name in self.unknown or self._stored_facts(target, name) is not None:
                continue
            answers = self._answers(name)
            if any(isinstance(answer, _Stale) for answer in answers):
                jobs.append((name, answers))
        if len(jobs) < _SHARE_FROM:
            return
        if self.cache is not None:
            self.cache.mark_fetched()
        progress = _Progress(self._progress, len(jobs))
        self.standby = None
        self._send(standby, jobs, target, probe=probe)
        self._handed = (standby, jobs, target, progress)

    def _finish_hand_over(self) -> None:
        """Collect what :meth:`begin_summaries` handed over (and do what a failed copy left)."""
        if self._handed is None:
            return
        standby, jobs, target, progress = self._handed
        self._handed = None
        run = self._runner(target, keep=False, progress=progress)
        with collector_paused(), contextlib.closing(progress):
            self._collect(standby, jobs, target, run, progress=progress)

    @property
    def _threads(self) -> int:
        """Threads per process when two processes share the pages."""
        return max(1, self.concurrency // 2)

    @property
    def _scope(self) -> str:
        return " ".join(source.url for source in self.indexes)

    @staticmethod
    def _facts_key(target: IndexTarget, name: str) -> str:
        return f"facts-{target.key()}-{name}"

    def _stored_facts(self, target: IndexTarget, name: str) -> dict[str, Any] | None:
        """The cached summary record of ``name`` for ``target`` while fresh (or offline); ``None`` when there is none."""
        if self.cache is None:
            return None
        stored = self.cache.get_data(self._scope, self._facts_key(target, name), None if self.offline else self.freshness)
        return stored if isinstance(stored, dict) and "facts" in stored else None

    def _summarize(self, name: str, lazy: LazyPage | None, target: IndexTarget) -> ProjectFacts | None:
        """The summary of a settled page, written to the cache."""
        facts = lazy.facts(target) if lazy is not None else None
        self._summaries[(target.key(), name)] = facts
        if self.cache:
            self.cache.put_data(self._scope, self._facts_key(target, name), {"facts": facts_to_data(facts) if facts else None})
        return facts

    def prefetch(self, names: Iterable[str]) -> None:
        """Fetch what memory and the fresh cache cannot answer, ``concurrency`` at a time."""
        self._fetch(names, target=None, keep=True)

    def _fetch(self, names: Iterable[str], *, target: IndexTarget | None, keep: bool, probe: tuple[str, str] | None = None) -> None:
        """Settle the pages of ``names``: from ``file://`` indexes, the cache, else the network.

        Each project is one job: its remote pages are fetched, parsed, merged
        with its local ones and (with a ``target``) summarised in a worker
        thread, so parsing overlaps the downloads still in flight.
        """
        wanted = list(dict.fromkeys(names))
        if keep:
            self._save_pending(wanted)
        todo = [name for name in wanted if name not in self._pages and name not in self.unknown]
        if not todo:
            return
        jobs: list[tuple[str, list[Any]]] = []
        for name in todo:
            answers = self._answers(name)
            if any(isinstance(answer, _Stale) for answer in answers):
                jobs.append((name, answers))
            else:
                self._settle(name, answers, target)
        if not jobs:
            return
        progress = _Progress(self._progress, len(jobs))
        job_run = self._runner(target, keep=keep, progress=progress)

        def run(job: tuple[str, list[Any]]) -> None:
            if job[1]:
                job_run(job)
            else:
                self._probe_early(*probe)  # type: ignore[misc]  # only queued with a probe

        with collector_paused(), contextlib.closing(progress):
            if self.cache is not None:
                self.cache.mark_fetched()
            if target is not None and not keep and self.processes > 1 and len(jobs) >= _SHARE_FROM and can_fork():
                self._share(jobs, target, run, probe=probe, progress=progress)
                return
            if probe is not None:
                jobs.insert(min(len(jobs), self.concurrency - 1), ("", []))  # among the first requests, not last in line
            self._run_all(jobs, run)

    def _resolve_hosts(self) -> None:
        """Look up every remote index's host now (the HTTP client is made, with its imports)."""
        for source in self.indexes:
            if not source.is_local:
                self.http().resolve(source.url)

    def _answers(self, name: str) -> list[Any]:
        """Per index: ``_LOCAL`` (a ``file://`` tree), the fresh cached page, ``_Stale`` (ask) or ``_MISSING`` (offline)."""
        return [_LOCAL if source.is_local else self._from_cache(source, name) for source in self.indexes]

    def _runner(self, target: IndexTarget | None, *, keep: bool, progress: _Progress) -> Callable[[tuple[str, list[Any]]], None]:
        """What settles one job: its stale pages fetched, then :meth:`_settle`."""

        def run(job: tuple[str, list[Any]]) -> None:
            name, answers = job
            for position, answer in enumerate(answers):
                if isinstance(answer, _Stale):
                    answers[position] = self._fetch_page(self.indexes[position], name, answer.entry, keep=keep)
            self._settle(name, answers, target)
            progress.advance()

        return run

    def _run_all(self, jobs: list[tuple[str, list[Any]]], run: Callable[[tuple[str, list[Any]]], None]) -> None:
        """``run`` every job, ``concurrency`` at a time."""
        if len(jobs) == 1:
            run(jobs[0])
            return
        from concurrent.futures import ThreadPoolExecutor  # noqa: PLC0415 - a warm run fetches nothing

        with ThreadPoolExecutor(max_workers=min(self.concurrency, len(jobs))) as pool:
            for _ in pool.map(run, jobs):
                pass

    def _share(
        self,
        jobs: list[tuple[str, list[Any]]],
        target: IndexTarget,
        run: Callable[[tuple[str, list[Any]]], None],
        *,
        probe: tuple[str, str] | None,
        progress: _Progress,
    ) -> None:
        """Summarise ``jobs`` with a forked copy of this process, both taking jobs from one queue (see :mod:`.forked`).

        The copy is the :attr:`standby` one when it waits (it forked early and is
        ready), else one forked now.
        """
        from concurrent.futures import ThreadPoolExecutor  # noqa: PLC0415 - a warm run fetches nothing

        threads = self._threads
        standby, self.standby = self.standby, None
        if standby is not None and standby.waiting:
            self._hand_over(standby, jobs, target, run, probe=probe, progress=progress)
            return
        if standby is not None:
            standby.cancel()
        queue = JobQueue(len(jobs))
        done: list[str] = []

        self._resolve_hosts()  # before the fork: two processes must not look the host up at once

        def copy(report: Report) -> dict[str, Any]:  # pragma: no cover - runs in the forked copy
            if self._http is not None:  # connections are never shared: new ones, with the names already looked up
                self._http = self._http.fresh()
            progress.mute()
            return self._drain_copy(jobs, target, run, queue, threads, report=report)

        def drain() -> None:
            _drain(queue, jobs, run, done)

        try:
            forked = Forked.start(copy)
            with ThreadPoolExecutor(max_workers=threads) as pool:
                futures = [pool.submit(drain) for _ in range(threads)]
                if probe is not None:
                    futures.append(pool.submit(self._probe_early, *probe))
                for future in futures:
                    future.result()
            answered = self._adopt_all(forked, target)
        finally:
            queue.close()
        self._take(answered, jobs, done, run, progress=progress)

    def _hand_over(
        self,
        standby: Standby,
        jobs: list[tuple[str, list[Any]]],
        target: IndexTarget,
        run: Callable[[tuple[str, list[Any]]], None],
        *,
        probe: tuple[str, str] | None,
        progress: _Progress,
    ) -> None:
        """Give every job, and the per-version JSON probe, to the ready standby copy (which shares them with a
        copy of its own), wait, then do what it left in the queue (nothing, unless it failed)."""
        self._send(standby, jobs, target, probe=probe)
        self._collect(standby, jobs, target, run, progress=progress)

    def _send(self, standby: Standby, jobs: list[tuple[str, list[Any]]], target: IndexTarget, *, probe: tuple[str, str] | None) -> None:
        """Queue ``jobs`` and hand them to ``standby`` (gone: its result is None and this process does them)."""
        standby.queue.fill(len(jobs))
        standby.send(self._work(jobs, target, self._threads, probe=probe))

    def _collect(
        self,
        standby: Standby,
        jobs: list[tuple[str, list[Any]]],
        target: IndexTarget,
        run: Callable[[tuple[str, list[Any]]], None],
        *,
        progress: _Progress,
    ) -> None:
        """Take in the standby copies' answers as they come, then do what they left in the queue (nothing, unless they failed)."""
        queue = standby.queue
        done: list[str] = []
        try:
            answered = self._adopt_all(standby, target)
            _drain(queue, jobs, run, done)
        finally:
            queue.close()
        self._take(answered, jobs, done, run, progress=progress)

    def _take(
        self,
        answered: set[str],
        jobs: list[tuple[str, list[Any]]],
        done: list[str],
        run: Callable[[tuple[str, list[Any]]], None],
        *,
        progress: _Progress,
    ) -> None:
        """Count what the copies ``answered``; run here the jobs neither this process (``done``) nor they answered."""
        theirs = {name for name, _ in jobs} - set(done)
        self.forked_jobs += len(theirs & answered)
        progress.advance(len(theirs & answered))
        for job in jobs:  # what the copies did not answer (one failed): done here
            if job[0] in theirs - answered:
                run(job)

    def _adopt_all(self, forked: Forked, target: IndexTarget) -> set[str]:
        """Take in every message of a forked copy (and of the copy it forked) as it comes; the names they answered."""
        key = target.key()
        answered: set[str] = set()
        for message in forked.messages():
            for name, plain in dict(message.get("facts", {})).items():  # facts_to_data form
                answered.add(name)
                if (key, name) not in self._summaries:
                    self._summaries[(key, name)] = facts_from_data(plain) if plain is not None else None
            unknown = set(message.get("unknown", ()))
            answered |= unknown
            with self._lock:  # this process's threads may be counting their own requests meanwhile (see _share)
                self.unknown |= unknown
                self.requests += int(message.get("requests", 0))
            self._early.update(message.get("early", {}))
        return answered

    def _drain_copy(
        self,
        jobs: list[tuple[str, list[Any]]],
        target: IndexTarget,
        run: Callable[[tuple[str, list[Any]]], None],
        queue: JobQueue,
        threads: int,
        *,
        report: Report,
    ) -> dict[str, Any]:  # pragma: no cover - runs in the forked copy
        """In a copy: take jobs from ``queue`` until none is left, reporting each page's summary as soon as it is made."""
        from concurrent.futures import ThreadPoolExecutor  # noqa: PLC0415 - a warm run fetches nothing

        key = target.key()
        before = self.requests

        def run_and_report(job: tuple[str, list[Any]]) -> None:
            run(job)
            name = job[0]
            if name in self.unknown:
                report({"unknown": [name]})
            elif (key, name) in self._summaries:
                facts = self._summaries[(key, name)]
                report({"facts": {name: facts_to_data(facts) if facts else None}})  # plain data pickles fast

        done: list[str] = []
        with ThreadPoolExecutor(max_workers=threads) as pool:
            for future in [pool.submit(_drain, queue, jobs, run_and_report, done) for _ in range(threads)]:
                future.result()
        return {"requests": self.requests - before}

    def _work(self, jobs: list[tuple[str, list[Any]]], target: IndexTarget, threads: int, *, probe: tuple[str, str] | None) -> dict[str, Any]:
        """What a standby copy needs to do ``jobs`` (credentials go through a pipe, never a file)."""
        return {
            "indexes": [[source.url, source.auth] for source in self.indexes],
            "cache": str(self.cache.folder) if self.cache is not None else None,
            "freshness": self.freshness,
            "python": target.python_version,
            "tags": sorted(target.tags) if target.tags is not None else None,
            "names": [name for name, _ in jobs],
            "threads": threads,
            "probe": list(probe) if probe is not None else None,
        }

    @classmethod
    def serve(cls, connections: object, work: dict[str, Any], queue: JobQueue, report: Report, helper: Helper) -> dict[str, Any]:  # pragma: no cover - runs in the standby copy
        """In a standby copy: the work :meth:`_work` described, over ``connections`` (made early), shared with a copy of its own."""
        from reprolock.index.client import HttpClient  # noqa: PLC0415 - the copy imported it while it waited
        from reprolock.index.config import IndexSource  # noqa: PLC0415
        from reprolock.index.models import IndexTarget  # noqa: PLC0415

        indexes = [IndexSource(url, auth) for url, auth in work["indexes"]]
        auth = {source.host: source.auth for source in indexes if source.auth}
        finder = cls(
            indexes,
            cache=Cache(Path(work["cache"])) if work["cache"] else None,
            freshness=float(work["freshness"]),
            http=HttpClient(auth=auth, client=connections[0], backend=connections[1]),  # type: ignore[index]  # made by prepare_standby
        )
        target = IndexTarget(work["python"], frozenset(work["tags"]) if work["tags"] is not None else None)
        jobs = [(name, finder._answers(name)) for name in work["names"]]
        run = finder._runner(target, keep=False, progress=_Progress(None, 0))
        threads = int(work["threads"])
        finder._resolve_hosts()  # before the fork: two copies must not look the host up at once
        helper.start(lambda theirs: finder._drain_copy(jobs, target, run, queue, threads, report=theirs))
        probing = None
        if work.get("probe"):
            probing = threading.Thread(target=finder._probe_early, args=tuple(work["probe"]))
            probing.start()
        answer = finder._drain_copy(jobs, target, run, queue, threads, report=report)
        if probing is not None:
            probing.join()
        answer["early"] = dict(finder._early)
        return answer

    def _settle(self, name: str, answers: list[Any], target: IndexTarget | None) -> None:
        """Read the local pages, merge, and (with a ``target``) summarise ``name``; or mark it unknown."""
        if any(answer is _MISSING for answer in answers):
            self.unknown.add(name)
            return
        pages = []
        for position, answer in enumerate(answers):
            page = _local_page(self.indexes[position], name) if answer is _LOCAL else answer
            if page is not None:
                pages.append(page)
        lazy = LazyPage.merge(pages)
        self._pages[name] = lazy
        if target is not None:
            self._summarize(name, lazy, target)
            if lazy is not None:  # freed here, in the worker, while other pages are still downloading: the next
                lazy.release()  # pages reuse the memory (fresh memory costs a page fault per 4 KiB, microseconds each)
        # Without a target the files are built when asked for: the lock's tables
        # (see version_rows) build only the versions the resolver visits.

    def _from_cache(self, source: IndexSource, name: str) -> LazyPage | object | None:
        """The cached page while fresh (or offline), else ``_Stale`` (ask the index) or ``_MISSING`` (offline)."""
        entry = self.cache.get(source.url, name) if self.cache else None
        if entry is not None and (self.offline or entry.is_fresh(time.time())):
            return entry.page
        return _MISSING if self.offline else _Stale(entry)

    def _fetch_page(self, source: IndexSource, name: str, entry: Entry | None, *, keep: bool) -> LazyPage | None:
        url = f"{source.url}{name}/"
        from reprolock.index.simple import ACCEPT, parse_lazy  # noqa: PLC0415 - a warm run parses no page

        headers = {"Accept": ACCEPT}
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
        page: LazyPage | None
        if answer.status in {404, 410}:
            page = None
        elif answer.status != 200:
            hint = "check the credentials for this index" if answer.status in {401, 403} else "check --index-url"
            raise IndexUnreachableError(f"the package index answered HTTP {answer.status} for {redacted(url)}", hint=hint)
        else:
            try:
                page = parse_lazy(answer.body, answer.headers.get("content-type", ""), answer.url, source.url, name)
            except PageError as exc:
                raise IndexUnreachableError(f"{exc} ({redacted(url)})", hint="the index sent a page reprolock cannot read; try again later") from None
        if self.cache and freshness.store:
            etag, modified = answer.headers.get("etag"), answer.headers.get("last-modified")
            fresh = Entry(page, time.time(), freshness.max_age, etag, modified)
            if keep or etag or modified or page is None:
                self.cache.put(source.url, name, fresh)
            else:
                with self._lock:
                    self._pending[(source.url, name)] = fresh
        return page

    def _save_pending(self, names: Iterable[str]) -> None:
        """Cache the pages that :meth:`summaries` fetched but did not write, now that they are wanted."""
        if not self._pending or self.cache is None:
            return
        for name in names:
            for source in self.indexes:
                entry = self._pending.pop((source.url, name), None)
                if entry is not None:
                    self.cache.put(source.url, name, entry)

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
        from reprolock.index.metadata import sdist_metadata  # noqa: PLC0415 - tarfile only when metadata is read

        if file.url.startswith("file:"):
            return _local_metadata(file)
        if file.packagetype == "bdist_wheel" and not file.core_metadata:
            return self._unadvertised_wheel_metadata(file)
        answer = self._get(file.url + ".metadata")
        if answer.status == 200 and answer.body:
            return answer.body
        if file.packagetype == "bdist_wheel":
            return self._wheel_metadata(file)
        return sdist_metadata(self._download(file), file.filename)

    def _unadvertised_wheel_metadata(self, file: DistFile) -> bytes:
        """METADATA of a wheel whose page does not advertise a ``.metadata`` file.

        The index may serve one all the same, and the wheel's last 64 KiB
        usually hold the METADATA member too. Both are asked at once and the
        first that gives it is used: an index can take several times as long to
        refuse a missing ``.metadata`` as to send the tail, and this wait is on
        the resolver's critical path. (PEP 658 makes the two byte-identical.)
        """
        from concurrent.futures import FIRST_COMPLETED, Future, wait  # noqa: PLC0415 - a warm run reads no metadata

        from reprolock.index.metadata import tail_metadata  # noqa: PLC0415 - zipfile only when metadata is read

        sidecar: Future[Answer] = Future()
        tail: Future[Answer] = Future()
        for future, url, headers in ((sidecar, file.url + ".metadata", {}), (tail, file.url, {"Range": f"bytes=-{_TAIL}"})):
            threading.Thread(target=_settle_future, args=(future, self._get, url, headers), daemon=True).start()
        waiting = {sidecar, tail}
        while waiting:
            done, waiting = wait(waiting, return_when=FIRST_COMPLETED)
            if sidecar in done and sidecar.exception() is None and (answer := sidecar.result()).status == 200 and answer.body:
                return answer.body
            if tail in done and tail.exception() is None and (found := tail_metadata(tail.result(), file.filename)) is not None:
                return found
        sidecar.result()  # an unreachable index is reported as such
        return self._wheel_metadata(file, tail.result())

    def _download(self, file: DistFile) -> bytes:
        answer = self._get(file.url)
        if answer.status != 200:
            raise IndexUnreachableError(f"could not download {file.filename}: HTTP {answer.status}", hint="check the index")
        return answer.body

    def _wheel_metadata(self, file: DistFile, tail: Answer | None = None) -> bytes:
        """METADATA from the wheel's last bytes (``tail``, when already asked for) and, if need be, more ranges;
        else (no byte ranges, or ranges that do not give it) from the whole wheel."""
        import io  # noqa: PLC0415

        from reprolock.index.metadata import MetadataError, tail_archive, wheel_metadata  # noqa: PLC0415 - zipfile only when metadata is read

        if tail is None:
            tail = self._get(file.url, {"Range": f"bytes=-{_TAIL}"})

        def fetch(start: int, end: int) -> bytes:
            part = self._get(file.url, {"Range": f"bytes={start}-{end - 1}"})
            if part.status != 206:
                raise MetadataError(f"{file.filename}: range request refused")
            return part.body

        archive = tail_archive(tail, fetch)
        if archive is not None:
            try:
                return wheel_metadata(archive, file.filename)
            except MetadataError:
                pass
        return wheel_metadata(io.BytesIO(self._download(file)), file.filename)

    # -- vulnerabilities ---------------------------------------------------

    def vulnerabilities(self, name: str, version: str) -> list[dict[str, Any]] | None:
        """The index's per-version JSON ``vulnerabilities`` list; ``None`` when the index offers none.

        An index that answers 404 for a version its simple page lists does not
        offer the per-version JSON API; that is remembered (a day, in the cache)
        so later calls cost nothing.
        """
        source = self._json_api_source()
        if source is None:
            return None
        key = f"vulnerabilities-{name}-{version}"
        if self.cache is not None:
            known = self.cache.get_data(source.url, key, None if self.offline else self.freshness)
            if isinstance(known, list):
                return known
        if self.offline:
            return None
        url = self._version_url(source, name, version)
        with self._lock:
            answer = self._early.pop(url, None)
        if answer is None:
            answer = self._get(url, {"Accept": "application/json"})
        if answer.status in {404, 410}:
            if self._lists(name, version):
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

    def _lists(self, name: str, version: str) -> bool:
        """Whether the simple page of ``name`` has files of ``version`` (from its summary when there is one)."""
        for (_, project), facts in list(self._summaries.items()):
            if project == name and facts is not None:
                return any(release.version == version for release in facts.releases)
        page = self._pages.get(name)
        return page is not None and version in page.file_versions()

    def _json_api_source(self) -> IndexSource | None:
        """The index whose per-version JSON is asked: the first remote one, while it is known to offer it or untried."""
        source = next((item for item in self.indexes if not item.is_local), None)
        if source is None or not source.url.rstrip("/").endswith("/simple") or not self._offers_json(source):
            return None
        return source

    @staticmethod
    def _version_url(source: IndexSource, name: str, version: str) -> str:
        return f"{source.url.rstrip('/')[: -len('simple')]}pypi/{name}/{version}/json"

    def _probe_early(self, name: str, version: str) -> None:
        """Ask for one per-version JSON while the pages download, for :meth:`vulnerabilities` to use.

        Whether the index offers that API is learnt from this first answer; asking
        it alongside the pages saves a round trip after them on a cold cache.
        """
        source = self._json_api_source()
        if source is None or self.offline:
            return
        if self.cache is not None and isinstance(self.cache.get_data(source.url, f"vulnerabilities-{name}-{version}", self.freshness), list):
            return
        url = self._version_url(source, name, version)
        try:
            answer = self._get(url, {"Accept": "application/json"})
        except IndexUnreachableError:
            return  # asked again, and reported, if it is needed after all
        with self._lock:
            self._early[url] = answer

    def vulnerabilities_many(self, pairs: Iterable[tuple[str, str]]) -> dict[tuple[str, str], list[dict[str, Any]] | None]:
        """:meth:`vulnerabilities` for many versions: one probe, then concurrently when the index offers the API."""
        todo = list(dict.fromkeys(pairs))
        if not todo:
            return {}
        asked = self._json_api_source()
        if asked is not None and self._early:  # one answered while the pages downloaded goes first: it tells whether to ask more
            early = set(self._early)
            todo.sort(key=lambda pair: self._version_url(asked, *pair) not in early)
        answers = {todo[0]: self.vulnerabilities(*todo[0])}
        rest = todo[1:]
        source = next((item for item in self.indexes if not item.is_local), None)
        if source is None or not self._offers_json(source):
            answers.update(dict.fromkeys(rest))
            return answers
        from concurrent.futures import ThreadPoolExecutor  # noqa: PLC0415 - only when the index offers the per-version JSON

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


def warm_up() -> None:
    """Load the HTTP client (its imports) and the trust store on a daemon thread, for a run that will soon
    use the network: the trust store loads without the interpreter lock, while the caller goes on.

    Not for a process that forks afterwards (see :func:`~reprolock.index.forked.can_fork`).
    """

    def load() -> None:
        from reprolock.index.http11 import default_tls  # noqa: PLC0415 - ssl only: the trust store starts at once

        default_tls()
        import reprolock.index.client  # noqa: F401, PLC0415 - the point: the client loads on this thread

    threading.Thread(target=load, name="reprolock-warm-up", daemon=True).start()


def _drain(queue: JobQueue, jobs: list[tuple[str, list[Any]]], run: Callable[[tuple[str, list[Any]]], None], done: list[str]) -> None:
    """Run the jobs claimed from ``queue`` until none is left, noting their names in ``done``."""
    while (number := queue.claim()) is not None:
        run(jobs[number])
        done.append(jobs[number][0])


def _settle_future(future: Future[Answer], get: Callable[[str, dict[str, str]], Answer], url: str, headers: dict[str, str]) -> None:
    """``future`` gets ``get(url, headers)``, or the error it raised."""
    try:
        future.set_result(get(url, headers))
    except BaseException as exc:  # noqa: BLE001 - handed to whoever waits on the future
        future.set_exception(exc)


def _local_folder(url: str) -> Path:
    return Path(unquote(urlsplit(url).path))


def _local_page(source: IndexSource, name: str) -> LazyPage | None:
    """A project of a ``file://`` PEP 503 tree: ``NAME/index.html``, else the folder's files."""
    from reprolock.index.simple import parse_html  # noqa: PLC0415 - a warm run parses no page

    folder = _local_folder(source.url) / name
    page_url = f"{source.url}{name}/"
    index = folder / "index.html"
    try:
        if index.is_file():
            return LazyPage.of(parse_html(index.read_text(encoding="utf-8", errors="replace"), page_url, source.url, name))
        if folder.is_dir():
            links = "".join(f'<a href="{item.name}">{item.name}</a>' for item in sorted(folder.iterdir()) if item.is_file())
            return LazyPage.of(parse_html(links, page_url, source.url, name))
    except OSError:
        return None
    return None


def _local_metadata(file: DistFile) -> bytes:
    from reprolock.index.metadata import MetadataError, sdist_metadata, wheel_metadata  # noqa: PLC0415 - zipfile and tarfile only when metadata is read

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
