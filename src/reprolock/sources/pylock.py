"""Read a PEP 751 ``pylock.toml``, validated by ``packaging.pylock``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from packaging.pylock import Pylock, PylockValidationError
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

from reprolock.errors import InputError
from reprolock.records import FileKind, Origin, Requirement, Secret, SourceFile, VcsRef
from reprolock.redaction import redact
from reprolock.sources.pyproject import LineFinder, load_toml

if TYPE_CHECKING:
    from packaging.pylock import Package


def _hashes(package: Package) -> tuple[str, ...]:
    tables: list[Mapping[str, str]] = [wheel.hashes for wheel in package.wheels or ()]
    if package.sdist is not None:
        tables.append(package.sdist.hashes)
    if package.archive is not None:
        tables.append(package.archive.hashes)
    return tuple(sorted({f"{algo}:{value}" for table in tables for algo, value in table.items()}))


def _url(package: Package) -> tuple[str | None, VcsRef | None, bool]:
    """(url, vcs reference, is local) of a package that is not from an index."""
    if package.vcs is not None:
        location = package.vcs.url or package.vcs.path or ""
        ref = package.vcs.commit_id
        return location, VcsRef(vcs=package.vcs.type, url=location, ref=ref), package.vcs.url is None
    if package.directory is not None:
        return package.directory.path, None, True
    if package.archive is not None:
        location = package.archive.url or package.archive.path or ""
        return location, None, package.archive.url is None
    return None, None, False


def _dependencies(package: Package) -> tuple[str, ...]:
    """A package's edges: reprolock's ``requires`` (with specifiers) when present, else the names in ``dependencies``.

    A universal lock names a dependency once per entry it reaches (``{ name = "numpy",
    version = "2.0.2" }`` and ``{ name = "numpy", version = "2.2.6" }``): one edge per
    name, as the entries' markers choose which of them a target installs.
    """
    tool = package.tool.get("reprolock") if isinstance(package.tool, Mapping) else None
    requires = tool.get("requires") if isinstance(tool, Mapping) else None
    if isinstance(requires, list) and all(isinstance(item, str) for item in requires):
        return tuple(requires)
    names = (str(dep.get("name", "")) for dep in package.dependencies or () if isinstance(dep, Mapping))
    return tuple(dict.fromkeys(canonicalize_name(name) for name in names if name))


def read_pylock(text: str, display: str) -> SourceFile:
    """The packages of a lock file as exactly pinned records."""
    data = load_toml(text, display)
    try:
        lock = Pylock.from_dict(data)
    except PylockValidationError as exc:
        where = f" at {exc.context}" if exc.context else ""
        raise InputError(f"{display}: invalid pylock file{where}: {exc.message}", hint="regenerate the lock file") from None
    finder = LineFinder(text)
    cursor = finder.header("packages")
    requirements: list[Requirement] = []
    secrets: list[Secret] = []
    edges: list[tuple[str, tuple[str, ...]]] = []
    for package in lock.packages:
        edges.append((canonicalize_name(package.name), _dependencies(package)))
        index = finder.value(f'"{package.name}"', cursor)
        if index is not None:
            cursor = index + 1
        origin = Origin(display, index + 1 if index is not None else None)
        url, vcs, local = _url(package)
        shown_url, secret_count = redact(url) if url else (None, 0)
        version = str(package.version) if package.version is not None else None
        requirements.append(
            Requirement(
                name=package.name,
                raw_name=package.name,
                specifier=SpecifierSet(f"=={version}") if version else SpecifierSet(),
                origin=origin,
                text=f"{package.name}=={version}" if version else package.name,
                marker=str(package.marker) if package.marker else None,
                url=shown_url,
                vcs=VcsRef(vcs.vcs, redact(vcs.url)[0], vcs.ref) if vcs else None,
                hashes=_hashes(package),
                local=local,
            ),
        )
        if secret_count:
            secrets.append(Secret("package URL", origin, package.name))
    return SourceFile(
        path=display,
        kind=FileKind.PYLOCK,
        requirements=tuple(requirements),
        secrets=tuple(secrets),
        lock_dependencies=tuple(edges),
        requires_python=str(lock.requires_python) if lock.requires_python else None,
        valid_where=tuple(str(marker) for marker in lock.environments or ()),
    )
