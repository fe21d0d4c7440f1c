"""Layers applied in order into one tree: whiteouts, opaque folders, and the few files worth reading.

Every entry of every layer is kept as a small :class:`~reprolock.sources.image.tree.Node`
(its kind, the layer that wrote it, a link's target). Contents are never held
in memory: the files the inspection reads (distribution metadata, ``pyvenv.cfg``,
``_sysconfigdata*.py``, ``.pth`` files, the package managers' databases) are
copied, in chunks, into a spill folder that mirrors the image's paths; every
other file's data is skipped as the layer streams past. A ``.wh.NAME`` entry
deletes ``NAME`` from the layers below, and ``.wh..wh..opq`` empties its folder
of what the layers below put there, as the OCI image specification says.
"""

from __future__ import annotations

import contextlib
import os
import posixpath
import re
import shutil
from typing import IO, TYPE_CHECKING

from reprolock.sources.image.tree import TEXT_LIMIT, VENV_CONFIG, Node, Tree, join, parent, parts

if TYPE_CHECKING:
    import tarfile
    from collections.abc import Callable, Iterator

WHITEOUT = ".wh."
OPAQUE = ".wh..wh..opq"
DATABASE_LIMIT = 512 * 1024 * 1024
"""An rpm database may be this large and still be read."""
_CHUNK = 1024 * 1024
_METADATA_FILES = frozenset(
    {"METADATA", "PKG-INFO", "RECORD", "INSTALLER", "REQUESTED", "direct_url.json", "top_level.txt", "namespace_packages.txt", "requires.txt"},
)
_NAMED = frozenset({VENV_CONFIG, "EXTERNALLY-MANAGED", "patchlevel.h"})
_EXACT = frozenset({"/var/lib/dpkg/status", "/lib/apk/db/installed", "/etc/passwd"})
_DATABASES = frozenset({"/var/lib/rpm/rpmdb.sqlite", "/usr/lib/sysimage/rpm/rpmdb.sqlite"})
_STDLIB_FOLDER = re.compile(r"/lib(?:64)?/python3\.\d+$")


def wanted(path: str) -> bool:
    """Whether the inspection reads the file at ``path``: its content is kept, the others' are skipped."""
    folder, _, name = path.rpartition("/")
    if name in _METADATA_FILES:
        return folder.endswith((".dist-info", ".egg-info", "/EGG-INFO"))
    if name.endswith((".pth", ".egg-link", ".egg-info")) or name in _NAMED or path in _EXACT or path in _DATABASES:
        return True
    if name.startswith("_sysconfigdata") and name.endswith(".py"):
        return True
    if name.startswith("__editable__") and name.endswith("_finder.py"):
        return True
    if name in {"site.py", "sysconfig.py"}:
        return _STDLIB_FOLDER.search(folder) is not None
    return (folder == "/var/lib/dpkg/info" and name.endswith(".list")) or folder == "/var/lib/dpkg/status.d"


def clean(name: str) -> str | None:
    """A member name as an absolute path in the image; ``None`` for the root itself or a name that climbs out of it."""
    if "." not in name and "//" not in name and not name.endswith("/"):
        return "/" + name.lstrip("/") if name.strip("/") else None  # already plain: the common case, made cheap
    if ".." in name and ".." in parts(name):
        return None
    normal = posixpath.normpath("/" + name.lstrip("/"))
    return None if normal == "/" else normal


