"""The entries of a universal lock, judged for the Pythons their markers admit.

A universal lock (``reprolock lock --universal``, ``uv pip compile
--universal``) pins a package once per version it needs, each entry with a
PEP 508 marker (``numpy==2.0.2 ; python_full_version < "3.10"``). Such an
entry is behind only when a newer release could be installed where its marker
holds: the newest release for it is the newest whose files some of those
Pythons can install (``requires-python`` and wheel tags). Pure: the caller
samples the targets (a marker environment per Python and platform) and gives
the index's facts for each Python.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from reprolock.checks.index import drift
from reprolock.versions import parse_version

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

    from reprolock.checks.index import Subject
    from reprolock.dependencies import MarkerEvaluator
    from reprolock.findings import Finding
    from reprolock.index.models import ProjectFacts

def admitted(marker: str | None, samples: Mapping[str, Sequence[MarkerEvaluator]]) -> tuple[str, ...]:
    """The Pythons (keys of ``samples``) on some platform of which ``marker`` holds (each platform's evaluator given); a marker with no Python condition admits all."""
    return tuple(python for python, platforms in samples.items() if any(holds(marker) for holds in platforms))


def merged(pages: Iterable[ProjectFacts | None]) -> ProjectFacts | None:
    """One project's facts for several Pythons as one: a release fits when it fits any of them."""
    found = [page for page in pages if page is not None]
    if not found:
        return None
    fits: dict[str, bool] = {}
    for page in found:
        for release in page.releases:
            fits[release.normalized] = fits.get(release.normalized, False) or release.fits
    first = found[0]
    releases = tuple(release._replace(fits=fits[release.normalized]) for release in first.releases)
    return dataclasses.replace(first, releases=releases)


def variant_drift(judged: Iterable[tuple[Subject, Sequence[ProjectFacts | None]]]) -> list[Finding]:
    """RL501 of each pinned entry against the newest release for the Pythons it is judged for (their facts given)."""
    found: list[Finding] = []
    for subject, pages in judged:
        page = merged(pages)
        if page is None:
            continue
        release = next((item for item in page.releases if item.normalized == _normalized(subject.version)), None)
        finding, _ = drift(subject, page, release)
        if finding is not None:
            found.append(finding)
    return found


def _normalized(version: str) -> str:
    parsed = parse_version(version)
    return str(parsed) if parsed is not None else version
