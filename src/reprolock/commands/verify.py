"""``reprolock verify LOCK``: the environment must match the lockfile exactly.

The lock's packages are the declared side of the consistency rules: a locked
package that is not installed is missing (RL402), one installed at another
version is a mismatch (RL405), an installed distribution the lock does not
have is extraneous (RL404; pip, setuptools and wheel aside), and the
installed set must be consistent in itself (RL401, as ``pip check``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from reprolock.commands.output import deliver
from reprolock.errors import InputError
from reprolock.policy import build_policy, read_config
from reprolock.records import FileKind
from reprolock.report import build_report
from reprolock.sources.loader import load

if TYPE_CHECKING:
    import argparse

    from reprolock.commands import Context
    from reprolock.findings import Finding
    from reprolock.records import Environment, SourceFile


def lock_findings(files: tuple[SourceFile, ...], environment: Environment) -> list[Finding]:
    """Every way ``environment`` differs from the lock ``files``."""
    from reprolock.checks.consistency import check_declared, check_dependencies, check_extraneous  # noqa: PLC0415
    from reprolock.dependencies import resolve_edges  # noqa: PLC0415

    winners = environment.winners()
    installed = {name: dist.version for name, dist in winners.items()}
    declared = [req for source in files if source.kind is not FileKind.CONSTRAINTS for req in source.requirements if not req.constraint]
    found = list(check_declared(declared, installed, environment.interpreter.marker_env, what="installed"))
    locked = {req.name for req in declared if req.name}
    candidates = [name for name, dist in winners.items() if not dist.editable and not dist.system_reasons]
    found.extend(check_extraneous(candidates, locked, what="installed but not in the lock"))
    deps = resolve_edges(winners.values(), environment.interpreter.marker_env)
    found.extend(check_dependencies(installed, deps.edges))
    return found


def run(args: argparse.Namespace, context: Context) -> int:
    from reprolock.sources.environment import inspect  # noqa: PLC0415 - probes an interpreter

    policy = build_policy(read_config(context.cwd / "pyproject.toml"), fail_on=args.fail_on, ignore=args.ignore)
    files = load([args.lock], cwd=context.cwd)
    if not any(source.requirements for source in files):
        raise InputError(f"{args.lock}: no pinned packages in this lockfile", hint="give a requirements-style lock or pylock.toml")
    environment = inspect(args.python, context.cwd, pip_index=False, modules=False)
    report = build_report(files, lock_findings(files, environment), policy, environment=environment, command="verify")
    return deliver(report, args.format, args.output, verbose=args.verbose, context=context)
