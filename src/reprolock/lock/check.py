"""``lock --check``: is the existing lockfile still what the inputs give? (RL406)

Two steps. First, without the index: every root requirement must be pinned
in the lock at a version it accepts. Then, the lock is regenerated with its
own pins preferred and compared with the file: any difference (a package
added or dropped, a version, a hash, the header's command) makes it stale.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from reprolock.findings import Finding, finding
from reprolock.lock.existing import pins_from_pylock_text, pins_from_text, pins_of, read_existing
from reprolock.lock.writers import is_pylock
from reprolock.records import Origin

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping
    from pathlib import Path

    from reprolock.lock.provider import Need


def precheck(path: Path, display: str, roots: Callable[[], Iterable[Need]] | None) -> list[Finding] | None:
    """The first step: findings when the lockfile is missing or its pins miss a root, ``None`` to go on and regenerate it.

    ``roots`` is called only when the file exists (``None``: a lock of given pins, whose roots only regenerating checks).
    """
    text = read_existing(path)
    if text is None:
        return [finding("RL406", f"{display} does not exist yet: run the command without --check", location=Origin(display))]
    if roots is None:
        return None
    return unmet_roots(roots(), pins_of(text, path), display) or None


def unmet_roots(roots: Iterable[Need], pins: Mapping[str, str], lock_path: str) -> list[Finding]:
    """RL406 for each root requirement the existing pins do not satisfy (no index needed)."""
    found = []
    for need in roots:
        pinned = pins.get(need.name)
        where = need.source.origin if need.source is not None else None
        if pinned is None:
            found.append(finding("RL406", f"{lock_path} is stale: {need} is not in it", package=need.name, location=where, lock=lock_path))
        elif not need.specifier.contains(pinned, prereleases=True):
            found.append(finding("RL406", f"{lock_path} is stale: it pins {need.name}=={pinned}, which does not satisfy {need}", package=need.name, location=where, lock=lock_path))
    return found


def compare_file(path: Path, display: str, fresh: str) -> list[Finding]:
    """The second step: RL406 when the file at ``path`` is not the regenerated text (a missing file is empty)."""
    return compare(read_existing(path) or "", fresh, display, pylock=is_pylock(display))


def compare(existing: str, fresh: str, lock_path: str, *, pylock: bool) -> list[Finding]:
    """RL406 when the regenerated text differs from the file, naming what changed."""
    if existing == fresh:
        return []
    before, after = (pins_from_pylock_text(existing), pins_from_pylock_text(fresh)) if pylock else (pins_from_text(existing), pins_from_text(fresh))
    added = sorted(set(after) - set(before))
    removed = sorted(set(before) - set(after))
    changed = sorted(name for name in set(before) & set(after) if before[name] != after[name])
    parts = [f"{label}: {', '.join(names)}" for label, names in (("to add", added), ("to remove", removed), ("to change", changed)) if names]
    what = "; ".join(parts) if parts else "same pins, but hashes, annotations or the header differ"
    return [
        finding(
            "RL406",
            f"{lock_path} is stale: regenerating it gives a different file ({what})",
            location=Origin(lock_path),
            added=added,
            removed=removed,
            changed={name: {"locked": before[name], "now": after[name]} for name in changed},
        ),
    ]
