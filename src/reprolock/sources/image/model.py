"""The records of an inspected container image: its layers, its configuration, and where each file came from."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Mapping

    from reprolock.records import Environment

INSTRUCTION_WIDTH = 160
"""A Dockerfile instruction longer than this is shown cut, with an ellipsis."""


@dataclass(frozen=True, slots=True)
class Layer:
    """One layer of an image, base first."""

    index: int
    """1-based position: layer 1 is the base."""
    digest: str | None
    """``sha256:...`` of the layer as the image names it (the blob, else the uncompressed ``diff_id``)."""
    created_by: str | None = None
    """The Dockerfile instruction that made it, when the image configuration's history says."""

    def to_dict(self) -> dict[str, Any]:
        return {"index": self.index, "digest": self.digest, "created_by": self.created_by}


@dataclass(frozen=True, slots=True)
class ImageConfig:
    """What the image configuration says about running it (nothing is run)."""

    env: tuple[tuple[str, str], ...] = ()
    """``Env``, as ``(name, value)`` pairs in the configuration's order."""
    user: str | None = None
    working_dir: str | None = None
    architecture: str | None = None
    """The OCI architecture (``amd64``, ``arm64``, ...)."""

    def variable(self, name: str) -> str | None:
        """The last value of ``name`` in ``Env`` (``None`` when unset)."""
        found = None
        for key, value in self.env:
            if key == name:
                found = value
        return found


@dataclass(frozen=True, slots=True)
class ImageInfo:
    """An image as given on the command line."""

    shown: str
    """The path as given, as every report names it."""
    format: str
    """``folder``, ``docker-archive``, ``oci-layout`` or ``oci-archive``."""
    layers: tuple[Layer, ...] = ()
    """Empty for an unpacked root filesystem (a folder has no layers)."""
    config: ImageConfig = field(default_factory=ImageConfig)
    reference: str | None = None
    """A tag or name the archive records (``app:1.0``), when it records one."""

    def layer(self, index: int | None) -> Layer | None:
        """The layer with this 1-based ``index`` (``None``: no such layer, or a folder)."""
        if index is None or not 1 <= index <= len(self.layers):
            return None
        return self.layers[index - 1]


@dataclass(frozen=True, slots=True)
class Placed:
    """A file inside an image: its path there and the layer that brought it in."""

    path: str
    layer: Layer | None = None

    def to_dict(self, image: ImageInfo) -> dict[str, Any]:
        """The ``image`` entry of a finding's detail and of a package row."""
        return {"image": image.shown, "path": self.path, "layer": self.layer.to_dict() if self.layer is not None else None}


@dataclass(frozen=True, slots=True)
class ImageInspection:
    """Every Python environment found in an image, the one ``python3`` runs first."""

    image: ImageInfo
    environments: tuple[Environment, ...]
    places: Mapping[str, Placed] = field(default_factory=dict, compare=False)
    """Where each in-image path the records name came from (metadata folders, markers, ``pyvenv.cfg``); read-only."""
    installed_by: Mapping[str, str] = field(default_factory=dict, compare=False)
    """Who installed each distribution, by its metadata path: ``dpkg: python3-yaml``, ``pip``, ``unknown``."""
    libc: str | None = None
    """The image's C library and its version (``glibc 2.36``, ``musl 1.2``), when its package database says."""
    notes: tuple[str, ...] = ()
    """What could not be told from the files (a zstd layer skipped, an rpm database in an old format, ...)."""

    def place(self, path: str) -> Placed:
        """``path``'s place in the image (its layer unknown when the image has none)."""
        return self.places.get(path) or Placed(path)

    def installer_of(self, metadata_path: str) -> str:
        return self.installed_by.get(metadata_path, "unknown")
