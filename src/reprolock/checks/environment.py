"""An installed environment: copies, modules, the OS's packages and the user site.

Pure functions over an :class:`~reprolock.records.Environment`. Environment
findings are not tied to a file line (``location`` is ``None``); the paths
and versions are in ``detail``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from packaging.version import InvalidVersion, Version

from reprolock.checks.stdlib import BACKPORTS
from reprolock.findings import Finding, finding
from reprolock.rules import Severity

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

    from reprolock.records import Environment, InstalledDistribution


def _where(dist: InstalledDistribution) -> dict[str, Any]:
    return {"version": dist.version, "path": dist.path_entry, "metadata": dist.metadata_path, "sys_path_index": dist.path_index}


def check_shadowed(env: Environment) -> Iterator[Finding]:
    """Distributions installed more than once (RL301).

    The same distribution found in two or more ``sys.path`` entries (a
    virtualenv that sees the system site-packages, the user site over the
    system site, ``PYTHONPATH`` entries, separate ``lib``/``lib64`` folders)
    or twice in one folder with different versions. Only the first copy
    imports; the others confuse ``pip list``, uninstalls and upgrades. The
    finding lists every copy and names the one that wins. Two metadata
    folders in one folder (an upgrade that left the old one behind) are said
    to be that, with whose files are on disk when RECORD tells; a copy the
    OS package manager installed is named with its OS package. A
    virtualenv's own copy that wins over the same version elsewhere (pip and
    setuptools in a ``--system-site-packages`` venv) is only information.
    """
    copies: dict[str, list[InstalledDistribution]] = {}
    for dist in env.distributions:
        copies.setdefault(dist.name, []).append(dist)
    for name, found in copies.items():
        if len(found) < 2:
            continue
        severity = None
        if len({dist.path_entry for dist in found}) == 1:
            message = _one_folder(name, found)
        elif _harmless(env, found):
            severity = Severity.INFO
            others = ", ".join(dist.path_entry for dist in found[1:])
            count, copy = ("twice", "copy") if len(found) == 2 else (f"{len(found)} times", "copies")
            message = f"{name} {found[0].version} is installed {count} at the same version: the virtualenv's copy in {found[0].path_entry} wins over the {copy} in {others}"
        else:
            others = ", ".join(f"{dist.version} in {dist.path_entry}{_owned(dist)}" for dist in found[1:])
            message = f"{name} is installed {len(found)} times: {found[0].version} in {found[0].path_entry} wins on import over {others}"
        on_disk = next((dist.version for dist in found if dist.files_on_disk), None)
        yield finding("RL301", message, package=name, severity=severity, winner=_where(found[0]), copies=[_where(dist) for dist in found], on_disk=on_disk)


def _owned(dist: InstalledDistribution) -> str:
    """`` (OS package NAME)`` for a copy the OS package manager installed, when its owner is known."""
    return f" (OS package {dist.os_package})" if dist.os_package else ""


_COUNT = {2: "two", 3: "three", 4: "four"}


def _one_folder(name: str, found: list[InstalledDistribution]) -> str:
    """Several metadata folders of one distribution side by side: which one's files are there, not which "wins"."""
    versions = sorted((dist.version for dist in found), key=_version_key)
    listed = ", ".join(versions[:-1]) + f" and {versions[-1]}"
    message = f"{_COUNT.get(len(found), str(len(found)))} metadata folders for {name} in one site-packages ({found[0].path_entry}): {listed}"
    owner = next((dist for dist in found if dist.files_on_disk), None)
    return f"{message}; the files on disk are {owner.version}'s" if owner is not None else message


def _version_key(text: str) -> tuple[int, Version | str]:
    try:
        return 0, Version(text)
    except InvalidVersion:
        return 1, text


def _harmless(env: Environment, found: list[InstalledDistribution]) -> bool:
    """The virtualenv's own copy wins and every other copy is the same version: imports, pip and uninstalls all see one thing."""
    interpreter = env.interpreter
    winner = found[0]
    if not interpreter.is_venv or winner.path_entry not in interpreter.site_packages:
        return False
    same = {_version_key(dist.version) for dist in found}
    return len(same) == 1 and all(dist.path_entry != winner.path_entry for dist in found[1:])


def _stdlib_index(env: Environment) -> int:
    places = [env.interpreter.sys_path.index(path) for path in env.interpreter.stdlib_paths if path in env.interpreter.sys_path]
    return min(places) if places else -1


def check_modules(env: Environment) -> Iterator[Finding]:
    """Modules shadowed by the standard library or by each other (RL302, RL303).

    The top-level modules each distribution installs are read from its
    RECORD (else ``top_level.txt``); namespace-package portions, which many
    distributions share by design, are left out. A module named like a
    standard library module either shadows it (its folder comes first on
    ``sys.path``) or is dead code shadowed by it; built-in modules always
    win. Two distributions that both install one module overwrite each
    other's files. An installed distribution that is, or backports, a stdlib
    module of the target Python is reported as in requirement files.
    """
    interpreter = env.interpreter
    stdlib_at = _stdlib_index(env)
    owners: dict[str, list[InstalledDistribution]] = {}
    for dist in env.winners().values():
        for module in dist.top_level:
            owners.setdefault(module, []).append(dist)
        if module_finding := _backport(dist, interpreter.version, interpreter.stdlib):
            yield module_finding
    for module, dists in sorted(owners.items()):
        if module in interpreter.stdlib and not module.startswith("_"):
            for dist in dists:
                wins = module not in interpreter.builtin_modules and 0 <= dist.path_index < stdlib_at
                how = "shadows the standard library module" if wins else "is shadowed by the standard library module"
                yield finding(
                    "RL302",
                    f"{dist.name} {dist.version} installs {module!r}, which {how} {module!r}",
                    package=dist.name,
                    module=module,
                    wins=wins,
                    **_where(dist),
                )
        if len(dists) > 1:
            ordered = sorted(dists, key=lambda dist: (dist.path_index, dist.name))
            names = ", ".join(f"{dist.name} {dist.version}" for dist in ordered)
            for dist in ordered:
                yield finding(
                    "RL303",
                    f"module {module!r} is installed by {len(dists)} distributions: {names}",
                    package=dist.name,
                    module=module,
                    distributions=[{"name": other.name, **_where(other)} for other in ordered],
                )


