"""The parts of image inspection on their own: tar headers, package databases, interpreter layouts, lock targets.

Root filesystems are folders of real files written here (a Fedora-like layout with an rpm database in
rpm's SQLite form, an Alpine-like one with apk's database, an official-image layout configured by its
image's Env and User); tar files are written by tarfile itself, in each of its formats.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import struct
import sys
import sysconfig
from pathlib import Path

import pytest

from conftest import findings
from debianparts import built_debian_package
from imagefactory import Image, Layer, audit, docker_archive, installed
from reprolock.lock.imagetarget import image_target, platforms
from reprolock.sources.image.inspection import inspect_image
from reprolock.sources.image.owners import read_packages
from reprolock.sources.image.rpmdb import read_rpmdb
from reprolock.sources.image.tree import FolderTree
from wheelfactory import Dist, build_wheel

STDLIB = Path(sysconfig.get_paths()["stdlib"])


# -- package databases: rpm (SQLite), apk, distroless dpkg --------------------------------------------------


def rpm_header(name: str, version: str, files: list[str]) -> bytes:
    """An rpm header blob as rpm stores it in rpmdb.sqlite: counts, index entries, data."""
    folders = sorted({path.rsplit("/", 1)[0] + "/" for path in files})
    tags: list[tuple[int, int, bytes, int]] = [
        (1000, 6, name.encode() + b"\0", 1),
        (1001, 6, version.encode() + b"\0", 1),
        (1116, 4, struct.pack(f">{len(files)}i", *(folders.index(path.rsplit("/", 1)[0] + "/") for path in files)), len(files)),
        (1117, 8, b"".join(path.rsplit("/", 1)[1].encode() + b"\0" for path in files), len(files)),
        (1118, 8, b"".join(folder.encode() + b"\0" for folder in folders), len(folders)),
    ]
    index, data = b"", b""
    for tag, kind, payload, count in tags:
        if kind == 4:
            data += b"\0" * (-len(data) % 4)
        index += struct.pack(">iiii", tag, kind, len(data), count)
        data += payload
    return struct.pack(">ii", len(tags), len(data)) + index + data


def write_rpmdb(path: Path, packages: list[tuple[str, str, list[str]]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE Packages (hnum INTEGER PRIMARY KEY AUTOINCREMENT, blob BLOB NOT NULL)")
        connection.executemany("INSERT INTO Packages (blob) VALUES (?)", [(rpm_header(*package),) for package in packages])
    connection.close()


def test_rpm_database_is_read_without_rpm(tmp_path):
    database = tmp_path / "rpmdb.sqlite"
    write_rpmdb(database, [("python3-x", "1.0", ["/usr/lib64/python3.12/site-packages/x-1.0.dist-info", "/usr/lib64/python3.12/site-packages/x/__init__.py"])])
    before = database.read_bytes()
    (package,) = read_rpmdb(str(database))
    assert (package.name, package.version) == ("python3-x", "1.0")
    assert set(package.files) == {"/usr/lib64/python3.12/site-packages/x-1.0.dist-info", "/usr/lib64/python3.12/site-packages/x/__init__.py"}
    assert database.read_bytes() == before  # opened read-only
    (tmp_path / "broken.sqlite").write_bytes(b"not a database")
    assert read_rpmdb(str(tmp_path / "broken.sqlite")) is None


def test_distroless_dpkg_status_folder_gives_versions(tmp_path):
    status = tmp_path / "var/lib/dpkg/status.d"
    status.mkdir(parents=True)
    (status / "python3.11").write_text("Package: libpython3.11-minimal\nVersion: 3.11.2-6+deb12u6\nArchitecture: arm64\n")
    (status / "libc6").write_text("Package: libc6\nVersion: 2.36-9+deb12u7\nArchitecture: arm64\n")
    packages = read_packages(FolderTree(str(tmp_path)))
    assert packages.manager == "dpkg"
    assert packages.upstream("python3.11-minimal", "libpython3.11-minimal") == "3.11.2"
    assert packages.architecture == "arm64"


def _python(root: Path, executable: str, stdlib: str) -> None:
    """An interpreter's files: its executable (this machine's, copied) and the standard library's real os.py and site.py."""
    (root / executable.lstrip("/")).parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(sys.executable, root / executable.lstrip("/"))
    (root / stdlib.lstrip("/")).mkdir(parents=True, exist_ok=True)
    for name in ("os.py", "site.py", "json/__init__.py"):
        target = root / stdlib.lstrip("/") / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(STDLIB / name, target)


