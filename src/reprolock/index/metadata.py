"""Core metadata out of a wheel or sdist without downloading it all when the server allows.

:class:`RangeReader` is a read-only file over HTTP range requests: ``zipfile``
reads the central directory at the end of the wheel and then the one member
it needs, so a wheel's METADATA costs two or three small requests instead of
the whole file. No network here: the caller passes a ``fetch(start, end)``.
"""

from __future__ import annotations

import io
import tarfile
import zipfile
from typing import IO, TYPE_CHECKING

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


def wheel_metadata(archive: IO[bytes], filename: str) -> bytes:
    """The ``*.dist-info/METADATA`` of a wheel (the one matching the file's name when several)."""
    try:
        with zipfile.ZipFile(archive) as wheel:
            candidates = [name for name in wheel.namelist() if name.count("/") == 1 and name.endswith(".dist-info/METADATA")]
            if not candidates:
                raise MetadataError(f"{filename} has no .dist-info/METADATA")
            stem = filename.split("-", 2)
            preferred = [name for name in candidates if name.lower().startswith(f"{stem[0]}-{stem[1]}".lower())]
            return wheel.read((preferred or candidates)[0])
    except (zipfile.BadZipFile, KeyError, EOFError, ValueError) as exc:
        raise MetadataError(f"{filename} is not a readable wheel: {exc}") from None


def tail_archive(answer: Answer, fetch: Callable[[int, int], bytes]) -> IO[bytes] | None:
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
    return io.BufferedReader(RangeReader(int(total), fetch, tail=answer.body))


def sdist_metadata(data: bytes, filename: str) -> bytes:
    """The top-level ``PKG-INFO`` of an sdist (never builds anything)."""

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
