"""``reprolock lock``: options in, a lockfile and a findings report out.

The locking itself is :mod:`reprolock.lock` (roots, resolution, pins of an
environment or a freeze, writers, ``--check``); this module reads the inputs,
opens the index client, picks the kind of lock and delivers the file and the report.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import shlex
from dataclasses import dataclass
from typing import TYPE_CHECKING

from packaging.markers import Marker
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from reprolock.commands.indexing import open_index
from reprolock.commands.output import render
from reprolock.commands.targets import named_target_of
from reprolock.dependencies import LockedNode
from reprolock.errors import UsageError
from reprolock.graph import build_graph
from reprolock.lock.check import compare_file, precheck
from reprolock.lock.existing import marked_pins, preferred_pins, recorded_option
from reprolock.lock.fromsources import environment_lock, freeze_lock
from reprolock.lock.inputs import collect_roots
from reprolock.lock.provider import ResolveOptions
from reprolock.lock.resolve import lock_inputs
from reprolock.lock.target import parse_exclude_newer, resolve_target, running_target
from reprolock.lock.writers import is_pylock, write_lock
from reprolock.output import check_writable, write_atomic
from reprolock.policy import build_policy, read_config
from reprolock.records import FileKind
from reprolock.render.views import GraphView, LockContents
from reprolock.render.views import LockedPackage as Shown
from reprolock.report import build_report
from reprolock.sources.loader import load
from reprolock.sources.probe import find_interpreter

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence
    from pathlib import Path

    from reprolock.commands import Context
    from reprolock.findings import Finding
    from reprolock.index.finder import IndexFinder
    from reprolock.lock.inputs import Roots
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
    environment: Environment | None = None
    """With ``--image``: the image's environment that ``--from-env`` pins (read before the target)."""

    def roots(self) -> Roots:
        """The inputs' root requirements and constraints, for the target and the extras and groups asked for."""
        return collect_roots(self.files, self.target, extras=self.args.extra, groups=self.args.group)


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
    if args.image and not args.from_env:
        raise UsageError("--image needs --from-env", hint="an image's environment is locked as it is installed: reprolock lock --from-env --image PATH")
    if args.output and not (args.output.endswith(".txt") or is_pylock(args.output)):
        raise UsageError(f"-o {args.output}: write *.txt (requirements style) or pylock.toml / pylock.NAME.toml")
    _validate_target(args)


def _validate_target(args: argparse.Namespace) -> None:
    """``--python-version``/``--platform``/``--implementation`` name a target; ``--exclude-newer`` needs a resolution."""
    named = _named_flag(args)
    if named and (args.python or args.image):
        raise UsageError(f"{named} cannot be combined with --python or --image", hint="those name the target by its interpreter")
    if named and args.from_env:
        raise UsageError(f"{named} cannot be combined with --from-env", hint="an environment is pinned for its own interpreter")
    if args.universal:
        given = (("--python", args.python), ("--image", args.image), ("--from-env", args.from_env), ("--from-freeze", args.from_freeze), ("--platform", args.platform), ("--implementation", args.implementation))
        clash = next((flag for flag, on in given if on), None)
        if clash:
            raise UsageError(f"--universal cannot be combined with {clash}", hint="a universal lock covers every platform; --python-version gives its lowest Python")
    if args.exclude_newer and (args.from_env or args.from_freeze):
        raise UsageError("--exclude-newer cannot be combined with --from-env or --from-freeze", hint="their versions are given, not resolved")


def _named_flag(args: argparse.Namespace) -> str | None:
    """The first of ``--python-version``, ``--platform``, ``--implementation`` given, ``None`` if none."""
    flags = (("--python-version", args.python_version), ("--platform", args.platform), ("--implementation", args.implementation))
    return next((flag for flag, value in flags if value), None)


def _target(args: argparse.Namespace, cwd: Path) -> LockTarget:
    """The target the options choose: a named one, ``--python``'s or the running interpreter; as of ``--exclude-newer``."""
    named = None if args.universal else named_target_of(args.python_version, args.platform, args.implementation)
    target: LockTarget = named or resolve_target(args.python, cwd)
    if args.exclude_newer:
        target = dataclasses.replace(target, exclude_newer=parse_exclude_newer(args.exclude_newer))
    return target


