"""``reprolock audit``: files, an environment and the index to a report."""

from __future__ import annotations

import dataclasses
import os
from typing import TYPE_CHECKING, Any

from reprolock.collector import collector_paused
from reprolock.commands.output import deliver, preload
from reprolock.sources.environment import choose_python

if TYPE_CHECKING:
    import argparse
    from collections.abc import Callable, Mapping, Sequence

    from reprolock.checks import Target
    from reprolock.commands import Context
    from reprolock.findings import Finding
    from reprolock.index.finder import IndexFinder
    from reprolock.index.forked import Standby
    from reprolock.policy import Policy
    from reprolock.records import Environment, Interpreter, SourceFile
    from reprolock.render.views import GraphView
    from reprolock.sources.probe import Likely, RunningProbe
    from reprolock.sources.recordcache import RecordCache


def run(args: argparse.Namespace, context: Context) -> int:
    with collector_paused():
        return _run(args, context)


def _run(args: argparse.Namespace, context: Context) -> int:
    python = None if args.files_only else choose_python(args.python, context.cwd, os.environ)
    if python is None:
        return _audit(args, context, _policy(args, context), None, None)
    # The interpreter starts up first (its pip's default index is asked for whenever the index may be: the probe
    # reads it from pip's source); meanwhile this process loads the index code and forks the standby copy, which
    # inherits that code, then reads the files and hands the pages over as soon as the probe answers.
    from reprolock.sources.probe import RunningProbe  # noqa: PLC0415 - environment audits only

    standby = None
    try:
        with RunningProbe(python, context.cwd, pip_index=not args.no_index) as started:
            standby = _standby(args, context)
            ahead = _ahead(args, context, python, standby)
            return _audit(args, context, _policy(args, context), python, started, standby=standby, ahead=ahead)
    finally:
        if standby is not None:
            standby.cancel()


def _policy(args: argparse.Namespace, context: Context) -> Policy:
    from reprolock.policy import build_policy, read_config  # noqa: PLC0415 - after the standby copy is forked

    return build_policy(read_config(context.cwd / "pyproject.toml"), fail_on=args.fail_on, ignore=args.ignore)


def _standby(args: argparse.Namespace, context: Context) -> Standby | None:
    """A copy of the process, forked now, that gets ready to fetch the index pages (an environment audit may need
    dozens); ``None`` when the index is not asked, when a run fetched pages into the cache in the last few minutes
    (they are likely fresh: the copy would only take a core from the interpreter probe), or where nothing is forked.

    The index code both processes need loads here, before the fork, once for both (the copy then loads only the
    HTTP client and the trust store).
    """
    if not uses_index(args, environment=True, environ=os.environ) or args.offline:
        return None
    from reprolock.index.cache import fetched_recently, run_cache_dir  # noqa: PLC0415 - only when the index is asked

    folder = run_cache_dir(context.cwd, os.environ, cache_dir=args.cache_dir, no_cache=args.no_cache)
    if folder is not None and fetched_recently(folder):
        return None
    import reprolock.index.audit  # noqa: PLC0415 - shared with the copy (see above)
    import reprolock.index.simple  # noqa: PLC0415, F401
    from reprolock.index.forked import prepare_standby  # noqa: PLC0415

    return prepare_standby()


def _ahead(args: argparse.Namespace, context: Context, python: str, standby: Standby | None) -> tuple[Likely, IndexFinder] | None:
    """The pages of a virtualenv audited alone, handed to ``standby`` before the interpreter answers, from what the
    virtualenv's files tell (see :func:`~reprolock.index.audit.begin_index_likely`); ``None`` when that cannot be."""
    if standby is None or args.paths or args.freeze:
        return None
    from reprolock.sources.loader import discover  # noqa: PLC0415
    from reprolock.sources.probe import likely_answer  # noqa: PLC0415

    likely = None if discover(context.cwd) else likely_answer(python, context.cwd)
    if likely is None:
        return None
    from reprolock.index.audit import begin_index_likely  # noqa: PLC0415 - loaded by _standby already

    return likely, begin_index_likely(args, context, likely, standby)


