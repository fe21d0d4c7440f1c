"""The on-disk index cache: one small JSON file per index and project.

Layout: ``<cache>/index-v1/<sha256 of the index URL>/<project>.json``. The
index URL in the key never holds credentials (they are split off before), and
the file names are hashes and normalised project names only. Entries keep the
parsed page (not the index's raw answer), its ETag and how long it stays fresh
(``Cache-Control: max-age``, else :data:`DEFAULT_FRESHNESS`). Other files
(core metadata) are kept as blobs: ``<cache>/<kind>-v1/<key[:2]>/<key>``.

The cache may be shared by processes running at once (CI jobs over one cache
folder): every file is written atomically (see :mod:`reprolock.index.cachefiles`),
and a file that cannot be read or decoded, or is not of the expected shape, is
a miss (the caller fetches again and the cache is rewritten), never an error.

With ``background=True`` the files are written by a :class:`Writer` thread,
so :meth:`Cache.put` returns at once; a key waiting to be written is read
from memory. :meth:`Cache.close` (or :meth:`Cache.flush`) waits for them.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reprolock.index.cachefiles import PRIVATE, Writer, make_folder, read_file, write_atomic
from reprolock.index.pages import LazyPage

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = [  # the file helpers too, so users of the cache need one import
    "DEFAULT_FRESHNESS",
    "PRIVATE",
    "Cache",
    "Entry",
    "Freshness",
    "Writer",
    "cache_directives",
    "default_cache_dir",
    "make_folder",
    "read_file",
    "run_cache_dir",
    "write_atomic",
]

DEFAULT_FRESHNESS = 300.0
"""Seconds a page stays fresh when the index sends no ``Cache-Control``."""
_LAYOUT = "index-v1"
_ROW_WIDTH = 12
"""Fields of a file in the compact page form (``reprolock.index.compact._FIELDS``)."""
_MISS = (OSError, ValueError, KeyError, TypeError, AttributeError, IndexError)
"""What reading a damaged or half-foreign file may raise (UnicodeDecodeError and JSONDecodeError are ValueErrors): a miss."""


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


# -- Cache-Control ---------------------------------------------------------------------------------

_DIRECTIVE = re.compile(r'\s*([^\s=,"]+)\s*(?:=\s*("(?:[^"\\]|\\.)*"|[^,"]*))?\s*(?:,|$)')
_DELTA = re.compile(r"\d+")


def cache_directives(value: str) -> dict[str, str | None] | None:
    """The directives of a ``Cache-Control`` value: lower-case names to values (unquoted; ``None`` without ``=``).

    The first of repeated directives wins. ``None`` when the value cannot be split (an unclosed quote, a stray character).
    """
    directives: dict[str, str | None] = {}
    position, end = 0, len(value)
    while position < end:
        if value[position] in " \t,":
            position += 1
            continue
        found = _DIRECTIVE.match(value, position)
        if found is None or found.end() == position:
            return None
        name, raw = found.group(1).lower(), found.group(2)
        if raw is not None:
            raw = raw.strip()
            if raw.startswith('"'):
                raw = re.sub(r"\\(.)", r"\1", raw[1:-1])
        directives.setdefault(name, raw)
        position = found.end()
    return directives


@dataclass(frozen=True, slots=True)
class Freshness:
    """What the index's headers say about keeping an answer."""

    max_age: float
    store: bool = True

    @classmethod
    def from_headers(cls, cache_control: str | None, default: float = DEFAULT_FRESHNESS) -> Freshness:
        """As a private cache reads ``Cache-Control``: ``no-store`` keeps nothing; ``no-cache`` and ``max-age=0``
        keep the answer but revalidate it every time; ``max-age=N`` keeps it ``N`` seconds; ``s-maxage`` (for shared
        caches) and the rest are ignored. A value that cannot be read, or a malformed ``max-age``, gives ``default``."""
        if not cache_control:
            return cls(default)
        directives = cache_directives(cache_control)
        if directives is None:
            return cls(default)
        if "no-store" in directives:
            return cls(0.0, store=False)
        if "no-cache" in directives:
            return cls(0.0)
        age = directives.get("max-age")
        if age is not None and _DELTA.fullmatch(age):
            return cls(float(age))
        return cls(default)


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


def _checked_page(data: object) -> dict[str, Any]:
    """``data`` if it has the shape of the compact page form; raises ``TypeError`` otherwise."""
    if not isinstance(data, dict):
        raise TypeError("not a page")
    files, versions = data.get("files"), data.get("versions")
    if not isinstance(data.get("name"), str) or not isinstance(data.get("index_url"), str) or not isinstance(versions, list) or not isinstance(files, list):
        raise TypeError("not a page")
    if not all(type(row) is list and len(row) == _ROW_WIDTH for row in files):
        raise TypeError("not a page")
    return data


def _optional_text(value: object) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise TypeError("not a text")