def regenerate_command(args: argparse.Namespace, inputs: Sequence[str]) -> str:
    """The command line that writes the same file again (printed in its header)."""
    argv = ["reprolock", "lock", *inputs]
    if args.image:
        argv += ["--image", args.image]
    if args.python:
        argv += ["--python", args.python]
    for flag, value in (
        ("--python-version", args.python_version),
        ("--platform", args.platform),
        ("--implementation", args.implementation),
        ("--exclude-newer", args.exclude_newer),
    ):
        if value:
            argv += [flag, value]
    for extra in args.extra:
        argv += ["--extra", extra]
    for group in args.group:
        argv += ["--group", group]
    argv += [flag for flag, on in (("--universal", args.universal), ("--pre", args.pre), ("--no-hashes", args.no_hashes), ("--from-env", args.from_env)) if on]
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
    from reprolock.sources.environment import inspect  # noqa: PLC0415 - the environment inspector (9 ms to import) serves --from-env only

    return inspect(python, cwd, pip_index=False, modules=False)


def _image(args: argparse.Namespace, context: Context) -> tuple[Environment, LockTarget]:
    """``--image``: the image's environment and its target, read from the image's files."""
    from reprolock.commands.imaging import image_environment  # noqa: PLC0415 - only with --image: it loads the checks

    return image_environment(args.image, args.python, context)


def _upgrade_names(values: Sequence[str]) -> list[str]:
    names: list[str] = []
    for value in values:
        try:
            names.append(canonicalize_name(Requirement(value).name))
        except InvalidRequirement:
            raise UsageError(f"--upgrade-package {value}: not a package name") from None
    return names


def _universal(job: _Job, finder: IndexFinder) -> tuple[Lock, list[Finding]]:
    """``--universal``: every sampled target resolved, one lock with markers (see :mod:`reprolock.lock.universal`)."""
    from reprolock.lock import universal  # noqa: PLC0415 - the marker algebra serves --universal only

    args = job.args
    found = universal.universe(args.python_version, job.files, running_target(), exclude_newer=job.target.exclude_newer)
    upgrade = _upgrade_names(args.upgrade_package)
    entries = marked_pins(job.cwd / args.output) if args.output and not args.upgrade else []
    options = universal.sample_options(ResolveOptions(allow_pre=args.pre), lambda target: universal.preferred_for(entries, target, upgrade))
    return universal.universal_lock(
        found, job.files, finder, options, download=finder.get, cwd=job.cwd, offline=finder.offline, extras=args.extra, groups=args.group, command=job.command, workers=METADATA_WORKERS
    )


def _resolved(job: _Job, finder: IndexFinder) -> tuple[Lock, list[Finding]]:
    if job.args.universal:
        return _universal(job, finder)
    roots = job.roots()
    upgrade = _upgrade_names(job.args.upgrade_package)
    preferred = preferred_pins(job.cwd / job.args.output, upgrade, memo=finder.cache) if job.args.output and not job.args.upgrade else {}
    options = ResolveOptions(allow_pre=job.args.pre, preferred=preferred)
    return lock_inputs(
        roots, job.files, finder, job.target, options, download=finder.get, cwd=job.cwd, offline=finder.offline, command=job.command, workers=METADATA_WORKERS
    )


def _from_freeze(job: _Job, finder: IndexFinder) -> tuple[Lock, list[Finding]]:
    from reprolock.checks.freeze import check_freeze  # noqa: PLC0415 - the checks package loads every rule family (13 ms); --from-freeze only

    (freeze,) = load([job.args.from_freeze], cwd=job.cwd, kind=FileKind.FREEZE)
    lock, findings = freeze_lock(freeze, job.roots() if job.files else None, finder, job.target, command=job.command, workers=METADATA_WORKERS)
    return lock, [*check_freeze([freeze]), *findings]


