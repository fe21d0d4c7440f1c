"""Open an image path as a tree: a folder as it is, an archive or layout by streaming its layers in order."""

from __future__ import annotations

import contextlib
import io
import re
import tarfile
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from reprolock.errors import InputError
from reprolock.sources.image.formats import FolderBlobs, TarBlobs, docker_archive, oci_layout
from reprolock.sources.image.layers import LayerTree
from reprolock.sources.image.model import ImageInfo, Layer
from reprolock.sources.image.stream import apply_layer
from reprolock.sources.image.tree import FolderTree

if TYPE_CHECKING:
    from collections.abc import Iterator

    from reprolock.sources.image.formats import Blobs, LayerBlob
    from reprolock.sources.image.model import ImageConfig
    from reprolock.sources.image.tree import Tree

HINT = "give an unpacked root filesystem folder, a docker save archive, or an OCI image layout (folder or archive)"
_SNIFFED = 64
"""Members looked at to tell an image archive from a flattened root filesystem (``docker export``)."""
_LEGACY_LAYER = re.compile(r"[0-9a-f]{64}/(?:layer\.tar|json|VERSION)")
_IMAGE_FILES = frozenset({"manifest.json", "index.json", "oci-layout", "repositories"})


def _looks_like_image(path: Path) -> bool:
    """Whether the archive's first members are an image's (manifest, index, blobs, ``<id>/layer.tar``), not a root filesystem's."""
    with tarfile.open(path, "r|*") as archive:
        for count, member in enumerate(archive):
            name = member.name.removeprefix("./").lstrip("/")
            if name in _IMAGE_FILES or name.startswith("blobs/") or _LEGACY_LAYER.fullmatch(name):
                return True
            if count >= _SNIFFED:
                break
    return False


def _open_archive(path: Path, shown: str) -> Blobs | None:
    """The archive's files for random access; ``None`` when it is a flattened root filesystem."""
    try:
        if not _looks_like_image(path):
            return None
        archive = tarfile.open(path, "r:*")  # noqa: SIM115 - TarBlobs closes it
        return TarBlobs(archive, shown, path, plain=type(archive.fileobj) is io.BufferedReader)
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise InputError(f"{shown}: not a readable image archive ({exc})", hint=HINT) from None


def _image_files(path: Path, shown: str) -> tuple[Blobs | None, str]:
    """Where the image's files are and its format; ``(None, form)`` for a root filesystem (folder or flattened archive)."""
    if path.is_dir():
        if (path / "oci-layout").is_file() or ((path / "index.json").is_file() and (path / "blobs").is_dir()):
            return FolderBlobs(path, shown), "oci-layout"
        if (path / "manifest.json").is_file():
            return FolderBlobs(path, shown), "docker-archive"
        return None, "folder"
    if not path.exists():
        raise InputError(f"{shown}: no such file or folder", hint=HINT)
    blobs = _open_archive(path, shown)
    if blobs is None:
        return None, "rootfs-archive"
    return blobs, "docker-archive" if blobs.exists("manifest.json") else "oci-archive"


def _apply(tree: LayerTree, blobs: Blobs, layers: list[LayerBlob], shown: str) -> None:
    for blob in layers:
        digest = f" ({blob.layer.digest})" if blob.layer.digest else ""
        what = f"{shown}: layer {blob.layer.index}{digest}, {blob.name}"
        if not blobs.exists(blob.name):
            raise InputError(f"{what}: the layer is missing from the image", hint="the image is incomplete: save or copy it again")
        with blobs.open(blob.name) as raw:
            apply_layer(tree, raw, blob.layer, what, again=blobs.again(blob.name))


def _read_layers(blobs: Blobs, form: str) -> tuple[ImageConfig, list[LayerBlob], str | None]:
    if form == "docker-archive":
        return docker_archive(blobs)
    return oci_layout(blobs)


@contextlib.contextmanager
def open_image(given: str, cwd: Path) -> Iterator[tuple[ImageInfo, Tree, list[str]]]:
    """The image at ``given`` (relative to ``cwd``), its merged tree and notes on files left unread; exit 3 when it is not one."""
    path = cwd / Path(given).expanduser()
    blobs, form = _image_files(path, given)
    if form == "folder":
        yield ImageInfo(given, form), FolderTree(str(path.resolve())), []
        return
    with tempfile.TemporaryDirectory(prefix="reprolock-image-") as spill:
        tree = LayerTree(spill)
        try:
            if blobs is None:
                whole = Layer(1, None, None)
                with path.open("rb") as raw:
                    apply_layer(tree, raw, whole, f"{given}: the root filesystem archive")
                info = ImageInfo(given, form, (whole,))
            else:
                config, layers, reference = _read_layers(blobs, form)
                _apply(tree, blobs, layers, given)
                info = ImageInfo(given, form, tuple(blob.layer for blob in layers), config, reference)
        finally:
            if blobs is not None:
                blobs.close()
        notes = [f"{path}: larger than reprolock reads, not read" for path in tree.skipped]
        yield info, tree, notes
