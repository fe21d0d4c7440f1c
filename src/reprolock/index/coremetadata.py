"""Core metadata of a release file: PEP 658, else the wheel's tail over HTTP ranges, else the whole file.

The bytes are cached by the file's sha256, so a lock never reads the same
METADATA twice. :mod:`.metadata` holds the archive readers (no network there).
"""

from __future__ import annotations

import hashlib
import io
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

from reprolock.errors import IndexUnreachableError
from reprolock.index.metadata import MetadataError, sdist_metadata, tail_archive, wheel_metadata

if TYPE_CHECKING:
    from collections.abc import Callable

    from reprolock.index.cache import Cache
    from reprolock.index.models import Answer, DistFile

TAIL = 65536
"""Bytes read from the end of a wheel for its central directory (and, often, its METADATA)."""
_KIND = "metadata"


class CoreMetadata:
    """Reads METADATA through ``get`` (the finder's GET) and keeps it in ``cache``."""

    def __init__(self, get: Callable[[str, dict[str, str] | None], Answer], cache: Cache | None) -> None:
        self._get = get
        self._cache = cache

    def read(self, file: DistFile) -> bytes:
        key = file.sha256 or hashlib.sha256(file.url.encode()).hexdigest()
        if self._cache is not None and (known := self._cache.get_blob(_KIND, key)) is not None:
            return known
        data = self._fetch(file)
        if self._cache is not None:
            self._cache.put_blob(_KIND, key, data)
        return data

    def _fetch(self, file: DistFile) -> bytes:
        if file.url.startswith("file:"):
            return _local_metadata(file)
        if file.core_metadata:
            answer = self._get(file.url + ".metadata", None)
            if answer.status == 200 and _matches(answer.body, file.core_metadata_hashes):
                return answer.body
        if file.packagetype == "bdist_wheel":
            return self._wheel(file)
        return sdist_metadata(self._download(file), file.filename)

    def _wheel(self, file: DistFile) -> bytes:
        """METADATA from the wheel's last bytes and, if need be, more ranges; else from the whole wheel."""

        def fetch(start: int, end: int) -> bytes:
            part = self._get(file.url, {"Range": f"bytes={start}-{end - 1}"})
            if part.status != 206:
                raise MetadataError(f"{file.filename}: range request refused")
            return part.body

        archive = tail_archive(self._get(file.url, {"Range": f"bytes=-{TAIL}"}), fetch)
        if archive is not None:
            try:
                return wheel_metadata(archive, file.filename)
            except MetadataError:
                pass
        return wheel_metadata(io.BytesIO(self._download(file)), file.filename)

    def _download(self, file: DistFile) -> bytes:
        answer = self._get(file.url, None)
        if answer.status != 200:
            raise IndexUnreachableError(f"could not download {file.filename}: HTTP {answer.status}", hint="check the index")
        return answer.body


def _matches(body: bytes, hashes: tuple[tuple[str, str], ...]) -> bool:
    """Whether ``body`` has the digests the page gave for the ``.metadata`` file (true when none was given)."""
    for algorithm, digest in hashes:
        if algorithm in hashlib.algorithms_guaranteed:
            return hashlib.new(algorithm, body).hexdigest() == digest.lower()
    return True


def _local_metadata(file: DistFile) -> bytes:
    path = Path(unquote(urlsplit(file.url).path))
    sidecar = path.with_name(path.name + ".metadata")
    try:
        if sidecar.is_file():
            return sidecar.read_bytes()
        if file.packagetype == "bdist_wheel":
            with path.open("rb") as handle:
                return wheel_metadata(handle, file.filename)
        return sdist_metadata(path.read_bytes(), file.filename)
    except OSError as exc:
        raise MetadataError(f"cannot read {file.filename}: {exc}") from None
