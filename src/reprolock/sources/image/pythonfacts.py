"""What an interpreter's files say about it: full version, machine, marker environment, standard library names.

Nothing is run, so each answer comes from a file, in order of trust: the
venv's ``pyvenv.cfg``, the image's ``PYTHON_VERSION`` (the official images set
it), the C headers' ``patchlevel.h``, the OS package's version; the machine
from the image configuration, the stdlib's ``_sysconfigdata*.py``, the OS
package's architecture. The standard library's module names are its files,
``lib-dynload``'s extensions and the C modules CPython may build into the
interpreter itself.
"""

from __future__ import annotations

import re
import sys
from typing import TYPE_CHECKING

from reprolock.sources.image.tree import join

if TYPE_CHECKING:
    from reprolock.sources.image.model import ImageConfig
    from reprolock.sources.image.owners import Packages
    from reprolock.sources.image.tree import Tree

ALWAYS_BUILT_IN = frozenset(
    {
        "_abc", "_ast", "_codecs", "_collections", "_functools", "_imp", "_io", "_locale", "_operator", "_signal", "_sre", "_stat",
        "_string", "_symtable", "_thread", "_tokenize", "_tracemalloc", "_typing", "_warnings", "_weakref", "atexit", "builtins",
        "errno", "faulthandler", "gc", "itertools", "marshal", "posix", "pwd", "sys", "time", "xxsubtype",
    },
)  # fmt: skip
"""CPython's bootstrap modules (``Modules/Setup.bootstrap``): compiled into every interpreter."""
C_MODULES = frozenset(
    {
        "array", "binascii", "cmath", "fcntl", "grp", "math", "mmap", "pyexpat", "readline", "resource", "select", "syslog",
        "termios", "unicodedata", "zlib", "_asyncio", "_bisect", "_blake2", "_bz2", "_contextvars", "_csv", "_ctypes", "_curses",
        "_datetime", "_decimal", "_elementtree", "_hashlib", "_heapq", "_json", "_lsprof", "_lzma", "_md5", "_multiprocessing",
        "_opcode", "_pickle", "_posixshmem", "_posixsubprocess", "_queue", "_random", "_sha1", "_sha256", "_sha512", "_sha3",
        "_socket", "_sqlite3", "_ssl", "_statistics", "_struct", "_uuid", "_zoneinfo",
    },
)  # fmt: skip
"""Extension modules of the standard library that a distribution may build into the interpreter (Debian does)."""
_MACHINES = {
    "amd64": "x86_64", "x86_64": "x86_64", "arm64": "aarch64", "aarch64": "aarch64", "386": "i686", "i386": "i686", "i686": "i686",
    "arm": "armv7l", "armhf": "armv7l", "armv7": "armv7l", "ppc64le": "ppc64le", "ppc64el": "ppc64le", "s390x": "s390x", "riscv64": "riscv64",
}  # fmt: skip
_SYSCONFIG_MACHINE = re.compile(r"'(?:MULTIARCH|HOST_GNU_TYPE)':\s*'([A-Za-z0-9_]+)-")
_PATCHLEVEL = re.compile(r'#define\s+PY_VERSION\s+"([^"]+)"')
_NOT_MODULES = frozenset({"site-packages", "dist-packages", "__pycache__", "sitecustomize.py", "usercustomize.py", "_distutils_system_mod.py"})
# Standard library modules a distribution may ship apart (Debian: idle, python3-tk, python3-venv) or that exist on
# Windows only: named even when their files are absent, up to the version that removed them (None: not removed).
_SHIPPED_APART: dict[str, tuple[int, int] | None] = {
    "ensurepip": None, "idlelib": None, "tkinter": None, "turtledemo": None, "venv": None, "msvcrt": None, "nt": None,
    "winreg": None, "winsound": None, "lib2to3": (3, 13), "distutils": (3, 12), "msilib": (3, 13), "spwd": (3, 13),
    "nis": (3, 13), "ossaudiodev": (3, 13), "audioop": (3, 13), "crypt": (3, 13),
}  # fmt: skip


