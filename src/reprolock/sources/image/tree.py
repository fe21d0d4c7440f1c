"""An image's merged file system, read without running anything.

Paths are absolute POSIX paths inside the image. Symbolic links are followed
inside the image: an absolute target starts again at the image's root, never
at this machine's, and ``..`` never climbs above the root. Two kinds of tree:
:class:`FolderTree` reads an unpacked root filesystem on disk;
:class:`~reprolock.sources.image.layers.LayerTree` is built from layers.
"""

from __future__ import annotations

import os
import stat
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from collections.abc import Iterator

MAX_LINKS = 40
"""Symbolic links followed in one lookup before it is called a loop (Linux's own limit)."""
TEXT_LIMIT = 64 * 1024 * 1024
"""The largest file read into memory as text (a dpkg status file, a RECORD)."""
VENV_CONFIG = "pyvenv.cfg"
# Never holds a virtualenv of the image's own: skipped when looking for pyvenv.cfg in a folder.
_NOT_SEARCHED = frozenset({"__pycache__", "site-packages", "dist-packages", "node_modules", ".git"})
_NOT_SEARCHED_AT_ROOT = frozenset({"proc", "sys", "dev"})


class Node(NamedTuple):
    """One entry of the tree: ``dir``, ``file``, ``link`` or ``other``; the layer that last wrote it (0: no layers)."""

    kind: str
    layer: int = 0
    target: str = ""
    """Where a link points, as written."""


def parts(path: str) -> list[str]:
    """The names of ``path``, without empty and ``.`` components."""
    return [part for part in path.split("/") if part and part != "."]


def join(folder: str, name: str) -> str:
    return f"{folder.rstrip('/')}/{name}"


def parent(path: str) -> str:
    return path.rsplit("/", 1)[0] or "/"


class Tree:
    """Read access to one merged file system; subclasses say what is at a path."""

    def node(self, path: str) -> Node | None:
        """What is at ``path`` itself (a link is not followed); ``path`` must have no links above it."""
        raise NotImplementedError

    def names(self, folder: str) -> list[str]:
        """The entries of the (resolved) directory ``folder``, sorted."""
        raise NotImplementedError

    def host(self, path: str) -> str | None:
        """Where the content of the resolved ``path`` is on this machine, when it is there."""
        raise NotImplementedError

    def venv_configs(self) -> Iterator[str]:
        """Every ``pyvenv.cfg`` (the mark of a virtualenv), sorted."""
        raise NotImplementedError

    def resolve(self, path: str) -> str | None:
        """``path`` with every link followed inside the image (``/`` is the root); ``None`` when missing or looping."""
        stack = parts(path)[::-1]
        done = ""
        hops = 0
        while stack:
            part = stack.pop()
            if part == "..":
                done = done.rsplit("/", 1)[0]
                continue
            here = f"{done}/{part}"
            found = self.node(here)
            if found is None:
                return None
            if found.kind == "link":
                hops += 1
                if hops > MAX_LINKS:
                    return None
                if found.target.startswith("/"):
                    done = ""
                stack.extend(parts(found.target)[::-1])
                continue
            if stack and found.kind != "dir":
                return None
            done = here
        return done or "/"

    def kind(self, path: str) -> str | None:
        """``dir``, ``file`` or ``other`` after following links; ``None`` when nothing is there."""
        real = self.resolve(path)
        if real is None:
            return None
        if real == "/":
            return "dir"
        found = self.node(real)
        return found.kind if found is not None else None

    def is_dir(self, path: str) -> bool:
        return self.kind(path) == "dir"

    def is_file(self, path: str) -> bool:
        return self.kind(path) == "file"

    def listdir(self, path: str) -> list[str]:
        real = self.resolve(path)
        return self.names(real) if real is not None and self.kind(real) == "dir" else []

    def layer(self, path: str) -> int:
        """The layer that brought ``path`` (followed) in; 0 when unknown."""
        real = self.resolve(path)
        found = self.node(real) if real is not None and real != "/" else None
        return found.layer if found is not None else 0

    def read_text(self, path: str, limit: int = TEXT_LIMIT) -> str | None:
        """The text of the file at ``path`` (invalid UTF-8 replaced); ``None`` when absent, unread or larger than ``limit``."""
        real = self.resolve(path)
        where = self.host(real) if real is not None and self.kind(real) == "file" else None
        if where is None:
            return None
        try:
            with open(where, "rb") as handle:  # noqa: PTH123 - plain string paths throughout the tree
                data = handle.read(limit + 1)
        except OSError:
            return None
        return data.decode("utf-8", "replace") if len(data) <= limit else None


class FolderTree(Tree):
    """An unpacked root filesystem in a folder of this machine (``docker export``, ``umoci unpack``, debootstrap)."""

    def __init__(self, root: str) -> None:
        self.root = root.rstrip("/")  # "" for the machine's own root

    def _on_host(self, path: str) -> str:
        return self.root + path if path != "/" else self.root or "/"

    def node(self, path: str) -> Node | None:
        try:
            info = os.lstat(self._on_host(path))
        except (OSError, ValueError):
            return None
        if stat.S_ISDIR(info.st_mode):
            return Node("dir")
        if stat.S_ISREG(info.st_mode):
            return Node("file")
        if stat.S_ISLNK(info.st_mode):
            try:
                return Node("link", target=os.readlink(self._on_host(path)))  # noqa: PTH115 - plain string paths throughout the tree
            except OSError:
                return None
        return Node("other")

    def names(self, folder: str) -> list[str]:
        try:
            return sorted(os.listdir(self._on_host(folder)))  # noqa: PTH208 - plain names
        except OSError:
            return []

    def host(self, path: str) -> str | None:
        return self._on_host(path)

    def venv_configs(self) -> Iterator[str]:
        for folder, folders, files in os.walk(self.root or "/"):
            here = folder[len(self.root) :] or "/"
            if VENV_CONFIG in files:
                yield join(here, VENV_CONFIG)
                folders.clear()  # a virtualenv's own folders hold no other one
                continue
            skipped = _NOT_SEARCHED | (_NOT_SEARCHED_AT_ROOT if here == "/" else frozenset())
            folders[:] = sorted(entry for entry in folders if entry not in skipped)
