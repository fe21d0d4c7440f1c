"""An rpm database in SQLite form (``rpmdb.sqlite``: Fedora 33 and later, RHEL 9, openSUSE), read without rpm.

Each row of its ``Packages`` table is an rpm header: two big-endian counts
(index entries, data bytes), the index entries (tag, type, offset, count) and
the data. Only the name, the version and the file list (``DIRNAMES``,
``BASENAMES``, ``DIRINDEXES``) are read. The older Berkeley DB and ndb
formats cannot be read this way: the caller says the owner is unknown.
"""

from __future__ import annotations

import contextlib
import sqlite3
import struct
from dataclasses import dataclass
from pathlib import Path

NAME, VERSION = 1000, 1001
DIRINDEXES, BASENAMES, DIRNAMES = 1116, 1117, 1118
_INT32, _STRING, _STRING_ARRAY, _I18N = 4, 6, 8, 9
_ENTRY = struct.Struct(">iiii")
_COUNTS = struct.Struct(">ii")


@dataclass(frozen=True, slots=True)
class RpmPackage:
    name: str
    version: str
    files: tuple[str, ...]


def _strings(data: bytes, offset: int, count: int) -> list[str]:
    out = []
    for _ in range(count):
        end = data.index(b"\0", offset)
        out.append(data[offset:end].decode("utf-8", "replace"))
        offset = end + 1
    return out


def parse_header(blob: bytes) -> RpmPackage | None:
    """One header blob as a package; ``None`` when it is not a header or has no name."""
    try:
        entries, size = _COUNTS.unpack_from(blob, 0)
        start = _COUNTS.size + entries * _ENTRY.size
        data = blob[start : start + size]
        tags: dict[int, list[str] | list[int]] = {}
        for position in range(entries):
            tag, kind, offset, count = _ENTRY.unpack_from(blob, _COUNTS.size + position * _ENTRY.size)
            if kind in {_STRING, _STRING_ARRAY, _I18N}:
                tags[tag] = _strings(data, offset, count if kind != _STRING else 1)
            elif kind == _INT32:
                tags[tag] = list(struct.unpack_from(f">{count}i", data, offset))
    except (struct.error, ValueError):
        return None
    names = tags.get(NAME)
    if not names:
        return None
    folders = [str(item) for item in tags.get(DIRNAMES, [])]
    indexes = [int(item) for item in tags.get(DIRINDEXES, [])]
    bases = [str(item) for item in tags.get(BASENAMES, [])]
    files = tuple(folders[index] + base for index, base in zip(indexes, bases, strict=False) if 0 <= index < len(folders))
    version = tags.get(VERSION) or [""]
    return RpmPackage(str(names[0]), str(version[0]), files)


def read_rpmdb(path: str) -> list[RpmPackage] | None:
    """Every package of the database at ``path`` (opened read-only, never changed); ``None`` when it cannot be read."""
    uri = Path(path).absolute().as_uri() + "?mode=ro&immutable=1"
    found: list[RpmPackage] = []
    try:
        with contextlib.closing(sqlite3.connect(uri, uri=True)) as connection:
            for (blob,) in connection.execute("SELECT blob FROM Packages"):  # one row at a time
                package = parse_header(bytes(blob)) if isinstance(blob, bytes) else None
                if package is not None:
                    found.append(package)
    except sqlite3.Error:
        return None
    return found
