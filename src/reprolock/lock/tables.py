"""Candidate tables, built once per project and run, and kept on disk between runs.

A warm ``lock`` should not re-read whole project pages: the page of a
project with many wheels is megabytes, while the resolver looks at a few
versions. So the table of a project (its versions that fit the target,
newest first) is stored beside the index cache in a file whose first line is
a small JSON header (the versions, where their files are and a CRC-32 of each)
followed by the files of every version, each a JSON array at a known offset.
Reading a table reads the header, then only the versions the resolver visits.

Tables are written only for remote indexes with a cache; they stay valid as
long as a cached page does (the index client's freshness), and for ever with
``--offline``. The key names the indexes and the target's Python version and
wheel tags, so a table is never used for another target.

Several processes may share the cache: a table is written to a temporary file
and renamed over the old one (see :func:`reprolock.index.cachefiles.write_atomic`),
and a table read later keeps the file it read its header from (an open file
descriptor, or the bytes of a small table), so the offsets always point into
the file they came from, even when another process has replaced it since. A
table whose header or files cannot be read is a miss, never an error.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import threading
import time
import weakref
import zlib
from typing import TYPE_CHECKING, Any

from reprolock.index.cachefiles import Writer
from reprolock.index.compact import data_file
from reprolock.lock.candidates import ProjectTable
from reprolock.versions import parse_version

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from packaging.version import Version

    from reprolock.index.models import DistFile
    from reprolock.lock.target import LockTarget

_LAYOUT = "lock-tables-v1"
_SMALL = 1 << 16
"""A table up to this size is read whole when it is loaded (one read, no file kept open)."""
_MAX_OPEN = 128
"""Tables a store keeps open at once (a run has one store); a larger table loaded beyond that is read whole."""
_MISS = (OSError, ValueError, KeyError, TypeError, AttributeError, IndexError)
"""What a damaged table may raise when read (JSONDecodeError and UnicodeDecodeError are ValueErrors)."""


class _OpenFiles:
    """How many table files a store keeps open, up to :data:`_MAX_OPEN` (tables are loaded from several threads)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._count = 0

    def claim(self) -> bool:
        """Count one more open file; ``False`` (nothing counted) when the store already keeps as many as it may."""
        with self._lock:
            if self._count >= _MAX_OPEN:
                return False
            self._count += 1
            return True

    def close(self, fd: int) -> None:
        """Close a claimed file (when the table that read it is gone)."""
        with self._lock:
            self._count -= 1
        with contextlib.suppress(OSError):
            os.close(fd)


def _first_line(fd: int, size: int) -> tuple[bytes, int]:
    """The bytes read from the start of ``fd`` (the whole of a small file) and where the first line ends; ``ValueError`` without one."""
    head = os.pread(fd, min(size, _SMALL), 0)
    end = head.find(b"\n")
    while end < 0 and len(head) < size:  # a header longer than the first read
        more = os.pread(fd, _SMALL, len(head))
        if not more:
            break
        head += more
        end = head.find(b"\n", len(head) - len(more))
    if end < 0:
        raise ValueError("no header")
    return head, end


def _body_size(header: dict[str, Any]) -> int:
    """The length of the files the header lists, one after the other from offset 0; ``ValueError`` when they are not."""
    expected = 0
    for _text, offset, length in header["versions"]:
        if offset != expected or length < 0:
            raise ValueError("damaged header")
        expected += length
    return expected


class _TableFile:
    """The bytes of one table file as it was when its header was read: kept in memory, or an open descriptor."""

    def __init__(self, fd: int | None, data: bytes | None, identity: tuple[int, int], opened: _OpenFiles) -> None:
        self._data = data
        self.identity = identity
        """``(st_dev, st_ino)`` of the file read."""
        self._fd = fd
        if fd is not None:  # counted in ``opened``: closed, and no longer counted, when this object goes
            weakref.finalize(self, opened.close, fd)

    def read(self, offset: int, length: int) -> bytes:
        if self._data is not None:
            return self._data[offset : offset + length]
        assert self._fd is not None  # noqa: S101 - one or the other
        return os.pread(self._fd, length, offset)  # no shared file position: threads may read at once


