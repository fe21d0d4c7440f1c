"""Frozen records of a Dockerfile: its stages and what each one installs, every record at its line.

``sources/dockerfile.py`` builds them; ``checks/image.py`` (RL6xx) reads them.
Like every record, they hold no secret: commands and values are redacted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from reprolock.records import Origin, Requirement

_TRUE = frozenset({"1", "true", "yes", "on", "y", "t"})


@dataclass(frozen=True, slots=True)
class Stage:
    """One ``FROM``: the base image (or the earlier stage it builds on) and the stage's alias."""

    index: int
    image: str
    """As written, ``ARG`` values substituted (a variable with no value stays ``${NAME}``)."""
    origin: Origin
    alias: str | None = None
    repository: str = ""
    """``python``, ``registry.example.com:5000/org/app``: the reference without tag and digest."""
    tag: str | None = None
    digest: str | None = None
    parent: int | None = None
    """The stage it builds on (``FROM builder``), else ``None``: a base image."""
    unresolved: tuple[str, ...] = ()
    """Build arguments in the reference that have no default value."""


@dataclass(frozen=True, slots=True)
class Copy:
    """A ``COPY``/``ADD`` (or a ``RUN --mount=type=bind``): sources (in the build context unless ``from_``), a destination in the image."""

    sources: tuple[str, ...]
    dest: str
    """Absolute, the ``WORKDIR`` applied."""
    origin: Origin
    shown: str
    """The instruction as written, for messages: ``COPY requirements.txt /app/``."""
    directory: bool = False
    """The destination is a folder (a trailing ``/``, several sources, ``.``): a file lands in it under its own name."""
    from_: str | None = None
    """``--from``: a stage or an image, not the build context."""
    stage: int = 0


@dataclass(frozen=True, slots=True)
class Setting:
    """A ``PIP_*`` or ``UV_*`` variable set for the installs that follow (``ENV``, ``ARG``, ``export``, ``pip config``)."""

    name: str
    value: str
    origin: Origin
    stage: int
    how: str
    """``ENV``, ``ARG``, ``export``, ``inline`` (``NAME=value pip ...``) or ``pip config``."""

    @property
    def enabled(self) -> bool:
        """The value turns a pip boolean option on (pip reads ``1``, ``true``, ``yes``, ``on``)."""
        return self.value.strip().lower() in _TRUE


@dataclass(frozen=True, slots=True)
class RequirementFileRef:
    """A ``-r FILE`` (or ``-c FILE``) of a pip install, and the repository file that is copied there, if any."""

    written: str
    origin: Origin
    image_path: str
    """Where pip reads it in the image (the ``WORKDIR`` and ``cd`` applied)."""
    constraint: bool = False
    source: str | None = None
    """The repository file audited in its place (its path as shown), when a ``COPY``/``ADD``/bind mount puts it there."""
    via: str | None = None
    """The instruction that copies it, with its line: ``COPY requirements.txt /app/ (Dockerfile:4)``."""
    reason: str | None = None
    """Why it was not followed (``source`` is ``None``)."""


@dataclass(frozen=True, slots=True)
class PipInstall:
    """One ``pip install`` / ``python -m pip install`` / ``uv pip install`` (or ``uv pip sync``) command."""

    tool: str
    """``pip``, ``pip3``, ``python3 -m pip``, ``uv pip``, ... as the command names it."""
    command: str
    """The command as it runs (variables substituted, redacted, shortened), for messages."""
    origin: Origin
    stage: int
    requirements: tuple[Requirement, ...] = ()
    """The requirement arguments (and ``-e`` values), each at its own line."""
    files: tuple[RequirementFileRef, ...] = ()
    flags: tuple[str, ...] = ()
    """Options given, long spelling (``--upgrade`` for ``-U``), values dropped."""
    environment: tuple[Setting, ...] = ()
    """The ``PIP_*``/``UV_*`` variables in effect when it runs."""
    sudo: bool = False
    into: str | None = None
    """A virtual environment or folder it installs into instead of the system's site-packages (``None``: the system's, as far as the file tells)."""
    sync: bool = False
    unresolved: tuple[str, ...] = ()
    """Arguments not audited: they hold a variable with no value or a command substitution."""

    def setting(self, *names: str) -> Setting | None:
        """The last of these variables set for this install and turned on, if any."""
        found = [item for item in self.environment if item.name in names and item.enabled]
        return found[-1] if found else None

    def has(self, flag: str) -> bool:
        return flag in self.flags


@dataclass(frozen=True, slots=True)
class OsPackage:
    """A package an OS package manager installs (``apt-get install``, ``apk add``, ``dnf install``, ...)."""

    manager: str
    name: str
    """Without a version or architecture suffix (``python3-jinja2`` of ``python3-jinja2=3.1.2-1``)."""
    origin: Origin
    stage: int


@dataclass(frozen=True, slots=True)
class Dockerfile:
    """What one Dockerfile builds, in file order."""

    stages: tuple[Stage, ...]
    pip_installs: tuple[PipInstall, ...] = ()
    os_packages: tuple[OsPackage, ...] = ()
    settings: tuple[Setting, ...] = ()
    copies: tuple[Copy, ...] = ()

    @property
    def final(self) -> int | None:
        """The stage ``docker build`` builds by default: the last one."""
        return self.stages[-1].index if self.stages else None

    def chain(self, index: int) -> tuple[int, ...]:
        """The stage and every stage it builds on (``FROM <alias>``): the layers of one image."""
        seen: list[int] = []
        current: int | None = index
        while current is not None and current not in seen and 0 <= current < len(self.stages):
            seen.append(current)
            current = self.stages[current].parent
        return tuple(seen)

    def same_image(self, first: int, second: int) -> bool:
        """Whether two stages end up in one image (one builds on the other)."""
        return first in self.chain(second) or second in self.chain(first)
