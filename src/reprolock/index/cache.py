"""The on-disk index cache: one small JSON file per index and project.

Layout: ``<cache>/index-v1/<sha256 of the index URL>/<project>.json``. The
index URL in the key never holds credentials (they are split off before), and
the file names are hashes and normalised project names only. Entries keep the
parsed page (not the index's raw answer), its ETag and how long it stays fresh
(``Cache-Control: max-age``, else :data:`DEFAULT_FRESHNESS`).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Mapping

    from reprolock.index.pages import LazyPage

DEFAULT_FRESHNESS = 300.0
"""Seconds a page stays fresh when the index sends no ``Cache-Control``."""
_LAYOUT = "index-v1"
_MAX_AGE = re.compile(r"max-age\s*=\s*(\d+)")


def default_cache_dir(env: Mapping[str, str]) -> Path:
    """The user cache folder: ``$XDG_CACHE_HOME/reprolock`` or ``~/.cache/reprolock``."""
    base = env.get("XDG_CACHE_HOME") or str(Path(env.get("HOME") or Path.home()) / ".cache")
    return Path(base) / "reprolock"


def run_cache_dir(cwd: Path, env: Mapping[str, str], *, cache_dir: str | None, no_cache: bool) -> Path | None:
    """The run's cache folder: ``--cache-dir`` (relative to ``cwd``), else :func:`default_cache_dir`; ``None`` with ``--no-cache``."""
    if no_cache:
        return None
    folder = Path(cache_dir) if cache_dir else default_cache_dir(env)
    return folder if folder.is_absolute() else cwd / folder


_FETCHED_MARK = "last-fetch"


def fetched_recently(folder: Path, freshness: float = DEFAULT_FRESHNESS) -> bool:
    """Whether a run fetched index pages into ``folder`` within ``freshness`` seconds (its summaries are then likely fresh)."""
    try:
        return time.time() - (folder / _LAYOUT / _FETCHED_MARK).stat().st_mtime < freshness
    except OSError:
        return False


@dataclass(frozen=True, slots=True)
class Freshness:
    """What the index's headers say about keeping an answer."""

    max_age: float
    store: bool = True

    @classmethod
    def from_headers(cls, cache_control: str | None, default: float = DEFAULT_FRESHNESS) -> Freshness:
        if not cache_control:
            return cls(default)
        text = cache_control.lower()
        if "no-store" in text:
            return cls(0.0, store=False)
        if "no-cache" in text:
            return cls(0.0)
        found = _MAX_AGE.search(text)
        return cls(float(found.group(1)) if found else default)


@dataclass(frozen=True, slots=True)
class Entry:
    """A cached answer: the page (``None``: the index does not have the project)."""

    page: LazyPage | None
    fetched: float
    max_age: float
    etag: str | None = None
    last_modified: str | None = None

    def is_fresh(self, now: float) -> bool:
        return now - self.fetched < self.max_age


class Cache:
    """Read and write cache entries; every failure to read is a miss, never an error."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._folders: set[Path] = set()
        self._marked = False

    def _path(self, index_url: str, name: str) -> Path:
        key = hashlib.sha256(index_url.encode()).hexdigest()[:24]
        return self.folder / _LAYOUT / key / f"{name}.json"

    def get(self, index_url: str, name: str) -> Entry | None:
        from reprolock.index.pages import LazyPage  # noqa: PLC0415 - the page code loads only when a page is read

        try:
            data = json.loads(self._path(index_url, name).read_bytes())
            page = LazyPage.from_data(data["page"]) if data.get("page") is not None else None
            return Entry(page, float(data["fetched"]), float(data["max_age"]), data.get("etag"), data.get("last_modified"))
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def put(self, index_url: str, name: str, entry: Entry) -> None:
        data: dict[str, Any] = {
            "fetched": entry.fetched,
            "max_age": entry.max_age,
            "etag": entry.etag,
            "last_modified": entry.last_modified,
            "page": entry.page.to_data() if entry.page is not None else None,
        }
        self._write(self._path(index_url, name), data)

    def _write(self, path: Path, data: dict[str, Any]) -> None:
        """Write atomically: a temporary file unique to this process and thread, then a rename."""
        temporary = path.with_name(f".tmp-{os.getpid()}-{threading.get_ident()}-{path.name}")
        encoded = json.dumps(data, separators=(",", ":")).encode()  # one-shot: the C encoder
        try:
            if path.parent not in self._folders:  # one mkdir per folder and run
                path.parent.mkdir(parents=True, exist_ok=True)
                self._folders.add(path.parent)
            temporary.write_bytes(encoded)
            temporary.replace(path)
        except OSError:
            with contextlib.suppress(OSError):
                temporary.unlink()

    def get_data(self, index_url: str, key: str, max_age: float | None) -> Any:  # noqa: ANN401 - JSON of any shape
        """Other JSON kept per index (capabilities, vulnerability lists); ``None`` when absent or older than ``max_age``."""
        try:
            data = json.loads(self._path(index_url, f"_{key}").read_bytes())
            if max_age is not None and time.time() - float(data["fetched"]) >= max_age:
                return None
            return data["value"]
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def mark_fetched(self) -> None:
        """Note that pages were just fetched from the network (see :func:`fetched_recently`); once per run."""
        if self._marked:
            return
        self._marked = True
        with contextlib.suppress(OSError):
            (self.folder / _LAYOUT).mkdir(parents=True, exist_ok=True)
            (self.folder / _LAYOUT / _FETCHED_MARK).touch()

    def put_data(self, index_url: str, key: str, value: object) -> None:
        self._write(self._path(index_url, f"_{key}"), {"fetched": time.time(), "value": value})

    def touch(self, index_url: str, name: str, entry: Entry, freshness: Freshness) -> Entry:
        """Record that a stale entry was revalidated (HTTP 304)."""
        renewed = Entry(entry.page, time.time(), freshness.max_age, entry.etag, entry.last_modified)
        self.put(index_url, name, renewed)
        return renewed
