"""``reprolock audit``: files, an environment and the index to a report."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reprolock.checks import Target, run_file_checks
from reprolock.checks.index import subjects_from
from reprolock.checks.variants import admitted, variant_drift
from reprolock.commands.indexing import open_index
from reprolock.commands.output import deliver
from reprolock.commands.targets import named_target_of
from reprolock.dependencies import MarkerEvaluator
from reprolock.environment_audit import EnvironmentAudit, audit_environment
from reprolock.errors import UsageError
from reprolock.index.audit import audit_index
from reprolock.index.cache import run_cache_dir
from reprolock.index.models import IndexTarget
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
    from collections.abc import Mapping, Sequence

    from reprolock.checks.index import Subject
    from reprolock.commands import Context
    from reprolock.findings import Finding
    from reprolock.index.finder import IndexFinder
    from reprolock.index.models import ProjectFacts
    from reprolock.lock.othertarget import NamedTarget
    from reprolock.policy import Policy
    from reprolock.records import Environment, SourceFile


def run(args: argparse.Namespace, context: Context) -> int:
    if args.image and args.files_only:
        raise UsageError("--image and --files-only cannot be combined", hint="--image audits the image's environments")
    if (args.python_version or args.platform) and (args.python or args.image):
        raise UsageError("--python-version/--platform audit the files for a named target: no environment goes with them", hint="drop --python/--image, or drop --python-version/--platform")
    named = args.python_version or args.platform
    python = None if args.files_only or args.image or named else choose_python(args.python, context.cwd, os.environ)
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
    target = named_target_of(args.python_version, args.platform)
    if target is not None:
        files = for_target(files, target.marker_env)
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
    found = list(checked.findings) if checked is not None else run_file_checks(files, _file_target(target))
    facts: dict[str, dict[str, Any]] = {name: dict(known) for name, known in checked.facts.items()} if checked is not None else {}
    if uses_index(args, files, environment=inspected):
        index_findings, index_facts = _index_step(files, args, context, env, target)
        found.extend(imaged.placed(index_findings) if imaged else index_findings)
        for name, known in index_facts.items():
            facts.setdefault(name, {}).update(known)
    report = build_report(files, found, policy, environment=env, facts=facts)
    if checked is not None and args.format in DRAWN_FORMATS:
        report = dataclasses.replace(report, graph=_drawn(checked))
    return deliver(report, args.format, args.output, verbose=args.verbose, context=context)


def _index_step(
    files: Sequence[SourceFile], args: argparse.Namespace, context: Context, env: Environment | None, target: NamedTarget | None
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
        found, facts = audit_index(files, finder, environment=env, advisories=advisories, advisories_shown=args.advisories)
        return per_variant(found, files, finder, target), facts
    finally:
        finder.close()


def _file_target(target: NamedTarget | None) -> Target:
    """The Python the file rules judge for: the named target (its markers; the running standard library's names), else the running one."""
    running = Target.running()
    if target is None:
        return running
    return Target(version=target.marker_env["python_version"], stdlib=running.stdlib, markers=target.marker_env)


def for_target(files: Sequence[SourceFile], markers: Mapping[str, str]) -> tuple[SourceFile, ...]:
    """The files without the requirements whose marker is false for ``markers`` (what that target would install)."""
    holds = MarkerEvaluator(markers)
    return tuple(dataclasses.replace(source, requirements=tuple(req for req in source.requirements if holds(req.marker))) for source in files)


def per_variant(found: list[Finding], files: Sequence[SourceFile], finder: IndexFinder, target: NamedTarget | None) -> list[Finding]:
    """RL501 judged again, for the Pythons each pin is for: the named target, else those where its marker holds.

    ``audit_index`` judges every pin for one Python (the inspected or the running
    one); a universal lock's entry such as ``alabaster==0.7.16 ; python_full_version < "3.10"``
    is behind only when a newer release installs where its marker holds.
    """
    plan = _plan([subject for subject in subjects_from(files) if target is not None or subject.marker], target)
    if not plan:
        return found
    pages: dict[str, dict[str, ProjectFacts | None]] = {}
    for index_target, names in _asked(plan).values():
        pages[index_target.key()] = finder.summaries(sorted(names), index_target)
    judged = [(subject, [pages[item.key()].get(subject.name) for item in targets]) for subject, targets in plan]
    redone = {(subject.name, subject.origin) for subject, _ in judged}
    kept = [item for item in found if not (item.rule == "RL501" and (item.package, item.location) in redone)]
    return kept + variant_drift(judged)


def _plan(subjects: Sequence[Subject], target: NamedTarget | None) -> list[tuple[Subject, tuple[IndexTarget, ...]]]:
    """Each pin that is judged again, with the index targets it is judged for (pins whose marker holds on no sample keep their verdict)."""
    if not subjects:
        return []
    if target is not None:
        named = IndexTarget(target.python_version, frozenset(target.tags))
        return [(subject, (named,)) for subject in subjects]
    samples = _samples()
    environments = {python: [MarkerEvaluator(env) for env in envs] for python, (_, envs) in samples.items()}
    plan = []
    for subject in subjects:
        pythons = admitted(subject.marker, environments)
        if pythons:
            plan.append((subject, tuple(samples[python][0] for python in pythons)))
    return plan


def _asked(plan: Sequence[tuple[Subject, tuple[IndexTarget, ...]]]) -> dict[str, tuple[IndexTarget, set[str]]]:
    """Index target key -> the target and the names to ask its facts for."""
    asked: dict[str, tuple[IndexTarget, set[str]]] = {}
    for subject, targets in plan:
        for item in targets:
            asked.setdefault(item.key(), (item, set()))[1].add(subject.name)
    return asked


def _samples() -> dict[str, tuple[IndexTarget, list[dict[str, str]]]]:
    """Per sampled CPython minor: its index target (the wheel tags of linux, macos and windows, as ``lock --universal`` judges files) and marker environments."""
    from reprolock.lock.othertarget import UNIVERSAL_MINORS, sample_targets  # noqa: PLC0415 - only for pins with markers
    from reprolock.lock.target import running_target  # noqa: PLC0415 - as above

    running = running_target()
    samples = {}
    for minor in UNIVERSAL_MINORS:
        targets = sample_targets(minor, running)
        samples[f"3.{minor}"] = (IndexTarget(targets[0].python_version, frozenset(targets[0].tags)), [item.marker_env for item in targets])
    return samples


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
