"""An installed environment against a lock, exactly: what ``reprolock verify`` reports.

Pure over records: the environment, the lock's requirements and the facts read
from each installed distribution's ``direct_url.json`` and RECORD (see
:mod:`reprolock.sources.integrity`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from reprolock.checks.consistency import check_declared, check_dependencies
from reprolock.checks.environment import check_shadowed
from reprolock.dependencies import MarkerEvaluator, resolve_edges
from reprolock.findings import Finding, finding
from reprolock.records import Origin
from reprolock.rules import Severity
from reprolock.versions import parse_specifier

if TYPE_CHECKING:
    from collections.abc import Collection, Iterator, Mapping, Sequence

    from reprolock.records import Environment, InstalledDistribution, Requirement, SourceFile
    from reprolock.sources.integrity import DirectSource, RecordCheck


@dataclass(frozen=True, slots=True)
class InstalledFacts:
    """What was read from the installed distributions beyond their metadata, by normalised name."""

    covered: Collection[str] = frozenset()
    """Installed from a folder or file that an unnamed lock entry (``./proj``, ``-e ./proj``) names."""
    sources: Mapping[str, DirectSource] = field(default_factory=dict)
    records: Mapping[str, RecordCheck] = field(default_factory=dict)


def check_lock(env: Environment, lock: Sequence[Requirement], facts: InstalledFacts, *, allow_extra: bool = False) -> list[Finding]:
    """The environment against a lock (RL301, RL401, RL402, RL404, RL405, RL507).

    In ``verify`` the environment must hold exactly the lock's packages for
    its target (lock entries whose marker is false for it do not count): a
    locked package not installed is missing, another version is a mismatch,
    and everything installed that the lock does not have is extraneous, pip,
    setuptools and wheel included; all are errors (``--allow-extra`` makes the
    extraneous ones information). A second copy of a distribution is an
    error. A hash mismatch is what can be checked honestly after the fact: an
    archive whose hash pip recorded (``direct_url.json``, installs from a file
    or URL) that the lock does not list, a package the lock hashes that was
    built from a local folder, and installed files that no longer match the
    hashes in their RECORD (edited or deleted since the install). pip keeps no
    hash of a wheel it took from an index, so those are judged by their files
    alone. The installed set must also be consistent in itself (as ``pip check``).
    """
    markers = env.interpreter.marker_env
    evaluate = MarkerEvaluator(markers)
    for_target = [req for req in lock if req.name is not None and evaluate(req.marker)]
    winners = env.winners()
    installed = {name: dist.version for name, dist in winners.items()}
    found = list(check_declared(for_target, installed, markers, what="installed"))
    found.extend(dataclasses.replace(item, severity=Severity.ERROR) for item in check_shadowed(env))
    locked = {req.name for req in for_target if req.name}
    found.extend(_extraneous(winners, locked | set(facts.covered), allow_extra=allow_extra))
    for req in for_target:
        dist = winners.get(req.name or "")
        source = facts.sources.get(req.name or "")
        if dist is not None and source is not None:
            found.extend(_archive_mismatch(req, dist, source))
    for name, dist in winners.items():
        record = facts.records.get(name)
        if record is not None and (record.changed or record.missing):
            found.append(_record_mismatch(dist, record))
    found.extend(check_dependencies(installed, resolve_edges(winners.values(), markers).edges))
    return found


def _extraneous(winners: Mapping[str, InstalledDistribution], locked: Collection[str], *, allow_extra: bool) -> Iterator[Finding]:
    severity = Severity.INFO if allow_extra else Severity.ERROR
    for name, dist in sorted(winners.items()):
        if name not in locked:
            yield finding("RL404", f"{name} {dist.version} is installed but not in the lock", package=name, severity=severity, version=dist.version, path=dist.path_entry)


def _by_algorithm(hashes: Collection[str]) -> dict[str, set[str]]:
    table: dict[str, set[str]] = {}
    for text in hashes:
        algorithm, _, value = text.lower().partition(":")
        table.setdefault(algorithm, set()).add(value)
    return table


def _archive_mismatch(req: Requirement, dist: InstalledDistribution, source: DirectSource) -> Iterator[Finding]:
    """The archive pip installed for ``req``, against the lock's hashes of it (only when both sides have a hash)."""
    if not req.hashes:
        return
    if source.from_directory:
        message = f"{dist.name} {dist.version} was built from the folder {dist.direct_url}, so it is none of the files the lock hashes"
        yield finding("RL507", message, package=dist.name, location=req.origin, locked_hashes=sorted(req.hashes))
        return
    locked = _by_algorithm(req.hashes)
    ours = _by_algorithm(source.archive_hashes)
    common = sorted(set(locked) & set(ours))
    if common and not any(ours[algorithm] & locked[algorithm] for algorithm in common):
        shown = ", ".join(f"{algorithm}:{value}" for algorithm in common for value in sorted(ours[algorithm]))
        yield finding(
            "RL507",
            f"{dist.name} {dist.version} was installed from an archive with {shown}, which the lock does not list",
            package=dist.name,
            location=req.origin,
            installed_hashes=sorted(source.archive_hashes),
            locked_hashes=sorted(req.hashes),
        )


def _listed(paths: Sequence[str]) -> str:
    return ", ".join(paths[:3]) + (f" and {len(paths) - 3} more" if len(paths) > 3 else "")


def _record_mismatch(dist: InstalledDistribution, record: RecordCheck) -> Finding:
    parts = []
    if record.changed:
        count = len(record.changed)
        parts.append(f"{count} installed file{'s' if count > 1 else ''} {'differ' if count > 1 else 'differs'} from its RECORD ({_listed(record.changed)})")
    if record.missing:
        count = len(record.missing)
        parts.append(f"{count} file{'s' if count > 1 else ''} its RECORD lists {'are' if count > 1 else 'is'} missing ({_listed(record.missing)})")
    return finding(
        "RL507",
        f"{dist.name} {dist.version}: {'; '.join(parts)}",
        package=dist.name,
        changed_files=list(record.changed),
        missing_files=list(record.missing),
        checked=record.checked,
        metadata=dist.metadata_path,
    )


def check_target(source: SourceFile, markers: Mapping[str, str]) -> list[Finding]:
    """RL405 when a lockfile states the targets it is for and the environment (``markers``) is none of them.

    A single-target lock names its one target (``# Valid only where:``, or a
    pylock's ``environments`` and ``requires-python``); a universal lock names
    the platforms it was resolved for. pip checks a pylock's statement when it
    installs; nothing does for a requirements file but this.
    """
    full = markers.get("python_full_version", "")
    specifier = parse_specifier(source.requires_python) if source.requires_python else None
    holds = MarkerEvaluator(markers)  # an unreadable marker states nothing, so it holds
    fits = not source.valid_where or any(holds(where) for where in source.valid_where)
    fits = fits and (specifier is None or specifier.contains(full, prereleases=True))
    if fits:
        return []
    stated = " or ".join(source.valid_where) or "Python " + (source.requires_python or "")
    here = f"{markers.get('implementation_name', 'python')} {full} on {markers.get('sys_platform', '?')} {markers.get('platform_machine', '?')}"
    where = (f"{stated} and Python {source.requires_python}" if source.valid_where and source.requires_python else stated)
    return [
        finding(
            "RL405",
            f"{source.path} is a lock for {where}; this environment is {here}: lock again for it",
            package="python",
            location=Origin(source.path, 1),
            locked_for=list(source.valid_where),
            requires_python=source.requires_python,
            environment=here,
        ),
    ]

