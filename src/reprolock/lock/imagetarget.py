"""The lock target of a container image's interpreter, from its files: nothing in the image is run.

The marker environment comes from the inspected interpreter's records; the
wheel tags are CPython's for its version on the image's machine and C
library (``manylinux_2_N`` down from the image's glibc, ``musllinux_1_N`` for
musl; glibc 2.17 when no package database says).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from packaging import tags

from reprolock.lock.target import LockTarget

if TYPE_CHECKING:
    from reprolock.records import Interpreter

DEFAULT_LIBC = "glibc 2.17"
_LEGACY = {17: "manylinux2014", 12: "manylinux2010", 5: "manylinux1"}
_OLD_MACHINES = frozenset({"x86_64", "i686"})


@dataclass(frozen=True)
class ImageTarget(LockTarget):
    """A lock target inside an image: named by the image, never run."""

    image: str = ""

    @property
    def description(self) -> str:
        env = self.marker_env
        where = " ".join(part for part in (env.get("sys_platform"), env.get("platform_machine")) if part)
        return f"{env.get('implementation_name', 'python')} {self.full_version} on {where or 'an unknown platform'} (--image {self.image})"


def _numbers(text: str) -> tuple[int, int]:
    major, minor, *_ = [*(int(part) for part in text.split(".")[:2] if part.isdigit()), 0, 0]
    return major, minor


def platforms(machine: str, libc: str | None) -> list[str]:
    """The platform tags an interpreter on ``machine`` with ``libc`` (``glibc 2.36``, ``musl 1.2``) accepts, best first."""
    kind, _, version = (libc or DEFAULT_LIBC).partition(" ")
    major, minor = _numbers(version)
    if kind == "musl":
        return [*(f"musllinux_{major}_{number}_{machine}" for number in range(minor, -1, -1)), f"linux_{machine}"]
    lowest = 5 if machine in _OLD_MACHINES else 17
    found: list[str] = []
    for number in range(minor, lowest - 1, -1):
        found.append(f"manylinux_{major}_{number}_{machine}")
        if number in _LEGACY and (machine in _OLD_MACHINES or number == 17):
            found.append(f"{_LEGACY[number]}_{machine}")
    return [*found, f"linux_{machine}"]


def image_target(interpreter: Interpreter, libc: str | None, image: str) -> ImageTarget:
    """The target for ``interpreter`` (an image's), its tags for ``libc``; ``image`` names it in the lock's header."""
    major, minor = _numbers(interpreter.version)
    machine = interpreter.marker_env.get("platform_machine") or "x86_64"
    names = platforms(machine, libc)
    abi = f"cp{major}{minor}"
    found = [*tags.cpython_tags((major, minor), abis=[abi], platforms=names), *tags.compatible_tags((major, minor), abi, names)]
    return ImageTarget(
        python_version=interpreter.version,
        markers=interpreter.markers,
        tags=tuple(dict.fromkeys(str(tag) for tag in found)),
        image=image,
    )
