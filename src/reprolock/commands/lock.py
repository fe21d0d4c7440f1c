"""``reprolock lock``: resolve the inputs (or pin an environment / a freeze) and write a lockfile."""

from __future__ import annotations

import contextlib
import shlex
from dataclasses import dataclass
from typing import TYPE_CHECKING

from reprolock.commands.indexing import open_index
from reprolock.errors import UsageError
from reprolock.output import check_writable, write_atomic
from reprolock.policy import build_policy, read_config
from reprolock.records import FileKind
from reprolock.report import build_report
from reprolock.sources.loader import load
from reprolock.sources.probe import find_interpreter

if TYPE_CHECKING:
    import argparse
    from collections.abc import Iterator, Sequence
    from pathlib import Path

    from reprolock.commands import Context
    from reprolock.findings import Finding
    from reprolock.index.finder import IndexFinder
    from reprolock.index.models import PackageFinder
    from reprolock.lock.model import Lock
    from reprolock.lock.target import LockTarget
    from reprolock.records import Environment, SourceFile
    from reprolock.report import Report

METADATA_WORKERS = 16


@dataclass(frozen=True, slots=True)
class _Job:
    """One ``lock`` run's settled inputs."""

    args: argparse.Namespace
    files: Sequence[SourceFile]
    target: LockTarget
    command: str
    cwd: Path


def _default_inputs(cwd: Path) -> list[str]:
    for name in ("requirements.in", "pyproject.toml"):
        if (cwd / name).is_file():
            return [name]
    raise UsageError("no INPUT given and no requirements.in or pyproject.toml here", hint="name the files to lock")


def _validate(args: argparse.Namespace) -> None:
    if args.from_env and args.from_freeze:
        raise UsageError("--from-env and --from-freeze cannot be combined")
    if args.check and not args.output:
        raise UsageError("--check needs -o FILE: the lockfile to check")
    if args.output and not (args.output.endswith(".txt") or _is_pylock(args.output)):
        raise UsageError(f"-o {args.output}: write *.txt (requirements style) or pylock.toml / pylock.NAME.toml")


def _is_pylock(path: str) -> bool:
    from reprolock.lock.writers import is_pylock  # noqa: PLC0415 - cheap, but keep this module's imports lean

    return is_pylock(path)


def regenerate_command(args: argparse.Namespace, inputs: Sequence[str]) -> str:
    """The command line that writes the same file again (printed in its header)."""
    argv = ["reprolock", "lock", *inputs]
    if args.python:
        argv += ["--python", args.python]
    for extra in args.extra:
        argv += ["--extra", extra]
    for group in args.group:
        argv += ["--group", group]
    argv += [flag for flag, on in (("--pre", args.pre), ("--no-hashes", args.no_hashes), ("--from-env", args.from_env)) if on]
    if args.from_freeze:
        argv += ["--from-freeze", args.from_freeze]
    if args.output:
        argv += ["-o", args.output]
    return shlex.join(argv)


@contextlib.contextmanager
def open_finder(args: argparse.Namespace, context: Context, target: LockTarget, files: Sequence[SourceFile] = ()) -> Iterator[IndexFinder]:
    """The index client for this run (flags, the inputs' index lines, pip configuration of the target, cache), closed afterwards."""
    python = str(find_interpreter(target.python, context.cwd)) if target.python else None
    finder = open_index(args, context, python=python, files=files)
    try:
        yield finder
    finally:
        finder.close()


def inspect_environment(python: str | None, cwd: Path) -> Environment:
    """The environment ``--from-env`` pins: ``--python``, else ``$VIRTUAL_ENV``, else ``./.venv``."""
    from reprolock.sources.environment import inspect  # noqa: PLC0415 - probes an interpreter

    return inspect(python, cwd, pip_index=False, modules=False)


