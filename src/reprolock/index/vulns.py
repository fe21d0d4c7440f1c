"""Known vulnerabilities from the index's per-version JSON (``/pypi/NAME/VERSION/json``), where it offers one.

An index that answers 404 for a version its simple page lists does not offer
that API; that is remembered for a day in the cache, so later runs do not ask.
"""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from collections.abc import Iterable

    from reprolock.index.cache import Cache
    from reprolock.index.config import IndexSource
    from reprolock.index.models import Answer

CAPABILITY_FRESHNESS = 86400.0
"""Seconds an index's answer to "do you offer per-version JSON?" is remembered."""


class _Finder(Protocol):
    indexes: tuple[IndexSource, ...]
    offline: bool
    freshness: float

    def get(self, url: str, headers: dict[str, str] | None = None) -> Answer: ...

    def lists(self, name: str, version: str) -> bool: ...


class Vulnerabilities:
    """Per-version vulnerability lists through the finder's client, cached per index."""

    def __init__(self, finder: _Finder, cache: Cache | None, *, concurrency: int = 16) -> None:
        self._finder = finder
        self._cache = cache
        self._concurrency = concurrency
        self._known: dict[str, bool] = {}
        self._lock = threading.Lock()

    def many(self, pairs: Iterable[tuple[str, str]]) -> dict[tuple[str, str], list[dict[str, Any]] | None]:
        """The first version is asked alone (its answer tells whether the index offers the API), the rest concurrently."""
        todo = list(dict.fromkeys(pairs))
        if not todo:
            return {}
        answers = {todo[0]: self.one(*todo[0])}
        rest = todo[1:]
        if self._source() is None or not rest:
            answers.update(dict.fromkeys(rest))
            return answers
        with ThreadPoolExecutor(max_workers=min(self._concurrency, len(rest)), thread_name_prefix="reprolock-vulns") as pool:
            answers.update(zip(rest, pool.map(lambda pair: self.one(*pair), rest), strict=True))
        return answers

    def one(self, name: str, version: str) -> list[dict[str, Any]] | None:
        """The index's ``vulnerabilities`` list for ``name`` ``version``; ``None`` when the index offers none."""
        source = self._source()
        if source is None:
            return None
        key = f"vulnerabilities-{name}-{version}"
        finder = self._finder
        if self._cache is not None:
            known = self._cache.get_data(source.url, key, None if finder.offline else finder.freshness)
            if isinstance(known, list):
                return known
        if finder.offline:
            return None
        answer = finder.get(_version_url(source, name, version), {"Accept": "application/json"})
        if answer.status in {404, 410}:
            if finder.lists(name, version):
                self._remember(source, offers=False)
            return None
        try:
            found = json.loads(answer.body).get("vulnerabilities") if answer.status == 200 else None
        except (ValueError, AttributeError):
            found = None
        if not isinstance(found, list):
            return None
        self._remember(source, offers=True)
        if self._cache is not None:
            self._cache.put_data(source.url, key, found)
        return found

    def _source(self) -> IndexSource | None:
        """The index asked: the first remote one, when its URL ends in ``/simple`` and it is not known to refuse."""
        source = next((item for item in self._finder.indexes if not item.is_local), None)
        if source is None or not source.url.rstrip("/").endswith("/simple"):
            return None
        return source if self._offers(source) else None

    def _offers(self, source: IndexSource) -> bool:
        with self._lock:
            known = self._known.get(source.url)
        if known is None and self._cache is not None:
            stored = self._cache.get_data(source.url, "capabilities", None if self._finder.offline else CAPABILITY_FRESHNESS)
            known = stored.get("per_version_json") if isinstance(stored, dict) else None
            if known is not None:
                with self._lock:
                    self._known[source.url] = bool(known)
        return True if known is None else bool(known)

    def _remember(self, source: IndexSource, *, offers: bool) -> None:
        with self._lock:
            if self._known.get(source.url) == offers:
                return
            self._known[source.url] = offers
        if self._cache is not None:
            self._cache.put_data(source.url, "capabilities", {"per_version_json": offers})


def _version_url(source: IndexSource, name: str, version: str) -> str:
    return f"{source.url.rstrip('/')[: -len('simple')]}pypi/{name}/{version}/json"
