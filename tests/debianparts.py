"""Debian's own Python packages as image layers: the machine's installed packages (their files, dpkg's status
paragraph and file list), or packages built here from real wheels when the machine has none; and a Python's
standard library as an image needs it."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from imagefactory import Layer

DPKG_STATUS = Path("/var/lib/dpkg/status")
DPKG_INFO = Path("/var/lib/dpkg/info")


@dataclass(frozen=True)
class DebianPackage:
    """A Python package of Debian: its files under dist-packages, status paragraph and file list.

    ``root`` is where the files are on this machine: ``/`` for the machine's own packages.
    """

    name: str
    files: tuple[Path, ...]
    status: str
    listing: Path
    root: Path = Path("/")

    @property
    def metadata(self) -> Path:
        """The distribution's metadata folder, as a path inside the image."""
        found = next(path for path in self.files if path.name.endswith((".dist-info", ".egg-info")) and path.parent.name == "dist-packages")
        return Path("/") / found.relative_to(self.root)


def built_debian_package(name: str, wheel: Path, root: Path) -> DebianPackage:
    """A package as dpkg would have unpacked it, made from a real wheel: installed by real pip under
    ``root/usr/lib/python3/dist-packages``, with its file list and a status paragraph written here."""
    target = root / "usr/lib/python3/dist-packages"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-index", "--no-deps", "--target", str(target), str(wheel)],
        check=True,
        env={**os.environ, "PIP_CONFIG_FILE": os.devnull, "PIP_DISABLE_PIP_VERSION_CHECK": "1"},
    )
    for installer in target.glob("*.dist-info/INSTALLER"):
        installer.unlink()  # Debian's packages carry no INSTALLER
    files = tuple(sorted(target.rglob("*")))
    listing = root / f"{name}.list"
    listing.write_text("".join(f"/{path.relative_to(root)}\n" for path in (target, *files)))
    status = f"Package: {name}\nStatus: install ok installed\nArchitecture: all\nVersion: 1.0-1\nDescription: {name} (test)\n"
    return DebianPackage(name, files, status, listing, root)


def status_paragraphs() -> dict[str, str]:
    """The machine's dpkg status, one paragraph per installed package."""
    found = {}
    for paragraph in DPKG_STATUS.read_text(encoding="utf-8").split("\n\n"):
        name = next((line.split(":", 1)[1].strip() for line in paragraph.splitlines() if line.startswith("Package:")), None)
        if name and "Status: install ok installed" in paragraph:
            found[name] = paragraph.strip() + "\n"
    return found


def debian_package(name: str, paragraphs: dict[str, str]) -> DebianPackage | None:
    """The installed package ``name`` when its files include distribution metadata in /usr/lib/python3/dist-packages."""
    listing = next((path for path in (DPKG_INFO / f"{name}.list", DPKG_INFO / f"{name}:amd64.list") if path.is_file()), None)
    if listing is None or name not in paragraphs:
        return None
    files = tuple(Path(line) for line in listing.read_text().splitlines() if line.startswith("/usr/lib/python3/dist-packages/") and Path(line).exists())
    if not any(path.name.endswith((".dist-info", ".egg-info")) and path.parent.name == "dist-packages" for path in files):
        return None
    return DebianPackage(name, files, paragraphs[name], listing)


def add_debian_packages(layer: Layer, packages: list[DebianPackage]) -> Layer:
    """The packages' real files, as dpkg unpacked them (folders, files and links), and their file lists."""
    for package in packages:
        for path in package.files:
            inside = f"/{path.relative_to(package.root)}"
            if path.is_symlink():
                layer.link(inside, str(path.readlink()))
            elif path.is_dir():
                layer.folder(inside)
            elif path.is_file():
                layer.file(inside, path)
        layer.file(f"/var/lib/dpkg/info/{package.listing.name}", package.listing)
    return layer


def add_stdlib(layer: Layer, stdlib: Path) -> Layer:
    """A Python's standard library as the image needs it: its top-level modules, packages' ``__init__.py``,
    ``lib-dynload`` and the PEP 668 marker, all real files."""
    for path in sorted(stdlib.iterdir()):
        inside = str(path)
        if path.is_file() and (path.suffix == ".py" or path.name == "EXTERNALLY-MANAGED"):
            layer.file(inside, path)
        elif path.is_dir() and path.name == "lib-dynload":
            layer.tree(inside, path)
        elif path.is_dir() and (path / "__init__.py").is_file():
            layer.file(f"{inside}/__init__.py", path / "__init__.py")
    return layer
