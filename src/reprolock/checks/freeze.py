"""Freeze artefacts: what ``pip freeze`` dumps that does not belong in a requirements file."""

from __future__ import annotations

from typing import TYPE_CHECKING

from reprolock.findings import Finding, finding
from reprolock.records import FreezeNote

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

    from reprolock.records import FreezeComment, Requirement, SourceFile

_PLACEHOLDER = "0.0.0"
_CONDA_MARKS = ("/conda-bld/", "/feedstock_root/", "/croot/", "/conda/", "/miniconda", "/anaconda")


def _artefact(req: Requirement) -> str | None:
    if req.name == "pkg-resources" and req.pinned_version == _PLACEHOLDER:
        return "pkg-resources==0.0.0 is an artefact of Debian/Ubuntu's venv, not a distribution pip can install"
    if req.pinned_version == _PLACEHOLDER:
        return f"{req.name}==0.0.0 is a placeholder version from a local or OS build"
    if req.added_by_freeze:
        return f"{req.name} was added by 'pip freeze -r': installed, but not in the requirements it was given"
    return None


def _comment_message(comment: FreezeComment) -> str:
    what = comment.package or "a distribution"
    if comment.note is FreezeNote.NO_VCS:
        return f"pip freeze found {what} installed in editable mode with no version control: it cannot be reinstalled elsewhere"
    return f"pip freeze could not determine the repository location of {what}: the next line cannot be reinstalled elsewhere"


def check_freeze(files: Sequence[SourceFile]) -> Iterator[Finding]:
    """Freeze artefacts (RL201, RL202).

    ``pip freeze`` writes what is installed, not what the project needs:
    ``pkg-resources==0.0.0`` from Debian's venv, ``0.0.0`` placeholders of
    local builds, editable installs it could not trace (``# Editable install
    with no version control``, ``## !! Could not determine repository
    location``) and the packages it appends under ``## The following
    requirements were added by pip --freeze`` (RL201). ``name @ file:///...``
    lines (conda's build paths, local wheels) point at files that exist only
    on the machine that ran the freeze (RL202).
    """
    for source in files:
        for comment in source.freeze_comments:
            yield finding("RL201", _comment_message(comment), package=comment.package, location=comment.origin, comment=comment.text)
        for req in source.requirements:
            message = _artefact(req)
            if message:
                yield finding("RL201", message, package=req.name, location=req.origin)
            url = req.url or ""
            if req.name and not req.editable and url.startswith("file:"):
                origin = "a conda build directory" if any(mark in url for mark in _CONDA_MARKS) else "a local file"
                yield finding(
                    "RL202",
                    f"{req.name} @ {url} points at {origin} that exists only on the machine that wrote it",
                    package=req.name,
                    location=req.origin,
                    url=url,
                )
