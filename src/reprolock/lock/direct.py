"""Direct references in the lock inputs: VCS at a commit, archive URLs with their hash, local paths as written.

Each is located once, before resolving: a git ref is fetched (depth 1) for its
full commit id and ``pyproject.toml``; an archive is read in full (through the
run's index client when remote: size-capped, deadline-bound), hashed, and its
wheel ``METADATA`` or sdist ``PKG-INFO`` read; a local directory's
``pyproject.toml`` is read in place. The resolver then takes the reference as
the only candidate of its name, with those dependencies.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, unquote, urlsplit

from packaging.utils import canonicalize_name

from reprolock.errors import InputError
from reprolock.findings import Finding, finding
from reprolock.index.finder import NotCachedError
from reprolock.index.metadata import MetadataError as ArchiveError
from reprolock.index.metadata import sdist_metadata, wheel_metadata
from reprolock.lock.metadata import Dependencies, MetadataError, parse_dependencies
from reprolock.lock.model import DirectSource
from reprolock.lock.provider import Need
from reprolock.lock.sourcetree import BUILD_HINT, BuildNeededError, fetch_commit, static_project
from reprolock.redaction import MASK
from reprolock.sources.coremetadata import parse_fields

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping
    from typing import TypeAlias

    from reprolock.index.models import Answer
    from reprolock.lock.inputs import Roots
    from reprolock.records import Requirement

    Download: TypeAlias = Callable[[str], Answer]


@dataclass(frozen=True, slots=True)
class DirectProject:
    """A direct reference, located: what the resolver and the writers need of it."""

    name: str
    version: str | None
    """``None`` for a source tree whose version is dynamic."""
    source: DirectSource
    dependencies: Dependencies
    requirement: Requirement
    """The input line."""


@dataclass(frozen=True, slots=True)
class _Located:
    name: str
    version: str | None
    dependencies: Dependencies


def _what(requirement: Requirement) -> str:
    return f"{requirement.origin}: {requirement.text}"


def _fragment(url: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(url.partition("#")[2]).items()}


def _local_path(url: str, cwd: Path) -> tuple[str, Path]:
    """The path as written (a ``file:`` URL turned into a path), and that path made absolute."""
    bare = url.partition("#")[0]
    text = unquote(urlsplit(bare).path) if bare.startswith("file:") else bare
    path = Path(text).expanduser()
    return text, path if path.is_absolute() else cwd / path


def _from_tree(text: str | None, what: str, where: str) -> _Located:
    if text is None:
        raise BuildNeededError(f"{what}: {where} has no pyproject.toml, so only a build could tell its dependencies", hint=BUILD_HINT)
    static = static_project(text, what)
    return _Located(static.name, static.version, static.dependencies)


def _check_hashes(data: bytes, given: Iterable[str], what: str) -> None:
    for item in given:
        algorithm, _, expected = item.partition(":")
        try:
            actual = hashlib.new(algorithm, data).hexdigest()
        except ValueError:
            raise InputError(f"{what}: unknown hash algorithm {algorithm}") from None
        if actual != expected.lower():
            raise InputError(f"{what}: the archive's {algorithm} is {actual}, not {expected}", hint="the file changed, or the hash is wrong")


def _from_archive(data: bytes, filename: str, what: str) -> _Located:
    """Name, version and dependencies from a wheel's METADATA or an sdist's static PKG-INFO."""
    try:
        if filename.endswith(".whl"):
            metadata, from_sdist = wheel_metadata(io.BytesIO(data), filename), False
        else:
            metadata, from_sdist = sdist_metadata(data, filename), True
        dependencies = parse_dependencies(metadata, what, from_sdist=from_sdist)
    except ArchiveError as exc:
        raise InputError(f"{what}: {exc}") from None
    except MetadataError:
        raise BuildNeededError(f"{what}: the sdist's PKG-INFO does not declare its dependencies statically, so only a build could tell them", hint=BUILD_HINT) from None
    fields = parse_fields(metadata)
    name, version = fields.name, fields.version
    if not name or not version:
        raise InputError(f"{what}: the archive's metadata names no project or version")
    return _Located(canonicalize_name(name), version, dependencies)


def _vcs(requirement: Requirement, url: str) -> tuple[_Located, DirectSource]:
    what, vcs = _what(requirement), requirement.vcs
    assert vcs is not None  # noqa: S101 - the caller checked
    if vcs.vcs != "git":
        raise InputError(f"{what}: only git references can be locked, not {vcs.vcs}", hint="use a git repository or an archive URL")
    subdirectory = _fragment(url).get("subdirectory")
    fetched = fetch_commit(vcs.url, vcs.ref, subdirectory, what)
    located = _from_tree(fetched.pyproject, what, f"commit {fetched.commit_id}")
    source = DirectSource("vcs", url, url=vcs.url, vcs=vcs.vcs, requested_revision=vcs.ref, commit_id=fetched.commit_id, subdirectory=subdirectory)
    return located, source


def _local(requirement: Requirement, url: str, cwd: Path) -> tuple[_Located, DirectSource]:
    what = _what(requirement)
    written, path = _local_path(url, cwd)
    subdirectory = _fragment(url).get("subdirectory")
    if path.is_dir():
        tree = path / subdirectory if subdirectory else path
        pyproject = tree / "pyproject.toml"
        located = _from_tree(pyproject.read_text(encoding="utf-8") if pyproject.is_file() else None, what, str(tree))
        source = DirectSource("directory", url, path=written, folder=str(path), subdirectory=subdirectory, editable=requirement.editable)
        return located, source
    if not path.is_file():
        raise InputError(f"{what}: {path} does not exist", hint="fix the path (relative paths start from the current directory, as pip reads them)")
    data = path.read_bytes()
    _check_hashes(data, requirement.hashes, what)
    source = DirectSource("archive", url, path=written, folder=str(path), hashes=(("sha256", hashlib.sha256(data).hexdigest()),), size=len(data))
    return _from_archive(data, path.name, what), source


def _remote_archive(requirement: Requirement, url: str, download: Download) -> tuple[_Located, DirectSource]:
    what = _what(requirement)
    bare = url.partition("#")[0]
    answer = download(bare)
    if answer.status != 200:
        raise InputError(f"{what}: {bare} answered HTTP {answer.status}", hint="fix the URL")
    _check_hashes(answer.body, requirement.hashes, what)
    filename = unquote(urlsplit(bare).path).rpartition("/")[2]
    digest = hashlib.sha256(answer.body).hexdigest()
    source = DirectSource("archive", url, url=bare, hashes=(("sha256", digest),), size=len(answer.body), subdirectory=_fragment(url).get("subdirectory"))
    return _from_archive(answer.body, filename, what), source


def locate(requirement: Requirement, download: Download, cwd: Path, *, offline: bool = False) -> DirectProject:
    """The direct reference of ``requirement`` (a VCS, archive URL or local path), located; one-line errors, exit 3."""
    url, what = requirement.url or "", _what(requirement)
    if MASK in url:
        raise InputError(f"{what}: the URL holds credentials, which a lock never records", hint="give them to git or pip another way: a credential helper or .netrc")
    if "${" in url:
        raise InputError(f"{what}: the URL uses an environment variable, which a lock cannot pin", hint="write the URL out in full")
    if requirement.local:
        located, source = _local(requirement, url, cwd)
    elif offline:
        # nothing of a remote reference is cached: a git commit is known to its repository, an archive is read whole
        raise NotCachedError(f"{what}: --offline, and a direct reference is only on the network", hint="run once without --offline")
    elif requirement.vcs is not None:
        located, source = _vcs(requirement, url)
    else:
        located, source = _remote_archive(requirement, url, download)
    if requirement.name is not None and requirement.name != located.name:
        raise InputError(f"{what}: the requirement names {requirement.name}, but the project there is {located.name}", hint="fix the name")
    return DirectProject(located.name, located.version, source, located.dependencies, requirement)


def with_direct(roots: Roots, download: Download, cwd: Path, *, offline: bool = False, memo: dict[int, DirectProject] | None = None) -> tuple[Roots, dict[str, DirectProject]]:
    """``roots`` with a root requirement for each located direct reference, and those references by name.

    ``memo`` keeps what was located by input line, for roots collected again (a universal lock's targets).
    """
    projects: dict[str, DirectProject] = {}
    needs = list(roots.needs)
    for requirement in roots.direct:
        project = memo.get(id(requirement)) if memo is not None else None
        if project is None:
            project = locate(requirement, download, cwd, offline=offline)
            if memo is not None:
                memo[id(requirement)] = project
        known = projects.get(project.name)
        if known is not None and known.source.requirement_url != project.source.requirement_url:
            raise InputError(f"{_what(requirement)}: {project.name} is also given as {known.source.written} ({known.requirement.origin})", hint="keep one")
        projects[project.name] = project
        needs.append(Need(project.name, requirement.specifier, frozenset(requirement.extras), source=requirement, marker=requirement.marker))
    return dataclasses.replace(roots, needs=tuple(needs)), projects


def direct_findings(projects: Mapping[str, DirectProject]) -> list[Finding]:
    """What an audit of the lock reports of its local references: RL105 for a local path, RL106 for an editable."""
    found = []
    for name, project in sorted(projects.items()):
        source, where = project.source, project.requirement.origin
        if source.path is not None:
            found.append(finding("RL105", f"{name} is installed from a local path ({source.written})", package=name, location=where, url=source.written))
        if source.editable:
            found.append(finding("RL106", f"{name} is an editable install: it runs whatever the source tree holds", package=name, location=where))
    return found
