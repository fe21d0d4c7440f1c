"""References: packages that come from somewhere other than an index release."""

from __future__ import annotations

from typing import TYPE_CHECKING

from reprolock.findings import Finding, finding

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

    from reprolock.records import Requirement, SourceFile


def _label(req: Requirement) -> str:
    return req.name or f"'{req.text}'"


def _is_file_url_ref(req: Requirement) -> bool:
    """``name @ file:///...``: a named direct reference to a local file (RL202)."""
    return req.name is not None and not req.editable and (req.url or "").startswith("file:")


def check_references(files: Sequence[SourceFile]) -> Iterator[Finding]:
    """Direct references (RL103, RL104, RL105, RL106).

    A VCS requirement must name a full commit id: a branch or tag can move
    under the same line (RL103); a commit written in the URL fragment
    (``repo.git#<sha>``) is ignored by pip. A direct archive URL needs a hash
    or the bytes behind it can change (RL104). A local path or ``file:`` URL
    exists only on one machine (RL105; ``name @ file:///`` lines are RL202).
    An editable install in a pinned set installs whatever the working tree
    holds at install time (RL106).
    """
    for source in files:
        for req in source.requirements:
            if req.editable and source.kind.is_pinned_set:
                yield finding("RL106", f"{_label(req)} is an editable install: it runs whatever the source tree holds", package=req.name, location=req.origin)
            if req.url is None:
                continue
            if req.vcs is not None:
                if not req.vcs.is_full_commit:
                    yield _mutable(req)
            elif req.local:
                if not _is_file_url_ref(req):
                    yield finding("RL105", f"{_label(req)} is installed from a local path ({req.url})", package=req.name, location=req.origin, url=req.url)
            elif not req.hashes:
                yield finding(
                    "RL104",
                    f"{_label(req)} is downloaded from {req.url} with no hash; add #sha256=... or --hash",
                    package=req.name,
                    location=req.origin,
                    url=req.url,
                )


def _mutable(req: Requirement) -> Finding:
    assert req.vcs is not None  # noqa: S101 - narrowed by the caller
    if req.vcs.fragment_ref:
        why = f"the commit {req.vcs.fragment_ref} is in the URL fragment, which pip ignores; put it after '@'"
    elif req.vcs.ref:
        why = f"'{req.vcs.ref}' is a branch, a tag or a short id, not a full commit id"
    else:
        why = "no revision is given, so the default branch is installed"
    return finding("RL103", f"{_label(req)}: {why}", package=req.name, location=req.origin, vcs=req.vcs.vcs, ref=req.vcs.ref)