def _resolved(job: _Job, finder: IndexFinder) -> tuple[Lock, list[Finding]]:
    from reprolock.lock.direct import direct_findings, with_direct  # noqa: PLC0415 - lock machinery only when locking
    from reprolock.lock.existing import existing_pins  # noqa: PLC0415
    from reprolock.lock.inputs import collect_roots  # noqa: PLC0415
    from reprolock.lock.provider import ResolveOptions  # noqa: PLC0415
    from reprolock.lock.resolve import lock_from_roots  # noqa: PLC0415

    roots = collect_roots(job.files, job.target.marker_env, extras=job.args.extra, groups=job.args.group)
    roots, direct = with_direct(roots, finder.get, job.cwd, offline=finder.offline)
    preferred = {} if job.args.upgrade or not job.args.output else existing_pins(job.cwd / job.args.output)
    for name in _upgrade_names(job.args.upgrade_package):
        preferred.pop(name, None)
    options = ResolveOptions(allow_pre=job.args.pre, preferred=preferred, constraints=roots.constraints, direct=direct)
    lock = lock_from_roots(roots, job.files, finder, job.target, options, command=job.command, workers=METADATA_WORKERS)
    return lock, direct_findings(direct)


def _upgrade_names(values: Sequence[str]) -> list[str]:
    from packaging.requirements import InvalidRequirement, Requirement  # noqa: PLC0415
    from packaging.utils import canonicalize_name  # noqa: PLC0415

    names: list[str] = []
    for value in values:
        try:
            names.append(canonicalize_name(Requirement(value).name))
        except InvalidRequirement:
            raise UsageError(f"--upgrade-package {value}: not a package name") from None
    return names


def _from_freeze(job: _Job, finder: PackageFinder) -> tuple[Lock, list[Finding]]:
    from reprolock.checks.freeze import check_freeze  # noqa: PLC0415
    from reprolock.lock.fromsources import pins_from_freeze  # noqa: PLC0415
    from reprolock.lock.inputs import collect_roots, named_needs  # noqa: PLC0415
    from reprolock.lock.pinned import pinned_lock  # noqa: PLC0415

    (freeze,) = load([job.args.from_freeze], cwd=job.cwd, kind=FileKind.FREEZE)
    roots = named_needs(collect_roots(job.files, job.target.marker_env, extras=job.args.extra, groups=job.args.group)) if job.files else None
    lock, findings = pinned_lock(pins_from_freeze(freeze), roots, finder, job.target, command=job.command, workers=METADATA_WORKERS)
    return lock, [*check_freeze([freeze]), *findings]


def _from_env(job: _Job, finder: PackageFinder) -> tuple[Lock, list[Finding]]:
    from reprolock.lock.fromsources import TOOLING, pins_from_environment  # noqa: PLC0415
    from reprolock.lock.inputs import collect_roots, named_needs  # noqa: PLC0415
    from reprolock.lock.pinned import pinned_lock  # noqa: PLC0415
    from reprolock.lock.provider import Need  # noqa: PLC0415
    environment = inspect_environment(job.args.python, job.cwd)
    pins = pins_from_environment(environment)
    if job.files:
        roots = named_needs(collect_roots(job.files, job.target.marker_env, extras=job.args.extra, groups=job.args.group))
    else:
        from packaging.specifiers import SpecifierSet  # noqa: PLC0415

        roots = tuple(Need(name, SpecifierSet()) for name in pins if name not in TOOLING)
    return pinned_lock(pins, roots, finder, job.target, command=job.command, workers=METADATA_WORKERS)


def _render(lock: Lock, output: str | None, *, hashes: bool, base: Path | None) -> str:
    if output is not None and _is_pylock(output):
        from reprolock.lock.writers.pylock import write_pylock  # noqa: PLC0415

        return write_pylock(lock, base=base)
    from reprolock.lock.writers.requirements import write_requirements  # noqa: PLC0415

    return write_requirements(lock, hashes=hashes)


def _check(args: argparse.Namespace, files: Sequence[SourceFile], target: LockTarget, cwd: Path) -> list[Finding] | None:
    """The index-free part of ``--check``: findings when already stale, ``None`` to go on."""
    from reprolock.findings import finding  # noqa: PLC0415
    from reprolock.lock.check import unmet_roots  # noqa: PLC0415
    from reprolock.lock.existing import existing_pins, read_existing  # noqa: PLC0415
    from reprolock.lock.inputs import collect_roots  # noqa: PLC0415
    from reprolock.records import Origin  # noqa: PLC0415

    if read_existing(cwd / args.output) is None:
        return [finding("RL406", f"{args.output} does not exist yet: run the command without --check", location=Origin(args.output))]
    if args.from_env or args.from_freeze:
        return None
    roots = collect_roots(files, target.marker_env, extras=args.extra, groups=args.group)
    return unmet_roots(roots.needs, existing_pins(cwd / args.output), args.output) or None


