"""Core metadata out of a wheel or sdist without downloading it all when the server allows.

:class:`RangeReader` is a read-only file over HTTP range requests: ``zipfile``
reads the central directory at the end of the wheel and then the one member
it needs, so a wheel's METADATA costs two or three small requests instead of
the whole file. No network here: the caller passes a ``fetch(start, end)``.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable

    from reprolock.index.models import Answer

BLOCK = 64 * 1024


class MetadataError(ValueError):
    """The archive has no readable core metadata."""


class RangeReader(io.RawIOBase):
    """A seekable file of ``size`` bytes whose blocks are fetched on demand and kept."""

    def __init__(self, size: int, fetch: Callable[[int, int], bytes], *, tail: bytes = b"") -> None:
        super().__init__()
        self._size = size
        self._fetch = fetch
        self._position = 0
        self._known: list[tuple[int, bytes]] = []
        if tail:
            self._known.append((size - len(tail), tail))
        self.requests = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self._size}[whence]
        self._position = max(0, base + offset)
        return self._position

    def _cached(self, start: int, end: int) -> bytes | None:
        for offset, data in self._known:
            if offset <= start and end <= offset + len(data):
                return data[start - offset : end - offset]
        return None

    def read(self, size: int = -1) -> bytes:
        end = self._size if size < 0 else min(self._size, self._position + size)
        if end <= self._position:
            return b""
        data = self._cached(self._position, end)
        if data is None:
            start = self._position
            after = next(((offset, known) for offset, known in self._known if start < offset < end <= offset + len(known)), None)
            if after is not None:  # the end is known already: only what comes before it is asked for
                offset, known = after
                head = self._fetch(start, offset)
                self.requests += 1
                self._known.append((start, head))
                data = head + known[: end - offset]
            else:
                stop = max(end, min(self._size, start + BLOCK))
                data = self._fetch(start, stop)
                self.requests += 1
                self._known.append((start, data))
                data = data[: end - start]
        self._position += len(data)
        return data

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]  # typeshed's buffer type is wider
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def wheel_metadata(archive: io.RawIOBase | io.BytesIO, filename: str) -> bytes:
    """The ``*.dist-info/METADATA`` of a wheel (the one matching the file's name when several)."""
    found = _direct_metadata(archive, filename)
    if found is not None:
        return found
    try:
        with zipfile.ZipFile(archive) as wheel:
            candidates = [name for name in wheel.namelist() if name.count("/") == 1 and name.endswith(".dist-info/METADATA")]
            if not candidates:
                raise MetadataError(f"{filename} has no .dist-info/METADATA")
            stem = filename.split("-", 2)
            preferred = [name for name in candidates if name.lower().startswith(f"{stem[0]}-{stem[1]}".lower())]
            return wheel.read((preferred or candidates)[0])
    except (zipfile.BadZipFile, KeyError, EOFError) as exc:
        raise MetadataError(f"{filename} is not a readable wheel: {exc}") from None


_END = struct.Struct("<4sHHHHIIH")
_CENTRAL = struct.Struct("<4sHHHHHHIIIHHHHHII")
_LOCAL = struct.Struct("<4sHHHHHIIIHH")
_SUFFIX = b".dist-info/METADATA"


def _direct_metadata(archive: io.RawIOBase | io.BytesIO, filename: str) -> bytes | None:
    """METADATA read straight from the zip's central directory, without listing every member as ``zipfile`` does.

    A wheel of thousands of files has a central directory of as many entries;
    this finds the ``*.dist-info/METADATA`` names in its bytes and reads that
    member only. ``None`` when the archive is not of the plain kind this
    reads (zip64, data before the archive, encryption, a compression other
    than deflate, a checksum that does not match): ``zipfile`` then reads it.
    """

    def read(start: int, end: int) -> bytes:
        archive.seek(start)
        return archive.read(end - start) or b""

    try:
        size = archive.seek(0, io.SEEK_END)
        tail_start = max(0, size - (1 << 16))  # a wheel has no archive comment: the end record is in the last bytes
        tail = read(tail_start, size)
        at = tail.rfind(b"PK\x05\x06")
        if at < 0 or len(tail) - at < _END.size:
            return None
        _, disk, first_disk, _, _, directory_size, directory_at, _ = _END.unpack_from(tail, at)
        if disk or first_disk or tail_start + at != directory_at + directory_size:  # zip64, spanned, or data before it
            return None
        directory = read(directory_at, directory_at + directory_size)
        entries = _metadata_entries(directory)
        if not entries:
            return None
        stem = "-".join(filename.split("-", 2)[:2]).lower().encode()
        entry = next((entry for name, entry in entries if name.lower().startswith(stem)), entries[0][1])
        return _member(read, entry)
    except (struct.error, zlib.error, ValueError):
        return None


def _metadata_entries(directory: bytes) -> list[tuple[bytes, tuple[Any, ...]]]:
    """The central directory records of top-level ``*.dist-info/METADATA`` members, in directory order."""
    found = []
    at = directory.find(_SUFFIX)
    while at >= 0:
        start = directory.rfind(b"PK\x01\x02", 0, at)
        if start >= 0:
            entry = _CENTRAL.unpack_from(directory, start)
            name = directory[start + _CENTRAL.size : start + _CENTRAL.size + entry[10]]
            if start + _CENTRAL.size + entry[10] == at + len(_SUFFIX) and name.count(b"/") == 1:
                found.append((name, entry))
        at = directory.find(_SUFFIX, at + 1)
    return found


def _member(read: Callable[[int, int], bytes], entry: tuple[Any, ...]) -> bytes | None:
    """The bytes of the member ``entry`` describes, checked against its CRC-32; ``None`` for what zipfile must read."""
    flags, method, crc, packed_size, size, offset = entry[3], entry[4], entry[7], entry[8], entry[9], entry[16]
    if flags & 1 or method not in {0, 8} or 0xFFFFFFFF in {packed_size, size, offset}:  # encrypted, other compression, zip64
        return None
    local = _LOCAL.unpack(read(offset, offset + _LOCAL.size))
    if local[0] != b"PK\x03\x04":
        return None
    start = offset + _LOCAL.size + local[9] + local[10]
    data = read(start, start + packed_size)
    if method == 8:
        data = zlib.decompressobj(-15).decompress(data, size)
    if len(data) != size or zlib.crc32(data) != crc:
        return None
    return data


class _BeyondTail(Exception):  # noqa: N818 - a signal, not an error: more of the file is needed
    pass


def _refuse(_start: int, _end: int) -> bytes:
    raise _BeyondTail


def tail_archive(answer: Answer, fetch: Callable[[int, int], bytes]) -> io.BytesIO | RangeReader | None:
    """The wheel that the answer to a ``Range: bytes=-N`` request opens; ``None`` when the server serves no byte ranges.

    A ``200`` answer is the whole wheel (the server ignored the range); a
    ``206`` answer names the wheel's size in ``Content-Range``, and more of the
    wheel is asked of ``fetch(start, end)`` when needed.
    """
    if answer.status == 200:
        return io.BytesIO(answer.body)
    total = answer.headers.get("content-range", "").rpartition("/")[2]
    if answer.status != 206 or not total.isdigit():
        return None
    return RangeReader(int(total), fetch, tail=answer.body)


def tail_metadata(answer: Answer, filename: str) -> bytes | None:
    """METADATA from the answer to a ``Range: bytes=-N`` request alone, or ``None`` when it needs more of the wheel."""
    archive = tail_archive(answer, _refuse)
    if archive is None:
        return None
    try:
        return wheel_metadata(archive, filename)
    except (_BeyondTail, MetadataError):
        return None


def sdist_metadata(data: bytes, filename: str) -> bytes:
    """The top-level ``PKG-INFO`` of an sdist (never builds anything)."""
    import tarfile  # noqa: PLC0415 - sdists only: a lock reads wheels almost always

    try:
        if filename.endswith(".zip"):
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                names = [name for name in archive.namelist() if name.count("/") == 1 and name.endswith("/PKG-INFO")]
                if names:
                    return archive.read(names[0])
        else:
            with tarfile.open(fileobj=io.BytesIO(data)) as archive:
                for member in archive.getmembers():
                    if member.isfile() and member.name.count("/") == 1 and member.name.endswith("/PKG-INFO"):
                        handle = archive.extractfile(member)
                        if handle is not None:
                            return handle.read()
    except (tarfile.TarError, zipfile.BadZipFile, OSError, EOFError) as exc:
        raise MetadataError(f"{filename} is not a readable sdist: {exc}") from None
    raise MetadataError(f"{filename} has no PKG-INFO")
