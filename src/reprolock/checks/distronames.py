"""Which PyPI distribution an OS package of Python code is (``python3-yaml`` is PyYAML).

Debian, Ubuntu and Fedora name them ``python3-<name>`` (``python3.11-<name>``,
``python311-<name>`` for other Pythons), Alpine ``py3-<name>``. The name is
usually the distribution's own (``python3-jinja2``, Fedora's
``python3-pyyaml``) or its import name; the table below holds the common
packages whose name is neither, each with the reason. Packages of the
interpreter itself (``python3-dev``, ``python3-venv``, ``python3-tk``, ...) are
not distributions.
"""

from __future__ import annotations

import re

from packaging.utils import canonicalize_name

_OS_PYTHON = re.compile(r"(?:python3(?:\.?\d+)?|py3)-(?P<name>.+)")
_SUFFIXES = ("-dev", "-devel", "-dbg", "-doc", "-whl", "-pyc", "-tests")
_INTERPRETER_PARTS = frozenset(
    {
        "venv", "distutils", "minimal", "full", "all", "tk", "tkinter", "lib2to3", "gdbm", "examples", "stdlib-extensions",
        "libs", "idle", "test", "debug", "nopie", "ensurepip", "sqlite3", "xml", "dbm", "unittest", "readline",
    }
)  # fmt: skip

# OS package name (after the python3-/py3- prefix) -> the PyPI distribution, where the two differ.
_PYPI_NAMES = {
    "yaml": "PyYAML",  # Debian and Alpine name it after the module it provides (import yaml)
    "dateutil": "python-dateutil",  # module dateutil
    "openssl": "pyOpenSSL",  # module OpenSSL
    "jwt": "PyJWT",  # module jwt
    "serial": "pyserial",  # module serial
    "usb": "pyusb",  # module usb
    "dbus": "dbus-python",  # module dbus
    "gi": "PyGObject",  # module gi
    "apt": "python-apt",  # module apt
    "bs4": "beautifulsoup4",  # module bs4
    "sklearn": "scikit-learn",  # module sklearn
    "skimage": "scikit-image",  # module skimage
    "zmq": "pyzmq",  # module zmq
    "mysqldb": "mysqlclient",  # module MySQLdb
    "ldap": "python-ldap",  # module ldap
    "pil": "Pillow",  # module PIL
    "tz": "pytz",  # Alpine's py3-tz: module pytz
    "xdg": "pyxdg",  # module xdg
    "nacl": "PyNaCl",  # module nacl
    "websocket": "websocket-client",  # module websocket
    "attr": "attrs",  # module attr
    "socks": "PySocks",  # module socks
    "pkg-resources": "setuptools",  # pkg_resources ships in setuptools
    "googleapi": "google-api-python-client",  # module googleapiclient
    "magic": "file-magic",  # Debian's python3-magic is the binding shipped with file(1)
    "opencv": "opencv-python",  # module cv2
    "crypto": "pycrypto",  # module Crypto (Debian's old python3-crypto)
    "gflags": "python-gflags",  # module gflags
    "debian": "python-debian",  # module debian
}


def pypi_name(os_package: str) -> str | None:
    """The canonical PyPI name of the Python distribution an OS package installs, or ``None`` when it is not one."""
    match = _OS_PYTHON.fullmatch(os_package.lower())
    if match is None:
        return None
    name = match.group("name")
    if name.endswith(_SUFFIXES) or name in _INTERPRETER_PARTS:
        return None
    return canonicalize_name(_PYPI_NAMES.get(name, name))