def _dist(site: Path, name: str, installer: str | None = None) -> Path:
    folder = site / f"{name}-1.0.dist-info"
    folder.mkdir(parents=True)
    (folder / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n\n")
    (folder / "RECORD").write_text(f"{name}/__init__.py,,\n")
    if installer:
        (folder / "INSTALLER").write_text(installer + "\n")
    return folder


def test_a_fedora_layout_with_its_rpm_database(tmp_path):
    _python(tmp_path, "/usr/bin/python3.12", "/usr/lib64/python3.12")
    (tmp_path / "usr/lib64/python3.12/sysconfig.py").write_text("_INSTALL_SCHEMES = {'rpm_prefix': {}}\n")  # Fedora's scheme for /usr/local
    distro = _dist(tmp_path / "usr/lib64/python3.12/site-packages", "x", installer="rpm")
    _dist(tmp_path / "usr/local/lib/python3.12/site-packages", "y", installer="pip")
    inside = "/usr/lib64/python3.12/site-packages/x-1.0.dist-info"
    write_rpmdb(
        tmp_path / "var/lib/rpm/rpmdb.sqlite",
        [("python3-x", "1.0", [inside, f"{inside}/METADATA"]), ("python3", "3.12.4", ["/usr/bin/python3.12"]), ("glibc", "2.39", ["/usr/lib64/libc.so.6"])],
    )
    inspection = inspect_image(str(tmp_path), tmp_path)
    (env,) = inspection.environments
    assert env.interpreter.version == "3.12.4"
    assert env.interpreter.sys_path == (
        "/usr/lib64/python312.zip",
        "/usr/lib64/python3.12",
        "/usr/lib64/python3.12/lib-dynload",
        "/usr/local/lib/python3.12/site-packages",
        "/usr/lib64/python3.12/site-packages",
    )
    assert {dist.name: dist.os_package for dist in env.distributions} == {"y": None, "x": "python3-x"}
    assert inspection.installer_of(inside) == "rpm package python3-x"
    assert inspection.installer_of("/usr/local/lib/python3.12/site-packages/y-1.0.dist-info") == "pip"
    assert inspection.libc == "glibc 2.39"
    assert distro.is_dir()


def test_an_alpine_layout_with_its_apk_database_and_a_pth_file(tmp_path):
    _python(tmp_path, "/usr/bin/python3.12", "/usr/lib/python3.12")
    site = tmp_path / "usr/lib/python3.12/site-packages"
    _dist(site, "yaml")
    _dist(tmp_path / "opt/extra", "z")
    (site / "extra.pth").write_text("# a comment\nimport os; os.environ\n../../../../opt/extra\n/no/such/folder\n")
    (tmp_path / "lib/apk/db").mkdir(parents=True)
    (tmp_path / "lib/apk/db/installed").write_text(
        "P:musl\nV:1.2.5-r0\nA:x86_64\n\n"
        "P:python3\nV:3.12.3-r1\nA:x86_64\nF:usr/bin\nR:python3.12\n\n"
        "P:py3-yaml\nV:1.0-r0\nA:x86_64\nF:usr/lib/python3.12/site-packages/yaml-1.0.dist-info\nR:METADATA\n\n",
    )
    inspection = inspect_image(str(tmp_path), tmp_path)
    (env,) = inspection.environments
    assert env.interpreter.version == "3.12.3"
    assert env.interpreter.sys_path[-2:] == ("/usr/lib/python3.12/site-packages", "/opt/extra")
    assert {dist.name: (dist.os_package, dist.path_entry) for dist in env.distributions} == {
        "yaml": ("py3-yaml", "/usr/lib/python3.12/site-packages"),
        "z": (None, "/opt/extra"),
    }
    assert inspection.libc == "musl 1.2"
    assert platforms(env.interpreter.marker_env["platform_machine"] or "x86_64", inspection.libc)[0] == "musllinux_1_2_x86_64"


def test_the_image_configuration_sets_version_pythonpath_and_user_site(tmp_path):
    """An official-image layout: PYTHON_VERSION, PYTHONPATH and a non-root USER with a user site, from the configuration."""
    base = Layer("ADD python")
    for name in ("os.py", "site.py"):
        base.file(f"/usr/local/lib/python3.11/{name}", STDLIB / name)
    base.file("/usr/local/bin/python3.11", Path(sys.executable), mode=0o755).link("/usr/local/bin/python3", "python3.11")
    base.file("/etc/passwd", "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n").folder("/usr/local/lib/python3.11/site-packages")
    user = Layer("RUN pip install --user u").tree("/home/app/.local/lib/python3.11/site-packages", installed(tmp_path, "u"))
    lib = Layer("COPY lib /app/lib").tree("/app/lib", installed(tmp_path, "w"))
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "PYTHON_VERSION": "3.11.9", "PYTHONPATH": "lib"}
    image = docker_archive(Image([base, user, lib], env=env, user="app", working_dir="/app"), tmp_path / "app.tar")
    run = audit(image, cwd=tmp_path)
    environment = run.json["environment"]
    assert environment["version"] == "3.11.9"
    assert environment["sys_path"][0] == "/app/lib"  # PYTHONPATH, relative to the image's working folder
    assert environment["sys_path"].index("/home/app/.local/lib/python3.11/site-packages") < environment["sys_path"].index("/usr/local/lib/python3.11/site-packages")
    assert {row["name"]: row["location"] for row in run.json["packages"]} == {"u": "/home/app/.local/lib/python3.11/site-packages", "w": "/app/lib"}
    users = findings(run, "RL307")
    assert [item["package"] for item in users] == ["u"]
    assert users[0]["detail"]["image"]["layer"]["created_by"] == "RUN pip install --user u"


