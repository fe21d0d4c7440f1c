"""Boil a project page down to what the index rules read, for one target Python.

The summary is small (a handful of fields per release) so a warm run loads it
instead of the whole page, which for projects with many wheels is megabytes.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from reprolock.index.models import ProjectFacts, ReleaseFacts

if TYPE_CHECKING:
    from reprolock.index.models import DistFile, IndexTarget, ProjectPage


@functools.lru_cache(maxsize=4096)
def _specifier(text: str) -> SpecifierSet | None:
    try:
        return SpecifierSet(text)
    except InvalidSpecifier:
        return None


def _wheel_tags(filename: str) -> set[str]:
    parts = filename[:-4].split("-")
    interpreters, abis, platforms = parts[-3].split("."), parts[-2].split("."), parts[-1].split(".")
    return {f"{interpreter}-{abi}-{platform}" for interpreter in interpreters for abi in abis for platform in platforms}


@functools.lru_cache(maxsize=4096)
def _python_ok(requires_python: str, python: str) -> bool:
    allowed = _specifier(requires_python)
    try:
        return allowed is None or allowed.contains(Version(python), prereleases=True)
    except InvalidVersion:
        return True


def file_fits(item: DistFile, target: IndexTarget) -> bool:
    """The file's ``requires-python`` admits the target and, for a wheel, a tag fits."""
    if item.requires_python and not _python_ok(item.requires_python, target.python_version):
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
        tuple(ReleaseFacts(*row) for row in data["releases"]),
        data.get("status"),
        data.get("status_reason"),
    )