class StoredTable(ProjectTable):
    """A table read from disk: the header now, a version's files when asked.

    A version whose files cannot be read (a damaged file) is taken from
    ``rebuild`` (the table built afresh) when given, else it has no files;
    the file is then removed, so the next run writes it again.
    """

    def __init__(
        self,
        path: Path,
        header: dict[str, Any],
        source: _TableFile,
        start: int,
        target: LockTarget,
        *,
        rebuild: Callable[[], ProjectTable | None] | None = None,
    ) -> None:
        self._path = path
        self._source = source
        self._start = start
        self._rebuild = rebuild
        self._rebuilt: list[ProjectTable | None] = []
        self._spans: dict[Version, tuple[int, int, int | None]] = {}
        versions = []
        checks = header.get("crc32")
        rows = header["versions"]
        if checks is not None and (not isinstance(checks, list) or len(checks) != len(rows)):
            raise ValueError("damaged header")
        for number, (text, offset, length) in enumerate(rows):
            if not isinstance(text, str):
                raise TypeError("damaged header")
            version = parse_version(text)
            if version is not None:
                versions.append(version)
                self._spans[version] = (offset, length, int(checks[number]) if checks is not None else None)
        if not isinstance(header["name"], str) or not isinstance(header["index_url"], str):
            raise TypeError("damaged header")
        super().__init__(header["name"], header["index_url"], versions, target)
        self._files: dict[Version, tuple[DistFile, ...]] = {}

    def files(self, version: Version) -> tuple[DistFile, ...]:
        found = self._files.get(version)
        if found is None:
            span = self._spans.get(version)
            if span is None:
                return ()
            offset, length, check = span
            try:
                data = self._source.read(self._start + offset, length)
                if len(data) != length or (check is not None and zlib.crc32(data) != check):
                    raise ValueError("damaged table")
                rows = json.loads(data)
                if not isinstance(rows, list):
                    raise TypeError("damaged table")
                found = tuple(data_file(row) for row in rows)
            except _MISS:
                found = self._damaged(version)
            self._files[version] = found
        return found

    def _damaged(self, version: Version) -> tuple[DistFile, ...]:
        with contextlib.suppress(OSError):
            stat = self._path.stat()
            if (stat.st_dev, stat.st_ino) == self._source.identity:  # not yet replaced by another process
                self._path.unlink()
        if self._rebuild is None:
            return ()
        if not self._rebuilt:
            self._rebuilt.append(self._rebuild())
        table = self._rebuilt[0]
        return table.files(version) if table is not None else ()


class TableStore:
    """Where one run's tables are kept on disk (``None`` folder: nowhere).

    ``writer``: the cache's :class:`~reprolock.index.cachefiles.Writer` (tables are then
    written in the background when it is); ``rebuild``: builds a project's table
    afresh, for a stored table found damaged after it was loaded.
    """

    def __init__(
        self,
        folder: Path | None,
        scope: str,
        target: LockTarget,
        *,
        max_age: float | None,
        writer: Writer | None = None,
        rebuild: Callable[[str], ProjectTable | None] | None = None,
    ) -> None:
        self._folder = None
        if folder is not None:
            cutoff = [f"exclude-newer {target.exclude_newer.isoformat()}"] if target.exclude_newer else []
            text = "\n".join((scope, target.python_version, *target.tags, *cutoff))
            self._folder = folder / _LAYOUT / hashlib.sha256(text.encode()).hexdigest()[:24]
        self._max_age = max_age
        self._target = target
        self._writer = writer if writer is not None else Writer()
        self._rebuild = rebuild
        self._opened = _OpenFiles()

    def _path(self, name: str) -> Path | None:
        return None if self._folder is None else self._folder / f"{name}.table"

    def load(self, name: str) -> ProjectTable | None:
        """The stored table of ``name`` while it is fresh; ``None`` otherwise (a miss, never an error)."""
        path = self._path(name)
        if path is None:
            return None
        waiting, value = self._writer.pending(path)
        if waiting:
            return value if isinstance(value, ProjectTable) else None
        try:
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
        except OSError:
            return None
        kept = False
        try:
            stat = os.fstat(fd)
            size = stat.st_size
            head, end = _first_line(fd, size)
            header = json.loads(head[:end])
            if self._max_age is not None and time.time() - float(header["fetched"]) >= self._max_age:
                return None
            start = end + 1
            if start + _body_size(header) != size:  # cut short, or not the file the header describes
                return None
            identity = (stat.st_dev, stat.st_ino)
            if len(head) >= size:
                source = _TableFile(None, head, identity, self._opened)
            elif self._opened.claim():
                source = _TableFile(fd, None, identity, self._opened)
                kept = True
            else:
                source = _TableFile(None, os.pread(fd, size, 0), identity, self._opened)
            rebuild = self._rebuild
            return StoredTable(path, header, source, start, self._target, rebuild=(lambda: rebuild(name)) if rebuild is not None else None)
        except _MISS:
            return None
        finally:
            if not kept:
                os.close(fd)

    def save(self, table: ProjectTable) -> None:
        """Store ``table``; failures are ignored (the cache is an optimisation).

        Every version's files are written, from the page's entries when the
        table has them (:meth:`ProjectTable.file_data`), so no file is built for it.
        With a background writer, they are encoded and written there.
        """
        path = self._path(table.name)
        if path is None:
            return
        fetched = time.time()

        def encode() -> bytes:
            chunks: list[bytes] = []
            spans: list[tuple[str, int, int]] = []
            checks: list[int] = []
            offset = 0
            for version in table.versions:
                chunk = table.encoded(version)
                spans.append((str(version), offset, len(chunk)))
                checks.append(zlib.crc32(chunk))
                chunks.append(chunk)
                offset += len(chunk)
            header = {"fetched": fetched, "name": table.name, "index_url": table.index_url, "versions": spans, "crc32": checks}
            return b"".join((json.dumps(header, separators=(",", ":")).encode(), b"\n", *chunks))

        self._writer.write(path, encode, table)
