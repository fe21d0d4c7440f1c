"""A PEP 691 page's file entries as decoded: which are usable files, of which version, in which form.

No network and no objects per file here: :mod:`.pages` holds pages in these
forms, :mod:`.summary` reads the entries in place.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any
from urllib.parse import urljoin

from packaging.utils import canonicalize_name

from reprolock.index.models import DistFile, ProjectPage

WHEEL = "bdist_wheel"
SDIST = "sdist"
_SDIST_SUFFIXES = (".tar.gz", ".zip", ".tar.bz2", ".tgz", ".tar.xz", ".tar")

Row = tuple[str, str, str, dict[str, Any]]
"""``(filename, version, packagetype, entry)``: a usable file of a PEP 691 page and its decoded JSON entry."""


class PageError(ValueError):
    """A page that cannot be understood (malformed JSON, wrong shape)."""


def file_version(filename: str, project: str) -> tuple[str, str] | None:
    """``(version, packagetype)`` from a wheel or sdist file name; ``None`` for other files.

    Not packaging's ``parse_wheel_filename``/``parse_sdist_filename``: they refuse the legacy names and
    versions indexes still list (which the summary skips by version instead), and at a few microseconds
    a file they would cost a cold audit of a large environment a fifth of its time.
    """
    if filename.endswith(".whl"):
        parts = filename[:-4].split("-")
        return (parts[1], WHEEL) if len(parts) >= 5 else None
    lowered = filename.lower()
    for suffix in _SDIST_SUFFIXES:
        if lowered.endswith(suffix):
            stem = filename[: -len(suffix)]
            break
    else:
        return None
    # The name may itself hold dashes: split at the first dash where the prefix names the project.
    # Usually the prefix is the project's own length (canonical names keep the length of "A_b.c").
    size = len(project)
    if len(stem) > size + 1 and stem[size] == "-" and canonicalize_name(stem[:size]) == project:
        return stem[size + 1 :], SDIST
    position = stem.find("-")
    while position != -1:
        if canonicalize_name(stem[:position]) == project:
            return (stem[position + 1 :], SDIST) if position + 1 < len(stem) else None
        position = stem.find("-", position + 1)
    name, _, version = stem.rpartition("-")
    return (version, SDIST) if name and version else None


def hash_pairs(value: object) -> tuple[tuple[str, str], ...]:
    if isinstance(value, dict):
        return tuple(sorted((str(key), str(digest)) for key, digest in value.items()))
    return ()


class Absolute:
    """Resolve file URLs against the page URL; absolute URLs (the usual case) pass through."""

    __slots__ = ("_page_url",)

    def __init__(self, page_url: str) -> None:
        self._page_url = page_url

    def __call__(self, url: str) -> str:
        return url if url.startswith(("https://", "http://")) else urljoin(self._page_url, url)


def decode_page(body: bytes | str, name: str) -> dict[str, Any]:
    """Decode a PEP 691 page (its ``name`` normalised); :class:`PageError` when it is not one."""
    try:
        data = json.loads(body)
    except ValueError as exc:
        raise PageError(f"malformed JSON from the index for {name}: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("files"), list):
        raise PageError(f"the index's JSON page for {name} has no files list")
    data["name"] = canonicalize_name(str(data.get("name") or name))
    return data


def entry_rows(data: dict[str, Any]) -> list[Row]:
    """The usable files (wheels and sdists with a URL) of a decoded page, as rows."""
    project = data["name"]
    rows: list[Row] = []
    append = rows.append
    for item in data["files"]:
        if type(item) is not dict:
            continue
        filename = item.get("filename", "")
        if type(filename) is not str:
            filename = str(filename)
        if not item.get("url"):
            continue
        if filename.endswith(".whl"):
            parts = filename[:-4].split("-")
            if len(parts) >= 5:  # name-version-python-abi-platform
                append((filename, parts[1], WHEEL, item))
            continue
        parsed = file_version(filename, project)
        if parsed is not None:
            append((filename, parsed[0], parsed[1], item))
    return rows


def dist_file(row: Row, absolute: Absolute) -> DistFile:
    return DistFile(*compact_row(row, absolute))  # the compact form lists the fields in DistFile's order


def row_of(item: DistFile) -> Row:
    """A built file as a decoded entry with the fields the summary reads."""
    entry = {"requires-python": item.requires_python, "yanked": item.yanked_reason or item.yanked, "upload-time": item.upload_time}
    return (item.filename, item.version, item.packagetype, entry)


def merge_pages(pages: list[ProjectPage]) -> ProjectPage:

    first = pages[0]
    files = {item.filename: item for page in reversed(pages) for item in page.files}
    versions = dict.fromkeys(version for page in pages for version in page.versions)
    status = next((page for page in pages if page.status), first)
    return replace(first, files=tuple(files.values()), versions=tuple(versions), status=status.status, status_reason=status.status_reason)


def page_status(data: dict[str, Any]) -> tuple[str | None, str | None]:
    status = data.get("project-status")
    if not isinstance(status, dict):
        return None, None
    return status.get("status"), status.get("reason")


def page_versions(data: dict[str, Any], rows: list[Row]) -> tuple[str, ...]:
    """PEP 700 ``versions`` when given, else the versions of the files."""
    given = data.get("versions")
    if isinstance(given, list) and given:
        return tuple(str(item) for item in given)
    return tuple(dict.fromkeys(row[1] for row in rows))


def compact_row(row: Row, absolute: Absolute) -> list[Any]:
    """A decoded entry in the compact form, equal to :func:`file_data` of the file it builds."""
    filename, version, packagetype, item = row
    yanked = item.get("yanked", False)
    metadata = item.get("core-metadata", item.get("dist-info-metadata", False))
    size = item.get("size")
    return [
        filename,
        absolute(str(item["url"])),
        version,
        packagetype,
        hash_pairs(item.get("hashes")),
        item.get("requires-python") or None,
        bool(yanked),
        yanked if isinstance(yanked, str) and yanked else None,
        item.get("upload-time"),
        size if isinstance(size, int) else None,
        bool(metadata),
        hash_pairs(metadata),
    ]
