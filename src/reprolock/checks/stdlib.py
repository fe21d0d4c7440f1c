"""Standard library names: distributions that duplicate what Python already has."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from packaging.markers import InvalidMarker, Marker, UndefinedComparison, UndefinedEnvironmentName, default_environment
from packaging.utils import canonicalize_name
from packaging.version import Version

from reprolock.findings import Finding, finding

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping, Sequence

    from reprolock.records import SourceFile

# PyPI distribution -> (stdlib module it backports, first Python with it).
BACKPORTS: dict[str, tuple[str, str]] = {
    "argparse": ("argparse", "2.7"),
    "asyncio": ("asyncio", "3.4"),
    "backports-functools-lru-cache": ("functools.lru_cache", "3.2"),
    "backports-shutil-get-terminal-size": ("shutil.get_terminal_size", "3.3"),
    "backports-ssl-match-hostname": ("ssl.match_hostname", "3.2"),
    "backports-zoneinfo": ("zoneinfo", "3.9"),
    "configparser": ("configparser", "3.0"),
    "contextvars": ("contextvars", "3.7"),
    "dataclasses": ("dataclasses", "3.7"),
    "enum34": ("enum", "3.4"),
    "faulthandler": ("faulthandler", "3.3"),
    "functools32": ("functools", "3.2"),
    "futures": ("concurrent.futures", "3.2"),
    "graphlib-backport": ("graphlib", "3.9"),
    "importlib": ("importlib", "2.7"),
    "ipaddress": ("ipaddress", "3.3"),
    "ordereddict": ("collections.OrderedDict", "2.7"),
    "pathlib": ("pathlib", "3.4"),
    "pathlib2": ("pathlib", "3.4"),
    "selectors34": ("selectors", "3.4"),
    "singledispatch": ("functools.singledispatch", "3.4"),
    "statistics": ("statistics", "3.4"),
    "subprocess32": ("subprocess", "3.2"),
    "typing": ("typing", "3.5"),
    "unittest2": ("unittest", "2.7"),
    "uuid": ("uuid", "2.5"),
    "wsgiref": ("wsgiref", "2.5"),
}


@dataclass(frozen=True, slots=True)
class Target:
    """The Python the audited files are meant for."""

    version: str
    stdlib: frozenset[str]
    markers: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def running(cls) -> Target:
        names = frozenset(canonicalize_name(name) for name in sys.stdlib_module_names if not name.startswith("_"))
        return cls(version="{}.{}".format(*sys.version_info[:2]), stdlib=names, markers={key: str(value) for key, value in default_environment().items()})


def _applies(marker: str | None, target: Target) -> bool:
    if marker is None:
        return True
    try:
        return Marker(marker).evaluate({**target.markers, "extra": ""})
    except (InvalidMarker, UndefinedComparison, UndefinedEnvironmentName):
        return True


def check_stdlib(files: Sequence[SourceFile], target: Target) -> Iterator[Finding]:
    """Standard library backports (RL203).

    ``wsgiref``, ``argparse``, ``enum34``, ``typing``, ``futures``,
    ``dataclasses``, ``pathlib`` and friends are part of the target Python's
    standard library. Installing them from PyPI adds nothing, and some
    (``enum34``, ``typing``) break the stdlib module they shadow. Fires for
    a distribution named after a stdlib module of the target Python, or
    listed as a backport of one that the target already has, unless its
    marker excludes the target.
    """
    current = Version(target.version)
    for source in files:
        for req in source.requirements:
            name = req.name
            if name is None or not _applies(req.marker, target):
                continue
            backport = BACKPORTS.get(name)
            if backport is not None and Version(backport[1]) <= current:
                module, since = backport
                if module == name:
                    message = f"{name} is in the standard library since Python {since}; the PyPI release is an obsolete copy"
                else:
                    message = f"{name} backports {module}, in the standard library since Python {since}"
            elif name in target.stdlib:
                module, since = name, target.version
                message = f"{name} is a standard library module of Python {target.version}; the PyPI distribution is not needed"
            else:
                continue
            yield finding("RL203", message, package=name, location=req.origin, module=module, since=since)
