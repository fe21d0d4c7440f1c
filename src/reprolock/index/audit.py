"""Wiring for the index rules: choose the indexes, gather pages and vulnerability data, run the checks.

``open_finder`` is shared with ``lock``: it turns the common index options
(``--index-url``, ``--extra-index-url``, ``--offline``, ``--cache-dir``,
``--no-cache``) into an :class:`~reprolock.index.finder.IndexFinder`.
"""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reprolock.checks.index import IndexData, check_index, subjects_from
from reprolock.index.cache import Cache, default_cache_dir
from reprolock.index.config import pip_default_index, read_pip_config, select_indexes
from reprolock.index.finder import IndexFinder
from reprolock.index.models import IndexTarget

_PIP_DEFAULT_AGE = 86400.0
"""Seconds the target pip's default index is remembered."""

if TYPE_CHECKING:
    import argparse
    from collections.abc import Mapping, Sequence

    from reprolock.checks.index import Subject
    from reprolock.commands import Context
    from reprolock.findings import Finding
    from reprolock.index.advisories import Vulnerability
    from reprolock.records import Environment, Interpreter, SourceFile


def open_finder(
    args: argparse.Namespace,
    context: Context,
    *,
    python: str | None = None,
    pip_default: str | None = None,
    env: Mapping[str, str] | None = None,
) -> IndexFinder:
    """The index client for this run's options (credentials split off, cache chosen)."""
    env = os.environ if env is None else env
    cache = _cache(args, context, env)
    if pip_default is None and not (args.index_url or args.extra_index_url):
        pip_default = _cached_pip_default(python or sys.executable, cache)
    elif pip_default is not None and cache is not None and python is not None:
        cache.put_data("interpreters", _pip_default_key(python), pip_default)  # the probe asked: later runs need not
    selection = select_indexes(args.index_url, args.extra_index_url, env=env, python=python, pip_default=pip_default)
    return IndexFinder(selection.indexes, cache=cache, offline=args.offline, progress=context.stderr)


def wants_pip_default(args: argparse.Namespace, context: Context, python: str, *, env: Mapping[str, str] | None = None) -> bool:
    """Whether the environment probe should ask ``python``'s pip for its default index.

    Not when the index rules are off, the indexes are given or configured for
    pip, or the answer is remembered in the cache (importing pip in the target
    costs its probe about 30 ms on every run).
    """
    if args.no_index or args.index_url or args.extra_index_url:
        return False
    env = os.environ if env is None else env
    if read_pip_config(env, python).get("index-url", "").strip():
        return False
    cache = _cache(args, context, env)
    if cache is None:
        return True
    from reprolock.errors import InputError  # noqa: PLC0415
    from reprolock.sources.probe import find_interpreter  # noqa: PLC0415 - the executable the probe runs (and records)

    try:
        executable = str(find_interpreter(python, context.cwd))
    except InputError:
        return True  # the probe reports it
    return not isinstance(cache.get_data("interpreters", _pip_default_key(executable), _PIP_DEFAULT_AGE), str)


def _cache(args: argparse.Namespace, context: Context, env: Mapping[str, str]) -> Cache | None:
    if args.no_cache:
        return None
    folder = Path(args.cache_dir) if args.cache_dir else default_cache_dir(env)
    return Cache(folder if folder.is_absolute() else context.cwd / folder)


def _pip_default_key(python: str) -> str:
    return "pip-default-" + hashlib.sha256(str(Path(python).absolute()).encode()).hexdigest()[:16]


def _cached_pip_default(python: str, cache: Cache | None) -> str | None:
    """The target pip's default index, remembered for a day per interpreter (the query costs a subprocess)."""
    key = _pip_default_key(python)
    known = cache.get_data("interpreters", key, _PIP_DEFAULT_AGE) if cache else None
    if isinstance(known, str) and known:
        return known
    found = pip_default_index(python)
    if found and cache:
        cache.put_data("interpreters", key, found)
    return found


def target_of(interpreter: Interpreter | None) -> IndexTarget:
    """The Python whose files count: the inspected interpreter, else the running one."""
    from packaging import tags  # noqa: PLC0415 - only when the index is consulted

    if interpreter is None:
        version = ".".join(str(part) for part in sys.version_info[:3])
        return IndexTarget(version, frozenset(str(tag) for tag in tags.sys_tags()))
    parts = tuple(int(part) for part in interpreter.version.split(".")[:2])
    platforms = list(tags.platform_tags())
    found = {*tags.cpython_tags(parts, platforms=platforms), *tags.compatible_tags(parts, f"cp{parts[0]}{parts[1]}", platforms)}
    return IndexTarget(interpreter.version, frozenset(str(tag) for tag in found))


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


def audit_index(
    files: Sequence[SourceFile],
    args: argparse.Namespace,
    context: Context,
    *,
    environment: Environment | None = None,
) -> tuple[list[Finding], dict[str, dict[str, Any]]]:
    """RL501-RL506 for the pinned requirements of ``files`` and the installed distributions."""
    subjects = subjects_from(files, environment)
    if not subjects:
        return [], {}
    interpreter = environment.interpreter if environment else None
    finder = open_finder(
        args,
        context,
        python=interpreter.python if interpreter else None,
        pip_default=interpreter.pip_index_url if interpreter else None,
    )
    try:
        probe = (subjects[0].name, subjects[0].version)  # the first version _vulnerabilities asks about, as a rule
        pages = finder.summaries((subject.name for subject in subjects), target_of(interpreter), probe=probe)
        vulnerabilities, sources = _vulnerabilities(finder, subjects, pages, args.advisories, context)
    finally:
        finder.close()
    data = IndexData(pages, frozenset(finder.unknown), vulnerabilities, sources)
    return check_index(subjects, data)
