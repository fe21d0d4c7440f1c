"""The on-disk index cache: one small JSON file per index and project.

Layout: ``<cache>/index-v1/<sha256 of the index URL>/<project>.json``. The
index URL in the key never holds credentials (they are split off before), and
the file names are hashes and normalised project names only. Entries keep the
parsed page (not the index's raw answer), its ETag and how long it stays fresh
(``Cache-Control: max-age``, else :data:`DEFAULT_FRESHNESS`). Other files
(core metadata) are kept as blobs: ``<cache>/<kind>-v1/<key[:2]>/<key>``.

The cache may be shared by processes running at once (CI jobs over one cache
folder). Every file is written to a temporary file of its own in the same
folder, then renamed over the old one, so a reader sees a whole old file or a
whole new one; a file that cannot be read or decoded, or is not of the
expected shape, is a miss (the caller fetches again and the cache is
rewritten), never an error. The folders it creates are private (``0700``):
a private index's pages may be kept there.

With ``background=True`` the files are written by a :class:`Writer` thread,
so :meth:`Cache.put` returns at once; a key waiting to be written is read
from memory. :meth:`Cache.close` (or :meth:`Cache.flush`) waits for them.
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import json
import os
import re
import threading
import time
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import queue
    from collections.abc import Callable, Mapping

    from reprolock.index.pages import LazyPage

DEFAULT_FRESHNESS = 300.0
"""Seconds a page stays fresh when the index sends no ``Cache-Control``."""
_LAYOUT = "index-v1"
PRIVATE = 0o700
"""The mode of every folder the cache creates."""
_ROW_WIDTH = 12
"""Fields of a file in the compact page form (``reprolock.index.pages._FIELDS``)."""
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


_FETCHED_MARK = "last-fetch"


def fetched_recently(folder: Path, freshness: float = DEFAULT_FRESHNESS) -> bool:
    """Whether a run fetched index pages into ``folder`` within ``freshness`` seconds (its summaries are then likely fresh)."""
    try:
        return time.time() - (folder / _LAYOUT / _FETCHED_MARK).stat().st_mtime < freshness
    except OSError:
        return False


# -- files -----------------------------------------------------------------------------------------


def make_folder(path: Path) -> None:
    """Create ``path`` and its missing parents, each with mode ``0700``; folders that exist are left alone.

    (``os.makedirs(mode=...)`` gives the mode to the last folder only.) Raises :class:`OSError`.
    """
    missing: list[Path] = []
    current = path
    while not current.is_dir():
        missing.append(current)
        if current.parent == current:
            break
        current = current.parent
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=PRIVATE)
        except FileExistsError:  # another process made it meanwhile (or it is a file: the next step fails)
            if not folder.is_dir():
                raise


def write_atomic(path: Path, data: bytes, *, folders: set[Path] | None = None) -> bool:
    """Write ``data`` to ``path`` through a temporary file unique to this process and thread, then a rename.

    Readers see the whole old file or the whole new one. Failures are ignored
    (the cache is an optimisation): ``False``, and no temporary file is left.
    ``folders`` remembers the folders already made.
    """
    temporary = path.with_name(f".tmp-{os.getpid()}-{threading.get_ident()}-{os.urandom(4).hex()}-{path.name}")
    try:
        if folders is None or path.parent not in folders:
            make_folder(path.parent)
            if folders is not None:
                folders.add(path.parent)
        handle = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o600)
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        temporary.replace(path)
    except OSError:
        with contextlib.suppress(OSError):
            temporary.unlink()
        return False
    return True


def read_file(path: Path) -> bytes | None:
    """The bytes of ``path``; ``None`` when it cannot be read."""
    try:
        return path.read_bytes()
    except OSError:
        return None


_WRITERS: weakref.WeakSet[Writer] = weakref.WeakSet()


class Writer:
    """Writes files atomically (:func:`write_atomic`), in the background when ``background`` is true.

    The background thread is started on the first write and ends whenever
    nothing is left to write (a process that forks looks for a single
    thread). Writes to one path keep their order; :meth:`pending` answers
    what is still waiting. :meth:`flush` waits for every write; after
    :meth:`close` writes are made at once. At exit, every writer is flushed
    (``atexit``), and a forked copy writes at once (it ends with ``os._exit``).
    """

    def __init__(self, *, background: bool = False) -> None:
        self.background = background
        self._folders: set[Path] = set()
        self._reset()
        _WRITERS.add(self)

    def _reset(self) -> None:
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._pending: dict[Path, tuple[object, object]] = {}
        self._queue: queue.SimpleQueue[tuple[Path, Callable[[], bytes | None], object]] | None = None
        self._thread: threading.Thread | None = None
        self._unfinished = 0
        self._closed = False

    def _after_fork(self) -> None:
        """In a forked copy: no thread, nothing pending (the parent writes it), and every write made at once."""
        self._reset()
        self.background = False

    def pending(self, path: Path) -> tuple[bool, object]:
        """``(True, value)`` while a write of ``path`` waits (``value`` as given to :meth:`write`); else ``(False, None)``."""
        if not self._pending:
            return False, None
        with self._lock:
            found = self._pending.get(path)
        return (True, found[1]) if found is not None else (False, None)

    def write(self, path: Path, produce: Callable[[], bytes | None], value: object = None) -> None:
        """Write what ``produce`` returns (``None``: nothing) to ``path``; ``value`` is what :meth:`pending` answers meanwhile."""
        if self.background:
            with self._lock:
                if not self._closed:
                    token = object()
                    self._pending[path] = (token, value)
                    self._unfinished += 1
                    if self._queue is None:
                        import queue  # noqa: PLC0415 - only once something is written in the background

                        self._queue = queue.SimpleQueue()
                    self._queue.put((path, produce, token))
                    if self._thread is None:
                        self._thread = threading.Thread(target=self._run, name="reprolock-cache-writer", daemon=True)
                        self._thread.start()
                    return
        self._write_one(path, produce)

    def _write_one(self, path: Path, produce: Callable[[], bytes | None]) -> None:
        try:
            data = produce()
        except Exception:  # noqa: BLE001 - a value that cannot be encoded is not cached; the run goes on
            return
        if data is not None:
            write_atomic(path, data, folders=self._folders)

    def _run(self) -> None:
        import queue  # noqa: PLC0415

        jobs = self._queue
        assert jobs is not None  # noqa: S101 - made before the thread
        while True:
            try:
                path, produce, token = jobs.get(timeout=0.05)
            except queue.Empty:
                with self._lock:
                    if jobs.empty():  # writes queue under the lock: none can be missed
                        self._thread = None
                        return
                continue
            try:
                self._write_one(path, produce)
            finally:
                with self._lock:
                    found = self._pending.get(path)
                    if found is not None and found[0] is token:
                        del self._pending[path]
                    self._unfinished -= 1
                    if not self._unfinished:
                        self._idle.notify_all()

    def flush(self) -> None:
        """Wait until every write made so far is on disk."""
        with self._lock:
            while self._unfinished:
                thread = self._thread
                if thread is None or not thread.is_alive():  # gone (interpreter shutdown): write the rest here
                    break
                self._idle.wait(0.5)
            else:
                return
        self._drain_here()

    def _drain_here(self) -> None:
        import queue  # noqa: PLC0415

        while self._queue is not None:
            try:
                path, produce, token = self._queue.get_nowait()
            except queue.Empty:
                return
            self._write_one(path, produce)
            with self._lock:
                found = self._pending.get(path)
                if found is not None and found[0] is token:
                    del self._pending[path]
                self._unfinished = max(0, self._unfinished - 1)

    def close(self) -> None:
        """Flush, stop the thread; later writes are made at once. Safe to call again."""
        with self._lock:
            self._closed = True
        self.flush()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(1.0)


def _flush_all() -> None:
    for writer in list(_WRITERS):
        with contextlib.suppress(Exception):
            writer.flush()


def _after_fork_in_child() -> None:
    for writer in list(_WRITERS):
        writer._after_fork()  # noqa: SLF001 - the module's own hook


atexit.register(_flush_all)
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


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
    import zlib  # noqa: PLC0415 - only when a blob is read or written

    return len(data).to_bytes(4, "little") + zlib.crc32(data).to_bytes(4, "little")


class Cache:
    """Read and write cache entries; every failure to read is a miss, never an error.

    ``background``: writes are made by a thread (see :class:`Writer`); call :meth:`close` (or :meth:`flush`) before
    the process ends with ``os._exit``.
    """

    def __init__(self, folder: Path, *, background: bool = False) -> None:
        self.folder = folder
        self.writer = Writer(background=background)
        """Writes this cache's files; the lock's tables go through it too."""
        self._marked = False

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
        from reprolock.index.pages import LazyPage  # noqa: PLC0415 - the page code loads only when a page is read

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

    def mark_fetched(self) -> None:
        """Note that pages were just fetched from the network (see :func:`fetched_recently`); once per run."""
        if self._marked:
            return
        self._marked = True
        with contextlib.suppress(OSError):
            make_folder(self.folder / _LAYOUT)
            (self.folder / _LAYOUT / _FETCHED_MARK).touch()

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
