"""Boil a project page down to what the index rules read, for one target Python.

The summary is small (a handful of fields per release) so a warm run loads it
instead of the whole page, which for projects with many wheels is megabytes.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from packaging.version import InvalidVersion, Version

from reprolock.index.models import ProjectFacts, ReleaseFacts
from reprolock.versions import python_admits

if TYPE_CHECKING:
    from collections.abc import Iterable

    from reprolock.index.models import DistFile, IndexTarget, ProjectPage
    from reprolock.index.pages import Row


_CANONICAL = re.compile(r"(?:0|[1-9][0-9]*)(?:\.(?:0|[1-9][0-9]*))*(?:(?:a|b|rc)(?:0|[1-9][0-9]*))?(?:\.post(?:0|[1-9][0-9]*))?(?:\.dev(?:0|[1-9][0-9]*))?")
"""Versions already in PEP 440 normal form (``str(Version(text)) == text``)."""


def _wheel_tags(filename: str) -> set[str]:
    parts = filename[:-4].split("-")
    interpreters, abis, platforms = parts[-3].split("."), parts[-2].split("."), parts[-1].split(".")
    return {f"{interpreter}-{abi}-{platform}" for interpreter in interpreters for abi in abis for platform in platforms}


def file_fits(item: DistFile, target: IndexTarget) -> bool:
    """The file's ``requires-python`` admits the target and, for a wheel, a tag fits."""
    if item.requires_python and not python_admits(item.requires_python, target.python_version):
        return False
    if item.packagetype != "bdist_wheel" or target.tags is None:
        return True
    return not _wheel_tags(item.filename).isdisjoint(target.tags)


def summarize(page: ProjectPage, target: IndexTarget) -> ProjectFacts:
    """Releases newest first (versions that are not PEP 440 valid are left out)."""
    by_text: dict[str, list[DistFile]] = {}
    for item in page.files:
        by_text.setdefault(item.version, []).append(item)
    grouped: dict[Version, list[DistFile]] = {}
    for text, files in by_text.items():
        try:
            grouped.setdefault(Version(text), []).extend(files)
        except InvalidVersion:
            continue
    releases = []
    for version in sorted(grouped, reverse=True):
        files = grouped[version]
        uploads = [item.upload_time for item in files if item.upload_time]
        releases.append(
            ReleaseFacts(
                version=files[0].version,
                normalized=str(version),
                yanked=all(item.yanked for item in files),
                yanked_reason=next((item.yanked_reason for item in files if item.yanked_reason), None),
                uploaded=min(uploads) if uploads else None,
                fits=any(file_fits(item, target) for item in files),
                prerelease=version.is_prerelease,
            )
        )
    return ProjectFacts(page.name, tuple(releases), page.status, page.status_reason)


def _row_fits(row: Row, target: IndexTarget, tag_fits: dict[str, bool]) -> bool:
    """:func:`file_fits` for a decoded entry; ``tag_fits`` remembers each wheel tag triple's answer."""
    filename, _, packagetype, item = row
    requires_python = item.get("requires-python") or None
    if requires_python and not python_admits(requires_python, target.python_version):
        return False
    if packagetype != "bdist_wheel" or target.tags is None:
        return True
    triple = filename[:-4].rsplit("-", 3)
    key = "-".join(triple[1:])
    known = tag_fits.get(key)
    if known is None:
        known = tag_fits[key] = not _wheel_tags(filename).isdisjoint(target.tags)
    return known


def summarize_rows(name: str, rows: Iterable[Row], target: IndexTarget, status: str | None, status_reason: str | None) -> ProjectFacts:
    """:func:`summarize` straight from a page's decoded entries (no :class:`DistFile` objects): the same answer."""
    by_text: dict[str, list[Row]] = {}
    for row in rows:
        group = by_text.get(row[1])
        if group is None:
            by_text[row[1]] = [row]
        else:
            group.append(row)
    grouped: dict[Version, list[Row]] = {}
    for text, files in by_text.items():
        try:
            grouped.setdefault(Version(text), []).extend(files)
        except InvalidVersion:
            continue
    tag_fits: dict[str, bool] = {}
    releases = []
    for version in sorted(grouped, reverse=True):
        files = grouped[version]
        yanked, reason, uploaded = True, None, None
        for row in files:
            entry = row[3]
            mark = entry.get("yanked", False)
            if not mark:
                yanked = False
            elif reason is None and isinstance(mark, str):
                reason = mark
            upload = entry.get("upload-time")
            if upload and (uploaded is None or upload < uploaded):
                uploaded = upload
        # Source distributions first: one that fits settles it without looking at every wheel.
        fits = any(_row_fits(row, target, tag_fits) for row in files if row[2] != "bdist_wheel") or any(
            _row_fits(row, target, tag_fits) for row in files if row[2] == "bdist_wheel"
        )
        text = files[0][1]
        releases.append(
            ReleaseFacts(
                version=text,
                normalized=text if _CANONICAL.fullmatch(text) else str(version),
                yanked=yanked,
                yanked_reason=reason,
                uploaded=uploaded,
                fits=fits,
                prerelease=version.is_prerelease,
            )
        )
    return ProjectFacts(name, tuple(releases), status, status_reason)


_FIELDS = ("version", "normalized", "yanked", "yanked_reason", "uploaded", "fits", "prerelease")


def facts_to_data(facts: ProjectFacts) -> dict[str, Any]:
    return {
        "name": facts.name,
        "status": facts.status,
        "status_reason": facts.status_reason,
        "releases": [[getattr(item, key) for key in _FIELDS] for item in facts.releases],
    }


def facts_from_data(data: dict[str, Any]) -> ProjectFacts:
    return ProjectFacts(
        data["name"],
        tuple(map(ReleaseFacts._make, data["releases"])),
        data.get("status"),
        data.get("status_reason"),
    )
