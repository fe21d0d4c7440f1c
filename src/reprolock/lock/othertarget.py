"""A lock target named on the command line (``--python-version``, ``--platform``, ``--implementation``): nothing is run.

Like an image's target (:mod:`reprolock.lock.imagetarget`), its marker
environment is written down and its wheel tags are computed with
``packaging.tags`` for that Python version and platform. The platform names
are a subset of uv's ``--python-platform`` names:

* ``linux`` = ``x86_64-unknown-linux-gnu`` = ``x86_64-manylinux_2_28``;
  ``aarch64-unknown-linux-gnu`` = ``aarch64-manylinux_2_28``;
  ``{x86_64,aarch64}-manylinux_2_N`` (N from 17 to 40);
  ``{x86_64,aarch64}-unknown-linux-musl`` (musllinux_1_2);
* ``macos`` = ``aarch64-apple-darwin`` (macOS 13 on Apple silicon);
  ``x86_64-apple-darwin`` (macOS 13 on Intel);
* ``windows`` = ``x86_64-pc-windows-msvc``; ``aarch64-pc-windows-msvc``.

Only CPython is supported as an implementation (its tags are known without its
interpreter). A version given as ``X.Y`` stands for every ``X.Y.Z``: markers
are evaluated for ``X.Y.0`` and the lock says ``python_version == "X.Y"``.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass

from packaging import tags

from reprolock.errors import UsageError
from reprolock.lock.imagetarget import platforms as linux_platforms
from reprolock.lock.target import LockTarget

MACOS_VERSION = (13, 0)
GLIBC = "2.28"
_PLATFORMS = {
    "linux": "x86_64-unknown-linux-gnu",
    "macos": "aarch64-apple-darwin",
    "windows": "x86_64-pc-windows-msvc",
}
_MACHINES = {"x86_64", "aarch64"}
_MANYLINUX = re.compile(r"(x86_64|aarch64)-manylinux_2_(\d+)")
_VERSION = re.compile(r"3\.(\d+)(?:\.(\d+))?")
PLATFORM_NAMES = ("linux", "macos", "windows", *(f"{m}-{rest}" for m in sorted(_MACHINES) for rest in ("unknown-linux-gnu", "unknown-linux-musl", "manylinux_2_N", "apple-darwin", "pc-windows-msvc")))


@dataclass(frozen=True)
class NamedTarget(LockTarget):
    """A target given by its Python version and platform names."""

    named: str = ""
    """The options that chose it, for the header (``--python-version 3.9 --platform windows``)."""
    exact: bool = True
    """``False``: the version was ``X.Y``, any patch release."""

    @property
    def description(self) -> str:
        env = self.marker_env
        version = self.full_version if self.exact else f"{env['python_version']}.*"
        return f"{env['implementation_name']} {version} on {env['sys_platform']} {env['platform_machine']} ({self.named})"

    @property
    def environment_marker(self) -> str:
        marker = super().environment_marker
        if self.exact:
            return marker
        full = f'python_full_version == "{self.full_version}"'
        return marker.replace(full, f'python_version == "{self.marker_env["python_version"]}"')

    @property
    def requires_python(self) -> str | None:
        return super().requires_python if self.exact else f"=={self.marker_env['python_version']}.*"


def _platform(name: str) -> tuple[dict[str, str], list[str]]:
    """Markers (``sys_platform``, ``platform_machine``...) and platform tags, best first, of a platform name."""
    triple = _PLATFORMS.get(name, name)
    machine, _, rest = triple.partition("-")
    if machine not in _MACHINES:
        raise UsageError(f"--platform {name}: not a supported platform", hint=f"one of: {', '.join(PLATFORM_NAMES)}")
    many = _MANYLINUX.fullmatch(triple)
    if many or rest in {"unknown-linux-gnu", "unknown-linux-musl"}:
        glibc = many.group(2) if many else GLIBC
        if many and not 17 <= int(glibc) <= 40:
            raise UsageError(f"--platform {name}: manylinux_2_{glibc} is not supported", hint="manylinux_2_17 to manylinux_2_40")
        libc = "musl 1.2" if rest == "unknown-linux-musl" else f"glibc 2.{glibc}"
        return {"sys_platform": "linux", "os_name": "posix", "platform_system": "Linux", "platform_machine": machine}, linux_platforms(machine, libc)
    if rest == "apple-darwin":
        arch = "arm64" if machine == "aarch64" else machine
        return {"sys_platform": "darwin", "os_name": "posix", "platform_system": "Darwin", "platform_machine": arch}, list(tags.mac_platforms(MACOS_VERSION, arch))
    if rest == "pc-windows-msvc":
        arch = "ARM64" if machine == "aarch64" else "AMD64"
        return {"sys_platform": "win32", "os_name": "nt", "platform_system": "Windows", "platform_machine": arch}, ["win_arm64" if machine == "aarch64" else "win_amd64"]
    raise UsageError(f"--platform {name}: not a supported platform", hint=f"one of: {', '.join(PLATFORM_NAMES)}")


def python_version_parts(given: str) -> tuple[int, str | None]:
    """``--python-version 3.X[.Y]`` as (X, Y or ``None``); anything else, or before 3.8, is a usage error."""
    found = _VERSION.fullmatch(given)
    if found is None or int(found.group(1)) < 8:
        raise UsageError(f"--python-version {given}: give 3.X or 3.X.Y (3.8 or later)")
    return int(found.group(1)), found.group(2)


def named_target(python_version: str | None, platform: str | None, implementation: str | None, running: LockTarget) -> NamedTarget:
    """The target the options name; what they leave out is the running interpreter's (version, platform)."""
    if implementation not in {None, "cpython", "cp"}:
        raise UsageError(f"--implementation {implementation}: only cpython is supported")
    minor, patch = python_version_parts(python_version or running.marker_env["python_version"])
    exact = patch is not None or python_version is None
    full = running.full_version if python_version is None else f"3.{minor}.{patch or 0}"
    if platform is None:
        env = running.marker_env
        where = {key: env[key] for key in ("sys_platform", "os_name", "platform_system", "platform_machine")}
        names = list(dict.fromkeys(str(tag).rsplit("-", 1)[-1] for tag in running.tags))
    else:
        where, names = _platform(platform)
    markers = {
        **where,
        "implementation_name": "cpython",
        "implementation_version": full,
        "platform_python_implementation": "CPython",
        "platform_release": "",
        "platform_version": "",
        "python_full_version": full,
        "python_version": f"3.{minor}",
    }
    abi = f"cp3{minor}"
    found_tags = [*tags.cpython_tags((3, minor), abis=[abi], platforms=names), *tags.compatible_tags((3, minor), abi, names)]
    named = " ".join(f"{flag} {value}" for flag, value in (("--python-version", python_version), ("--platform", platform), ("--implementation", implementation)) if value)
    return NamedTarget(
        python_version=full,
        markers=tuple(sorted(markers.items())),
        tags=tuple(dict.fromkeys(str(tag) for tag in found_tags)),
        named=named,
        exact=exact,
    )


UNIVERSAL_PLATFORMS = ("linux", "macos", "windows")
"""The platforms a universal lock is resolved for (see :mod:`reprolock.lock.universal`)."""


UNIVERSAL_MINORS = tuple(range(8, 15))
"""The CPython minor versions a universal lock can cover: 3.8 to 3.14."""


def sample_targets(minor: int, running: LockTarget) -> tuple[NamedTarget, ...]:
    """The samples of a universal lock for CPython ``3.minor``: one per universal platform, with its markers.

    Their wheel tags are those of every universal platform (Linux's first), as
    uv's universal resolution judges a release by any file that some target
    can install: so the samples of one Python version share their candidate
    tables and read each release's dependencies from the same wheel.
    """
    targets = [named_target(f"3.{minor}", platform, None, running) for platform in UNIVERSAL_PLATFORMS]
    tags = tuple(dict.fromkeys(tag for target in targets for tag in target.tags))
    return tuple(dataclasses.replace(target, tags=tags, named="--universal") for target in targets)
