"""The cache's files: private folders, atomic writes, reads that never fail, and a background writer.

Processes may share one cache folder, so every file is written to a
temporary file of its own in the same folder, then renamed over the old one:
a reader sees a whole old file or a whole new one. The folders made are
private (``0700``): a private index's pages may be kept there.
"""

from __future__ import annotations

import contextlib
import os
import threading
from concurrent.futures import ThreadPoolExecutor, wait
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable
    from concurrent.futures import Future
    from pathlib import Path

PRIVATE = 0o700
"""The mode of every folder the cache creates."""


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


class Writer:
    """Writes files with :func:`write_atomic`; with ``background``, on one thread so the caller does not wait.

    The thread (a one-worker pool) starts with the first write, so writes run
    one at a time in the order they were made. :meth:`pending` answers the
    value of a write still waiting; :meth:`flush` waits for every write made so
    far; after :meth:`close` writes are made at once. A run that ends without
    :meth:`close` loses nothing: the interpreter joins a pool's threads, and so
    finishes its queued writes, before it exits.
    """

    def __init__(self, *, background: bool = False) -> None:
        self.background = background
        self._folders: set[Path] = set()
        self._lock = threading.Lock()
        self._pending: dict[Path, tuple[object, object]] = {}
        """Path -> (the token of its latest write, the value given with it)."""
        self._pool: ThreadPoolExecutor | None = None
        self._last: Future[None] | None = None
        """The latest write queued: when it is done, so are all before it."""
        self._closed = False

    def pending(self, path: Path) -> tuple[bool, object]:
        """``(True, value)`` while a write of ``path`` waits (``value`` as given to :meth:`write`); else ``(False, None)``."""
        with self._lock:
            found = self._pending.get(path)
        return (True, found[1]) if found is not None else (False, None)

    def write(self, path: Path, produce: Callable[[], bytes | None], value: object = None) -> None:
        """Write what ``produce`` returns (``None``: nothing) to ``path``; ``value`` is what :meth:`pending` answers meanwhile."""
        if self.background and self._queue(path, produce, value):
            return
        self.flush()  # a write still queued for this path must not land after this one
        self._write_now(path, produce)

    def _queue(self, path: Path, produce: Callable[[], bytes | None], value: object) -> bool:
        """Hand the write to the thread; ``False`` once closed, or when the interpreter is exiting and takes no new work."""
        with self._lock:
            if self._closed:
                return False
            if self._pool is None:

                self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="reprolock-cache-writer")
            token = object()
            try:
                self._last = self._pool.submit(self._write_queued, path, produce, token)
            except RuntimeError:  # the interpreter is exiting
                return False
            self._pending[path] = (token, value)  # under the lock, so the write cannot finish (and clear it) before
            return True

    def _write_queued(self, path: Path, produce: Callable[[], bytes | None], token: object) -> None:
        try:
            self._write_now(path, produce)
        finally:
            with self._lock:
                found = self._pending.get(path)
                if found is not None and found[0] is token:  # not a later write of the same path
                    del self._pending[path]

    def _write_now(self, path: Path, produce: Callable[[], bytes | None]) -> None:
        try:
            data = produce()
        except Exception:  # noqa: BLE001 - a value that cannot be encoded is not cached; the run goes on
            return
        if data is not None:
            write_atomic(path, data, folders=self._folders)

    def flush(self) -> None:
        """Wait until every write made so far is on disk."""
        with self._lock:
            last = self._last
        if last is not None:

            wait([last])

    def close(self) -> None:
        """Flush and stop the thread; later writes are made at once. Safe to call again."""
        with self._lock:
            self._closed = True
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True)
