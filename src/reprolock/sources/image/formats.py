"""What an image path is, and where its configuration and layers are.

Four forms: an unpacked root filesystem (a folder), a ``docker save``
archive (``manifest.json``, legacy ``<id>/layer.tar`` or ``blobs/sha256/``
layers), an OCI image layout (``oci-layout``, ``index.json``, ``blobs/``) as a
folder or a tar archive, and a flattened root filesystem archive
(``docker export``). An archive is opened for random access (its member
headers are read, never its data) and each layer is then streamed on its own.
"""

from __future__ import annotations

import io
import json
import platform
import posixpath
import re
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any

from reprolock.errors import InputError
from reprolock.sources.image.model import INSTRUCTION_WIDTH, ImageConfig, Layer

if TYPE_CHECKING:
    import tarfile
    from collections.abc import Mapping
    from pathlib import Path

JSON_LIMIT = 16 * 1024 * 1024
_PARSE_BUFFER = 64 * 1024  # reads of headers: small, so that skipping a large file reads little of it
_HASH_BUFFER = 1024 * 1024
"""A manifest, index or configuration larger than this is not an image's."""
_INDEXES = frozenset({"application/vnd.oci.image.index.v1+json", "application/vnd.docker.distribution.manifest.list.v2+json"})
_ARCHITECTURES = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}
_SHELL = re.compile(r"^(?:\|\d+ (?:\S+=\S* )*)?/bin/(?:ba)?sh -c ")
_NOP = re.compile(r"^#\(nop\)\s*")
_HINT = "give an unpacked root filesystem folder, a docker save archive, or an OCI image layout (folder or archive)"


@dataclass(frozen=True, slots=True)
class LayerBlob:
    """One layer and the name of its data in the image (an archive member or a file under the layout)."""

    layer: Layer
    name: str


class Blobs:
    """The files of an image archive or layout, by their names inside it."""

    def __init__(self, shown: str) -> None:
        self.shown = shown

    def exists(self, name: str) -> bool:
        raise NotImplementedError

    def open(self, name: str) -> IO[bytes]:
        raise NotImplementedError

    def again(self, name: str) -> IO[bytes] | None:  # noqa: ARG002 - the subclasses that can use it
        """A second, independent reader of ``name`` (to hash it on another thread), when one is cheap."""
        return None

    def close(self) -> None:
        """Nothing to release unless the subclass says so."""

    def read_json(self, name: str) -> Any:  # noqa: ANN401 - a JSON document of any shape, checked by the caller
        if not self.exists(name):
            raise InputError(f"{self.shown}: {name} is missing", hint=f"the archive is truncated or not an image: {_HINT}")
        with self.open(name) as handle:
            data = handle.read(JSON_LIMIT + 1)
        if len(data) > JSON_LIMIT:
            raise InputError(f"{self.shown}: {name} is larger than {JSON_LIMIT // 2**20} MB: not an image's", hint=_HINT)
        try:
            return json.loads(data)
        except ValueError as exc:
            raise InputError(f"{self.shown}: {name} is not valid JSON ({exc})", hint="the archive is damaged: save or copy the image again") from None


class FolderBlobs(Blobs):
    """An image layout or an unpacked ``docker save`` in a folder."""

    def __init__(self, root: Path, shown: str) -> None:
        super().__init__(shown)
        self.root = root

    def exists(self, name: str) -> bool:
        return (self.root / name).is_file()

    def open(self, name: str) -> IO[bytes]:
        try:
            return (self.root / name).open("rb")
        except OSError as exc:
            raise InputError(f"{self.shown}: cannot read {name}: {exc.strerror or exc}", hint="check the file's permissions") from None

    def again(self, name: str) -> IO[bytes] | None:
        return self.open(name)


