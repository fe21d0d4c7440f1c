"""Pins: is every package pinned to one exact, hashed version?"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING

from packaging.version import InvalidVersion, Version

from reprolock.findings import Finding, finding
from reprolock.rules import Severity

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

    from reprolock.records import Requirement, SourceFile


def check_pins(files: Sequence[SourceFile]) -> Iterator[Finding]:
    """Pins (RL101, RL102, RL109).

    A pinned set (requirements, constraints, freeze and lock files) must name
    one exact version per package: anything else lets the next install pick a
    different release. RL101 is an error there and only information in loose
    inputs (``*.in``, ``pyproject.toml``), which are meant to be loose. A pin
    without ``--hash`` trusts whatever file the index serves under that
    version (RL102); once a file hashes anything, pip refuses unhashed lines,
    so the warning becomes an error. RL109 compares exact pins across every
    file of the run, per marker, so a ``requirements.txt`` and the ``pip
    freeze`` of the environment it built must agree.
    """
    for source in files:
        for req in source.requirements:
            if req.name is None or req.is_direct:
                continue  # direct references: see check_references
            if req.pinned_version is None:
                yield _unpinned(req, pinned_set=source.kind.is_pinned_set)
            elif source.kind.is_pinned_set and not req.hashes:
                severity = Severity.ERROR if source.hash_mode else Severity.WARNING
                yield finding(
                    "RL102",
                    f"{req.name}=={req.pinned_version} has no --hash",
                    package=req.name,
                    location=req.origin,
                    severity=severity,
                    hash_mode=source.hash_mode,
                )
    yield from _inconsistent(files)


def _unpinned(req: Requirement, *, pinned_set: bool) -> Finding:
    spec = str(req.specifier)
    why = f"({spec})" if spec else "(no version given)"
    return finding(
        "RL101",
        f"{req.name} is not pinned to an exact version {why}",
        package=req.name,
        location=req.origin,
        severity=Severity.ERROR if pinned_set else Severity.INFO,
        specifier=spec,
    )


def _version_key(text: str) -> Version | str:
    """Equal versions compare equal (``8.0`` is ``8.0.0``); an invalid one compares as written."""
    try:
        return Version(text)
    except InvalidVersion:
        return text


def _inconsistent(files: Sequence[SourceFile]) -> Iterator[Finding]:
    pins: dict[tuple[str, str | None], list[Requirement]] = defaultdict(list)
    for source in files:
        for req in source.requirements:
            if req.name and req.pinned_version and not req.is_direct:
                pins[req.name, req.marker].append(req)
    for (name, _marker), reqs in pins.items():
        versions: dict[Version | str, str] = {}
        for req in reqs:
            versions.setdefault(_version_key(req.pinned_version or ""), req.pinned_version or "")
        if len(versions) < 2:
            continue
        places = ", ".join(f"{req.pinned_version} in {req.origin}" for req in reqs)
        yield finding(
            "RL109",
            f"{name} is pinned to {len(versions)} different versions: {places}",
            package=name,
            location=reqs[0].origin,
            versions=list(versions.values()),
            pins=[{"path": r.origin.path, "line": r.origin.line, "version": r.pinned_version} for r in reqs],
        )
