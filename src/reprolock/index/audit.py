"""The index rules' data: pages and vulnerability data for the audited versions, then the checks.

No argparse here: the command gives a ready :class:`~reprolock.index.finder.IndexFinder`.
"""

from __future__ import annotations

import sys
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from packaging import tags

from reprolock.checks.index import IndexData, check_index, subjects_from
from reprolock.index.advisories import from_index, load_advisories
from reprolock.index.models import IndexTarget

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from pathlib import Path

    from reprolock.checks.index import Subject
    from reprolock.findings import Finding
    from reprolock.index.advisories import Vulnerability
    from reprolock.index.finder import IndexFinder
    from reprolock.records import Environment, Interpreter, SourceFile


def target_of(interpreter: Interpreter | None) -> IndexTarget:
    """The Python whose files count: the inspected interpreter, else the running one."""
    return target_for(interpreter.version if interpreter is not None else None)


def target_for(python_version: str | None) -> IndexTarget:
    """The target for an interpreter of ``python_version`` on this platform (``None``: the running interpreter)."""
    if python_version is None:
        version = ".".join(str(part) for part in sys.version_info[:3])
        return IndexTarget(version, frozenset(str(tag) for tag in tags.sys_tags()))
    parts = tuple(int(part) for part in python_version.split(".")[:2])
    platforms = list(tags.platform_tags())
    found = {*tags.cpython_tags(parts, platforms=platforms), *tags.compatible_tags(parts, f"cp{parts[0]}{parts[1]}", platforms)}
    return IndexTarget(python_version, frozenset(str(tag) for tag in found))


def _vulnerabilities(
    subjects: Sequence[Subject],
    pages: Mapping[str, Any],
    answers: Mapping[tuple[str, str], list[dict[str, Any]] | None],
    advisories: Path | None,
    shown: str | None,
) -> tuple[dict[tuple[str, str], list[Vulnerability]], tuple[str, ...]]:
    """The vulnerabilities of each audited version from ``--advisories`` and the index's ``answers``, and where they came from."""
    found: dict[tuple[str, str], list[Vulnerability]] = {}
    sources: list[str] = []
    if advisories is not None:
        database = load_advisories(advisories, shown or str(advisories))
        sources.append(f"OSV advisories in {shown or advisories}")
        for subject in subjects:
            found[(subject.name, subject.version)] = database.matches(subject.name, subject.version)
    answered = False
    for pair, entries in answers.items():
        if entries is not None and pages.get(pair[0]) is not None:
            answered = True
            found.setdefault(pair, []).extend(from_index(entries))
    if answered:
        sources.append("the index's per-version JSON")
    elif not sources:
        sources.append("the index offers no per-version vulnerability data")
    return found, tuple(sources)


def audit_index(
    files: Sequence[SourceFile],
    finder: IndexFinder,
    *,
    environment: Environment | None = None,
    advisories: Path | None = None,
    advisories_shown: str | None = None,
) -> tuple[list[Finding], dict[str, dict[str, Any]]]:
    """RL501-RL506 for the pinned requirements of ``files`` and the installed distributions of ``environment``."""
    subjects = subjects_from(files, environment)
    if not subjects:
        return [], {}
    interpreter = environment.interpreter if environment else None
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="reprolock-vulns") as pool:
        # The per-version vulnerability data needs only the names and versions: asked while the pages come.
        asked = pool.submit(finder.vulnerabilities_many, [(subject.name, subject.version) for subject in subjects])
        pages = finder.summaries((subject.name for subject in subjects), target_of(interpreter))
        answers = asked.result()
    vulnerabilities, sources = _vulnerabilities(subjects, pages, answers, advisories, advisories_shown)
    hashed = [(subject.name, subject.version) for subject in subjects if subject.hashes and pages.get(subject.name) is not None]
    data = IndexData(pages, frozenset(finder.unknown), vulnerabilities, sources, finder.listed_hashes(hashed))
    return check_index(subjects, data)


__all__ = ["audit_index", "target_for", "target_of"]
