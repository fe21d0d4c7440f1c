"""What each RECORD and METADATA of an environment say, remembered between runs.

Reading and splitting the RECORD files is most of an environment scan (a
RECORD lists every installed file; a venv of ~90 distributions holds about
2 MB of them), and parsing each METADATA with ``packaging.metadata`` is the
next largest part. Their outcomes are kept in small JSON files per
``sys.path`` entry, in the user cache:

    <cache>/records-v1/<sha256 of the entry's real path>.json
    <cache>/metadata-fields-v1/<sha256 of the entry's real path>.json

The first holds the top-level modules, namespace portions and editable
finder files each RECORD names (as :mod:`reprolock.sources.metadata` splits
them), the second the :class:`~reprolock.sources.coremetadata.MetadataFields`
of each METADATA / PKG-INFO. Each maps a metadata folder's name (``.dist-info``,
``.egg-info``) to the file's inode, size and modification time (in nanoseconds)
and the outcome. An outcome is used only while all three still match, so a
reinstall, an upgrade or an edited file is read again. The files hold names,
versions and requirements only (no paths, no URLs). Every failure to read or
write the cache is a miss, never an error: processes that share the cache
write each file through a temporary file and a rename (see
:func:`reprolock.index.cachefiles.write_atomic`, which makes the folders
private), and a damaged file or entry is read as absent and written again.
"""

from __future__ import annotations

import hashlib
import json
import os
from typing import TYPE_CHECKING, Any

from reprolock.index.cachefiles import read_file, write_atomic
from reprolock.sources.coremetadata import MetadataFields, read_fields

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

LAYOUT = "records-v1"
METADATA_LAYOUT = "metadata-fields-v1"

Outcome = tuple[tuple[str, ...], tuple[str, ...], list[str]]
"""Regular top-level modules, namespace portions, editable finder files (as RECORD names them)."""


class _StampedFiles:
    """One kind of outcome per metadata folder, one JSON file per ``sys.path`` entry, valid while the file's stamp matches."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._entries: dict[str, dict[str, list[Any]]] = {}
        """Per ``sys.path`` entry: what was on disk, then updated by this run."""
        self._seen: dict[str, set[str]] = {}
        self._changed: set[str] = set()

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

    def stored(self, entry: str, name: str, path: str) -> tuple[list[int], list[Any] | None] | None:
        """The stamp of the file at ``path`` and the outcome stored for it under ``name`` (``None``: absent or stale); ``None`` without a file."""
        known = self._load(entry)
        self._seen[entry].add(name)
        try:
            stat = os.stat(path)  # noqa: PTH116 - hot path: plain strings, no Path objects
        except OSError:
            return None
        stamp = [stat.st_ino, stat.st_size, stat.st_mtime_ns]
        stored = known.get(name)
        return stamp, stored[3:] if isinstance(stored, list) and stored[:3] == stamp else None

    def store(self, entry: str, name: str, stamp: list[int], outcome: list[Any]) -> None:
        self._entries[entry][name] = [*stamp, *outcome]
        self._changed.add(entry)

    def save(self) -> None:
        """Write the files of the entries whose outcomes changed, dropping metadata folders no longer there."""
        for entry, known in self._entries.items():
            seen = self._seen[entry]
            if entry not in self._changed and seen.issuperset(known):
                continue
            kept = {name: value for name, value in known.items() if name in seen}
            write_atomic(self._file(entry), json.dumps(kept, separators=(",", ":")).encode())


def _strings(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def _fields_from(stored: list[Any]) -> MetadataFields | None:
    """:class:`MetadataFields` from their stored form; ``None`` when it is damaged."""
    if len(stored) != 7:
        return None
    name, version, requires, extras, python, metadata_version, dynamic = stored
    if not (isinstance(name, str) and isinstance(version, str) and _strings(requires) and _strings(extras) and _strings(dynamic)):
        return None
    if not all(value is None or isinstance(value, str) for value in (python, metadata_version)):
        return None
    return MetadataFields(name, version, tuple(requires), tuple(extras), python, metadata_version, tuple(dynamic))


class RecordCache:
    """Per-distribution RECORD outcomes and METADATA fields, kept across runs; :meth:`save` writes what changed."""

    def __init__(self, folder: Path) -> None:
        self._records = _StampedFiles(folder / LAYOUT)
        self._metadata = _StampedFiles(folder / METADATA_LAYOUT)
        self.reads = 0
        """RECORD files read (and split) in this run: the cache misses."""
        self.metadata_reads = 0
        """METADATA / PKG-INFO files read (and parsed) in this run."""

    def outcome(self, entry: str, name: str, record: str, parse: Callable[[str], Outcome]) -> Outcome | None:
        """What ``parse`` gives for the RECORD at ``record`` (of ``entry``'s ``name`` folder); ``None`` without one.

        The stored outcome is returned while the file's inode, size and
        modification time match what was stored; otherwise the file is read,
        parsed and the outcome remembered for :meth:`save`.
        """
        found = self._records.stored(entry, name, record)
        if found is None:
            return None
        stamp, stored = found
        if stored is not None and len(stored) == 3 and all(isinstance(part, list) for part in stored):
            regular, namespaces, finders = stored
            return tuple(map(str, regular)), tuple(map(str, namespaces)), [str(item) for item in finders]
        # absent, changed or damaged: read the RECORD again
        try:
            with open(record, encoding="utf-8", errors="replace") as handle:  # noqa: PTH123 - hot path
                text = handle.read()
        except OSError:
            return None
        self.reads += 1
        outcome = parse(text)
        self._records.store(entry, name, stamp, [list(outcome[0]), list(outcome[1]), list(outcome[2])])
        return outcome

    def fields(self, entry: str, name: str, path: str) -> MetadataFields:
        """:func:`~reprolock.sources.coremetadata.read_fields` of the file at ``path`` (``entry``'s ``name`` metadata folder or file), remembered."""
        found = self._metadata.stored(entry, name, path)
        if found is None:
            return MetadataFields()
        stamp, stored = found
        fields = _fields_from(stored) if stored is not None else None
        if fields is None:
            self.metadata_reads += 1
            fields = read_fields(path)
            outcome = [fields.name, fields.version, list(fields.requires_dist), list(fields.provides_extra)]
            self._metadata.store(entry, name, stamp, [*outcome, fields.requires_python, fields.metadata_version, list(fields.dynamic)])
        return fields

    def save(self) -> None:
        """Write what changed (see :meth:`_StampedFiles.save`)."""
        self._records.save()
        self._metadata.save()
