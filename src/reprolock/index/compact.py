"""The compact form of a page's files: one list per file, as the cache stores them, and :class:`VersionRows`.

A list per file (the fields of :class:`~reprolock.index.models.DistFile` in
order) loads several times faster than the index's JSON and holds less.
"""

from __future__ import annotations

import json
from typing import Any

from reprolock.index.models import DistFile, ProjectPage
from reprolock.versions import parse_version

_FIELDS = (
    "filename", "url", "version", "packagetype", "hashes", "requires_python",
    "yanked", "yanked_reason", "upload_time", "size", "core_metadata", "core_metadata_hashes",
)  # fmt: skip


def page_to_data(page: ProjectPage) -> dict[str, Any]:
    return {
        "name": page.name,
        "index_url": page.index_url,
        "versions": list(page.versions),
        "status": page.status,
        "status_reason": page.status_reason,
        "files": [file_data(item) for item in page.files],
    }


def page_from_data(data: dict[str, Any]) -> ProjectPage:
    return ProjectPage(
        name=data["name"],
        index_url=data["index_url"],
        files=tuple(data_file(row) for row in data["files"]),
        versions=tuple(data["versions"]),
        status=data.get("status"),
        status_reason=data.get("status_reason"),
    )


def file_data(file: DistFile) -> list[Any]:
    """A built file in the compact form (a list in ``_FIELDS`` order)."""
    return [getattr(file, key) for key in _FIELDS]


def data_file(row: list[Any]) -> DistFile:
    """A file of the compact form (as read from the cache, or as :meth:`LazyPage.to_data` made it), built."""
    values = dict(zip(_FIELDS, row, strict=True))
    values["hashes"] = _pair_tuple(values["hashes"])
    values["core_metadata_hashes"] = _pair_tuple(values["core_metadata_hashes"])
    return DistFile(**values)


def _pair_tuple(value: object) -> tuple[tuple[str, str], ...]:
    """Hash pairs of the compact form: lists once read back from JSON, tuples as made in memory."""
    if not isinstance(value, list | tuple):
        return ()
    return tuple((str(pair[0]), str(pair[1])) for pair in value)


def _grouped(items: list[Any], position: int) -> dict[str, list[Any]]:
    """``items`` (sequences) grouped by the version text at ``position``, each group in page order."""
    groups: dict[str, list[Any]] = {}
    for item in items:
        text = item[position]
        group = groups.get(text)
        if group is None:
            groups[text] = [item]
        else:
            group.append(item)
    return groups


def _filename(row: list[Any]) -> str:
    return str(row[0])


class VersionRows:
    """A page's files grouped by version text, each group kept as its compact rows encoded in JSON.

    The smallest form a lock can hold every page of its run in (a bytes object
    per version, not thousands of small objects per page); a version's rows are
    decoded when it is asked for. Nothing is memoised here: the caller keeps what it builds.
    """

    __slots__ = ("groups", "index_url", "name")

    def __init__(self, name: str, index_url: str, groups: dict[str, bytes]) -> None:
        self.name = name
        self.index_url = index_url
        self.groups = groups
        """Version text -> its files' compact rows (see :func:`file_data`), sorted by file name, JSON-encoded."""

    @classmethod
    def of(cls, name: str, index_url: str, rows: list[list[Any]]) -> VersionRows:
        """Compact rows grouped by their version text (the third field)."""
        grouped = _grouped(rows, 2)
        for group in grouped.values():
            group.sort(key=_filename)
        groups = {text: json.dumps(group, separators=(",", ":")).encode() for text, group in grouped.items()}
        return cls(name, index_url, groups)

    def data(self, text: str) -> list[list[Any]]:
        """The files of version text ``text`` in the compact form, by file name."""
        encoded = self.groups.get(text)
        return json.loads(encoded) if encoded is not None else []

    def files(self, text: str) -> list[DistFile]:
        """The files of version text ``text``, by file name."""
        return [data_file(row) for row in self.data(text)]

    def all_data(self) -> list[list[Any]]:
        """Every file in the compact form, version by version."""
        return [row for text in self.groups for row in self.data(text)]

    def hashes(self, version: str) -> frozenset[str]:
        """The ``algorithm:digest`` of every file of ``version`` (compared as versions: ``1.0`` is ``1.0.0``)."""
        wanted = parse_version(version)
        texts = [text for text in self.groups if text == version or (wanted is not None and parse_version(text) == wanted)]
        return frozenset(f"{algorithm.lower()}:{digest.lower()}" for text in texts for row in self.data(text) for algorithm, digest in row[4])
