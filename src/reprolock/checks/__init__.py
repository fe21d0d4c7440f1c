"""The checks: small pure functions from records to findings, one per rule family.

Each family's docstring is its entry in ``docs/rules.md``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from reprolock.checks.consistency import check_cycles, check_declared, check_dependencies, check_extraneous
from reprolock.checks.environment import check_local_shadow, check_modules, check_shadowed, check_system
from reprolock.checks.exact import check_lock
from reprolock.checks.freeze import check_freeze
from reprolock.checks.hygiene import check_hygiene
from reprolock.checks.image import check_image
from reprolock.checks.pins import check_pins
from reprolock.checks.references import check_references
from reprolock.checks.stdlib import Target, check_stdlib
from reprolock.graph import find_cycles, reachable
from reprolock.records import FileKind
from reprolock.sources.integrity import built_from

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping, Sequence

    from reprolock.dependencies import Dependencies
    from reprolock.findings import Finding
    from reprolock.records import Environment, Requirement, SourceFile

FILE_CHECKS = (check_pins, check_references, check_hygiene, check_freeze, check_stdlib, check_image)
ENVIRONMENT_CHECKS = (
    check_shadowed,
    check_modules,
    check_system,
    check_local_shadow,
    check_dependencies,
    check_cycles,
    check_extraneous,
    check_declared,
    check_lock,
)


def run_file_checks(files: Sequence[SourceFile], target: Target) -> list[Finding]:
    """Every finding the static file rules (RL1xx, RL2xx, RL6xx) give for ``files``."""
    found: list[Finding] = []
    found.extend(check_pins(files))
    found.extend(check_references(files))
    found.extend(check_hygiene(files))
    found.extend(check_freeze(files))
    found.extend(check_stdlib(files, target))
    found.extend(check_image(files))
    return found


# pyproject sections that are not what the project needs to run: the build backend's requirements,
# and the optional extras and dependency groups, which only an install that asks for them brings.
_BUILD = ("build-system.",)
_OPTIONAL = ("project.optional-dependencies.", "dependency-groups.")


def _declared(files: Sequence[SourceFile]) -> Iterator[Requirement]:
    """Named requirements the files ask for directly (not constraints, not freeze dumps)."""
    for source in files:
        if source.kind in {FileKind.FREEZE, FileKind.CONSTRAINTS}:
            continue
        for req in source.requirements:
            if req.name is not None and not req.constraint:
                yield req


def is_runtime(req: Requirement) -> bool:
    """Whether ``req`` is needed at run time: not a ``[build-system]`` requirement, not an extra or group nobody asked for."""
    return not (req.section or "").startswith(_BUILD + _OPTIONAL)


def runtime_requirements(files: Sequence[SourceFile]) -> list[Requirement]:
    """Every requirement of the files that the installed environment must satisfy."""
    return [req for source in files for req in source.requirements if is_runtime(req)]


def declared_roots(files: Sequence[SourceFile]) -> list[str]:
    """Names the files ask for directly at run time: the roots of "reachable"."""
    return [req.name for req in _declared(files) if req.name is not None and is_runtime(req)]


def optional_roots(files: Sequence[SourceFile]) -> list[str]:
    """Names only a pyproject's optional extras and dependency groups ask for: allowed when installed, never required."""
    return [req.name for req in _declared(files) if req.name is not None and (req.section or "").startswith(_OPTIONAL)]


def declared_extras(files: Sequence[SourceFile]) -> dict[str, set[str]]:
    """The extras the files ask of their declared roots (``flask[async]``): they pull in the extra's requirements."""
    extras: dict[str, set[str]] = {}
    for req in _declared(files):
        if req.name is not None and req.extras and is_runtime(req):
            extras.setdefault(req.name, set()).update(req.extras)
    return extras


def project_roots(env: Environment, files: Sequence[SourceFile], project: Path | None) -> list[str]:
    """Installed distributions built from the project's own folder (``pip install .``, ``-e .``): roots, never extraneous.

    The project folder is ``project`` (where audit runs) and the folder of
    every audited ``pyproject.toml``; pip records the folder it built from in
    ``direct_url.json``.
    """
    if project is None:
        return []
    folders = {os.path.realpath(project)}
    folders.update(os.path.realpath(project / Path(source.path).parent) for source in files if source.kind is FileKind.PYPROJECT)
    return [name for name, dist in env.winners().items() if built_from(dist.direct_url) in folders]


def run_environment_checks(
    env: Environment,
    files: Sequence[SourceFile],
    deps: Dependencies,
    local: Mapping[str, str],
    *,
    project: Path | None = None,
) -> list[Finding]:
    """Every finding the environment rules (RL203, RL3xx, RL4xx) give for ``env`` and the files audited with it.

    ``project`` is the project folder: a distribution installed from it is a
    root of what is reachable.
    """
    winners = env.winners()
    installed = {name: dist.version for name, dist in winners.items()}
    found: list[Finding] = []
    found.extend(check_shadowed(env))
    found.extend(check_modules(env))
    found.extend(check_system(env))
    found.extend(check_local_shadow(env, local))
    found.extend(check_dependencies(installed, deps.edges))
    found.extend(check_cycles(find_cycles(deps.edges)))
    found.extend(check_declared(runtime_requirements(files), installed, env.interpreter.marker_env))
    roots = [*declared_roots(files), *project_roots(env, files, project)]
    if roots:
        own = {*env.interpreter.site_packages, *([env.interpreter.user_site] if env.interpreter.user_site else [])}
        candidates = [name for name, dist in winners.items() if dist.path_entry in own and not dist.editable and not dist.system_reasons]
        candidates += [req.name for source in files if source.kind is FileKind.FREEZE for req in source.requirements if req.name]
        found.extend(check_extraneous(candidates, reachable(deps.edges, [*roots, *optional_roots(files)])))
    return found


__all__ = ["ENVIRONMENT_CHECKS", "FILE_CHECKS", "Target", "declared_roots", "run_environment_checks", "run_file_checks"]