def test_a_debian_package_built_from_a_wheel_is_owned_by_dpkg(tmp_path):
    """The fallback of test_image's Debian image: a dpkg package made from a real wheel, its file list and status."""
    package = built_debian_package("python3-alpha", build_wheel(Dist("alpha", "1.0"), tmp_path / "wheels"), tmp_path / "root")
    layer = Layer("RUN apt-get install python3-alpha").file("/var/lib/dpkg/status", package.status)
    layer.file(f"/var/lib/dpkg/info/{package.listing.name}", package.listing)
    debian_site = Path("/usr/lib/python3.11/site.py")
    layer.file("/usr/lib/python3.11/site.py", debian_site if debian_site.is_file() else b"# Debian's site.py adds dist-packages\n")
    layer.file("/usr/lib/python3.11/os.py", STDLIB / "os.py").file("/usr/bin/python3.11", Path(sys.executable), mode=0o755)
    for path in package.files:
        inside = f"/{path.relative_to(package.root)}"
        if path.is_file():
            layer.file(inside, path)
    inspection = inspect_image(str(docker_archive(Image([layer]), tmp_path / "deb.tar")), tmp_path)
    owners = {dist.name: dist.os_package for env in inspection.environments for dist in env.distributions}
    assert owners == {"alpha": "python3-alpha"}
    assert str(package.metadata) in inspection.installed_by


# -- the lock target of an image -------------------------------------------------------------------------


def test_platform_tags_follow_the_c_library():
    glibc = platforms("x86_64", "glibc 2.36")
    assert glibc[0] == "manylinux_2_36_x86_64"
    assert {"manylinux2014_x86_64", "manylinux2010_x86_64", "manylinux1_x86_64"} <= set(glibc)
    assert glibc[-1] == "linux_x86_64"
    assert platforms("aarch64", "glibc 2.17") == ["manylinux_2_17_aarch64", "manylinux2014_aarch64", "linux_aarch64"]
    assert platforms("x86_64", "musl 1.2") == ["musllinux_1_2_x86_64", "musllinux_1_1_x86_64", "musllinux_1_0_x86_64", "linux_x86_64"]
    assert platforms("x86_64", None)[0] == "manylinux_2_17_x86_64"


def test_image_target_names_the_image(tmp_path):
    _python(tmp_path, "/usr/bin/python3.12", "/usr/lib/python3.12")
    (env,) = inspect_image(str(tmp_path), tmp_path).environments
    target = image_target(env.interpreter, "glibc 2.36", "app.tar")
    assert target.tags[0] == f"cp312-cp312-manylinux_2_36_{env.interpreter.marker_env['platform_machine'] or 'x86_64'}"
    assert "py3-none-any" in target.tags
    assert target.description.endswith("(--image app.tar)")
    assert target.python is None  # nothing to run


@pytest.mark.skipif(not hasattr(os, "geteuid"), reason="POSIX only")
def test_folder_tree_never_leaves_the_root(tmp_path):
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc" / "escape").symlink_to("/etc/hostname")
    (tmp_path / "up").symlink_to("../../../..")
    tree = FolderTree(str(tmp_path))
    assert tree.resolve("/etc/escape") is None  # /etc/hostname of the image: not there
    assert tree.resolve("/up") == "/"