def _audit(
    args: argparse.Namespace,
    context: Context,
    policy: Policy,
    python: str | None,
    started: RunningProbe | None,
    *,
    standby: Standby | None = None,
    ahead: tuple[Likely, IndexFinder] | None = None,
) -> int:
    # Loaded here, once the probe has started: the interpreter starts up meanwhile.
    from reprolock.records import FileKind  # noqa: PLC0415
    from reprolock.sources.loader import discover, load  # noqa: PLC0415

    kind = FileKind(args.kind) if args.kind else None
    if python is not None and not args.paths and not args.freeze and not discover(context.cwd):
        files: tuple[SourceFile, ...] = ()  # an environment alone is enough to audit
    else:
        files = load(args.paths, cwd=context.cwd, kind=kind, freeze=args.freeze, stdin=context.stdin)
    env: Environment | None = None
    facts: dict[str, dict[str, Any]] = {}
    with_index = uses_index(args, environment=python is not None, environ=os.environ)
    if with_index:
        from reprolock.index.audit import audit_index, begin_index  # noqa: PLC0415 - only when used; imported while the probe runs

    early: list[IndexFinder | None] = []
    if with_index and standby is not None and started is not None:  # the pages, handed over as soon as the probe answers
        finder, standby = _hand_over(files, args, context, started.result(), standby=standby, ahead=ahead)
        early.append(finder)
    from reprolock.report import build_report  # noqa: PLC0415 - after the hand-over

    if python is None:
        found = run_file_checks(files, None)
    else:

        def probed(interpreter: Interpreter) -> None:  # the index pages start downloading while the environment is read
            if with_index and not early:
                early.append(begin_index(files, args, context, interpreter, standby))

        env, found, facts = _environment_step(python, files, args, context, started=started, probed=probed)
    if with_index:
        finder = early[0] if early else None
        if finder is not None:  # the pages are being fetched by forked copies: load the renderer meanwhile
            preload(args.format)
        index_findings, index_facts = audit_index(files, args, context, environment=env, standby=standby, finder=finder)
        found.extend(index_findings)
        for name, known in index_facts.items():
            facts.setdefault(name, {}).update(known)
    report = build_report(files, found, policy, environment=env, facts=facts)
    if env is not None and args.format in DRAWN_FORMATS:
        report = dataclasses.replace(report, graph=_graph(env, files))
    return deliver(report, args.format, args.output, verbose=args.verbose, context=context)


def _hand_over(
    files: Sequence[SourceFile],
    args: argparse.Namespace,
    context: Context,
    interpreter: Interpreter,
    *,
    standby: Standby,
    ahead: tuple[Likely, IndexFinder] | None,
) -> tuple[IndexFinder | None, Standby | None]:
    """The finder whose pages the standby copy fetches, and the copy if it is still free.

    Pages handed over ahead of the probe's answer are kept when the guess was
    right; else the copies stop and the pages are handed over now, or fetched later
    by a new copy when the standby was taken.
    """
    from reprolock.index.audit import begin_index  # noqa: PLC0415 - loaded by _standby already

    if ahead is not None:
        likely, guessed = ahead
        if likely.agrees(interpreter):
            return guessed, standby
        guessed.close()
        return None, None
    return begin_index(files, args, context, interpreter, standby), standby


def run_file_checks(files: Sequence[SourceFile], target: Target | None) -> list[Finding]:
    """The static file rules for ``files`` meant for ``target`` (``None``: the running Python).

    The checks (and ``packaging``, which they parse with) load here, after the
    interpreter probe has started, so the probe runs while they import.
    """
    from reprolock.checks import Target, run_file_checks  # noqa: PLC0415 - imported while the probe runs

    return run_file_checks(files, target if target is not None else Target.running())


