"""``reprolock audit``: files, an environment and the index to a report."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reprolock.checks import Target, run_file_checks
from reprolock.checks.index import subjects_from
from reprolock.commands.indexing import open_index
from reprolock.commands.output import deliver
from reprolock.environment_audit import EnvironmentAudit, audit_environment
from reprolock.errors import UsageError
from reprolock.index.audit import audit_index
from reprolock.index.cache import run_cache_dir
from reprolock.policy import build_policy, read_config
from reprolock.records import FileKind
from reprolock.render.views import GraphView
from reprolock.report import build_report
from reprolock.sources.environment import choose_python, inspect, local_modules
from reprolock.sources.loader import discover, load
from reprolock.sources.probe import RunningProbe
from reprolock.sources.recordcache import RecordCache

if TYPE_CHECKING:
    import argparse
    from collections.abc import Sequence

    from reprolock.commands import Context
    from reprolock.findings import Finding
    from reprolock.policy import Policy
    from reprolock.records import Environment, SourceFile


def run(args: argparse.Namespace, context: Context) -> int:
    if args.image and args.files_only:
        raise UsageError("--image and --files-only cannot be combined", hint="--image audits the image's environments")
    python = None if args.files_only or args.image else choose_python(args.python, context.cwd, os.environ)
    inputs = args.paths or ([] if args.freeze else ["."])  # what load() reads: a broken pyproject.toml among them is an input error
    policy = build_policy(read_config(context.cwd / "pyproject.toml", inputs=inputs), fail_on=args.fail_on, ignore=args.ignore)
    if python is None:
        return _audit(args, context, policy, None, None)
    with RunningProbe(python, context.cwd, pip_index=not args.no_index) as started:  # the interpreter starts while the files are read
        return _audit(args, context, policy, python, started)


def _audit(args: argparse.Namespace, context: Context, policy: Policy, python: str | None, started: RunningProbe | None) -> int:
    kind = FileKind(args.kind) if args.kind else None
    inspected = python is not None or args.image is not None
    if inspected and not args.paths and not args.freeze and not discover(context.cwd):
        files: tuple[SourceFile, ...] = ()  # an environment alone is enough to audit
    else:
        files = load(args.paths, cwd=context.cwd, kind=kind, freeze=args.freeze, stdin=context.stdin)
    imaged = None
    env: Environment | None = None
    checked: EnvironmentAudit | None = None
    if args.image:
        from reprolock.commands.imaging import audit_image  # noqa: PLC0415 - the image readers (~45 ms of imports) only for --image

        imaged = audit_image(args.image, args.python, files, context)
        env, checked = imaged.environment, imaged.checked
    elif python is not None:
        env = inspect(python, context.cwd, started=started, records=_record_cache(args, context))
        checked = audit_environment(env, files, local_modules(context.cwd), project=context.cwd)
    found = list(checked.findings) if checked is not None else run_file_checks(files, Target.running())
    facts: dict[str, dict[str, Any]] = {name: dict(known) for name, known in checked.facts.items()} if checked is not None else {}
    if uses_index(args, files, environment=inspected):
        index_findings, index_facts = _index_step(files, args, context, env)
        found.extend(imaged.placed(index_findings) if imaged else index_findings)
        for name, known in index_facts.items():
            facts.setdefault(name, {}).update(known)
    report = build_report(files, found, policy, environment=env, facts=facts)
    if checked is not None and args.format in DRAWN_FORMATS:
        report = dataclasses.replace(report, graph=_drawn(checked))
    return deliver(report, args.format, args.output, verbose=args.verbose, context=context)


def _index_step(
    files: Sequence[SourceFile], args: argparse.Namespace, context: Context, env: Environment | None
) -> tuple[list[Finding], dict[str, dict[str, Any]]]:
    """RL5xx: the index rules, with the finder for this run's options (the inspected interpreter's pip default)."""
    interpreter = env.interpreter if env is not None else None
    finder = open_index(
        args,
        context,
        python=interpreter.python if interpreter else None,
        pip_default=interpreter.pip_index_url if interpreter else None,
        files=files,
    )
    advisories = None
    if args.advisories:
        path = Path(args.advisories)
        advisories = path if path.is_absolute() else context.cwd / path
    try:
        return audit_index(files, finder, environment=env, advisories=advisories, advisories_shown=args.advisories)
    finally:
        finder.close()


def uses_index(args: argparse.Namespace, files: Sequence[SourceFile], *, environment: bool) -> bool:
    """Whether the index rules (RL5xx) run: whenever pinned versions or an environment are audited, as
    pip-audit does, or the run names an index (``--index``, ``--index-url``, ``--extra-index-url``,
    ``--offline``, ``--advisories``). ``--no-index`` keeps any run static."""
    if args.no_index:
        return False
    named = args.index or args.index_url or args.extra_index_url or args.offline or args.advisories
    return bool(environment or named or subjects_from(files))


DRAWN_FORMATS = frozenset({"html", "markdown"})
"""Report formats that draw the dependency graph (built only for them)."""


def _drawn(checked: EnvironmentAudit) -> GraphView:
    """The environment's graph as the reports draw it, from the edges the audit resolved."""
    graph = checked.graph()
    return GraphView.from_records(graph.nodes, graph.edges)


def _record_cache(args: argparse.Namespace, context: Context) -> RecordCache | None:
    """The run's memory of what each RECORD names, in the cache folder (none with ``--no-cache``)."""
    folder = run_cache_dir(context.cwd, os.environ, cache_dir=args.cache_dir, no_cache=args.no_cache)
    return RecordCache(folder) if folder is not None else None
