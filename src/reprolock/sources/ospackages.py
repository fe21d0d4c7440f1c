"""Which OS package owns a file: one batched ``dpkg-query -S`` or ``rpm -qf`` call, bounded in time."""

from __future__ import annotations

import shutil
import subprocess
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence

OWNER_TIMEOUT = 5.0


def _run(argv: list[str]) -> str | None:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=OWNER_TIMEOUT, check=False)  # noqa: S603 - fixed tool, paths as arguments
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout  # exit 1 only means some paths have no owner


def _dpkg(paths: Sequence[str], tool: str) -> dict[str, str]:
    out = _run([tool, "-S", *paths])
    owners: dict[str, str] = {}
    for line in (out or "").splitlines():
        # "python3-yaml: /usr/lib/...", or "pkg1, pkg2: /path" for shared folders; diversions start with "diversion by".
        packages, sep, path = line.partition(": ")
        if sep and not line.startswith("diversion "):
            owners[path.strip()] = packages.split(",")[0].split(":")[0].strip()
    return owners


def _rpm(paths: Sequence[str], tool: str) -> dict[str, str]:
    out = _run([tool, "-qf", "--queryformat", "%{NAME}\\n", *paths])
    lines = (out or "").splitlines()
    if len(lines) != len(paths):
        return {}
    return {path: line.strip() for path, line in zip(paths, lines, strict=True) if line.strip() and " " not in line.strip()}


def os_owners(paths: Sequence[str]) -> dict[str, str]:
    """Map each path to its owning OS package, where the package manager knows one.

    Nothing is asked when ``paths`` is empty or no package manager is on
    ``PATH``; a slow or failing package manager gives an empty answer rather
    than an error.
    """
    if not paths:
        return {}
    dpkg = shutil.which("dpkg-query")
    if dpkg:
        return _dpkg(paths, dpkg)
    rpm = shutil.which("rpm")
    if rpm:
        return _rpm(paths, rpm)
    return {}
