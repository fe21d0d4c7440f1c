"""Candidate tables, built once per project and run, and kept on disk between runs.

A warm ``lock`` should not re-read whole project pages: the page of a
project with many wheels is megabytes, while the resolver looks at a few
versions. So the table of a project (its versions that fit the target,
newest first) is stored beside the index cache in a file whose first line is
a small JSON header (the versions and where their files are) followed by
the files of every version, each a JSON array at a known offset. Reading a
table reads the header, then only the versions the resolver visits.

Tables are written only for remote indexes with a cache; they stay valid as
long as a cached page does (the index client's freshness), and for ever with
``--offline``. The key names the indexes and the target's Python version and
wheel tags, so a table is never used for another target.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reprolock.index.pages import data_file
from reprolock.lock.candidates import ProjectTable
from reprolock.versions import parse_version

if TYPE_CHECKING:
    from packaging.version import Version

    from reprolock.index.models import DistFile
    from reprolock.lock.target import LockTarget

_LAYOUT = "lock-tables-v1"


class StoredTable(ProjectTable):
    """A table read from disk: the header now, a version's files when asked."""

    def __init__(self, path: Path, header: dict[str, Any], start: int, target: LockTarget) -> None:
        self._path = path
        self._start = start
        self._spans: dict[Version, tuple[int, int]] = {}
        versions = []
        for text, offset, length in header["versions"]:
            version = parse_version(text)
            if version is not None:
                versions.append(version)
                self._spans[version] = (offset, length)
        super().__init__(header["name"], header["index_url"], versions, target)
        self._files: dict[Version, tuple[DistFile, ...]] = {}

    def files(self, version: Version) -> tuple[DistFile, ...]:
        if version not in self._files:
            span = self._spans.get(version)
            if span is None:
                return ()
            with self._path.open("rb") as stream:
                stream.seek(self._start + span[0])
                rows = json.loads(stream.read(span[1]))
            self._files[version] = tuple(data_file(row) for row in rows)
        return self._files[version]


class TableStore:
    """Where one run's tables are kept on disk (``None`` folder: nowhere)."""

    def __init__(self, folder: Path | None, scope: str, target: LockTarget, *, max_age: float | None) -> None:
        self._folder = None
        if folder is not None:
            text = "\n".join((scope, target.python_version, *target.tags))
            self._folder = folder / _LAYOUT / hashlib.sha256(text.encode()).hexdigest()[:24]
        self._max_age = max_age
        self._target = target

    def _path(self, name: str) -> Path | None:
        return None if self._folder is None else self._folder / f"{name}.table"

    def load(self, name: str) -> ProjectTable | None:
        """The stored table of ``name`` while it is fresh; ``None`` otherwise (a miss, never an error)."""
        path = self._path(name)
        if path is None:
            return None
        try:
            with path.open("rb") as stream:
                first = stream.readline()
            header = json.loads(first)
            if self._max_age is not None and time.time() - float(header["fetched"]) >= self._max_age:
                return None
            return StoredTable(path, header, len(first), self._target)
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def save(self, table: ProjectTable) -> None:
        """Store ``table``; failures are ignored (the cache is an optimisation).

        Every version's files are written, from the page's entries when the
        table has them (:meth:`ProjectTable.file_data`), so no file is built for it.
        """
        path = self._path(table.name)
        if path is None:
            return
        chunks: list[bytes] = []
        spans: list[tuple[str, int, int]] = []
        offset = 0
        encode = json.JSONEncoder(separators=(",", ":")).encode  # one encoder for the thousands of versions of a big page
        for version in table.versions:
            chunk = encode(table.file_data(version)).encode()
            spans.append((str(version), offset, len(chunk)))
            chunks.append(chunk)
            offset += len(chunk)
        header = {"fetched": time.time(), "name": table.name, "index_url": table.index_url, "versions": spans}
        temporary = None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".table")
            with os.fdopen(handle, "wb") as stream:
                stream.write(json.dumps(header, separators=(",", ":")).encode() + b"\n")
                stream.writelines(chunks)
            Path(temporary).replace(path)
        except OSError:
            if temporary is not None:
                with contextlib.suppress(OSError):
                    Path(temporary).unlink()
