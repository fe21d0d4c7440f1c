"""Source trees of direct references: a git commit for a ref, and static metadata from ``pyproject.toml``.

reprolock never runs a build backend. A source tree's dependencies are known
only when its ``pyproject.toml`` declares them statically (``[project]``
``dependencies`` not listed in ``dynamic``), as PEP 621 allows a tool to read
them; otherwise they would need a build, and the caller says so.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import tomllib
from dataclasses import dataclass
from typing import Any

from packaging.markers import Marker
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from reprolock.errors import InputError
from reprolock.lock.metadata import Dependencies
from reprolock.sources.requirements import one_line

GIT_TIMEOUT = 300.0
"""Seconds one git command may take (a fetch of one commit, depth 1)."""


@dataclass(frozen=True, slots=True)
class StaticProject:
    """What a ``pyproject.toml`` declares without a build."""

    name: str
    version: str | None
    """``None`` when ``version`` is dynamic (set by the build backend)."""
    dependencies: Dependencies
    """``dependencies`` and every ``optional-dependencies`` table, the latter as ``extra == "x"`` markers."""


@dataclass(frozen=True, slots=True)
class GitCommit:
    """A ref fetched from a repository: its full commit id and the ``pyproject.toml`` it holds."""

    commit_id: str
    pyproject: str | None
    """The text of ``[subdirectory/]pyproject.toml`` at that commit; ``None`` when there is none."""


class BuildNeededError(InputError):
    """The dependencies of a source tree are known only to its build backend."""


def _requirement(text: object, what: str) -> Requirement:
    try:
        return Requirement(str(text))
    except InvalidRequirement as exc:
        raise InputError(f"{what}: its pyproject.toml has an invalid dependency {text!r}: {one_line(str(exc), str(text))}") from None


def _with_extra(requirement: Requirement, extra: str) -> Requirement:
    """``requirement`` needed only with ``extra``, as a wheel's ``Requires-Dist`` says it."""
    guard = f'extra == "{canonicalize_name(extra)}"'
    requirement.marker = Marker(f"({requirement.marker}) and {guard}" if requirement.marker else guard)
    return requirement


BUILD_HINT = "list its dependencies in [project] dependencies of its pyproject.toml (not in dynamic); reprolock never runs a build backend"


def static_project(text: str, what: str) -> StaticProject:
    """The static ``[project]`` metadata of the ``pyproject.toml`` text of ``what``; :class:`BuildNeededError` when a build would be needed."""
    try:
        data: dict[str, Any] = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{what}: its pyproject.toml is not valid TOML: {exc}") from None
    project = data.get("project")
    if not isinstance(project, dict) or not isinstance(project.get("name"), str):
        raise BuildNeededError(f"{what}: its pyproject.toml has no [project] name, so only a build could tell its dependencies", hint=BUILD_HINT)
    dynamic = {str(key) for key in project.get("dynamic", [])}
    for key in ("dependencies", "optional-dependencies"):
        if key in dynamic:
            raise BuildNeededError(f"{what}: its pyproject.toml declares {key} dynamic, so only a build could tell them", hint=BUILD_HINT)
    requires = [_requirement(item, what) for item in project.get("dependencies", [])]
    for extra, items in sorted(project.get("optional-dependencies", {}).items()):
        requires += [_with_extra(_requirement(item, what), extra) for item in items]
    version = project.get("version") if "version" not in dynamic else None
    requires_python = project.get("requires-python") if "requires-python" not in dynamic else None
    return StaticProject(
        name=canonicalize_name(project["name"]),
        version=str(version) if version is not None else None,
        dependencies=Dependencies(tuple(requires), str(requires_python) if requires_python else None),
    )


def _git(folder: str, *argv: str) -> subprocess.CompletedProcess[str]:
    # never wait for a password: no terminal prompt, ssh in batch mode unless the user set its command
    environ = {"GIT_SSH_COMMAND": "ssh -o BatchMode=yes", **os.environ, "GIT_TERMINAL_PROMPT": "0"}
    try:
        return subprocess.run(  # noqa: S603 - git with fixed arguments; the URL and ref come after "--"
            ["git", "-C", folder, *argv],  # noqa: S607 - git as the user's PATH finds it, as pip runs it
            capture_output=True,
            text=True,
            check=False,
            timeout=GIT_TIMEOUT,
            env=environ,
        )
    except FileNotFoundError:
        raise InputError("git is not installed: it is needed to lock a git reference", hint="install git") from None
    except subprocess.TimeoutExpired:
        raise InputError(f"git {argv[0]} took more than {GIT_TIMEOUT:.0f} s", hint="check the network and the repository URL") from None


def fetch_commit(url: str, ref: str | None, subdirectory: str | None, what: str) -> GitCommit:
    """Fetch ``ref`` (a branch, a tag, a full commit id; the default branch when ``None``) at depth 1 into a scratch folder."""
    with tempfile.TemporaryDirectory(prefix="reprolock-git-") as folder:
        _git(folder, "init", "--quiet", "--bare")
        fetched = _git(folder, "fetch", "--quiet", "--depth=1", "--no-tags", "--", url, ref or "HEAD")
        if fetched.returncode != 0:
            last = (fetched.stderr.strip().splitlines() or ["no output"])[-1]
            raise InputError(f"{what}: cannot fetch {ref or 'the default branch'} from {url}: {last}", hint="use a branch, a tag or a full commit id")
        commit = _git(folder, "rev-parse", "FETCH_HEAD^{commit}").stdout.strip()
        inside = f"{subdirectory.strip('/')}/pyproject.toml" if subdirectory else "pyproject.toml"
        shown = _git(folder, "show", f"{commit}:{inside}")
        return GitCommit(commit, shown.stdout if shown.returncode == 0 else None)