def run(args: argparse.Namespace, context: Context) -> int:
    from reprolock.lock.target import resolve_target  # noqa: PLC0415

    _validate(args)
    for given in (args.output if not args.check else None, args.report):
        if given:
            check_writable(context.cwd / given)  # before resolving, not after
    inputs = list(args.inputs) or ([] if args.from_env or args.from_freeze else _default_inputs(context.cwd))
    policy = build_policy(read_config(context.cwd / "pyproject.toml", inputs=inputs), fail_on=[], ignore=[])
    files = load(inputs, cwd=context.cwd) if inputs else ()
    target = resolve_target(args.python, context.cwd)
    command = regenerate_command(args, inputs)
    findings: list[Finding] = []
    early = _check(args, files, target, context.cwd) if args.check else None
    if early is not None:
        findings = early
    else:
        with open_finder(args, context, target, files) as finder:
            job = _Job(args, files, target, command, context.cwd)
            if args.from_freeze:
                lock, findings = _from_freeze(job, finder)
            elif args.from_env:
                lock, findings = _from_env(job, finder)
            else:
                lock, findings = _resolved(job, finder)
        text = _render(lock, args.output, hashes=not args.no_hashes, base=(context.cwd / args.output).parent if args.output else None)
        findings += _finish(args, context, text, len(lock.packages))
    report = build_report(files, findings, policy, command="lock")
    if early is None and args.format in {"html", "markdown"}:
        report = _with_lock(report, lock, args.output or "-")
    _deliver(args, context, report)
    return report.exit_code


def _with_lock(report: Report, lock: Lock, path: str) -> Report:
    """The report with the lock's contents and its dependency graph, for the HTML and Markdown formats."""
    import dataclasses  # noqa: PLC0415

    from reprolock.dependencies import LockedNode  # noqa: PLC0415 - only the drawn formats need these
    from reprolock.graph import build_graph  # noqa: PLC0415
    from reprolock.render.views import GraphView, LockContents  # noqa: PLC0415
    from reprolock.render.views import LockedPackage as Shown  # noqa: PLC0415

    shown = tuple(
        Shown(
            name=package.name,
            version=package.version,
            hashes=sum(1 for file in package.files if file.sha256),
            via=(*package.parents, *package.provenance.via_files),
            marker=package.marker,
            source=package.index,
        )
        for package in lock.packages
    )
    nodes = [LockedNode(package.name, package.version, package.requires or package.dependencies) for package in lock.packages]
    graph = GraphView.from_contract(build_graph(nodes, {}).to_dict())
    return dataclasses.replace(report, lock=LockContents(path, shown), graph=graph)



def _finish(args: argparse.Namespace, context: Context, text: str, count: int) -> list[Finding]:
    """Write (or, with ``--check``, compare) the lockfile."""
    if args.check:
        from reprolock.lock.check import compare  # noqa: PLC0415
        from reprolock.lock.existing import read_existing  # noqa: PLC0415

        stale = compare(read_existing(context.cwd / args.output) or "", text, args.output, pylock=_is_pylock(args.output))
        if not stale:
            context.stderr.write(f"reprolock: {args.output} is up to date ({count} package{'' if count == 1 else 's'})\n")
        return stale
    if args.output is None:
        context.stdout.write(text)
        return []
    write_atomic(context.cwd / args.output, text)
    context.stderr.write(f"reprolock: wrote {args.output} ({count} package{'' if count == 1 else 's'})\n")
    return []


def _deliver(args: argparse.Namespace, context: Context, report: Report) -> None:
    """The findings report: to ``--report FILE``, else shown when there is something to show."""
    from reprolock.commands.output import render  # noqa: PLC0415
    if args.report:
        text = render(report, args.format, verbose=False, context=context, to_file=True)
        write_atomic(context.cwd / args.report, text or "")
        return
    if not report.findings and args.format == "text":
        return
    stream = context.stderr if args.output is None else context.stdout
    shown = type(context)(cwd=context.cwd, stdin=context.stdin, stdout=stream, stderr=context.stderr)
    text = render(report, args.format, verbose=False, context=shown, to_file=False)
    if text is not None:
        stream.write(text)
