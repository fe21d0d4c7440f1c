"""What can be checked of an installed distribution's files: its RECORD against the disk, and the archive pip recorded.

An installed ``.dist-info`` keeps no hash of the wheel it came from, except
when pip installed it from a direct URL or file (``direct_url.json``,
``archive_info.hashes``). What every pip install does keep is RECORD: the
hash of each file it wrote. Both are read here for ``verify``; a file that no
longer matches its RECORD hash, or is gone, means the installed distribution
is no longer the one that was installed. Files RECORD lists without a hash
(``.pyc``, RECORD itself) are not checked.
"""

from __future__ import annotations

import base64
import csv
import dataclasses
import json
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from collections.abc import Sequence

    from reprolock.records import InstalledDistribution


@dataclass(frozen=True, slots=True)
class RecordCheck:
    """The files a RECORD lists with a hash, compared with the disk."""

    checked: int = 0
    changed: tuple[str, ...] = ()
    """Paths as RECORD writes them, whose content has another hash."""
    missing: tuple[str, ...] = ()

    @property
    def intact(self) -> bool:
        return self.checked > 0 and not self.changed and not self.missing


@dataclass(frozen=True, slots=True)
class DirectSource:
    """How pip says a distribution was installed (``direct_url.json``); empty when it came from an index."""

    archive_hashes: tuple[str, ...] = ()
    """``algo:hexdigest`` of the archive installed, as a lock writes hashes."""
    from_directory: bool = False
    """Built from a local folder (``dir_info``), editable or not."""


def built_from(url: str | None) -> str | None:
    """The real path of the folder or file a ``file:`` URL names (``None`` for any other URL)."""
    if not url or not url.startswith("file:"):
        return None
    from urllib.request import url2pathname  # noqa: PLC0415 - urllib.request brings http.client and ssl (~7 ms), for the rare file: URL

    return os.path.realpath(url2pathname(urlsplit(url).path))


def _rows(record_path: str) -> list[list[str]]:
    try:
        with open(record_path, encoding="utf-8", errors="replace", newline="") as handle:  # noqa: PTH123 - plain strings, as the scan
            return list(csv.reader(handle))
    except (OSError, csv.Error):
        return []


def _digest(path: str, algorithm: str) -> str | None:
    """The RECORD form of a file's hash (urlsafe base64, no padding); ``None`` for an algorithm hashlib lacks."""
    import hashlib  # noqa: PLC0415 - OpenSSL's start-up (~2.5 ms), only when verify or two copies of a distribution check files

    try:
        with open(path, "rb") as handle:  # noqa: PTH123 - plain strings
            digest = hashlib.file_digest(handle, algorithm).digest()
    except ValueError:
        return None
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def check_record(dist: InstalledDistribution) -> RecordCheck:
    """Every file ``dist``'s RECORD lists with a hash, hashed again (paths are relative to its ``sys.path`` entry)."""
    changed: list[str] = []
    missing: list[str] = []
    checked = 0
    for row in _rows(os.path.join(dist.metadata_path, "RECORD")):  # noqa: PTH118 - plain strings
        if len(row) < 2 or "=" not in row[1]:
            continue
        algorithm, _, expected = row[1].partition("=")
        expected = expected.rstrip("=")  # the wheel spec drops base64 padding; a tool that kept it means the same hash
        try:
            found = _digest(os.path.join(dist.path_entry, row[0]), algorithm)  # noqa: PTH118 - plain strings
        except FileNotFoundError:
            missing.append(row[0])
            checked += 1
            continue
        except OSError:
            continue  # unreadable (permissions): neither proof of a change nor of its absence
        if found is None:
            continue
        checked += 1
        if found != expected:
            changed.append(row[0])
    return RecordCheck(checked=checked, changed=tuple(sorted(changed)), missing=tuple(sorted(missing)))


def files_owner(copies: Sequence[InstalledDistribution]) -> InstalledDistribution | None:
    """Of several metadata folders of one distribution in one folder, the one whose RECORD the files on disk match.

    ``None`` when no RECORD, or more than one, matches them all.
    """
    intact = [dist for dist in copies if check_record(dist).intact]
    return intact[0] if len(intact) == 1 else None


def owner_first(found: Sequence[InstalledDistribution]) -> list[InstalledDistribution]:
    """``found`` (one folder's distributions), each name held twice or more with the copy whose files are on disk first.

    Those copies get ``files_on_disk`` set (``None``: no RECORD tells); a name
    held once is left as it is. The order otherwise stays as given.
    """
    by_name: dict[str, list[InstalledDistribution]] = {}
    for dist in found:
        by_name.setdefault(dist.name, []).append(dist)
    out: list[InstalledDistribution] = []
    for copies in by_name.values():
        if len(copies) == 1:
            out.extend(copies)
            continue
        owner = files_owner(copies)
        if owner is None:
            out.extend(dataclasses.replace(dist, files_on_disk=None) for dist in copies)
            continue
        out.append(dataclasses.replace(owner, files_on_disk=True))
        out.extend(dataclasses.replace(dist, files_on_disk=False) for dist in copies if dist is not owner)
    return out


def direct_source(dist: InstalledDistribution) -> DirectSource:
    """What ``direct_url.json`` (PEP 610) says of where ``dist`` came from."""
    try:
        with open(os.path.join(dist.metadata_path, "direct_url.json"), encoding="utf-8") as handle:  # noqa: PTH118, PTH123 - plain strings
            data = json.load(handle)
    except (OSError, ValueError):
        return DirectSource()
    if not isinstance(data, dict):
        return DirectSource()
    archive = data.get("archive_info")
    hashes: set[str] = set()
    if isinstance(archive, dict):
        table = archive.get("hashes")
        if isinstance(table, dict):
            hashes.update(f"{algo}:{value}".lower() for algo, value in table.items() if isinstance(value, str))
        legacy = archive.get("hash")  # the older single "sha256=..." form
        if isinstance(legacy, str) and "=" in legacy:
            algo, _, value = legacy.partition("=")
            hashes.add(f"{algo}:{value}".lower())
    return DirectSource(archive_hashes=tuple(sorted(hashes)), from_directory=isinstance(data.get("dir_info"), dict))