class _Slice(io.RawIOBase):
    """``size`` bytes of a file from ``start``: an archive member's data, read without tarfile's per-read seeks."""

    def __init__(self, path: Path, start: int, size: int) -> None:
        self._file = path.open("rb", buffering=0)
        self._file.seek(start)
        self._start, self._size, self._at = start, size, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:  # noqa: ANN401 - any writable buffer, as io.RawIOBase takes it
        view = memoryview(buffer).cast("B")[: max(0, self._size - self._at)]
        count = self._file.readinto(view) or 0
        self._at += count
        return count

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._at, io.SEEK_END: self._size}[whence]
        self._at = max(0, base + offset)
        self._file.seek(self._start + self._at)
        return self._at

    def tell(self) -> int:
        return self._at

    def close(self) -> None:
        self._file.close()
        super().close()


class TarBlobs(Blobs):
    """An image archive, read at random: member headers once, then each member's data when asked."""

    def __init__(self, archive: tarfile.TarFile, shown: str, path: Path, *, plain: bool) -> None:
        super().__init__(shown)
        self.archive = archive
        self.members = {posixpath.normpath(member.name.lstrip("/")): member for member in archive.getmembers()}
        self.path = path
        self.plain = plain
        """An uncompressed archive: a member's data is a slice of the file."""

    def exists(self, name: str) -> bool:
        return posixpath.normpath(name) in self.members

    def open(self, name: str) -> IO[bytes]:
        found = self._slice(name, _PARSE_BUFFER)
        if found is not None:
            return found
        member = self.members.get(posixpath.normpath(name))
        handle = self.archive.extractfile(member) if member is not None else None
        if handle is None:
            raise InputError(f"{self.shown}: {name} is missing or not a file", hint=f"the archive is truncated or not an image: {_HINT}")
        return handle

    def again(self, name: str) -> IO[bytes] | None:
        return self._slice(name, _HASH_BUFFER)

    def _slice(self, name: str, buffer: int) -> IO[bytes] | None:
        """A member's data as a slice of the archive file, when the archive is uncompressed and the member a plain file."""
        member = self.members.get(posixpath.normpath(name))
        if not self.plain or member is None or not member.isreg() or member.sparse is not None:
            return None
        return io.BufferedReader(_Slice(self.path, member.offset_data, member.size), buffer)

    def close(self) -> None:
        self.archive.close()


def _object(value: object) -> dict[str, Any]:
    """``value`` when it is a JSON object, else an empty one."""
    return value if isinstance(value, dict) else {}


def instruction(created_by: str | None) -> str | None:
    """A history entry's ``created_by`` as its Dockerfile instruction: ``RUN pip install ...``, ``COPY ...``."""
    if not created_by:
        return None
    text = created_by.strip().removesuffix("# buildkit").strip()
    shell = _SHELL.match(text)
    if shell:
        text = text[shell.end() :]
        text = _NOP.sub("", text) if _NOP.match(text) else f"RUN {text}"
    elif text.startswith("RUN /bin/sh -c "):
        text = "RUN " + text[len("RUN /bin/sh -c ") :]
    text = " ".join(text.split())
    return text if len(text) <= INSTRUCTION_WIDTH else text[: INSTRUCTION_WIDTH - 3] + "..."


def configuration(data: Any) -> tuple[ImageConfig, list[str | None], list[str]]:  # noqa: ANN401 - JSON of any shape
    """The image configuration's run settings, the instruction of each layer-making history entry, and the ``diff_ids``."""
    data = _object(data)
    run = _object(data.get("config"))
    env = [item.partition("=") for item in run.get("Env") or [] if isinstance(item, str)]
    config = ImageConfig(
        env=tuple((key, value) for key, _, value in env),
        user=run.get("User") or None,
        working_dir=run.get("WorkingDir") or None,
        architecture=data.get("architecture") if isinstance(data.get("architecture"), str) else None,
    )
    history = [item for item in data.get("history") or [] if isinstance(item, dict) and not item.get("empty_layer")]
    made = [instruction(item.get("created_by")) for item in history]
    rootfs = _object(data.get("rootfs"))
    diff_ids = [item for item in rootfs.get("diff_ids") or [] if isinstance(item, str)]
    return config, made, diff_ids


def _blob_name(digest: object, shown: str) -> str:
    if not isinstance(digest, str) or ":" not in digest or "/" in digest:
        raise InputError(f"{shown}: a descriptor without a valid digest ({digest!r})", hint="the image layout is damaged")
    algorithm, _, value = digest.partition(":")
    return f"blobs/{algorithm}/{value}"


