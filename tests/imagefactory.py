"""Build real container images for tests, with no daemon: layers are tar files of real files, packed the way
``docker save`` and OCI tools pack them (a docker archive, an OCI image layout folder, an OCI archive).

``skopeo inspect`` accepts what is written here (``test_image.py`` checks it). Everything is deterministic:
fixed times, owners and order.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import shutil
import subprocess
import tarfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from conftest import run_cli
from envfactory import pip_install
from wheelfactory import Dist, build_wheel

FIXED_TIME = 1_700_000_000
MANIFEST = "application/vnd.oci.image.manifest.v1+json"
INDEX = "application/vnd.oci.image.index.v1+json"
CONFIG = "application/vnd.oci.image.config.v1+json"
TAR_LAYER = "application/vnd.oci.image.layer.v1.tar"
GZIP_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"


def _info(inside: str, kind: bytes, *, size: int = 0, mode: int = 0o644, target: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(inside.lstrip("/"))
    info.type, info.size, info.mode, info.mtime, info.linkname = kind, size, mode, FIXED_TIME, target
    info.uid = info.gid = 0
    info.uname = info.gname = "root"
    return info


@dataclass
class Layer:
    """One layer's entries, in the order they are written; ``created_by`` is its Dockerfile instruction."""

    created_by: str | None = None
    parents: bool = True
    """Write an entry for every parent folder (as image builders do); without them, a file goes where the layers below say."""
    entries: list[tuple[tarfile.TarInfo, bytes | Path | None]] = field(default_factory=list)
    _folders: set[str] = field(default_factory=set)

    def _parents(self, inside: str) -> None:
        if not self.parents:
            return
        parts = inside.strip("/").split("/")[:-1]
        for depth in range(1, len(parts) + 1):
            folder = "/".join(parts[:depth])
            if folder not in self._folders:
                self._folders.add(folder)
                self.entries.append((_info(folder, tarfile.DIRTYPE, mode=0o755), None))

    def file(self, inside: str, data: bytes | str | Path, mode: int = 0o644) -> Layer:
        self._parents(inside)
        if isinstance(data, Path):
            self.entries.append((_info(inside, tarfile.REGTYPE, size=data.stat().st_size, mode=mode), data))
        else:
            raw = data.encode() if isinstance(data, str) else data
            self.entries.append((_info(inside, tarfile.REGTYPE, size=len(raw), mode=mode), raw))
        return self

    def folder(self, inside: str) -> Layer:
        self._parents(inside + "/x")
        return self

    def link(self, inside: str, target: str) -> Layer:
        self._parents(inside)
        self.entries.append((_info(inside, tarfile.SYMTYPE, mode=0o777, target=target), None))
        return self

    def hard_link(self, inside: str, target: str) -> Layer:
        self._parents(inside)
        self.entries.append((_info(inside, tarfile.LNKTYPE, target=target.lstrip("/")), None))
        return self

    def tree(self, inside: str, source: Path) -> Layer:
        """A real folder of this machine, copied: files, folders and symbolic links as they are."""
        if self.parents:
            self.folder(inside)
        for folder, folders, files in os.walk(source):
            here = Path(folder)
            for name in sorted(folders) + sorted(files):
                path = here / name
                target = f"{inside.rstrip('/')}/{path.relative_to(source)}"
                if path.is_symlink():
                    self.link(target, str(path.readlink()))
                elif path.is_dir():
                    self.folder(target)
                elif path.is_file():
                    self.file(target, path, mode=path.stat().st_mode & 0o777)
            folders.sort()
        return self

    def whiteout(self, inside: str) -> Layer:
        """Delete ``inside`` from the layers below."""
        folder, _, name = inside.rpartition("/")
        return self.file(f"{folder}/.wh.{name}", b"")

    def opaque(self, folder: str) -> Layer:
        """Empty ``folder`` of what the layers below put there."""
        return self.file(f"{folder.rstrip('/')}/.wh..wh..opq", b"")

    def write_tar(self, out: io.BufferedIOBase | io.BytesIO) -> None:
        with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as archive:
            for info, data in self.entries:
                if isinstance(data, Path):
                    with data.open("rb") as handle:
                        archive.addfile(info, handle)
                else:
                    archive.addfile(info, io.BytesIO(data) if data is not None else None)

    def blob(self, folder: Path, *, compress: bool) -> tuple[str, str, int]:
        """The layer written as a blob in ``folder``: its digest, its uncompressed digest (diff_id) and its size."""
        folder.mkdir(parents=True, exist_ok=True)
        plain = folder / "layer.tmp"
        with plain.open("wb") as out:
            self.write_tar(out)
        diff_id = "sha256:" + _sha256(plain)
        if compress:
            packed = folder / "layer.gz.tmp"
            with plain.open("rb") as source, packed.open("wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as out:
                shutil.copyfileobj(source, out, 1 << 20)
            plain.unlink()
            plain = packed
        digest = _sha256(plain)
        final = folder / digest
        plain.replace(final)
        return "sha256:" + digest, diff_id, final.stat().st_size


def _sha256(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def _json_blob(folder: Path, document: object) -> tuple[str, int]:
    data = json.dumps(document, sort_keys=True).encode()
    digest = hashlib.sha256(data).hexdigest()
    (folder / digest).write_bytes(data)
    return "sha256:" + digest, len(data)


@dataclass
class Image:
    """An image to write: its layers (base first) and the configuration's run settings."""

    layers: list[Layer]
    env: dict[str, str] = field(default_factory=lambda: {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"})
    user: str | None = None
    architecture: str = "amd64"
    working_dir: str | None = None

    def config(self, diff_ids: list[str]) -> dict[str, object]:
        history: list[dict[str, object]] = [{"created": "2024-01-01T00:00:00Z", "created_by": 'ENV LANG="C.UTF-8"', "empty_layer": True}]
        history += [{"created": "2024-01-01T00:00:00Z", "created_by": layer.created_by or "COPY . /"} for layer in self.layers]
        settings: dict[str, object] = {"Env": [f"{key}={value}" for key, value in self.env.items()]}
        if self.user:
            settings["User"] = self.user
        if self.working_dir:
            settings["WorkingDir"] = self.working_dir
        return {
            "architecture": self.architecture,
            "os": "linux",
            "config": settings,
            "rootfs": {"type": "layers", "diff_ids": diff_ids},
            "history": history,
        }


def oci_layout(image: Image, folder: Path, *, compress: bool = True, tag: str = "test") -> Path:
    """``image`` as an OCI image layout folder (``oci-layout``, ``index.json``, ``blobs/sha256/``)."""
    blobs = folder / "blobs" / "sha256"
    blobs.mkdir(parents=True, exist_ok=True)
    written = [layer.blob(blobs, compress=compress) for layer in image.layers]
    config_digest, config_size = _json_blob(blobs, image.config([diff_id for _, diff_id, _ in written]))
    manifest = {
        "schemaVersion": 2,
        "mediaType": MANIFEST,
        "config": {"mediaType": CONFIG, "digest": config_digest, "size": config_size},
        "layers": [{"mediaType": GZIP_LAYER if compress else TAR_LAYER, "digest": digest, "size": size} for digest, _, size in written],
    }
    manifest_digest, manifest_size = _json_blob(blobs, manifest)
    descriptor = {
        "mediaType": MANIFEST,
        "digest": manifest_digest,
        "size": manifest_size,
        "annotations": {"org.opencontainers.image.ref.name": tag},
        "platform": {"architecture": image.architecture, "os": "linux"},
    }
    (folder / "index.json").write_text(json.dumps({"schemaVersion": 2, "mediaType": INDEX, "manifests": [descriptor]}))
    (folder / "oci-layout").write_text(json.dumps({"imageLayoutVersion": "1.0.0"}))
    return folder


def _tar_folder(folder: Path, path: Path) -> Path:
    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as archive:
        for item in sorted(folder.rglob("*")):
            info = archive.gettarinfo(str(item), arcname=str(item.relative_to(folder)))
            info.mtime, info.uid, info.gid, info.uname, info.gname = FIXED_TIME, 0, 0, "root", "root"
            if item.is_file():
                with item.open("rb") as handle:
                    archive.addfile(info, handle)
            else:
                archive.addfile(info)
    return path


def oci_archive(image: Image, path: Path, *, compress: bool = True) -> Path:
    """``image`` as an OCI archive: the layout folder in one tar file."""
    folder = path.with_name(path.name + ".layout")
    oci_layout(image, folder, compress=compress)
    _tar_folder(folder, path)
    shutil.rmtree(folder)
    return path


def docker_archive(image: Image, path: Path, *, tag: str = "test:latest", blobs: bool = False) -> Path:
    """``image`` as ``docker save`` writes it: ``<id>/layer.tar`` (uncompressed), ``<config>.json`` and ``manifest.json``;
    ``blobs``: as Docker 25 and later write it, every file under ``blobs/sha256/``."""
    folder = path.with_name(path.name + ".parts")
    store = folder / "blobs" / "sha256"
    written = [layer.blob(store, compress=False) for layer in image.layers]
    names = []
    for digest, _, _ in written:
        layer_id = digest.split(":")[1]
        if blobs:
            names.append(f"blobs/sha256/{layer_id}")
            continue
        (folder / layer_id).mkdir(parents=True, exist_ok=True)
        (store / layer_id).replace(folder / layer_id / "layer.tar")
        (folder / layer_id / "VERSION").write_text("1.0")
        (folder / layer_id / "json").write_text(json.dumps({"id": layer_id}))
        names.append(f"{layer_id}/layer.tar")
    config_digest, _ = _json_blob(store, image.config([diff_id for _, diff_id, _ in written]))
    config_name = f"blobs/sha256/{config_digest.split(':')[1]}"
    if not blobs:
        config_name = config_digest.split(":")[1] + ".json"
        (store / config_digest.split(":")[1]).replace(folder / config_name)
        shutil.rmtree(folder / "blobs")
    (folder / "manifest.json").write_text(json.dumps([{"Config": config_name, "RepoTags": [tag], "Layers": names}]))
    _tar_folder(folder, path)
    shutil.rmtree(folder)
    return path


def skopeo_inspect(transport: str) -> dict[str, object]:
    """What ``skopeo inspect`` reads of an image (``oci-archive:PATH``, ``docker-archive:PATH``, ``oci:DIR``)."""
    done = subprocess.run(["skopeo", "inspect", transport], capture_output=True, text=True, check=False, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


class _ZeroLayer(io.RawIOBase):
    """A layer tar holding one file of ``size`` zero bytes, made as it is read and hashed on the way (no copy on disk)."""

    def __init__(self, inside: str, size: int) -> None:
        self.header = _info(inside, tarfile.REGTYPE, size=size).tobuf(tarfile.USTAR_FORMAT)
        self.size = len(self.header) + size + (-size % tarfile.BLOCKSIZE) + 2 * tarfile.BLOCKSIZE
        self.position = 0
        self.digest = hashlib.sha256()

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        size = self.size - self.position if size < 0 else min(size, self.size - self.position)
        head = self.header[self.position : self.position + size] if self.position < len(self.header) else b""
        data = head + b"\0" * (size - len(head))
        self.position += size
        self.digest.update(data)
        return data


def zeros_docker_archive(path: Path, size: int, image: Image, *, inside: str = "/data/zeros") -> Path:
    """A ``docker save`` archive whose first layer holds ``size`` zero bytes at ``inside``, then ``image``'s layers.

    The big layer is streamed into the archive as it is made: building a 1 GB image takes one write.
    """
    parts = path.with_name(path.name + ".parts")
    written = [layer.blob(parts, compress=False) for layer in image.layers]
    zeros = _ZeroLayer(inside, size)
    big_id = hashlib.sha256(b"zeros").hexdigest()
    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as archive:
        member = _info(f"{big_id}/layer.tar", tarfile.REGTYPE, size=zeros.size)
        archive.addfile(member, zeros)
        names = [f"{big_id}/layer.tar"]
        for digest, _, blob_size in written:
            name = f"{digest.split(':')[1]}/layer.tar"
            with (parts / digest.split(":")[1]).open("rb") as handle:
                archive.addfile(_info(name, tarfile.REGTYPE, size=blob_size), handle)
            names.append(name)
        diff_ids = ["sha256:" + zeros.digest.hexdigest(), *(diff_id for _, diff_id, _ in written)]
        whole = Image([Layer("RUN dd if=/dev/zero of=/data/zeros"), *image.layers], env=image.env, user=image.user, architecture=image.architecture)
        config = json.dumps(whole.config(diff_ids)).encode()
        archive.addfile(_info("config.json", tarfile.REGTYPE, size=len(config)), io.BytesIO(config))
        manifest = json.dumps([{"Config": "config.json", "RepoTags": ["big:latest"], "Layers": names}]).encode()
        archive.addfile(_info("manifest.json", tarfile.REGTYPE, size=len(manifest)), io.BytesIO(manifest))
    shutil.rmtree(parts)
    return path


def zeros_oci_layout(folder: Path, size: int, image: Image, *, inside: str = "/data/zeros") -> Path:
    """An OCI layout whose first layer (gzip) holds ``size`` zero bytes at ``inside``, then ``image``'s layers.

    The big layer is compressed as it is made: it takes a few MB on disk whatever ``size`` is.
    """
    blobs = folder / "blobs" / "sha256"
    blobs.mkdir(parents=True, exist_ok=True)
    zeros = _ZeroLayer(inside, size)
    packed = blobs / "zeros.tmp"
    with packed.open("wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=1, mtime=0) as out:
        while chunk := zeros.read(1 << 20):
            out.write(chunk)
    digest = _sha256(packed)
    packed.replace(blobs / digest)
    big = Layer("RUN dd if=/dev/zero of=/data/zeros")
    written = [("sha256:" + digest, "sha256:" + zeros.digest.hexdigest(), (blobs / digest).stat().st_size)]
    written += [layer.blob(blobs, compress=True) for layer in image.layers]
    whole = Image([big, *image.layers], env=image.env, user=image.user, architecture=image.architecture)
    config_digest, config_size = _json_blob(blobs, whole.config([diff_id for _, diff_id, _ in written]))
    manifest = {
        "schemaVersion": 2,
        "mediaType": MANIFEST,
        "config": {"mediaType": CONFIG, "digest": config_digest, "size": config_size},
        "layers": [{"mediaType": GZIP_LAYER, "digest": blob, "size": blob_size} for blob, _, blob_size in written],
    }
    manifest_digest, manifest_size = _json_blob(blobs, manifest)
    index = {"schemaVersion": 2, "mediaType": INDEX, "manifests": [{"mediaType": MANIFEST, "digest": manifest_digest, "size": manifest_size}]}
    (folder / "index.json").write_text(json.dumps(index))
    (folder / "oci-layout").write_text(json.dumps({"imageLayoutVersion": "1.0.0"}))
    return folder


SITE = "/opt/venv/lib/python3.11/site-packages"
VENV_CFG = "home = /usr/local/bin\ninclude-system-site-packages = false\nversion = 3.11.7\n"


def installed(tmp: Path, *names: str) -> Path:
    """A folder where real pip installed the named test distributions (1.0 each)."""
    target = tmp / f"site-{'-'.join(names)}"
    for name in names:
        build_wheel(Dist(name, "1.0"), tmp / "wheels")
    pip_install(target, tmp / "wheels", *names)
    return target


def one_line_error(run: Any, *names: str) -> str:
    """The run failed as bad input: exit 3, one line on stderr naming ``names``, never a traceback."""
    assert run.code == 3, (run.code, run.out, run.err)
    lines = run.err.strip().splitlines()
    assert len(lines) == 1, run.err
    assert "Traceback" not in run.err
    for name in names:
        assert name in lines[0], lines[0]
    return lines[0]


def audit(image: Path, *extra: str, cwd: Path) -> Any:
    """``reprolock audit --image IMAGE --no-index --format json``, in process."""
    return run_cli("audit", "--image", str(image), "--no-index", "--format", "json", *extra, cwd=cwd)