def uses_index(args: argparse.Namespace, *, environment: bool, environ: Mapping[str, str]) -> bool:
    """Whether the index rules (RL5xx) run: for an inspected environment, or when the run names an index.

    A run names an index with ``--index``, ``--index-url``, ``--extra-index-url``,
    ``--offline`` (the cached index), ``--advisories`` or the ``PIP_INDEX_URL`` /
    ``PIP_EXTRA_INDEX_URL`` variables. A files-only audit with none of these stays
    static and offline; ``--no-index`` always does.
    """
    if args.no_index:
        return False
    named = args.index or args.index_url or args.extra_index_url or args.offline or args.advisories
    return bool(environment or named or environ.get("PIP_INDEX_URL") or environ.get("PIP_EXTRA_INDEX_URL"))


DRAWN_FORMATS = frozenset({"html", "markdown"})
"""Report formats that draw the dependency graph (built only for them)."""


def _graph(env: Environment, files: Sequence[SourceFile]) -> GraphView:
    """The environment's graph, rooted at the files' requirements when they name any that are installed."""
    from reprolock.checks import declared_roots  # noqa: PLC0415
    from reprolock.graph import build_graph  # noqa: PLC0415
    from reprolock.render.views import GraphView  # noqa: PLC0415

    winners = env.winners()
    roots = [name for name in declared_roots(files) if name in winners]
    graph = build_graph(winners.values(), env.interpreter.marker_env, roots=roots or None)
    return GraphView.from_contract(graph.to_dict())


def _record_cache(args: argparse.Namespace, context: Context) -> RecordCache | None:
    """The run's memory of what each RECORD names, in the cache folder (none with ``--no-cache``)."""
    from reprolock.index.cache import run_cache_dir  # noqa: PLC0415 - the folder choice only, no index code
    from reprolock.sources.recordcache import RecordCache  # noqa: PLC0415 - environment audits only

    folder = run_cache_dir(context.cwd, os.environ, cache_dir=args.cache_dir, no_cache=args.no_cache)
    return RecordCache(folder) if folder is not None else None


def _environment_step(
    python: str,
    files: Sequence[SourceFile],
    args: argparse.Namespace,
    context: Context,
    *,
    started: RunningProbe | None,
    probed: Callable[[Interpreter], None] | None = None,
) -> tuple[Environment, list[Finding], dict[str, dict[str, Any]]]:
    """Inspect the interpreter, then run the file rules for it and the environment rules."""
    from reprolock.sources.environment import inspect, local_modules  # noqa: PLC0415 - environment audits only

    env = inspect(python, context.cwd, started=started, records=_record_cache(args, context), probed=probed)
    # Loaded once the pages are handed over: until then the copies that fetch them get ready on the other core.
    from reprolock.checks import Target, declared_extras, run_environment_checks  # noqa: PLC0415
    from reprolock.dependencies import resolve_edges  # noqa: PLC0415

    interpreter = env.interpreter
    target = Target(
        version=".".join(interpreter.version.split(".")[:2]),
        stdlib=frozenset(name.replace("_", "-").lower() for name in interpreter.stdlib if not name.startswith("_")),
        markers=interpreter.marker_env,
    )
    winners = env.winners()
    deps = resolve_edges(winners.values(), interpreter.marker_env, root_extras=declared_extras(files))
    found = run_file_checks(files, target)
    found.extend(run_environment_checks(env, files, deps, local_modules(context.cwd)))
    required_by: dict[str, set[str]] = {}
    for edge in deps.edges:
        if edge.source in winners:
            required_by.setdefault(edge.target, set()).add(edge.source)
    facts = {
        name: {"installer": dist.installer, "location": dist.path_entry, "required_by": sorted(required_by.get(name, ()))}
        for name, dist in winners.items()
    }
    return env, found, facts