def _from_env(job: _Job, finder: IndexFinder) -> tuple[Lock, list[Finding]]:
    environment = job.environment or inspect_environment(job.args.python, job.cwd)
    return environment_lock(environment, job.roots() if job.files else None, finder, job.target, command=job.command, workers=METADATA_WORKERS)


def _lock(job: _Job, context: Context) -> tuple[Lock, list[Finding]]:
    """Resolve the inputs, or pin a freeze or an environment (``--from-freeze``, ``--from-env``)."""
    with open_finder(job.args, context, job.target, job.files) as finder:
        if job.args.from_freeze:
            return _from_freeze(job, finder)
        if job.args.from_env:
            return _from_env(job, finder)
        return _resolved(job, finder)


def _check(job: _Job) -> list[Finding] | None:
    """The index-free part of ``--check``: findings when already stale, ``None`` to go on."""
    given_pins = job.args.from_env or job.args.from_freeze
    return precheck(job.cwd / job.args.output, job.args.output, None if given_pins else lambda: job.roots().needs)


def _as_recorded(args: argparse.Namespace, cwd: Path) -> argparse.Namespace:
    """``--check`` without ``--exclude-newer`` takes the date the lockfile's header records: the check regenerates it as of then."""
    if not args.check or not args.output or args.exclude_newer:
        return args
    recorded = recorded_option(cwd / args.output, "--exclude-newer")
    return argparse.Namespace(**{**vars(args), "exclude_newer": recorded}) if recorded else args


def run(args: argparse.Namespace, context: Context) -> int:
    args = _as_recorded(args, context.cwd)
    _validate(args)
    for given in (args.output if not args.check else None, args.report):
        if given:
            check_writable(context.cwd / given)  # before resolving, not after
    inputs = list(args.inputs) or ([] if args.from_env or args.from_freeze else _default_inputs(context.cwd))
    policy = build_policy(read_config(context.cwd / "pyproject.toml", inputs=inputs), fail_on=[], ignore=[])
    files = load(inputs, cwd=context.cwd) if inputs else ()
    environment, target = _image(args, context) if args.image else (None, _target(args, context.cwd))
    job = _Job(args, files, target, regenerate_command(args, inputs), context.cwd, environment)
    early = _check(job) if args.check else None
    if early is not None:
        findings = early
    else:
        lock, findings = _lock(job, context)
        text = write_lock(lock, args.output, hashes=not args.no_hashes, base=(context.cwd / args.output).parent if args.output else None)
        findings += _finish(args, context, text, len(lock.packages))
    report = build_report(files, findings, policy, command="lock")
    if early is None and args.format in {"html", "markdown"}:
        report = _with_lock(report, lock, args.output or "-")
    _deliver(args, context, report)
    return report.exit_code


def _with_lock(report: Report, lock: Lock, path: str) -> Report:
    """The report with the lock's contents and its dependency graph, for the HTML and Markdown formats."""
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
    # a universal lock's graph is the one this interpreter would install (one entry per name)
    graphed = [package for package in lock.packages if package.marker is None or Marker(package.marker).evaluate()] if lock.universal else lock.packages
    names = {package.name for package in graphed}
    nodes = [LockedNode(package.name, package.version, tuple(_requires_among(package.requires or package.dependencies, names))) for package in graphed]
    built = build_graph(nodes, {})
    graph = GraphView.from_records(built.nodes, built.edges)
    return dataclasses.replace(report, lock=LockContents(path, shown), graph=graph)


def _requires_among(requires: Sequence[str], names: set[str]) -> Iterator[str]:
    """The requirements that name one of ``names`` (a universal lock's edges to entries of other targets are left out)."""
    for text in requires:
        try:
            if canonicalize_name(Requirement(text).name) in names:
                yield text
        except InvalidRequirement:
            yield text


def _finish(args: argparse.Namespace, context: Context, text: str, count: int) -> list[Finding]:
    """Write (or, with ``--check``, compare) the lockfile."""
    if args.check:
        stale = compare_file(context.cwd / args.output, args.output, text)
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