def _layers(names: list[tuple[str, str | None]], made: list[str | None]) -> list[LayerBlob]:
    """Layers from ``(name, digest)`` pairs, base first; the history's instructions match them in order."""
    instructions = made if len(made) == len(names) else [None] * len(names)
    return [LayerBlob(Layer(position, digest, instructions[position - 1]), name) for position, (name, digest) in enumerate(names, start=1)]


def docker_archive(blobs: Blobs) -> tuple[ImageConfig, list[LayerBlob], str | None]:
    """A ``docker save`` archive: its first image's configuration and layers, and its first tag."""
    manifest = blobs.read_json("manifest.json")
    if not isinstance(manifest, list) or not manifest or not isinstance(manifest[0], dict):
        raise InputError(f"{blobs.shown}: manifest.json lists no image", hint=_HINT)
    entry: Mapping[str, Any] = manifest[0]
    config, made, diff_ids = configuration(blobs.read_json(str(entry.get("Config"))))
    names = [str(name) for name in entry.get("Layers") or []]
    pairs: list[tuple[str, str | None]] = []
    for position, name in enumerate(names):
        blob = re.fullmatch(r"blobs/(\w+)/([0-9a-f]+)", posixpath.normpath(name))
        digest = f"{blob.group(1)}:{blob.group(2)}" if blob else (diff_ids[position] if len(diff_ids) == len(names) else None)
        pairs.append((name, digest))
    tags = entry.get("RepoTags") or []
    return config, _layers(pairs, made), str(tags[0]) if tags else None


def _platform_rank(descriptor: Mapping[str, Any]) -> int:
    wanted = _ARCHITECTURES.get(platform.machine().lower())
    described = _object(descriptor.get("platform"))
    if described.get("architecture") == "unknown":
        return 2  # an attestation, not an image
    return 0 if described.get("architecture") in {wanted, None} else 1


def _manifest(blobs: Blobs, descriptor: Mapping[str, Any], depth: int = 0) -> tuple[Mapping[str, Any], str | None]:
    """The image manifest a descriptor names, through at most two image indexes (one per platform chosen)."""
    annotations = _object(descriptor.get("annotations"))
    reference = annotations.get("org.opencontainers.image.ref.name") or annotations.get("io.containerd.image.name")
    document = blobs.read_json(_blob_name(descriptor.get("digest"), blobs.shown))
    if not isinstance(document, dict):
        raise InputError(f"{blobs.shown}: the manifest {descriptor.get('digest')} is not a JSON object", hint="the image layout is damaged")
    if descriptor.get("mediaType") in _INDEXES or "manifests" in document:
        if depth >= 2:
            raise InputError(f"{blobs.shown}: image indexes nested too deep", hint="the image layout is damaged")
        return _manifest(blobs, _choose(document, blobs.shown), depth + 1)
    return document, reference


def _choose(index: Any, shown: str) -> Mapping[str, Any]:  # noqa: ANN401 - JSON of any shape
    manifests = [item for item in _object(index).get("manifests") or [] if isinstance(item, dict)]
    if not manifests:
        raise InputError(f"{shown}: the image index lists no manifest", hint=_HINT)
    return min(manifests, key=_platform_rank)


def oci_layout(blobs: Blobs) -> tuple[ImageConfig, list[LayerBlob], str | None]:
    """An OCI image layout: the manifest for this machine's platform (else the first), its configuration and layers."""
    manifest, reference = _manifest(blobs, _choose(blobs.read_json("index.json"), blobs.shown))
    config_descriptor = _object(manifest.get("config"))
    config, made, _ = configuration(blobs.read_json(_blob_name(config_descriptor.get("digest"), blobs.shown)))
    pairs: list[tuple[str, str | None]] = [(_blob_name(item.get("digest"), blobs.shown), str(item.get("digest"))) for item in manifest.get("layers") or [] if isinstance(item, dict)]
    return config, _layers(pairs, made), str(reference) if reference else None
