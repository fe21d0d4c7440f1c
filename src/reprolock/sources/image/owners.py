"""Who installed what in an image, from the package managers' own files (none of them is run).

dpkg: ``/var/lib/dpkg/status`` (and distroless's ``status.d/``) for the
installed packages and their versions, ``/var/lib/dpkg/info/*.list`` for
their files. apk: ``/lib/apk/db/installed``. rpm: ``rpmdb.sqlite`` (see
:mod:`reprolock.sources.image.rpmdb`); an rpm database in an older format is
noted and its owners stay unknown.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from reprolock.sources.image.rpmdb import read_rpmdb
from reprolock.sources.image.tree import join

if TYPE_CHECKING:
    from collections.abc import Collection, Iterator, Mapping

    from reprolock.sources.image.tree import Tree

DPKG_STATUS = "/var/lib/dpkg/status"
DPKG_STATUS_D = "/var/lib/dpkg/status.d"
DPKG_INFO = "/var/lib/dpkg/info"
APK_INSTALLED = "/lib/apk/db/installed"
RPM_DATABASES = ("/var/lib/rpm/rpmdb.sqlite", "/usr/lib/sysimage/rpm/rpmdb.sqlite")
RPM_OLD = ("/var/lib/rpm/Packages", "/var/lib/rpm/Packages.db", "/usr/lib/sysimage/rpm/Packages.db")
_UPSTREAM = re.compile(r"^(?:\d+:)?([0-9][0-9A-Za-z.]*?)(?:[-+~].*)?$")


@dataclass(frozen=True, slots=True)
class Packages:
    """The OS packages an image's package manager says are installed."""

    manager: str | None = None
    """``dpkg``, ``apk`` or ``rpm``; ``None`` when the image has no package database reprolock can read."""
    versions: Mapping[str, str] = field(default_factory=dict)
    """Package name -> version as the manager writes it (``3.11.2-6+deb12u6``)."""
    architecture: str | None = None
    """The architecture the database names for its Python packages (``amd64``, ``x86_64``)."""
    note: str | None = None
    """Why owners cannot be told, when they cannot."""

    def upstream(self, *names: str) -> str | None:
        """The upstream version (``3.11.2``) of the first of ``names`` that is installed."""
        for name in names:
            version = self.versions.get(name)
            match = _UPSTREAM.match(version or "")
            if match:
                return match.group(1)
        return None


def stanzas(text: str) -> Iterator[dict[str, str]]:
    """The ``Field: value`` paragraphs of a dpkg status file (continuation lines dropped)."""
    current: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip():
            if current:
                yield current
            current = {}
        elif not line[0].isspace():
            key, _, value = line.partition(":")
            current[key.strip()] = value.strip()
    if current:
        yield current


def _dpkg(tree: Tree) -> Packages | None:
    texts = [tree.read_text(DPKG_STATUS)] + [tree.read_text(join(DPKG_STATUS_D, name)) for name in tree.listdir(DPKG_STATUS_D)]
    found = [stanza for text in texts if text for stanza in stanzas(text)]
    if not found:
        return None
    installed = [item for item in found if item.get("Status", "install ok installed").endswith(" installed") and item.get("Package")]
    versions = {item["Package"]: item.get("Version", "") for item in installed}
    python = next((item for item in installed if item["Package"].startswith(("libpython3", "python3"))), None)
    return Packages("dpkg", versions, python.get("Architecture") if python else None)


def _apk(tree: Tree) -> Packages | None:
    text = tree.read_text(APK_INSTALLED)
    if text is None:
        return None
    versions: dict[str, str] = {}
    architecture = None
    name = ""
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key == "P":
            name = value
        elif key == "V" and name:
            versions[name] = value
        elif key == "A" and name.startswith("python3"):
            architecture = value
    return Packages("apk", versions, architecture)


def _rpm(tree: Tree) -> Packages | None:
    for path in RPM_DATABASES:
        real = tree.resolve(path)
        where = tree.host(real) if real is not None and tree.is_file(real) else None
        packages = read_rpmdb(where) if where is not None else None
        if packages is not None:
            return Packages("rpm", {package.name: package.version for package in packages})
    if any(tree.is_file(path) for path in RPM_OLD):
        return Packages("rpm", note="the rpm database is in the Berkeley DB or ndb format, which reprolock does not read: owners unknown")
    return None


def libc(packages: Packages) -> str | None:
    """``glibc 2.36`` or ``musl 1.2``: the image's C library, from its package's version."""
    glibc = packages.upstream("libc6", "glibc", "libc6-amd64", "libc6-arm64")
    if glibc:
        return "glibc " + ".".join(glibc.split(".")[:2])
    musl = packages.upstream("musl")
    return "musl " + ".".join(musl.split(".")[:2]) if musl else None


def read_packages(tree: Tree) -> Packages:
    """The image's package database: dpkg, else apk, else rpm, else none."""
    return _dpkg(tree) or _apk(tree) or _rpm(tree) or Packages()


def _aliases(path: str) -> set[str]:
    """``path`` as a package may list it: merged-/usr images list ``/lib/...`` for ``/usr/lib/...`` and back."""
    found = {path}
    for short in ("/lib", "/bin", "/sbin", "/lib64"):
        if path.startswith(short + "/"):
            found.add("/usr" + path)
        if path.startswith("/usr" + short + "/"):
            found.add(path[len("/usr") :])
    return found


def owners(tree: Tree, packages: Packages, paths: Collection[str]) -> dict[str, str]:
    """The OS package that installed each of ``paths`` (in-image paths), where the database says."""
    wanted = {alias: path for path in paths for alias in _aliases(path)}
    if not wanted or packages.manager is None:
        return {}
    if packages.manager == "dpkg":
        return _dpkg_owners(tree, wanted)
    if packages.manager == "apk":
        return _apk_owners(tree, wanted)
    return _rpm_owners(tree, wanted)


def _dpkg_owners(tree: Tree, wanted: Mapping[str, str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for name in tree.listdir(DPKG_INFO):
        if not name.endswith(".list"):
            continue
        package = name[: -len(".list")].split(":")[0]
        for line in (tree.read_text(join(DPKG_INFO, name)) or "").splitlines():
            path = wanted.get(line.rstrip("/"))
            if path is not None:
                found.setdefault(path, package)
    return found


def _apk_owners(tree: Tree, wanted: Mapping[str, str]) -> dict[str, str]:
    found: dict[str, str] = {}
    name, folder = "", ""
    for line in (tree.read_text(APK_INSTALLED) or "").splitlines():
        key, _, value = line.partition(":")
        if key == "P":
            name = value
            continue
        if key == "F":
            folder = "/" + value
            path = folder
        elif key == "R":
            path = f"{folder}/{value}"
        else:
            continue
        if path in wanted:
            found.setdefault(wanted[path], name)
    return found


def _rpm_owners(tree: Tree, wanted: Mapping[str, str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for path in RPM_DATABASES:
        real = tree.resolve(path)
        where = tree.host(real) if real is not None and tree.is_file(real) else None
        for package in (read_rpmdb(where) if where is not None else None) or []:
            for file in package.files:
                if file in wanted:
                    found.setdefault(wanted[file], package.name)
    return found
