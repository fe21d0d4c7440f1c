"""Read ``pyproject.toml`` dependencies as loose inputs (PEP 621, PEP 735, PEP 518)."""

from __future__ import annotations

import re
import tomllib
from typing import TYPE_CHECKING, Any

from packaging.requirements import InvalidRequirement
from packaging.requirements import Requirement as PepRequirement
from packaging.utils import canonicalize_name

from reprolock.errors import InputError
from reprolock.records import EnvVarRef, FileKind, GroupInclude, InvalidLine, Origin, Requirement, Secret, SourceFile, VcsRef
from reprolock.redaction import env_var_names, redact
from reprolock.sources.requirements import is_local, one_line, url_hashes, vcs_ref

if TYPE_CHECKING:
    from collections.abc import Iterable

_GROUPS = "dependency-groups."


class LineFinder:
    """Find the line of a TOML value: tomllib gives values but no positions."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()

    def header(self, table: str) -> int:
        """0-based index of ``[table]`` (or ``[[table]]``), or -1."""
        pattern = re.compile(rf"^\s*\[\[?\s*{re.escape(table)}\s*\]\]?\s*(#.*)?$")
        return next((i for i, line in enumerate(self.lines) if pattern.match(line)), -1)

    def key(self, key: str, start: int) -> int:
        """0-based index of the first ``key =`` at or after ``start``, or ``start``."""
        pattern = re.compile(rf"""^\s*(["']?){re.escape(key)}\1\s*=""")
        return next((i for i in range(max(start, 0), len(self.lines)) if pattern.match(self.lines[i])), max(start, 0))

    def value(self, needle: str, start: int) -> int | None:
        """0-based index of the first line at or after ``start`` holding ``needle``."""
        return next((i for i in range(max(start, 0), len(self.lines)) if needle in self.lines[i]), None)


def load_toml(text: str, display: str) -> dict[str, Any]:
    """Parse TOML or raise an exit-3 error naming the file and line."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        match = re.search(r"line (\d+)", str(exc))
        where = f"{display}:{match.group(1)}" if match else display
        raise InputError(f"{where}: invalid TOML: {exc}", hint="fix the file's syntax") from None


def requirement_record(value: str, origin: Origin, section: str) -> Requirement:
    """A PEP 508 string as a record (raises ``InvalidRequirement``)."""
    parsed = PepRequirement(value)
    url = redact(parsed.url)[0] if parsed.url else None
    vcs: VcsRef | None = vcs_ref(url) if url else None
    return Requirement(
        name=canonicalize_name(parsed.name),
        raw_name=parsed.name,
        specifier=parsed.specifier,
        origin=origin,
        text=redact(value)[0],
        extras=tuple(sorted(parsed.extras)),
        marker=str(parsed.marker) if parsed.marker else None,
        url=url,
        vcs=vcs,
        hashes=url_hashes(url) if url else (),
        local=url is not None and vcs is None and is_local(url),
        section=section,
    )


def _sections(data: dict[str, Any], finder: LineFinder) -> list[tuple[str, list[Any], int]]:
    """(section name, entries, line index where its key is) in document order."""
    sections: list[tuple[str, list[Any], int]] = []
    project = data.get("project")
    if isinstance(project, dict):
        top = finder.header("project")
        deps = project.get("dependencies")
        if isinstance(deps, list):
            sections.append(("project.dependencies", deps, finder.key("dependencies", top)))
        optional = project.get("optional-dependencies")
        if isinstance(optional, dict):
            table = finder.header("project.optional-dependencies")
            for extra, entries in optional.items():
                if isinstance(entries, list):
                    start = finder.key(str(extra), table if table >= 0 else top)
                    sections.append((f"project.optional-dependencies.{extra}", entries, start))
    groups = data.get("dependency-groups")
    if isinstance(groups, dict):
        table = finder.header("dependency-groups")
        for group, entries in groups.items():
            if isinstance(entries, list):
                sections.append((f"dependency-groups.{group}", entries, finder.key(str(group), table)))
    build = data.get("build-system")
    if isinstance(build, dict) and isinstance(build.get("requires"), list):
        sections.append(("build-system.requires", build["requires"], finder.key("requires", finder.header("build-system"))))
    return sections


def read_pyproject(text: str, display: str) -> SourceFile:
    """Every dependency a pyproject declares, each with its line and section."""
    data = load_toml(text, display)
    finder = LineFinder(text)
    requirements: list[Requirement] = []
    invalid: list[InvalidLine] = []
    env_vars: list[EnvVarRef] = []
    secrets: list[Secret] = []
    includes: list[GroupInclude] = []
    for section, entries, start in _sections(data, finder):
        cursor = start
        for entry in entries:
            if isinstance(entry, dict) and "include-group" in entry:
                # PEP 735 include: the included group is read as a section of its own; the
                # edge is kept so that selecting this group selects that one too.
                index = finder.value(str(entry["include-group"]), cursor)
                origin = Origin(display, index + 1 if index is not None else None)
                if index is not None:
                    cursor = index
                included = entry["include-group"]
                if not isinstance(included, str) or not section.startswith(_GROUPS):
                    invalid.append(InvalidLine(str(entry), f"{section}: include-group must name a dependency group", origin))
                else:
                    includes.append(GroupInclude(canonicalize_name(section.removeprefix(_GROUPS)), canonicalize_name(included), origin))
                continue
            needle = entry if isinstance(entry, str) else str(entry)
            index = finder.value(needle, cursor)
            if index is not None:
                cursor = index
            origin = Origin(display, index + 1 if index is not None else None)
            shown, secret_count = redact(needle)
            env_vars.extend(EnvVarRef(name, origin) for name in env_var_names(needle))
            if not isinstance(entry, str):
                invalid.append(InvalidLine(shown, f"{section}: expected a string, got {type(entry).__name__}", origin))
                continue
            try:
                record = requirement_record(entry, origin, section)
            except InvalidRequirement as exc:
                invalid.append(InvalidLine(shown, f"{section}: {one_line(redact(str(exc))[0], shown)}", origin))
                continue
            requirements.append(record)
            if secret_count:
                secrets.append(Secret("requirement URL", origin, record.name))
    return SourceFile(
        path=display,
        kind=FileKind.PYPROJECT,
        requirements=tuple(requirements),
        invalid=tuple(invalid),
        env_vars=tuple(env_vars),
        secrets=tuple(secrets),
        group_includes=tuple(includes),
        requires_python=_requires_python(data),
    )


def _requires_python(data: dict[str, Any]) -> str | None:
    project = data.get("project")
    value = project.get("requires-python") if isinstance(project, dict) else None
    return value if isinstance(value, str) else None


def included_groups(source: SourceFile, groups: Iterable[str]) -> list[str]:
    """``groups`` and every group they include (PEP 735), transitively, in a stable order.

    Names are PEP 503 normalised. A cycle (``a`` includes ``b`` includes ``a``)
    or an include of a group the file does not have is an ``InputError`` naming
    the chain of groups.
    """
    edges: dict[str, list[GroupInclude]] = {}
    for include in source.group_includes:
        edges.setdefault(include.group, []).append(include)
    known = {include.group for include in source.group_includes} | {
        canonicalize_name(req.section.removeprefix(_GROUPS)) for req in source.requirements if req.section and req.section.startswith(_GROUPS)
    }
    found: list[str] = []

    def visit(group: str, chain: tuple[str, ...]) -> None:
        for include in edges.get(group, ()):
            path = " -> ".join((*chain, include.include))
            if include.include in chain:
                raise InputError(f"{include.origin}: dependency group cycle: {path}", hint="remove one include-group of the cycle")
            if include.include not in known:
                raise InputError(f"{include.origin}: include-group names no such group: {path}", hint="add the group or fix its name")
            if include.include not in found:
                found.append(include.include)
            visit(include.include, (*chain, include.include))

    for group in groups:
        name = canonicalize_name(group)
        if name not in found:
            found.append(name)
        visit(name, (name,))
    return found