_BLOB_MAGIC = b"RLB1"
_BLOB_HEAD = 12
"""A blob file: the magic, the length and the CRC-32 of the data (4 bytes each, little-endian), then the data."""
_KIND = re.compile(r"[a-z0-9][a-z0-9_-]{0,31}")
_KEY = re.compile(r"[0-9a-f]{16,128}")


def _blob_check(data: bytes) -> bytes:

    return len(data).to_bytes(4, "little") + zlib.crc32(data).to_bytes(4, "little")


class Cache:
    """Read and write cache entries; every failure to read is a miss, never an error.

    ``background``: writes are made by a thread (see :class:`Writer`); :meth:`close` waits for them and stops it.
    """

    def __init__(self, folder: Path, *, background: bool = False) -> None:
        self.folder = folder
        self.writer = Writer(background=background)
        """Writes this cache's files; the lock's tables go through it too."""

    def _path(self, index_url: str, name: str) -> Path:
        key = hashlib.sha256(index_url.encode()).hexdigest()[:24]
        return self.folder / _LAYOUT / key / f"{name}.json"

    def _read_json(self, path: Path) -> Any:  # noqa: ANN401 - JSON of any shape
        data = read_file(path)
        return None if data is None else json.loads(data)

    def get(self, index_url: str, name: str) -> Entry | None:
        path = self._path(index_url, name)
        waiting, value = self.writer.pending(path)
        if waiting:
            return value if isinstance(value, Entry) else None

        try:
            data = self._read_json(path)
            if data is None:
                return None
            stored = data["page"]
            page = LazyPage.from_data(_checked_page(stored)) if stored is not None else None
            return Entry(page, float(data["fetched"]), float(data["max_age"]), _optional_text(data.get("etag")), _optional_text(data.get("last_modified")))
        except _MISS:
            return None

    def put(self, index_url: str, name: str, entry: Entry) -> None:
        data: dict[str, Any] = {
            "fetched": entry.fetched,
            "max_age": entry.max_age,
            "etag": entry.etag,
            "last_modified": entry.last_modified,
            "page": entry.page.to_data() if entry.page is not None else None,  # here: the page may release its entries next
        }
        self.writer.write(self._path(index_url, name), lambda: json.dumps(data, separators=(",", ":")).encode(), entry)  # the C encoder

    def get_data(self, index_url: str, key: str, max_age: float | None) -> Any:  # noqa: ANN401 - JSON of any shape
        """Other JSON kept per index (capabilities, vulnerability lists); ``None`` when absent or older than ``max_age``."""
        path = self._path(index_url, f"_{key}")
        try:
            waiting, data = self.writer.pending(path)
            if not waiting:
                data = self._read_json(path)
            if not isinstance(data, dict):
                return None
            if max_age is not None and time.time() - float(data["fetched"]) >= max_age:
                return None
            return data["value"]
        except _MISS:
            return None

    def put_data(self, index_url: str, key: str, value: object) -> None:
        data = {"fetched": time.time(), "value": value}
        self.writer.write(self._path(index_url, f"_{key}"), lambda: json.dumps(data, separators=(",", ":")).encode(), data)

    def _blob_path(self, kind: str, key: str) -> Path | None:
        key = key.lower()
        if not _KIND.fullmatch(kind) or not _KEY.fullmatch(key):
            return None  # never a path from what an index sent
        return self.folder / f"{kind}-v1" / key[:2] / key

    def get_blob(self, kind: str, key: str) -> bytes | None:
        """The bytes kept as ``kind`` under ``key`` (a hex digest); ``None`` when absent, damaged or the key is not hex."""
        path = self._blob_path(kind, key)
        if path is None:
            return None
        waiting, value = self.writer.pending(path)
        if waiting:
            return value if isinstance(value, bytes) else None
        stored = read_file(path)
        if stored is None or len(stored) < _BLOB_HEAD or stored[:4] != _BLOB_MAGIC:
            return None
        data = stored[_BLOB_HEAD:]
        if stored[4:_BLOB_HEAD] != _blob_check(data):
            return None
        return data

    def put_blob(self, kind: str, key: str, data: bytes) -> None:
        """Keep ``data`` as ``kind`` under ``key`` (a hex digest; any other key is not kept)."""
        path = self._blob_path(kind, key)
        if path is None:
            return
        data = bytes(data)
        self.writer.write(path, lambda: _BLOB_MAGIC + _blob_check(data) + data, data)

    def touch(self, index_url: str, name: str, entry: Entry, freshness: Freshness) -> Entry:
        """Record that a stale entry was revalidated (HTTP 304)."""
        renewed = Entry(entry.page, time.time(), freshness.max_age, entry.etag, entry.last_modified)
        self.put(index_url, name, renewed)
        return renewed

    def flush(self) -> None:
        """Wait until every entry written so far is on disk."""
        self.writer.flush()

    def close(self) -> None:
        """Flush and stop the background writer; later writes are made at once. Safe to call again."""
        self.writer.close()
