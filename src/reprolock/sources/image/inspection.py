"""An image's Python environments as the records the probe path builds, so that every check works unchanged.

Each interpreter's ``sys.path`` (see :mod:`reprolock.sources.image.pythons`)
is read by :func:`reprolock.sources.metadata.scan_path`, the same reader as
for a running interpreter, on this machine's copy of each folder (the folder
itself for an unpacked root filesystem, the spill folder for layers); the
records then name the paths inside the image. Owners come from the image's
package database (:mod:`reprolock.sources.image.owners`), each file's layer
from the tree.
"""

from __future__ import annotations

import dataclasses
from types import MappingProxyType
from typing import TYPE_CHECKING

from reprolock.errors import InputError
from reprolock.records import Environment
from reprolock.sources.image.layers import LayerTree
from reprolock.sources.image.model import ImageInspection, Placed
from reprolock.sources.image.opening import open_image
from reprolock.sources.image.owners import libc, owners, read_packages
from reprolock.sources.image.pythons import Context, find_interpreters
from reprolock.sources.image.tree import join
from reprolock.sources.metadata import scan_path

if TYPE_CHECKING:
    from collections.abc import Iterable
    from pathlib import Path

    from reprolock.records import InstalledDistribution, Interpreter
    from reprolock.sources.image.model import ImageInfo
    from reprolock.sources.image.owners import Packages
    from reprolock.sources.image.tree import Tree

_METADATA_FILES = ("METADATA", "PKG-INFO")


def _host_folder(tree: Tree, entry: str) -> str:
    """This machine's copy of the ``sys.path`` folder ``entry`` ("" when the image has no such folder)."""
    real = tree.resolve(entry)
    if real is None or not tree.is_dir(real):
        return ""
    if isinstance(tree, LayerTree):
        tree.placeholders(real)
        return tree.spill_folder(real)
    return tree.host(real) or ""


def distributions(tree: Tree, interpreter: Interpreter, *, modules: bool = True) -> tuple[InstalledDistribution, ...]:
    """Every distribution on the interpreter's ``sys.path``, every copy, named by its paths inside the image."""
    hosts = [_host_folder(tree, entry) for entry in interpreter.sys_path]
    found = []
    for dist in scan_path(hosts, modules=modules):
        entry, host = interpreter.sys_path[dist.path_index], hosts[dist.path_index]
        inside = dist.metadata_path[len(host) :] if dist.metadata_path.startswith(host + "/") else "/" + dist.metadata_path.rsplit("/", 1)[-1]
        found.append(dataclasses.replace(dist, path_entry=entry, metadata_path=entry.rstrip("/") + inside))
    return tuple(found)


def installed_by(dist: InstalledDistribution, manager: str | None) -> str:
    """Who installed ``dist``: ``dpkg package python3-yaml``, ``pip``, ... or ``unknown``."""
    if dist.os_package:
        return f"{manager or 'OS'} package {dist.os_package}"
    if dist.installer:
        return dist.installer
    return "unknown (no INSTALLER, no RECORD)" if not dist.has_record and not dist.egg_info else "unknown"


def _metadata_layer(tree: Tree, metadata_path: str) -> int:
    """The layer that wrote the distribution's metadata file: where it was installed."""
    for name in _METADATA_FILES:
        layer = tree.layer(join(metadata_path, name))
        if layer:
            return layer
    return tree.layer(metadata_path)


def _with_owners(tree: Tree, packages: Packages, environments: list[Environment]) -> list[Environment]:
    paths = {dist.metadata_path: tree.resolve(dist.metadata_path) or dist.metadata_path for env in environments for dist in env.distributions}
    known = owners(tree, packages, set(paths.values()))
    return [
        dataclasses.replace(
            env,
            distributions=tuple(
                dataclasses.replace(dist, os_package=known[paths[dist.metadata_path]]) if paths[dist.metadata_path] in known else dist
                for dist in env.distributions
            ),
        )
        for env in environments
    ]


def _places(tree: Tree, info: ImageInfo, environments: Iterable[Environment]) -> dict[str, Placed]:
    """The layer of every path a finding may name: metadata folders, interpreters, PEP 668 markers, ``pyvenv.cfg``."""
    found: dict[str, Placed] = {}
    for env in environments:
        interpreter = env.interpreter
        for path in (interpreter.executable, interpreter.externally_managed, join(interpreter.prefix, "pyvenv.cfg") if interpreter.is_venv else None):
            if path:
                found[path] = Placed(path, info.layer(tree.layer(path)))
        for dist in env.distributions:
            found[dist.metadata_path] = Placed(dist.metadata_path, info.layer(_metadata_layer(tree, dist.metadata_path)))
    return found


def _inspect(info: ImageInfo, tree: Tree, notes: list[str], *, modules: bool) -> ImageInspection:
    packages = read_packages(tree)
    interpreters, guessed = find_interpreters(Context(tree, info.config, packages), info.shown)
    if not interpreters:
        raise InputError(
            f"{info.shown}: no Python in this image (no python3 in /usr/local/bin, /usr/bin or /bin with its standard library, no pyvenv.cfg)",
            hint="give the image that runs the Python application",
        )
    environments = _with_owners(tree, packages, [Environment(item, distributions(tree, item, modules=modules)) for item in interpreters])
    who = {dist.metadata_path: installed_by(dist, packages.manager) for env in environments for dist in env.distributions}
    return ImageInspection(
        image=info,
        environments=tuple(environments),
        places=MappingProxyType(_places(tree, info, environments)),
        installed_by=MappingProxyType(who),
        libc=libc(packages),
        notes=(*notes, *guessed, *([packages.note] if packages.note else [])),
    )


def inspect_image(given: str, cwd: Path, *, modules: bool = True) -> ImageInspection:
    """Every Python environment of the image at ``given`` (a folder, an archive or a layout), read without running anything.

    ``modules`` reads each distribution's top-level modules (only the module
    rules need them). Exit 3 (:class:`~reprolock.errors.InputError`) when the
    path is not an image, an archive is cut short or damaged, or the image
    holds no Python.
    """
    with open_image(given, cwd) as (info, tree, notes):
        return _inspect(info, tree, notes, modules=modules)
