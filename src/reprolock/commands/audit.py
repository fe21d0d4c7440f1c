"""``reprolock audit``: files, an environment and the index to a report."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reprolock.checks import Target, declared_extras, declared_roots, run_environment_checks
from reprolock.checks import run_file_checks as run_checks
from reprolock.checks.index import subjects_from
from reprolock.commands.indexing import open_index
from reprolock.commands.output import deliver
from reprolock.dependencies import resolve_edges
from reprolock.graph import build_graph
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
    python = None if args.files_only else choose_python(args.python, context.cwd, os.environ)
    inputs = args.paths or ([] if args.freeze else ["."])  # what load() reads: a broken pyproject.toml among them is an input error
    policy = build_policy(read_config(context.cwd / "pyproject.toml", inputs=inputs), fail_on=args.fail_on, ignore=args.ignore)
    if python is None:
        return _audit(args, context, policy, None, None)
    with RunningProbe(python, context.cwd, pip_index=not args.no_index) as started:  # the interpreter starts while the files are read
        return _audit(args, context, policy, python, started)


def _audit(args: argparse.Namespace, context: Context, policy: Policy, python: str | None, started: RunningProbe | None) -> int:
    kind = FileKind(args.kind) if args.kind else None
    if python is not None and not args.paths and not args.freeze and not discover(context.cwd):
        files: tuple[SourceFile, ...] = ()  # an environment alone is enough to audit
    else:
        files = load(args.paths, cwd=context.cwd, kind=kind, freeze=args.freeze, stdin=context.stdin)
    env: Environment | None = None
    facts: dict[str, dict[str, Any]] = {}
    if python is None:
        found = run_file_checks(files, None)
    else:
        env, found, facts = _environment_step(python, files, args, context, started=started)
    if uses_index(args, files, environment=python is not None):
        index_findings, index_facts = _index_step(files, args, context, env)
        found.extend(index_findings)
        for name, known in index_facts.items():
            facts.setdefault(name, {}).update(known)
    report = build_report(files, found, policy, environment=env, facts=facts)
    if env is not None and args.format in DRAWN_FORMATS:
        report = dataclasses.replace(report, graph=_graph(env, files))
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


def run_file_checks(files: Sequence[SourceFile], target: Target | None) -> list[Finding]:
    """The static file rules for ``files`` meant for ``target`` (``None``: the running Python)."""
    return run_checks(files, target if target is not None else Target.running())


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


def _graph(env: Environment, files: Sequence[SourceFile]) -> GraphView:
    """The environment's graph, rooted at the files' requirements when they name any that are installed."""
    winners = env.winners()
    roots = [name for name in declared_roots(files) if name in winners]
    graph = build_graph(winners.values(), env.interpreter.marker_env, roots=roots or None)
    return GraphView.from_contract(graph.to_dict())


def _record_cache(args: argparse.Namespace, context: Context) -> RecordCache | None:
    """The run's memory of what each RECORD names, in the cache folder (none with ``--no-cache``)."""
    folder = run_cache_dir(context.cwd, os.environ, cache_dir=args.cache_dir, no_cache=args.no_cache)
    return RecordCache(folder) if folder is not None else None


def _environment_step(
    python: str,
    files: Sequence[SourceFile],
    args: argparse.Namespace,
    context: Context,
    *,
    started: RunningProbe | None,
) -> tuple[Environment, list[Finding], dict[str, dict[str, Any]]]:
    """Inspect the interpreter, then run the file rules for it and the environment rules."""
    env = inspect(python, context.cwd, started=started, records=_record_cache(args, context))
    interpreter = env.interpreter
    target = Target(
        version=".".join(interpreter.version.split(".")[:2]),
        stdlib=frozenset(name.replace("_", "-").lower() for name in interpreter.stdlib if not name.startswith("_")),
        markers=interpreter.marker_env,
    )
    winners = env.winners()
    deps = resolve_edges(winners.values(), interpreter.marker_env, root_extras=declared_extras(files))
    found = run_file_checks(files, target)
    found.extend(run_environment_checks(env, files, deps, local_modules(context.cwd), project=context.cwd))
    required_by: dict[str, set[str]] = {}
    for edge in deps.edges:
        if edge.source in winners:
            required_by.setdefault(edge.target, set()).add(edge.source)
    facts = {
        name: {"installer": dist.installer, "location": dist.path_entry, "required_by": sorted(required_by.get(name, ()))}
        for name, dist in winners.items()
    }
    return env, found, facts
