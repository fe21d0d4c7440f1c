"""Boil a project page down to what the index rules read, for one target Python.

The summary is small (a handful of fields per release) so a warm run loads it
instead of the whole page, which for projects with many wheels is megabytes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from reprolock.index.entries import file_version
from reprolock.index.models import ProjectFacts, ReleaseFacts
from reprolock.versions import parse_version, python_admits

if TYPE_CHECKING:
    from collections.abc import Iterable

    from packaging.version import Version

    from reprolock.index.models import DistFile, IndexTarget, ProjectPage


def summarize(page: ProjectPage, target: IndexTarget) -> ProjectFacts:
    """Releases newest first (versions that are not PEP 440 valid are left out)."""
    builder = FactsBuilder(page.name, target)
    builder.add_files(page.files)
    return builder.facts(page.status, page.status_reason)


class FactsBuilder:
    """:func:`summarize` in one pass over the files of one or more pages, without building :class:`DistFile` objects.

    A PEP 691 page's decoded entries are read where they lie (:meth:`add_entries`);
    built files (HTML pages, the cache) go through :meth:`add_files`. With several
    pages the first one added wins a file name that several list, as when pages
    of several indexes are merged.
    """

    __slots__ = ("_python", "_releases", "_requires", "_seen", "_tag_fits", "_tags", "project")

    def __init__(self, project: str, target: IndexTarget, *, several: bool = False) -> None:
        self.project = project
        self._python = target.python_version
        self._tags = target.tags
        self._releases: dict[str, list[Any]] = {}
        """Version text -> ``[every file yanked, first reason, earliest upload, some file fits]``."""
        self._requires: dict[str, bool] = {}
        self._tag_fits: dict[str, bool] = {}
        self._seen: set[str] | None = set() if several else None

    def add_entries(self, items: Iterable[Any]) -> None:  # noqa: C901, PLR0912 - one inline pass over tens of thousands of entries: a call per entry costs a tenth of a cold audit
        """The ``files`` of a decoded PEP 691 page (entries that are not objects, or have no URL, are skipped)."""
        releases, seen, project, fits = self._releases, self._seen, self.project, self._fits
        wheel: list[str] | None
        for item in items:
            if type(item) is not dict:
                continue
            filename = item.get("filename")
            if type(filename) is not str or not item.get("url"):
                continue
            if seen is not None:
                if filename in seen:
                    continue
                seen.add(filename)
            if filename.endswith(".whl"):
                parts = filename[:-4].split("-")
                if len(parts) < 5:  # name-version[-build]-python-abi-platform
                    continue
                version, wheel = parts[1], parts
            else:
                parsed = file_version(filename, project)
                if parsed is None:
                    continue
                version, wheel = parsed[0], None
            state = releases.get(version)
            if state is None:
                state = releases[version] = [True, None, None, False]
            mark = item.get("yanked")
            if not mark:
                state[0] = False
            elif state[1] is None and type(mark) is str:
                state[1] = mark
            upload = item.get("upload-time")
            if upload and (state[2] is None or upload < state[2]):
                state[2] = upload
            if not state[3]:
                state[3] = fits(item.get("requires-python"), wheel)

    def add_files(self, files: Iterable[DistFile]) -> None:
        """Built files (the same fields as :meth:`add_entries` reads)."""
        releases, seen = self._releases, self._seen
        for item in files:
            if seen is not None:
                if item.filename in seen:
                    continue
                seen.add(item.filename)
            state = releases.get(item.version)
            if state is None:
                state = releases[item.version] = [True, None, None, False]
            if not item.yanked:
                state[0] = False
            elif state[1] is None and item.yanked_reason:
                state[1] = item.yanked_reason
            if item.upload_time and (state[2] is None or item.upload_time < state[2]):
                state[2] = item.upload_time
            if not state[3]:
                wheel = item.filename[:-4].split("-") if item.packagetype == "bdist_wheel" else None
                state[3] = self._fits(item.requires_python, wheel if wheel is None or len(wheel) >= 5 else None)

    def _fits(self, requires_python: object, wheel: list[str] | None) -> bool:
        """``requires-python`` admits the target and, for a wheel (its name split at dashes), a tag fits."""
        if requires_python and type(requires_python) is str:
            admitted = self._requires.get(requires_python)
            if admitted is None:
                admitted = self._requires[requires_python] = python_admits(requires_python, self._python)
            if not admitted:
                return False
        if wheel is None or self._tags is None:
            return True
        key = "-".join(wheel[-3:])
        known = self._tag_fits.get(key)
        if known is None:
            tags = self._tags
            known = self._tag_fits[key] = any(
                f"{interpreter}-{abi}-{platform}" in tags
                for interpreter in wheel[-3].split(".")
                for abi in wheel[-2].split(".")
                for platform in wheel[-1].split(".")
            )
        return known

    def facts(self, status: str | None, status_reason: str | None) -> ProjectFacts:
        """Releases newest first (versions that are not PEP 440 valid are left out)."""
        grouped: dict[Version, list[Any]] = {}
        for text, state in self._releases.items():
            version = parse_version(text)
            if version is None:
                continue
            known = grouped.get(version)
            if known is None:
                grouped[version] = [text, *state]
                continue
            # Two spellings of one version ("1.0" and "1.0.0"): one release.
            known[1] = known[1] and state[0]
            known[2] = known[2] or state[1]
            if state[2] and (known[3] is None or state[2] < known[3]):
                known[3] = state[2]
            known[4] = known[4] or state[3]
        releases = []
        for version in sorted(grouped, reverse=True):
            text, yanked, reason, uploaded, fits = grouped[version]
            releases.append(
                ReleaseFacts(
                    version=text,
                    normalized=str(version),
                    yanked=yanked,
                    yanked_reason=reason,
                    uploaded=uploaded,
                    fits=fits,
                    prerelease=version.is_prerelease,
                )
            )
        return ProjectFacts(self.project, tuple(releases), status, status_reason)


def facts_to_data(facts: ProjectFacts) -> dict[str, Any]:
    return {
        "name": facts.name,
        "status": facts.status,
        "status_reason": facts.status_reason,
        "releases": [list(item) for item in facts.releases],  # the fields in ReleaseFacts order
    }


def facts_from_data(data: dict[str, Any]) -> ProjectFacts:
    return ProjectFacts(
        data["name"],
        tuple(map(ReleaseFacts._make, data["releases"])),
        data.get("status"),
        data.get("status_reason"),
    )
