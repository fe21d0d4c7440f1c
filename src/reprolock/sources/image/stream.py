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
import concurrent.futures
import functools
import gzip
import hashlib
import io
import lzma
import tarfile
import zlib
from typing import IO, TYPE_CHECKING, cast

from reprolock.errors import InputError

if TYPE_CHECKING:
    from reprolock.sources.image.layers import LayerTree
    from reprolock.sources.image.model import Layer

_CHUNK = 1024 * 1024
_HASH_CHUNK = 8 * 1024 * 1024
_BLOCK = tarfile.BLOCKSIZE
_MAGIC = {b"\x1f\x8b": "gzip", b"BZh": "bzip2", b"\xfd7zXZ\x00": "xz", b"\x28\xb5\x2f\xfd": "zstd"}
_MAGICS = (tarfile.POSIX_MAGIC, tarfile.GNU_MAGIC)
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
    """The uncompressed tar stream, counting its bytes and keeping the last two chunks read.

    ``tarfile`` reads a stream 10 KiB at a time: the block after the last entry
    (the end-of-archive mark) is in the last two chunks when the tar ends.
    """

    def __init__(self, raw: IO[bytes]) -> None:
        self._raw = raw
        self.pos = 0
        self._previous = b""
        self._last = b""

    def read(self, size: int = -1) -> bytes:
        data = self._raw.read(size)
        if data:
            self._previous, self._last = self._last, data
            self.pos += len(data)
        return data

    def block_at(self, offset: int) -> bytes | None:
        """The 512 bytes at ``offset`` of the stream, when they are among the kept ones."""
        start = self.pos - len(self._last) - len(self._previous)
        if offset < start or offset + _BLOCK > self.pos:
            return None
        kept = self._previous + self._last
        return kept[offset - start : offset - start + _BLOCK]


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


def _digest_of(source: IO[bytes], algorithm: str) -> str:
    """The hex digest of everything ``source`` holds, read on another thread.

    Reading and hashing release the GIL; large chunks into one buffer keep
    the two threads from handing it back and forth thousands of times.
    """
    found = hashlib.new(algorithm)
    view = memoryview(bytearray(_HASH_CHUNK))
    with source:
        while count := source.readinto(view):  # type: ignore[attr-defined]  # every reader given here is a binary file
            found.update(view[:count])
    return found.hexdigest()


def apply_layer(tree: LayerTree, raw: IO[bytes], layer: Layer, what: str, *, again: IO[bytes] | None = None) -> None:
    """Apply the layer read from ``raw`` to ``tree``; ``what`` names it in errors (image, then layer and digest).

    ``again``, a second reader of the same bytes, is hashed on another thread
    while ``raw`` is parsed; then an uncompressed layer in a file is read at
    random (headers only, file data skipped by seeking). Otherwise the layer
    is read once, as a stream, and hashed as it is read.
    """
    algorithm, _, expected = (layer.digest or "").partition(":")
    known = algorithm in hashlib.algorithms_available and bool(expected)
    with concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="reprolock-digest") as pool:
        hashing = pool.submit(_digest_of, again, algorithm) if known and again is not None else None
        source = _Digesting(raw, algorithm if known and hashing is None else None)
        try:
            if hashing is not None and compression(source.head) is None and raw.seekable():
                size = _read_seekable(tree, raw, layer, what)
            else:
                _read_tar(tree, source, layer, what)
                source.drain()
                size = source.size
            found = hashing.result() if hashing is not None else source.hexdigest()
        except OSError as exc:
            raise InputError(f"{what}: cannot read it: {exc}", hint="the archive is truncated or damaged: save or copy the image again") from None
    if known and found != expected:
        raise InputError(
            f"{what}: its content does not match its digest ({algorithm} {found[:12] if found else '?'}..., {size} bytes)",
            hint="the archive is truncated or damaged: save or copy the image again",
        )


def _failed(what: str, current: str | None, exc: BaseException) -> InputError:
    where = f" (at {current})" if current else ""
    return InputError(f"{what}: cannot read it as a tar layer{where}: {exc}", hint="the archive is truncated or damaged: save or copy the image again")


def _read_tar(tree: LayerTree, source: _Digesting, layer: Layer, what: str) -> None:
    """A layer as a stream (``tarfile`` in stream mode): each entry once, in order, its data skipped or copied as it passes."""
    stream = _Tail(_decompressed(source, what))
    current = None
    try:
        with tarfile.open(fileobj=cast("IO[bytes]", stream), mode="r|") as archive:  # a stream: read() is all it uses
            while (member := archive.next()) is not None:
                current = member.name
                tree.add(member, layer.index, functools.partial(archive.extractfile, member))
                archive.members.clear()  # type: ignore[attr-defined]  # typeshed omits it; tarfile keeps every header read, memory would grow with the entries
            _check_end(stream.block_at(archive.offset), archive.offset, stream.pos, what)
        while stream.read(_CHUNK):  # the rest, so that the decompressor checks its own end
            pass
    except InputError:
        raise
    except _ERRORS as exc:
        raise _failed(what, current, exc) from None


def _read_seekable(tree: LayerTree, raw: IO[bytes], layer: Layer, what: str) -> int:
    """An uncompressed layer in a file: its headers in order, file data skipped by seeking; its size."""
    size = raw.seek(0, io.SEEK_END)
    raw.seek(0)
    current = None
    try:
        with tarfile.open(fileobj=raw, mode="r:") as archive:
            while (member := archive.next()) is not None:
                current = member.name
                tree.add(member, layer.index, functools.partial(archive.extractfile, member))
                archive.members.clear()  # type: ignore[attr-defined]  # as in _read_tar
            end = archive.offset
    except _ERRORS as exc:
        raise _failed(what, current, exc) from None
    raw.seek(end)
    block = raw.read(_BLOCK)
    _check_end(block if len(block) == _BLOCK else None, end, size, what)
    return size


def _check_end(block: bytes | None, end: int, size: int, what: str) -> None:
    """The end-of-archive block (``block``, at byte ``end``) must follow the last entry: else the layer was cut short or a header is damaged."""
    if block is None:
        raise InputError(f"{what}: the layer ends in the middle of an entry (byte {size} of the tar)", hint="the archive is truncated: save or copy the image again")
    if block.strip(b"\0"):
        raise InputError(f"{what}: a damaged tar header at byte {end} of the layer", hint="the archive is damaged: save or copy the image again")
