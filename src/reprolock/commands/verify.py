"""``reprolock verify LOCK``: the environment must match the lockfile exactly.

The lock's packages for the target are the declared side; what is installed
is read from disk, with each distribution's ``direct_url.json`` and RECORD
(see :func:`reprolock.checks.exact.check_lock` for what is reported).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from reprolock.checks.exact import InstalledFacts, check_lock, check_target
from reprolock.commands.output import deliver
from reprolock.errors import InputError
from reprolock.policy import build_policy, read_config
from reprolock.records import FileKind
from reprolock.report import build_report
from reprolock.sources.environment import inspect
from reprolock.sources.integrity import built_from, check_record, direct_source
from reprolock.sources.loader import load

if TYPE_CHECKING:
    import argparse
    from collections.abc import Sequence

    from reprolock.commands import Context
    from reprolock.findings import Finding
    from reprolock.records import Environment, Requirement, SourceFile


def lock_findings(files: Sequence[SourceFile], environment: Environment, *, folders: Sequence[Path], allow_extra: bool = False) -> list[Finding]:
    """Every way ``environment`` differs from the lock ``files``; ``folders`` are where the lock's relative paths may start."""
    lock = [req for source in files if source.kind is not FileKind.CONSTRAINTS for req in source.requirements if not req.constraint]
    winners = environment.winners()
    facts = InstalledFacts(
        covered=_covered(environment, lock, folders),
        sources={name: direct_source(dist) for name, dist in winners.items()},
        records={name: check_record(dist) for name, dist in winners.items()},
    )
    stated = [item for source in files for item in check_target(source, environment.interpreter.marker_env)]
    return [*stated, *check_lock(environment, lock, facts, allow_extra=allow_extra)]


def _covered(environment: Environment, lock: Sequence[Requirement], folders: Sequence[Path]) -> frozenset[str]:
    """Installed distributions built from a path that an unnamed lock entry gives (``./proj``, ``-e ./proj``).

    pip reads such a path from the current directory; the lock's own folder is
    accepted too, as a lock is usually run from where it lies.
    """
    paths = {
        os.path.realpath(folder / Path(built_from(req.url) or req.url))
        for req in lock
        if req.name is None and req.local and req.url
        for folder in folders
    }
    return frozenset(name for name, dist in environment.winners().items() if built_from(dist.direct_url) in paths)


def run(args: argparse.Namespace, context: Context) -> int:
    policy = build_policy(read_config(context.cwd / "pyproject.toml"), fail_on=args.fail_on, ignore=args.ignore)
    files = load([args.lock], cwd=context.cwd)
    if not any(source.requirements for source in files):
        raise InputError(f"{args.lock}: no pinned packages in this lockfile", hint="give a requirements-style lock or pylock.toml")
    environment = inspect(args.python, context.cwd, pip_index=False, modules=False)
    folders = [context.cwd, (context.cwd / args.lock).parent]
    found = lock_findings(files, environment, folders=folders, allow_extra=args.allow_extra)
    report = build_report(files, found, policy, environment=environment, command="verify")
    return deliver(report, args.format, args.output, verbose=args.verbose, context=context)