def _backport(dist: InstalledDistribution, version: str, stdlib: frozenset[str]) -> Finding | None:
    backport = BACKPORTS.get(dist.name)
    if backport is None:
        return None
    module, since = backport
    try:
        if Version(since) > Version(version):
            return None
    except InvalidVersion:
        return None
    if module.split(".")[0] not in stdlib:
        return None
    return finding(
        "RL203",
        f"{dist.name} {dist.version} is installed, but {module} is in the standard library since Python {since}",
        package=dist.name,
        module=module,
        since=since,
        **_where(dist),
    )


def check_system(env: Environment) -> Iterator[Finding]:
    """The operating system's packages, PEP 668 and the user site (RL304, RL305, RL306, RL307).

    A distribution installed by the OS package manager (INSTALLER
    ``debian``/``rpm``/``conda``, or in a distro ``dist-packages`` folder,
    usually without a RECORD) is upgraded by the OS, not by pip; the owning
    OS package is named when ``dpkg-query``/``rpm`` knows it. The
    interpreter being marked EXTERNALLY-MANAGED, a virtualenv that sees the
    system site-packages, and every distribution loaded from the user site
    are reported too: each makes the environment depend on the machine.
    """
    interpreter = env.interpreter
    if interpreter.externally_managed:
        yield finding(
            "RL305",
            f"{interpreter.python} is marked EXTERNALLY-MANAGED (PEP 668): install into a virtualenv instead",
            marker=interpreter.externally_managed,
            python=interpreter.python,
        )
    if interpreter.is_venv and interpreter.system_site_packages:
        yield finding(
            "RL306",
            f"the virtualenv {interpreter.prefix} sees the system site-packages of {interpreter.base_prefix}",
            prefix=interpreter.prefix,
            base_prefix=interpreter.base_prefix,
        )
    user_site = interpreter.user_site if interpreter.user_site_enabled else None
    for dist in env.winners().values():
        reasons = dist.system_reasons
        if reasons:
            owner = f" (OS package {dist.os_package})" if dist.os_package else ""
            yield finding(
                "RL304",
                f"{dist.name} {dist.version} is provided by the operating system{owner}: {', '.join(reasons)}",
                package=dist.name,
                os_package=dist.os_package,
                reasons=list(reasons),
                installer=dist.installer,
                **_where(dist),
            )
        if user_site and dist.path_entry.rstrip("/") == user_site.rstrip("/"):
            yield finding("RL307", f"{dist.name} {dist.version} is loaded from the user site {user_site}", package=dist.name, **_where(dist))


# Imported while every CPython from 3.8 to 3.13 starts, before the project folder is put on
# sys.path: a project file of one of these names is never imported in their place.
STARTUP_MODULES = frozenset({"abc", "codecs", "encodings", "genericpath", "io", "os", "posixpath", "site", "stat", "zipimport"})
# The stdlib's own regression tests: listed by the probe on Pythons without sys.stdlib_module_names
# (3.8, 3.9), a package nothing outside CPython imports, and a common name for a project's tests.
_NOT_SHADOWED = frozenset({"test"})


def check_local_shadow(env: Environment, local: Mapping[str, str]) -> Iterator[Finding]:
    """Project files that shadow installed or standard library modules (RL308).

    A ``name.py`` file or a ``name/`` package (with ``__init__.py``) in the
    project directory is imported instead of the installed module of that
    name whenever Python runs from there (``python -m``, scripts, tests); a
    ``json.py``, ``typing.py`` or ``logging/`` hides the standard library's
    and breaks every tool that imports it there (``python -m venv`` too).
    ``local`` maps such module names to their paths; an editable install
    of the project itself is not a shadow, nor are built-in modules and the
    few the interpreter imports while it starts.
    """
    for dist in env.winners().values():
        if dist.editable:
            continue
        for module in dist.top_level:
            path = local.get(module)
            if path is not None:
                yield finding(
                    "RL308",
                    f"{path} in the project directory shadows {module!r} installed by {dist.name} {dist.version}",
                    package=dist.name,
                    module=module,
                    local=path,
                    **_where(dist),
                )
    interpreter = env.interpreter
    never = interpreter.builtin_modules | STARTUP_MODULES | _NOT_SHADOWED
    for module, path in sorted(local.items()):
        if module in interpreter.stdlib and module not in never:
            yield finding("RL308", f"{path} in the project directory shadows the standard library module {module!r}", module=module, local=path, stdlib=True)
