"""Which repository file ends up at a path in the image: ``COPY``, ``ADD`` and ``RUN --mount=type=bind``, read backwards.

The build context is the Dockerfile's folder; when a copied file is not
there, the folders above it up to the audit's own folder are tried (a
``docker/Dockerfile`` is often built with the repository as its context).
A file copied from another stage or image, fetched from a URL or written by a
here-document has no repository file to audit: the answer says so.
"""

from __future__ import annotations

import glob
import posixpath
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    from reprolock.dockerrecords import Copy


_URL_PREFIXES = ("http://", "https://", "git@", "git://")


@dataclass(frozen=True, slots=True)
class Located:
    """The repository file at an image path, the step that put it there, or why there is none."""

    path: Path | None = None
    step: Copy | None = None
    reason: str | None = None


def _under(path: str, folder: str) -> str | None:
    """``path`` relative to ``folder`` when it is inside it."""
    folder = folder.rstrip("/") or "/"
    if folder == "/":
        return path.lstrip("/")
    if path.startswith(folder + "/"):
        return path[len(folder) + 1 :]
    return None


def _matches(source: str, contexts: Sequence[Path]) -> list[Path]:
    """The context files or folders a source names (glob patterns expanded), from the first context that has any."""
    clean = source.lstrip("/") or "."
    for context in contexts:
        exists = (context / clean).exists()
        found = sorted(context.glob(clean)) if glob.has_magic(clean) else [context / clean] if exists else []
        if found:
            return found
    return []


def _from_context(image_path: str, step: Copy, contexts: Sequence[Path]) -> Path | None:
    for source in step.sources:
        for match in _matches(source, contexts):
            if match.is_dir():
                inside = _under(image_path, step.dest)
                if inside is not None and (match / inside).is_file():
                    return (match / inside).resolve()
                continue
            # into a folder, a file keeps its name; to a plain path, it is that file (or lands in that folder if the image has one)
            targets = {posixpath.join(step.dest, match.name)} if step.directory else {step.dest, posixpath.join(step.dest, match.name)}
            if image_path in targets:
                return match.resolve()
    return None


def _elsewhere(image_path: str, step: Copy) -> str | None:
    """Why ``step`` may put ``image_path`` in place without a repository file (another stage, a URL, a here-document)."""
    covers = image_path == step.dest or _under(image_path, step.dest) is not None
    if not covers:
        return None
    if step.from_ is not None:
        return f"copied from {step.from_} by {step.shown} ({step.origin})"
    if any(source.startswith(_URL_PREFIXES) for source in step.sources):
        return f"downloaded by {step.shown} ({step.origin})"
    if any(source.startswith("<<") for source in step.sources):
        return f"written by a here-document ({step.origin})"
    return None


def locate(image_path: str, steps: Sequence[Copy], contexts: Sequence[Path]) -> Located:
    """The repository file at ``image_path`` in the image: the last step that puts one there wins."""
    for step in reversed(steps):
        found = _from_context(image_path, step, contexts)
        if found is not None:
            return Located(found, step)
        elsewhere = _elsewhere(image_path, step)
        if elsewhere is not None:
            return Located(reason=elsewhere)
    return Located(reason=f"no COPY, ADD or bind mount from the build context puts a file at {image_path}")
