"""Pack a virtualenv into a container image for benchmarks/image.sh, with no daemon.

    python benchmarks/make-image.py VENV OUT

writes OUT/rootfs (an unpacked root filesystem: the venv at /opt/venv, its base
interpreter at its own path, as a multi-stage build copies them) and
OUT/image.tar (the same two layers as ``docker save`` writes them: uncompressed
``<id>/layer.tar``, a configuration with the history, ``manifest.json``). The
base interpreter's standard library is packed as an image needs it: its
top-level modules, its packages' ``__init__.py`` and ``lib-dynload``. Nothing
is rebuilt when OUT/.complete names the same VENV.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import tarfile
from pathlib import Path

FIXED_TIME = 1_700_000_000


def _settings(venv: Path) -> dict[str, str]:
    lines = (venv / "pyvenv.cfg").read_text(encoding="utf-8").splitlines()
    return {key.strip(): value.strip() for key, _, value in (line.partition("=") for line in lines) if value}


def base_files(home: Path, version: str) -> list[tuple[Path, str]]:
    """The base interpreter and its standard library as an image needs them: (file on this machine, path in the image)."""
    xy = ".".join(version.split(".")[:2])
    stdlib = home.parent / "lib" / f"python{xy}"
    found = [(home / f"python{xy}", str(home / f"python{xy}"))]
    for path in sorted(stdlib.iterdir()):
        if path.is_file() and path.suffix == ".py":
            found.append((path, str(path)))
        elif path.is_dir() and path.name == "lib-dynload":
            found += [(item, str(item)) for item in sorted(path.iterdir()) if item.is_file()]
        elif path.is_dir() and (path / "__init__.py").is_file():
            found.append((path / "__init__.py", str(path / "__init__.py")))
    return found


def venv_files(venv: Path) -> list[tuple[Path, str]]:
    """Every file, folder and link of the venv, as /opt/venv in the image."""
    found = []
    for folder, folders, files in os.walk(venv):
        folders.sort()
        for name in sorted(folders) + sorted(files):
            path = Path(folder) / name
            found.append((path, "/opt/venv/" + str(path.relative_to(venv))))
    return found


def _layer(files: list[tuple[Path, str]], path: Path) -> str:
    """One layer tar of ``files``; its sha256 (the diff_id)."""
    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as archive:
        for source, inside in files:
            info = archive.gettarinfo(str(source), arcname=inside.lstrip("/"))
            info.mtime, info.uid, info.gid, info.uname, info.gname = FIXED_TIME, 0, 0, "root", "root"
            if info.isreg():
                with source.open("rb") as handle:
                    archive.addfile(info, handle)
            else:
                archive.addfile(info)
    with path.open("rb") as handle:
        return "sha256:" + hashlib.file_digest(handle, "sha256").hexdigest()


def docker_archive(layers: list[tuple[str, list[tuple[Path, str]]]], out: Path) -> None:
    parts = out / "parts"
    shutil.rmtree(parts, ignore_errors=True)
    parts.mkdir(parents=True)
    diff_ids, names = [], []
    for position, (_, files) in enumerate(layers):
        folder = parts / f"{position:064x}"
        folder.mkdir()
        diff_ids.append(_layer(files, folder / "layer.tar"))
        names.append(f"{folder.name}/layer.tar")
    config = {
        "architecture": "amd64",
        "os": "linux",
        "config": {"Env": ["PATH=/opt/venv/bin:/usr/local/bin:/usr/bin:/bin", "VIRTUAL_ENV=/opt/venv"]},
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
        "history": [{"created_by": created_by} for created_by, _ in layers],
    }
    (parts / "config.json").write_text(json.dumps(config), encoding="utf-8")
    (parts / "manifest.json").write_text(json.dumps([{"Config": "config.json", "RepoTags": ["venv90:bench"], "Layers": names}]), encoding="utf-8")
    with tarfile.open(out / "image.tar", "w") as archive:
        for name in [*(f"{name.split('/')[0]}/layer.tar" for name in names), "config.json", "manifest.json"]:
            archive.add(parts / name, arcname=name)
    shutil.rmtree(parts)


def rootfs(layers: list[tuple[str, list[tuple[Path, str]]]], out: Path) -> None:
    root = out / "rootfs"
    shutil.rmtree(root, ignore_errors=True)
    for _, files in layers:
        for source, inside in files:
            target = root / inside.lstrip("/")
            target.parent.mkdir(parents=True, exist_ok=True)
            if source.is_symlink():
                target.symlink_to(os.readlink(source))  # noqa: PTH115 - the link as written
            elif source.is_dir():
                target.mkdir(exist_ok=True)
            else:
                shutil.copy2(source, target)


def main() -> None:
    venv, out = Path(sys.argv[1]).resolve(), Path(sys.argv[2])
    if (out / ".complete").is_file() and (out / ".complete").read_text(encoding="utf-8") == str(venv):
        return
    settings = _settings(venv)
    layers = [
        ("COPY --from=python /root/.pyenv /root/.pyenv", base_files(Path(settings["home"]), settings["version"])),
        ("RUN python -m venv /opt/venv && /opt/venv/bin/pip install -r env90.txt", venv_files(venv)),
    ]
    out.mkdir(parents=True, exist_ok=True)
    docker_archive(layers, out)
    rootfs(layers, out)
    (out / ".complete").write_text(str(venv), encoding="utf-8")
    print(f"make-image: {out}/image.tar ({(out / 'image.tar').stat().st_size >> 20} MB) and {out}/rootfs", file=sys.stderr)


if __name__ == "__main__":
    main()