def full_version(tree: Tree, xy: str, prefix: str, packages: Packages, config: ImageConfig) -> str:
    """``3.11.2`` for the interpreter ``pythonX.Y`` of ``prefix``; ``X.Y`` alone when no file tells."""
    header = tree.read_text(f"{prefix.rstrip('/')}/include/python{xy}/patchlevel.h") or ""
    patchlevel = _PATCHLEVEL.search(header)
    candidates = [
        config.variable("PYTHON_VERSION") if prefix == "/usr/local" else None,
        patchlevel.group(1) if patchlevel else None,
        packages.upstream(f"python{xy}-minimal", f"libpython{xy}-minimal", f"python{xy}", f"python{xy.replace('.', '')}", "python3"),
    ]
    return next((found for found in candidates if found and (found == xy or found.startswith(xy + "."))), xy)


def machine(tree: Tree, stdlib: str, config: ImageConfig, packages: Packages) -> str:
    """``platform.machine()`` of the image: ``x86_64``, ``aarch64``, ...; empty when nothing tells."""
    if config.architecture and config.architecture in _MACHINES:
        return _MACHINES[config.architecture]
    for name in tree.listdir(stdlib):
        if name.startswith("_sysconfigdata") and name.endswith(".py"):
            found = _SYSCONFIG_MACHINE.search(tree.read_text(join(stdlib, name)) or "")
            if found:
                return _MACHINES.get(found.group(1), found.group(1))
    return _MACHINES.get(packages.architecture or "", packages.architecture or "")


def markers(version: str, platform_machine: str) -> tuple[tuple[str, str], ...]:
    """The PEP 508 marker environment of a CPython ``version`` on Linux; the kernel's release and version are unknown (empty)."""
    xy = ".".join(version.split(".")[:2])
    values = {
        "implementation_name": "cpython",
        "implementation_version": version,
        "os_name": "posix",
        "platform_machine": platform_machine,
        "platform_python_implementation": "CPython",
        "platform_release": "",
        "platform_system": "Linux",
        "platform_version": "",
        "python_full_version": version,
        "python_version": xy,
        "sys_platform": "linux",
    }
    return tuple(sorted(values.items()))


def _version_tuple(xy: str) -> tuple[int, ...]:
    return tuple(int(part) for part in xy.split(".") if part.isdigit())


def stdlib_modules(tree: Tree, stdlib: str, xy: str) -> tuple[frozenset[str], frozenset[str]] | None:
    """The standard library's top-level module names and the built-in ones; ``None`` when ``stdlib`` is not in the image."""
    entries = tree.listdir(stdlib)
    if "os.py" not in entries:
        return None
    names: set[str] = set()
    for entry in entries:
        base = entry.split(".", 1)[0]
        if entry in _NOT_MODULES or not base.isidentifier():
            continue
        if entry.endswith((".py", ".so")) or ("." not in entry and tree.kind(join(join(stdlib, entry), "__init__.py")) == "file"):
            names.add(base)
    dynload = {entry.split(".", 1)[0] for entry in tree.listdir(join(stdlib, "lib-dynload")) if entry.endswith(".so")}
    built_in = ALWAYS_BUILT_IN | (C_MODULES - dynload - names)
    version = _version_tuple(xy)
    apart = {name for name, removed in _SHIPPED_APART.items() if removed is None or version < removed}
    return frozenset(names | dynload | built_in | apart), frozenset(built_in)


def fallback_modules(xy: str) -> tuple[frozenset[str], frozenset[str]]:
    """The running Python's standard library names, for an interpreter whose own is not in the image (a venv copied alone)."""
    names = frozenset(sys.stdlib_module_names)
    if _version_tuple(xy)[:2] != sys.version_info[:2]:
        names = names | C_MODULES
    return names, frozenset(ALWAYS_BUILT_IN)
