"""The interpreter a lock is for: its Python version, marker environment and wheel tags.

The running interpreter is described in-process. Another one (``--python``)
is asked in one subprocess that imports reprolock's own copy of
``packaging`` (pure Python), so the tags and markers are computed by the same
code for both.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import packaging
from packaging.markers import default_environment
from packaging.tags import sys_tags

from reprolock.errors import InputError, UsageError
from reprolock.sources.probe import find_interpreter
from reprolock.versions import parse_version

if TYPE_CHECKING:
    from collections.abc import Iterable

    from packaging.markers import Marker

_PROBE = """
import json, platform, sys
sys.path.insert(0, sys.argv[1])
from packaging.markers import default_environment
from packaging.tags import sys_tags
print(json.dumps({"version": platform.python_version(), "markers": default_environment(),
                  "tags": [str(tag) for tag in sys_tags()], "executable": sys.executable}))
"""


@dataclass(frozen=True)
class LockTarget:
    """What decides which versions and files fit: Python version, markers, wheel tags."""

    python_version: str
    """``platform.python_version()`` of the target, e.g. ``3.11.7``."""
    markers: tuple[tuple[str, str], ...]
    tags: tuple[str, ...]
    """Supported wheel tags, most preferred first."""
    python: str | None = None
    """The interpreter as given with ``--python`` (``None``: the running one)."""
    exclude_newer: datetime | None = None
    """``--exclude-newer``: files uploaded after this moment (UTC) are ignored."""
    any_wheel: bool = False
    """A universal lock's sample: a release is usable by any file its Requires-Python admits, whatever the wheel tags (as uv's
    universal resolution); the best-tagged wheel, else any wheel, else the sdist gives its dependencies."""

    @property
    def marker_env(self) -> dict[str, str]:
        return dict(self.markers)

    @cached_property
    def _env(self) -> dict[str, str]:
        return dict(self.markers)

    def holds(self, marker: Marker | None, extras: Iterable[str] = ("",)) -> bool:
        """Whether a requirement's marker holds for the target with any of ``extras``."""
        if marker is None:
            return True
        env = self._env
        return any(marker.evaluate({**env, "extra": extra}) for extra in extras)

    @cached_property
    def tag_rank(self) -> dict[str, int]:
        """Tag -> preference (lower is better)."""
        return {tag: rank for rank, tag in reversed(list(enumerate(self.tags)))}

    @cached_property
    def _triple_ranks(self) -> dict[str, int | None]:
        return {}

    def wheel_rank(self, filename: str) -> int | None:
        """The best rank (lower is better) of a wheel file name's tags for this target; ``None``: it does not fit.

        Only the last three dash-separated parts of the name are read (compressed
        tag sets such as ``py2.py3-none-any`` expand), and the answer is kept per
        tag text: a page with thousands of wheels has few distinct tag texts.
        """
        parts = filename[:-4].split("-") if filename.endswith(".whl") else ()
        if len(parts) < 5:  # name-version[-build]-python-abi-platform
            return None
        triple = "-".join(parts[-3:]).lower()
        memo = self._triple_ranks
        if triple not in memo:
            interpreters, abis, platforms = (part.split(".") for part in parts[-3:])
            ranks = self.tag_rank
            found = [
                rank
                for interpreter in interpreters
                for abi in abis
                for platform in platforms
                if (rank := ranks.get(f"{interpreter}-{abi}-{platform}".lower())) is not None
            ]
            memo[triple] = min(found) if found else None
        return memo[triple]

    @property
    def full_version(self) -> str:
        """``python_full_version`` of the target (``3.11.7``): markers compare it, so the lock holds for it alone."""
        return self.marker_env.get("python_full_version", self.python_version)

    @property
    def description(self) -> str:
        """Names the target for a lockfile header: ``cpython 3.11.7 on linux x86_64 (the running interpreter)``."""
        env = self.marker_env
        where = " ".join(part for part in (env.get("sys_platform"), env.get("platform_machine")) if part)
        which = f"--python {self.python}" if self.python else "the running interpreter"
        return f"{env.get('implementation_name', 'python')} {self.full_version} on {where or 'an unknown platform'} ({which})"

    @property
    def environment_marker(self) -> str:
        """A PEP 508 marker true on this target alone (as far as markers and wheel tags can tell targets apart).

        The full Python version, not ``python_version``: a dependency such as
        ``async-timeout; python_full_version < "3.11.3"`` makes a lock for 3.11.7
        wrong for 3.11.2.
        """
        env = self.marker_env
        keys = ("implementation_name", "python_full_version", "sys_platform", "platform_machine")
        return " and ".join(f'{key} == "{env[key]}"' for key in keys if key in env)

    @property
    def as_of(self) -> str | None:
        """``--exclude-newer`` as the lock records it (``2024-05-01T00:00:00Z``); ``None`` without it."""
        if self.exclude_newer is None:
            return None
        return self.exclude_newer.astimezone(UTC).isoformat().replace("+00:00", "Z")

    @property
    def requires_python(self) -> str | None:
        """``==3.11.7``; ``None`` when the version is not PEP 440 (a ``3.12.1+`` development build)."""
        version = parse_version(self.full_version)
        return f"=={version}" if version is not None and version.local is None else None


def running_target() -> LockTarget:
    """The interpreter reprolock runs in."""
    markers = {key: str(value) for key, value in default_environment().items()}
    return LockTarget(
        python_version=platform.python_version(),
        markers=tuple(sorted(markers.items())),
        tags=tuple(str(tag) for tag in sys_tags()),
    )


def probe_target(given: str, cwd: Path) -> LockTarget:
    """Ask the interpreter ``given`` for its version, markers and tags."""
    executable = find_interpreter(given, cwd)
    library = str(Path(packaging.__file__).resolve().parent.parent)
    environ = {key: value for key, value in os.environ.items() if not key.startswith("PYTHON")}
    try:
        done = subprocess.run(  # noqa: S603 - the user's chosen interpreter with a fixed script
            [str(executable), "-I", "-S", "-c", _PROBE, library],
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
            env=environ,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise InputError(f"--python {given}: cannot run the interpreter: {exc}") from None
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise InputError(f"--python {given}: the interpreter could not be queried: {last}", hint="reprolock needs Python 3.8 or later")
    data: dict[str, Any] = json.loads(done.stdout)
    return LockTarget(
        python_version=data["version"],
        markers=tuple(sorted((key, str(value)) for key, value in data["markers"].items())),
        tags=tuple(data["tags"]),
        python=given,
    )


def parse_exclude_newer(given: str) -> datetime:
    """``--exclude-newer``: an RFC 3339 timestamp, or ``YYYY-MM-DD`` (that day's start, UTC)."""
    text = given.strip()
    try:
        if len(text) == 10:
            return datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=UTC)
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise UsageError(f"--exclude-newer {given}: give an RFC 3339 timestamp (2024-05-01T12:00:00Z) or a date (2024-05-01)") from None
    if moment.tzinfo is None:
        raise UsageError(f"--exclude-newer {given}: the timestamp needs a time zone (Z or +HH:MM)")
    return moment.astimezone(UTC)


def resolve_target(given: str | None, cwd: Path) -> LockTarget:
    return running_target() if given is None else probe_target(given, cwd)
