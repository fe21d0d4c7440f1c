"""What each RECORD says about top-level modules, remembered between runs.

Reading and splitting the RECORD files is most of an environment scan (a
RECORD lists every installed file; a venv of ~90 distributions holds about
2 MB of them). Their outcome, the top-level modules, namespace portions and
editable finder files (as :mod:`reprolock.sources.metadata` splits them),
is kept in one small JSON file per ``sys.path`` entry, in the user cache:

    <cache>/records-v1/<sha256 of the entry's real path>.json

Each ``.dist-info`` folder name maps to the RECORD's inode, size and
modification time (in nanoseconds) and the outcome. An entry is used only
while all three still match, so a reinstall, an upgrade or an edited RECORD
is read again. The file holds module names only (no paths, no URLs). Every
failure to read or write the cache is a miss, never an error: processes that
share the cache write each file through a temporary file and a rename (see
:func:`reprolock.index.cachefiles.write_atomic`, which makes the folders private),
and a damaged file or entry is read as absent and written again.
"""

from __future__ import annotations

import hashlib
import json
import os
from typing import TYPE_CHECKING, Any

from reprolock.index.cachefiles import read_file, write_atomic

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

LAYOUT = "records-v1"

Outcome = tuple[tuple[str, ...], tuple[str, ...], list[str]]
"""Regular top-level modules, namespace portions, editable finder files (as RECORD names them)."""


class RecordCache:
    """Per-distribution RECORD outcomes, kept across runs; :meth:`save` writes what changed."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder / LAYOUT
        self._entries: dict[str, dict[str, list[Any]]] = {}
        """Per ``sys.path`` entry: what was on disk, then updated by this run."""
        self._seen: dict[str, set[str]] = {}
        self._changed: set[str] = set()
        self.reads = 0
        """RECORD files read (and split) in this run: the cache misses."""

    def _file(self, entry: str) -> Path:
        key = hashlib.sha256(os.path.realpath(entry).encode()).hexdigest()[:24]
        return self.folder / f"{key}.json"

    def _load(self, entry: str) -> dict[str, list[Any]]:
        """The stored outcomes for ``entry`` (read once per run); empty when absent or unreadable."""
        known = self._entries.get(entry)
        if known is None:
            stored = read_file(self._file(entry))
            try:
                data = json.loads(stored) if stored is not None else None
            except ValueError:  # JSONDecodeError, UnicodeDecodeError: a damaged file is absent
                data = None
            known = data if isinstance(data, dict) else {}
            self._entries[entry] = known
            self._seen[entry] = set()
        return known

    def outcome(self, entry: str, name: str, record: str, parse: Callable[[str], Outcome]) -> Outcome | None:
        """What ``parse`` gives for the RECORD at ``record`` (of ``entry``'s ``name`` folder); ``None`` without one.

        The stored outcome is returned while the file's inode, size and
        modification time match what was stored; otherwise the file is read,
        parsed and the outcome remembered for :meth:`save`.
        """
        known = self._load(entry)
        self._seen[entry].add(name)
        try:
            stat = os.stat(record)  # noqa: PTH116 - hot path: plain strings, no Path objects
        except OSError:
            return None
        stamp = [stat.st_ino, stat.st_size, stat.st_mtime_ns]
        stored = known.get(name)
        if isinstance(stored, list) and len(stored) == 6 and stored[:3] == stamp and all(isinstance(part, list) for part in stored[3:]):
            regular, namespaces, finders = stored[3:]
            return tuple(map(str, regular)), tuple(map(str, namespaces)), [str(item) for item in finders]
        # absent, changed or damaged: read the RECORD again
        try:
            with open(record, encoding="utf-8", errors="replace") as handle:  # noqa: PTH123 - hot path
                text = handle.read()
        except OSError:
            return None
        self.reads += 1
        found = parse(text)
        known[name] = [*stamp, list(found[0]), list(found[1]), list(found[2])]
        self._changed.add(entry)
        return found

    def save(self) -> None:
        """Write the files of the entries whose outcomes changed, dropping distributions no longer there."""
        for entry, known in self._entries.items():
            seen = self._seen[entry]
            if entry not in self._changed and seen.issuperset(known):
                continue
            kept = {name: value for name, value in known.items() if name in seen}
            write_atomic(self._file(entry), json.dumps(kept, separators=(",", ":")).encode())
