"""Fetch ahead of the resolver: candidate tables and metadata of the likely graph, concurrently.

The resolver asks for one project at a time. Waiting for each page and each
METADATA file in turn would make a cold lock as slow as the sum of its
round trips, so :class:`Lookahead` walks the *likely* graph on a thread
pool as soon as the root requirements are known: for every requirement it
loads the project's table, takes the release the resolver would try first
(the preferred pin, else the newest admitted), reads its metadata and goes on
with that release's dependencies (markers evaluated for the target). The
resolver then finds most answers ready; what the walk guessed wrong is
fetched when the resolver asks. Each table and each release's metadata is
computed once, by whichever thread gets there first.

When candidate tables come from disk (a warm run), the walk waits: threads
would only contend for the interpreter while everything is local. The first
table that has to come through the index client turns the walk on, for
every requirement seen so far and from then on.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from reprolock.errors import ReprolockError
from reprolock.lock.candidates import ProjectTable, Wanted, project_table
from reprolock.lock.metadata import Once
from reprolock.lock.provider import PYTHON, Need, requirement_needs

if TYPE_CHECKING:
    from collections.abc import Iterable

    from reprolock.index.models import PackageFinder
    from reprolock.lock.metadata import MetadataStore
    from reprolock.lock.provider import ResolveOptions
    from reprolock.lock.tables import TableStore
    from reprolock.lock.target import LockTarget


class Lookahead:
    """Candidate tables for the provider, and a background walk of the likely dependency graph."""

    def __init__(
        self,
        finder: PackageFinder,
        target: LockTarget,
        metadata: MetadataStore,
        options: ResolveOptions,
        *,
        store: TableStore | None = None,
        workers: int = 0,
    ) -> None:
        self._finder = finder
        self._target = target
        self._metadata = metadata
        self._options = options
        self._store = store
        self._tables = Once()
        self._seen: set[tuple[str, str, frozenset[str]]] = set()
        self._lock = threading.Lock()
        self._closed = False
        self._eager = store is None
        self._deferred: list[Need] = []
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="reprolock-lookahead") if workers else None

    def close(self) -> None:
        with self._lock:
            self._closed = True
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)

    # -- tables ------------------------------------------------------------------------------------
    def table(self, name: str) -> ProjectTable | None:
        """The project's candidate table (``None``: the index does not have it); built once per run."""
        return self._tables.run(name, lambda: self._build(name))

    def _build(self, name: str) -> ProjectTable | None:
        if self._store is not None and (stored := self._store.load(name)) is not None:
            return stored
        self._go_eager()
        table = project_table(self._finder, name, self._target)
        if table is not None and self._store is not None:
            self._store.save(table)
        return table

    # -- the walk ----------------------------------------------------------------------------------
    def explore(self, needs: Iterable[Need]) -> None:
        """Start on the tables and likely metadata of ``needs`` and, transitively, of their dependencies."""
        if self._pool is None:
            return
        if not self._eager:
            with self._lock:
                if not self._eager:
                    self._deferred.extend(needs)
                    return
        for need in needs:
            if need.name == PYTHON or need.name in self._options.direct:
                continue  # a direct reference has no index page to fetch
            key = (need.name, str(need.specifier), need.extras)
            with self._lock:
                if self._closed or key in self._seen:
                    continue
                self._seen.add(key)
                self._pool.submit(self._walk, need)

    def _go_eager(self) -> None:
        with self._lock:
            if self._eager:
                return
            self._eager = True
            deferred, self._deferred = self._deferred, []
        self.explore(deferred)

    def _walk(self, need: Need) -> None:
        try:
            table = self.table(need.name)
            if table is None:
                return
            constraints = [item.specifier for item in self._options.constraints.get(need.name, ())]
            wanted = Wanted((need.specifier, *constraints), allow_pre=self._options.allow_pre)
            release = next(table.iter_releases(wanted, prefer=self._options.preferred.get(need.name)), None)
            if release is None:
                return
            requires = self._metadata.get(release).requires
            self.explore(requirement_needs(str(release.name), requires, self._target, extras=()))
            if need.extras:
                self.explore(requirement_needs(str(release.name), requires, self._target, extras=need.extras))
        except (ReprolockError, OSError, ValueError):
            return  # only a guess: the resolver meets the same error if it needs this release
