"""Read one layer as a stream: decompress, walk its tar entries once, check that it is whole.

Memory stays bounded whatever the layer's size: the compressed bytes pass
through a digest, the decompressor and ``tarfile`` in stream mode, a chunk at
a time, and only the files the inspection wants are copied out (see
:mod:`reprolock.sources.image.layers`). A layer is whole when its digest
matches the one the image names, its compressed stream ends properly, and its
tar ends with the end-of-archive block right after its last entry: a cut or
damaged layer is an :class:`~reprolock.errors.InputError` naming it.
"""

from __future__ import annotations

import bz2
import functools
import gzip
import hashlib
import lzma
import tarfile
import zlib
from typing import IO, TYPE_CHECKING, cast

from reprolock.errors import InputError

if TYPE_CHECKING:
    from reprolock.sources.image.layers import LayerTree
    from reprolock.sources.image.model import Layer

_CHUNK = 1024 * 1024
_BLOCK = tarfile.BLOCKSIZE
_TAIL = 64 * 1024  # bytes of the tar stream kept to look at its end-of-archive block (tarfile reads 10 KiB at a time)
_MAGIC = {b"\x1f\x8b": "gzip", b"BZh": "bzip2", b"\xfd7zXZ\x00": "xz", b"\x28\xb5\x2f\xfd": "zstd"}
_ERRORS = (tarfile.TarError, EOFError, zlib.error, lzma.LZMAError, OSError, ValueError)


class _Digesting:
    """The compressed bytes, hashed as they are read; the first few are read ahead to tell the compression."""

    def __init__(self, raw: IO[bytes], algorithm: str | None) -> None:
        self._raw = raw
        self._hash = hashlib.new(algorithm) if algorithm else None
        self.size = 0
        self.head = self._take(8)
        self._pending = self.head

    def _take(self, size: int) -> bytes:
        data = self._raw.read(size)
        if self._hash is not None:
            self._hash.update(data)
        self.size += len(data)
        return data

    def read(self, size: int = -1) -> bytes:
        if self._pending:
            data, self._pending = (self._pending, b"") if size < 0 or size >= len(self._pending) else (self._pending[:size], self._pending[size:])
            return data if size < 0 or len(data) == size else data + self._take(size - len(data))
        return self._take(size if size >= 0 else _CHUNK)

    def drain(self) -> None:
        while self.read(_CHUNK):
            pass

    def hexdigest(self) -> str | None:
        return self._hash.hexdigest() if self._hash is not None else None


class _Tail:
    """The uncompressed tar stream, counting its bytes and keeping the last few."""

    def __init__(self, raw: IO[bytes]) -> None:
        self._raw = raw
        self.pos = 0
        self.tail = b""

    def read(self, size: int = -1) -> bytes:
        data = self._raw.read(size)
        self.pos += len(data)
        self.tail = (self.tail + data)[-_TAIL:]
        return data

    def block_at(self, offset: int) -> bytes | None:
        """The 512 bytes at ``offset`` of the stream, when they are still among the kept ones."""
        start = len(self.tail) - (self.pos - offset)
        if start < 0 or offset + _BLOCK > self.pos:
            return None
        return self.tail[start : start + _BLOCK]


def compression(head: bytes) -> str | None:
    """``gzip``, ``bzip2``, ``xz``, ``zstd`` from a stream's first bytes; ``None``: not compressed."""
    return next((name for magic, name in _MAGIC.items() if head.startswith(magic)), None)


def _decompressed(source: _Digesting, what: str) -> IO[bytes]:
    kind = compression(source.head)
    raw = cast("IO[bytes]", source)  # read() is all the decompressors use
    if kind == "zstd":
        raise InputError(
            f"{what} is compressed with zstd, which this Python cannot read",
            hint="convert the image to gzip layers (skopeo copy --dest-compress-format gzip) or unpack it to a folder",
        )
    if kind == "gzip":
        return cast("IO[bytes]", gzip.GzipFile(fileobj=raw, mode="rb"))
    if kind == "bzip2":
        return bz2.BZ2File(raw, mode="rb")
    if kind == "xz":
        return lzma.LZMAFile(raw, mode="rb")
    return raw


def apply_layer(tree: LayerTree, raw: IO[bytes], layer: Layer, what: str) -> None:
    """Apply the layer read from ``raw`` to ``tree``; ``what`` names it in errors (image, then layer and digest)."""
    algorithm, _, expected = (layer.digest or "").partition(":")
    known = algorithm in hashlib.algorithms_available and bool(expected)
    source = _Digesting(raw, algorithm if known else None)
    stream = _Tail(_decompressed(source, what))
    current = None
    try:
        with tarfile.open(fileobj=cast("IO[bytes]", stream), mode="r|") as archive:  # a stream: read() is all it uses
            for member in archive:
                current = member.name
                tree.add(member, layer.index, functools.partial(archive.extractfile, member))
            _check_end(stream, archive.offset, what)
        while stream.read(_CHUNK):  # the rest, so that the decompressor checks its own end
            pass
    except InputError:
        raise
    except _ERRORS as exc:
        where = f" (at {current})" if current else ""
        raise InputError(f"{what}: cannot read it as a tar layer{where}: {exc}", hint="the archive is truncated or damaged: save or copy the image again") from None
    source.drain()
    found = source.hexdigest()
    if known and found != expected:
        raise InputError(
            f"{what}: its content does not match its digest (sha256 {found[:12] if found else '?'}..., {source.size} bytes)",
            hint="the archive is truncated or damaged: save or copy the image again",
        )


def _check_end(stream: _Tail, end: int, what: str) -> None:
    """The end-of-archive block must follow the last entry: else the layer was cut short or a header is damaged."""
    block = stream.block_at(end)
    if block is None:
        raise InputError(f"{what}: the layer ends in the middle of an entry (byte {stream.pos} of the tar)", hint="the archive is truncated: save or copy the image again")
    if block.strip(b"\0"):
        raise InputError(f"{what}: a damaged tar header at byte {end} of the layer", hint="the archive is damaged: save or copy the image again")
