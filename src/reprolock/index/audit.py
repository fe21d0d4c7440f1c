"""Wiring for the index rules: choose the indexes, gather pages and vulnerability data, run the checks.

``open_finder`` is shared with ``lock``: it turns the common index options
(``--index-url``, ``--extra-index-url``, ``--offline``, ``--cache-dir``,
``--no-cache``) into an :class:`~reprolock.index.finder.IndexFinder`.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reprolock.index.config import select_indexes
from reprolock.index.finder import IndexFinder
from reprolock.index.models import IndexTarget
from reprolock.index.pipdefault import cached_pip_default, open_cache, pip_default_key

if TYPE_CHECKING:
    import argparse
    from collections.abc import Mapping, Sequence

    from reprolock.checks.index import Subject
    from reprolock.commands import Context
    from reprolock.findings import Finding
    from reprolock.index.advisories import Vulnerability
    from reprolock.index.forked import Standby
    from reprolock.records import Environment, Interpreter, SourceFile
    from reprolock.sources.probe import Likely


def open_finder(
    args: argparse.Namespace,
    context: Context,
    *,
    python: str | None = None,
    pip_default: str | None = None,
    env: Mapping[str, str] | None = None,
    files: Sequence[SourceFile] = (),
) -> IndexFinder:
    """The index client for this run's options (credentials split off, cache chosen).

    ``files``: the requirement files read, whose ``--index-url`` / ``--extra-index-url`` lines count when the
    command line names no index.
    """
    env = os.environ if env is None else env
    cache = open_cache(args, context, env)
    written: tuple[str | None, tuple[str, ...]] = (None, ())
    if not (args.index_url or args.extra_index_url) and files:
        from reprolock.sources.requirements import written_indexes_in  # noqa: PLC0415 - only with files

        written = written_indexes_in(files, context.cwd)
    if pip_default is None and not (args.index_url or args.extra_index_url or written[0]):
        pip_default = cached_pip_default(python or sys.executable, cache)
    elif pip_default is not None and cache is not None and python is not None:
        cache.put_data("interpreters", pip_default_key(python), pip_default)  # the probe asked: later runs need not
    selection = select_indexes(args.index_url, args.extra_index_url, env=env, python=python, pip_default=pip_default, written=written)
    return IndexFinder(selection.indexes, cache=cache, offline=args.offline, progress=context.stderr)


def target_of(interpreter: Interpreter | None) -> IndexTarget:
    """The Python whose files count: the inspected interpreter, else the running one."""
    return target_for(interpreter.version if interpreter is not None else None)


def target_for(python_version: str | None) -> IndexTarget:
    """The target for an interpreter of ``python_version`` on this platform (``None``: the running interpreter)."""
    from packaging import tags  # noqa: PLC0415 - only when the index is consulted

    if python_version is None:
        version = ".".join(str(part) for part in sys.version_info[:3])
        return IndexTarget(version, frozenset(str(tag) for tag in tags.sys_tags()))
    parts = tuple(int(part) for part in python_version.split(".")[:2])
    platforms = list(tags.platform_tags())
    found = {*tags.cpython_tags(parts, platforms=platforms), *tags.compatible_tags(parts, f"cp{parts[0]}{parts[1]}", platforms)}
    return IndexTarget(python_version, frozenset(str(tag) for tag in found))


def _vulnerabilities(
    finder: IndexFinder, subjects: Sequence[Subject], pages: Mapping[str, Any], advisories: str | None, context: Context
) -> tuple[dict[tuple[str, str], list[Vulnerability]], tuple[str, ...]]:
    found: dict[tuple[str, str], list[Vulnerability]] = {}
    sources: list[str] = []
    if advisories:
        from reprolock.index.advisories import load_advisories  # noqa: PLC0415 - only with --advisories

        path = Path(advisories)
        database = load_advisories(path if path.is_absolute() else context.cwd / path, advisories)
        sources.append(f"OSV advisories in {advisories}")
        for subject in subjects:
            found[(subject.name, subject.version)] = database.matches(subject.name, subject.version)
    pairs = [(subject.name, subject.version) for subject in subjects if pages.get(subject.name) is not None]
    answered = False
    for pair, entries in finder.vulnerabilities_many(pairs).items():
        if entries is not None:
            from reprolock.index.advisories import from_index  # noqa: PLC0415 - only when the index has data

            answered = True
            found.setdefault(pair, []).extend(from_index(entries))
    if answered:
        sources.append("the index's per-version JSON")
    elif not sources:
        sources.append("the index offers no per-version vulnerability data")
    return found, tuple(sources)


def begin_index(files: Sequence[SourceFile], args: argparse.Namespace, context: Context, interpreter: Interpreter, standby: Standby | None) -> IndexFinder | None:
    """Open the run's index client and hand the environment's pages to the ``standby`` copy now, before the
    environment is read (names from its ``.dist-info`` folder names, and the files' pins); :func:`audit_index` collects them.
    """
    if standby is None:
        return None
    finder = open_finder(args, context, python=interpreter.python, pip_default=interpreter.pip_index_url, files=files)
    pinned: list[str] = []
    if files:  # the checks load here only when there are files: the copies get ready meanwhile
        from reprolock.checks.index import subjects_from  # noqa: PLC0415

        pinned = [subject.name for subject in subjects_from(files, None)]
    return _begin(finder, standby, interpreter.sys_path, interpreter.version, first=pinned)


def begin_index_likely(args: argparse.Namespace, context: Context, likely: Likely, standby: Standby) -> IndexFinder:
    """:func:`begin_index` for an environment audit without files, from what the virtualenv's files tell
    (:func:`~reprolock.sources.probe.likely_answer`), before the interpreter has answered.

    Keep the finder only if ``likely.agrees(interpreter)``: the copies then
    fetched the right pages, and :meth:`~IndexFinder.summaries` fetches what the
    answer adds; else close it (the copies' work is dropped) and begin again.
    """
    finder = open_finder(args, context, python=likely.python, pip_default=likely.pip_index_url)
    return _begin(finder, standby, [likely.site_packages], likely.version)


def _begin(finder: IndexFinder, standby: Standby, sys_path: Sequence[str], python_version: str, *, first: Sequence[str] = ()) -> IndexFinder:
    """Hand ``standby`` the pages of the names ``first`` and of every distribution on ``sys_path`` (from the
    ``.dist-info`` folder names), for a Python of ``python_version``."""
    from reprolock.sources.metadata import listed_distributions  # noqa: PLC0415 - environment audits only

    finder.standby = standby
    listed = listed_distributions(sys_path)
    finder.begin_summaries([*first, *(name for name, _ in listed)], target_for(python_version), probe=listed[0] if listed else None)
    return finder


def audit_index(
    files: Sequence[SourceFile],
    args: argparse.Namespace,
    context: Context,
    *,
    environment: Environment | None = None,
    standby: Standby | None = None,
    finder: IndexFinder | None = None,
) -> tuple[list[Finding], dict[str, dict[str, Any]]]:
    """RL501-RL506 for the pinned requirements of ``files`` and the installed distributions.

    ``standby`` is a copy of the process forked early to share the pages with (see :mod:`reprolock.index.forked`);
    ``finder`` the client :func:`begin_index` opened.
    """
    from reprolock.checks.index import IndexData, check_index, subjects_from  # noqa: PLC0415 - after the pages are handed over

    subjects = subjects_from(files, environment)
    if not subjects:
        if finder is not None:
            finder.close()
        return [], {}
    interpreter = environment.interpreter if environment else None
    if finder is None:
        finder = open_finder(
            args,
            context,
            python=interpreter.python if interpreter else None,
            pip_default=interpreter.pip_index_url if interpreter else None,
            files=files,
        )
        finder.standby = standby
    try:
        probe = (subjects[0].name, subjects[0].version)  # the first version _vulnerabilities asks about, as a rule
        pages = finder.summaries((subject.name for subject in subjects), target_of(interpreter), probe=probe)
        vulnerabilities, sources = _vulnerabilities(finder, subjects, pages, args.advisories, context)
    finally:
        finder.close()
    data = IndexData(pages, frozenset(finder.unknown), vulnerabilities, sources)
    return check_index(subjects, data)


__all__ = ["audit_index", "begin_index", "begin_index_likely", "open_finder", "target_for", "target_of"]