class LayerTree(Tree):
    """The merged file system of an image's layers, applied one after the other with :meth:`add`."""

    def __init__(self, spill: str) -> None:
        self._nodes: dict[str, Node] = {}
        self._children: dict[str, set[str]] = {"/": set()}
        self._captured: set[str] = set()
        self._spill = spill.rstrip("/")
        self._folders: dict[str, str] = {}
        self._shared: dict[tuple[str, int], Node] = {}
        self._spill_folders: set[str] = set()
        """Each folder path written to, and the real folder it names: cleared when a link or a deletion may change that."""
        self.skipped: list[str] = []
        """Files the inspection wanted that were too large to read (in-image paths)."""

    def node(self, path: str) -> Node | None:
        return self._nodes.get(path)

    def names(self, folder: str) -> list[str]:
        return sorted(self._children.get(folder, ()))

    def host(self, path: str) -> str | None:
        return self._spill + path if path in self._captured else None

    def spill_folder(self, path: str) -> str:
        """Where the captured files under the (resolved) folder ``path`` are on this machine."""
        return self._spill + path

    def venv_configs(self) -> Iterator[str]:
        return iter(sorted(path for path in self._nodes if path.endswith("/" + VENV_CONFIG)))

    def add(self, member: tarfile.TarInfo, layer: int, content: Callable[[], IO[bytes] | None]) -> None:
        """Apply one entry of layer number ``layer``; ``content`` opens its data (regular files only)."""
        path = clean(member.name)
        if path is None:
            return
        head, _, name = path.rpartition("/")
        folder = self._directory(head or "/", layer)
        if name == OPAQUE:
            for child in self.names(folder):
                self._remove(join(folder, child), below=layer)
            return
        if name.startswith(WHITEOUT):
            self._remove(join(folder, name[len(WHITEOUT) :]), below=layer)
            return
        path = join(folder, name)
        old = self._nodes.get(path)
        if old is not None and not (old.kind == "dir" and member.isdir()):
            self._remove(path)
        self._entry(path, member, layer, content)

    def _entry(self, path: str, member: tarfile.TarInfo, layer: int, content: Callable[[], IO[bytes] | None]) -> None:
        if member.isreg():
            self._set(path, self._plain("file", layer))
            if wanted(path):
                self._capture(path, member.size, content)
        elif member.isdir():
            self._set(path, self._plain("dir", layer))
        elif member.issym():
            self._set(path, Node("link", layer, member.linkname))
        elif member.islnk():
            self._hard_link(path, member.linkname, layer)
        else:
            self._set(path, self._plain("other", layer))

    def _plain(self, kind: str, layer: int) -> Node:
        """One shared node per kind and layer: most entries differ by nothing else (and a tree holds tens of thousands)."""
        found = self._shared.get((kind, layer))
        if found is None:
            found = self._shared[kind, layer] = Node(kind, layer)
        return found

    def placeholders(self, folder: str) -> None:
        """Mirror the folders directly under ``folder`` (and their ``__init__.py``) in the spill folder.

        The metadata reader tells a namespace package from a regular one by
        the presence of ``__init__.py`` in its folder.
        """
        for name in self.names(folder):
            path = join(folder, name)
            if self.kind(path) != "dir":
                continue
            self._made(self._spill + path)
            if self.kind(join(path, "__init__.py")) == "file" and join(path, "__init__.py") not in self._captured:
                with open(self._spill + join(path, "__init__.py"), "wb"):  # noqa: PTH123 - an empty marker
                    pass

    def _directory(self, path: str, layer: int) -> str:
        """The real folder ``path`` names (links above it followed), made where missing."""
        known = self._folders.get(path)
        if known is not None:
            return known
        real = self._make_directory(path, layer)
        self._folders[path] = real
        return real

    def _make_directory(self, path: str, layer: int) -> str:
        current = "/"
        for part in parts(path):
            here = join(current, part)
            found = self._nodes.get(here)
            if found is not None and found.kind == "link":
                target = self.resolve(here)
                if target is not None and (target == "/" or self.kind(target) == "dir"):
                    current = target
                    continue
            if found is None or found.kind != "dir":
                if found is not None:
                    self._remove(here)
                self._set(here, self._plain("dir", layer))
            current = here
        return current

    def _set(self, path: str, node: Node) -> None:
        if node.kind == "link":
            self._folders.clear()
        self._nodes[path] = node
        head, _, name = path.rpartition("/")
        self._children.setdefault(head or "/", set()).add(name)
        if node.kind == "dir":
            self._children.setdefault(path, set())

    def _remove(self, path: str, below: int | None = None) -> None:
        """Delete ``path`` and all under it; with ``below``, only when a lower layer wrote it (a whiteout)."""
        found = self._nodes.get(path)
        if found is None or (below is not None and found.layer >= below):
            return
        self._folders.clear()
        self._children.get(parent(path), set()).discard(path.rsplit("/", 1)[1])
        stack = [path]
        while stack:
            current = stack.pop()
            self._nodes.pop(current, None)
            stack.extend(join(current, name) for name in self._children.pop(current, set()))
            if current in self._captured:
                self._captured.discard(current)
                with contextlib.suppress(OSError):
                    os.unlink(self._spill + current)  # noqa: PTH108 - plain string paths

    def _hard_link(self, path: str, linkname: str, layer: int) -> None:
        self._set(path, self._plain("file", layer))
        target = clean(linkname)
        if target is not None and target in self._captured and wanted(path):
            self._made(os.path.dirname(self._spill + path))  # noqa: PTH120 - plain string paths
            shutil.copyfile(self._spill + target, self._spill + path)
            self._captured.add(path)

    def _made(self, folder: str) -> None:
        """``folder`` of the spill folder, made once (spill folders are never removed: only files are)."""
        if folder not in self._spill_folders:
            os.makedirs(folder, exist_ok=True)  # noqa: PTH103 - plain string paths
            self._spill_folders.add(folder)

    def _capture(self, path: str, size: int, content: Callable[[], IO[bytes] | None]) -> None:
        limit = DATABASE_LIMIT if path in _DATABASES else TEXT_LIMIT
        if size > limit:
            self.skipped.append(path)
            return
        source = content()
        if source is None:
            return
        where = self._spill + path
        self._made(os.path.dirname(where))  # noqa: PTH120 - plain string paths
        with open(where, "wb") as out:  # noqa: PTH123 - plain string paths
            shutil.copyfileobj(source, out, _CHUNK)
        self._captured.add(path)
