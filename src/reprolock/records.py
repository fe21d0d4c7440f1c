"""Frozen records that every source produces and every check reads.

A record never holds a secret: URLs are redacted (see ``redaction``) before a
record is built, so nothing downstream can leak one by accident.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from packaging.specifiers import SpecifierSet

    from reprolock.dockerrecords import Dockerfile

_OS_INSTALLERS = frozenset({"debian", "rpm", "conda", "dpkg", "apt", "pacman", "apk"})
_FULL_COMMIT = re.compile(r"[0-9a-f]{40}(?:[0-9a-f]{24})?")


class FileKind(StrEnum):
    """What a file is, which decides how strict the rules are with it."""

    REQUIREMENTS = "requirements"
    INPUT = "input"
    CONSTRAINTS = "constraints"
    FREEZE = "freeze"
    PYPROJECT = "pyproject"
    PYLOCK = "pylock"
    DOCKERFILE = "dockerfile"

    @property
    def is_pinned_set(self) -> bool:
        """A pinned set must pin everything; a loose input need not."""
        return self not in {FileKind.INPUT, FileKind.PYPROJECT}


@dataclass(frozen=True, slots=True, order=True)
class Origin:
    """Where a record came from: a path as shown to the user, and a 1-based line."""

    path: str
    line: int | None = None

    def __str__(self) -> str:
        return self.path if self.line is None else f"{self.path}:{self.line}"


@dataclass(frozen=True, slots=True)
class VcsRef:
    """A VCS reference such as ``git+https://host/repo.git@ref``."""

    vcs: str
    url: str
    ref: str | None
    fragment_ref: str | None = None
    """A commit written in the URL fragment (``repo.git#<sha>``), which pip ignores."""

    @property
    def is_full_commit(self) -> bool:
        return self.ref is not None and _FULL_COMMIT.fullmatch(self.ref.lower()) is not None


@dataclass(frozen=True, slots=True)
class Requirement:
    """One requirement line (or pyproject/pylock entry), with its origin."""

    name: str | None
    """PEP 503 normalised name; ``None`` for an unnamed ``-e .`` or bare URL."""
    raw_name: str | None
    specifier: SpecifierSet
    origin: Origin
    text: str
    """The line as written (redacted, ``${VAR}`` left as is)."""
    extras: tuple[str, ...] = ()
    marker: str | None = None
    url: str | None = None
    """Direct reference or link, redacted."""
    vcs: VcsRef | None = None
    editable: bool = False
    hashes: tuple[str, ...] = ()
    local: bool = False
    """A local path or ``file:`` URL."""
    constraint: bool = False
    section: str | None = None
    """For pyproject: ``project.dependencies``, ``optional-dependencies.X``, ..."""
    added_by_freeze: bool = False
    """Listed under pip freeze's ``## The following requirements were added by pip --freeze``."""

    @property
    def pinned_version(self) -> str | None:
        """The exact version for ``==X`` (no wildcard) or ``===X``, else ``None``."""
        specs = list(self.specifier)
        if len(specs) != 1:
            return None
        spec = specs[0]
        if spec.operator == "===" or (spec.operator == "==" and not spec.version.endswith(".*")):
            return spec.version
        return None

    @property
    def is_direct(self) -> bool:
        """Installed from a URL, VCS or path rather than chosen from an index."""
        return self.url is not None


@dataclass(frozen=True, slots=True)
class OptionLine:
    """A pip option line such as ``--index-url URL`` (value redacted)."""

    option: str
    value: str
    origin: Origin
    written: str = field(default="", repr=False, compare=False)
    """The value as written, credentials included: only to choose and reach the index, never shown."""


@dataclass(frozen=True, slots=True)
class InvalidLine:
    """A line that could not be parsed (RL111)."""

    text: str
    message: str
    origin: Origin


class FreezeNote(StrEnum):
    """The comment lines ``pip freeze`` writes."""

    ADDED_BY_FREEZE = "added-by-freeze"
    NO_REPOSITORY = "no-repository-location"
    NO_VCS = "editable-without-vcs"


@dataclass(frozen=True, slots=True)
class FreezeComment:
    """A comment ``pip freeze`` writes about a distribution it could not trace."""

    note: FreezeNote
    text: str
    origin: Origin
    package: str | None = None
    """The distribution named in the comment's parentheses, normalised."""


@dataclass(frozen=True, slots=True)
class EnvVarRef:
    """A ``${VAR}`` reference, left unexpanded (RL107)."""

    name: str
    origin: Origin


@dataclass(frozen=True, slots=True)
class Secret:
    """Where a credential was found; the value itself is never kept (RL108)."""

    where: str
    """What held it: ``--index-url``, a requirement URL, ..."""
    origin: Origin
    package: str | None = None


@dataclass(frozen=True, slots=True)
class SourceFile:
    """Everything read from one file, in file order."""

    path: str
    kind: FileKind
    requirements: tuple[Requirement, ...] = ()
    options: tuple[OptionLine, ...] = ()
    invalid: tuple[InvalidLine, ...] = ()
    env_vars: tuple[EnvVarRef, ...] = ()
    secrets: tuple[Secret, ...] = ()
    included_from: Origin | None = None
    notes: tuple[str, ...] = field(default=())
    """Free-form facts worth showing (an include that was not followed, ...)."""
    freeze_comments: tuple[FreezeComment, ...] = ()
    hash_mode: bool = False
    """Some requirement carries ``--hash``, which turns on pip's hash-checking mode."""
    group_includes: tuple[GroupInclude, ...] = ()
    lock_dependencies: tuple[tuple[str, tuple[str, ...]], ...] = ()
    """For a ``pylock.toml``: each package's edges, as requirement strings (``markupsafe>=2.0``, or bare names), in file order."""
    """PEP 735 ``include-group`` entries of a pyproject, in file order."""
    dockerfile: Dockerfile | None = None
    """For a Dockerfile: its stages and what they install (the requirement files it installs are inputs of their own)."""
    requires_python: str | None = None
    """For a pyproject: ``project.requires-python`` as written; for a pylock, its ``requires-python``."""
    valid_where: tuple[str, ...] = ()
    """For a lockfile: the markers of the targets it states it is for (pylock ``environments``, a single-target lock's header); empty: not stated."""


@dataclass(frozen=True, slots=True)
class GroupInclude:
    """A PEP 735 ``{include-group = "..."}`` entry of a dependency group (names PEP 503 normalised)."""

    group: str
    include: str
    origin: Origin


@dataclass(frozen=True, slots=True)
class Interpreter:
    """What the probe learned of a target interpreter (one subprocess run)."""

    python: str
    """The interpreter's path as given (or found in a venv folder)."""
    version: str
    """``platform.python_version()``, e.g. ``3.11.7``."""
    prefix: str
    base_prefix: str
    sys_path: tuple[str, ...]
    """In import order; entries that do not exist are kept (they are part of the story)."""
    markers: tuple[tuple[str, str], ...]
    """PEP 508 marker environment, as sorted pairs (use :attr:`marker_env`)."""
    stdlib: frozenset[str]
    """Top-level stdlib module names (``sys.stdlib_module_names``, or a list for old Pythons)."""
    user_site: str | None = None
    user_site_enabled: bool = False
    is_venv: bool = False
    system_site_packages: bool = False
    """A venv whose ``pyvenv.cfg`` says ``include-system-site-packages = true``."""
    externally_managed: str | None = None
    """Path of the PEP 668 ``EXTERNALLY-MANAGED`` marker, when there is one."""
    site_packages: tuple[str, ...] = ()
    """The interpreter's own purelib/platlib folders."""
    pip_index_url: str | None = None
    """The default index of the interpreter's own pip, when it has pip."""
    executable: str | None = None
    """``sys.executable`` as the interpreter reports it."""
    builtin_modules: frozenset[str] = frozenset()
    """``sys.builtin_module_names``: these always win over anything on ``sys.path``."""
    stdlib_paths: tuple[str, ...] = ()
    """The stdlib and platstdlib folders (their place in ``sys_path`` decides who shadows whom)."""

    @property
    def marker_env(self) -> dict[str, str]:
        return dict(self.markers)


@dataclass(frozen=True, slots=True)
class InstalledDistribution:
    """One ``.dist-info`` / ``.egg-info`` found on ``sys.path``; every copy is kept."""

    name: str
    """PEP 503 normalised."""
    raw_name: str
    version: str
    path_entry: str
    """The ``sys.path`` entry it was found under."""
    metadata_path: str
    """The ``.dist-info`` / ``.egg-info`` path."""
    requires: tuple[str, ...] = ()
    """``Requires-Dist`` as written (markers unevaluated)."""
    provides_extras: tuple[str, ...] = ()
    requires_python: str | None = None
    installer: str | None = None
    requested: bool | None = None
    """``REQUESTED`` present (``None`` when the format cannot tell)."""
    has_record: bool = False
    top_level: tuple[str, ...] = ()
    """Top-level modules it installs (RECORD, else top_level.txt)."""
    direct_url: str | None = None
    """``direct_url.json`` URL, redacted."""
    editable: bool = False
    egg_info: bool = False
    path_index: int = 0
    """Position of ``path_entry`` in ``sys.path`` (lower wins on import)."""
    namespaces: tuple[str, ...] = ()
    """Top-level namespace-package portions (no ``__init__.py``): shared by design, never a collision."""
    os_package: str | None = None
    """The OS package that owns the metadata (``dpkg-query -S`` / ``rpm -qf``), when asked and known."""
    files_on_disk: bool | None = None
    """With another metadata folder of its name in the same folder: whether the files on disk are this one's (RECORD tells; ``None``: it cannot)."""

    @property
    def system_reasons(self) -> tuple[str, ...]:
        """Why this copy looks installed by the OS package manager (empty: it does not)."""
        reasons: list[str] = []
        if self.installer and self.installer.lower() in _OS_INSTALLERS:
            reasons.append(f"INSTALLER is {self.installer}")
        distro = self.path_entry.startswith("/usr/lib") and self.path_entry.rstrip("/").endswith("dist-packages")
        if distro:
            reasons.append(f"in the distro folder {self.path_entry}")
        if reasons and not self.has_record:
            reasons.append("no RECORD")
        return tuple(reasons)


@dataclass(frozen=True, slots=True)
class Environment:
    """An inspected interpreter and everything installed for it."""

    interpreter: Interpreter
    distributions: tuple[InstalledDistribution, ...]
    """In ``sys.path`` order, every copy (the first of a name is the one that imports)."""

    def winners(self) -> dict[str, InstalledDistribution]:
        """One distribution per name: the copy that wins on import."""
        found: dict[str, InstalledDistribution] = {}
        for dist in self.distributions:
            found.setdefault(dist.name, dist)
        return found
