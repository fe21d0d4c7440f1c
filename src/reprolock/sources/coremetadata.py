"""The fields reprolock reads from a core metadata file (``METADATA``, ``PKG-INFO``), parsed by ``packaging.metadata``.

The one parser of installed distributions (:mod:`reprolock.sources.metadata`)
and of release metadata from an index (:mod:`reprolock.lock.metadata`; the
fetching is :mod:`reprolock.index.coremetadata`). Only the header is read,
never the description after it. Real files are not always valid, so this is
tolerant and never raises on content: bytes that are not UTF-8 are replaced,
folded lines are joined, a field that may appear once but is repeated keeps
its first value (as ``importlib.metadata`` does), and a line that is no field
is skipped (the email parser would end the header there and lose what follows).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# The fields reprolock reads, each with its continuation lines. parse_email costs about twice as much
# for a whole header (mostly Classifier and Project-URL lines), and a line that is no field is left out.
_WANTED = re.compile(r"^(?:name|version|requires-dist|provides-extra|requires-python|metadata-version|dynamic):.*(?:\n[ \t].*)*", re.IGNORECASE | re.MULTILINE)
_FOLD = re.compile(r"[ \t]*\n[ \t]*")


@dataclass(frozen=True, slots=True)
class MetadataFields:
    """What a core metadata file says; ``""``, ``None`` or ``()`` for a field it does not give."""

    name: str = ""
    version: str = ""
    requires_dist: tuple[str, ...] = ()
    provides_extra: tuple[str, ...] = ()
    requires_python: str | None = None
    metadata_version: str | None = None
    dynamic: tuple[str, ...] = ()


def _unfold(value: str) -> str:
    return _FOLD.sub(" ", value).strip() if "\n" in value else value.strip()


def _single(value: str | None, unparsed: dict[str, list[str]], field: str) -> str | None:
    """A field that may appear once: its value, else the first of its repeats (``parse_email`` leaves those unparsed)."""
    if value is None:
        value = next(iter(unparsed.get(field, ())), None)
    return _unfold(value) if value is not None else None


def parse_fields(data: bytes | str) -> MetadataFields:
    """The fields of a METADATA / PKG-INFO file's content (bytes are UTF-8, invalid bytes replaced)."""
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    return _parse_header(text.replace("\r\n", "\n").replace("\r", "\n").split("\n\n", 1)[0])


def _parse_header(head: str) -> MetadataFields:
    """The fields of a header (``\\n`` line ends, no blank line)."""
    from packaging.metadata import parse_email  # noqa: PLC0415 - with email.policy ~4 ms of start-up, and a warm environment scan parses nothing

    raw, unparsed = parse_email("\n".join(_WANTED.findall(head)) + "\n")
    return MetadataFields(
        name=_single(raw.get("name"), unparsed, "name") or "",
        version=_single(raw.get("version"), unparsed, "version") or "",
        requires_dist=tuple(map(_unfold, raw.get("requires_dist", ()))),
        provides_extra=tuple(map(_unfold, raw.get("provides_extra", ()))),
        requires_python=_single(raw.get("requires_python"), unparsed, "requires-python") or None,
        metadata_version=_single(raw.get("metadata_version"), unparsed, "metadata-version"),
        dynamic=tuple(map(_unfold, raw.get("dynamic", ()))),
    )


def read_fields(path: str) -> MetadataFields:
    """The fields of the METADATA / PKG-INFO file at ``path``; all empty when it cannot be read."""
    lines = []
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:  # noqa: PTH123 - hot path; text mode makes every line end \n
            for line in handle:  # up to the blank line that ends the header: a long description is never read
                if line == "\n":
                    break
                lines.append(line)
    except OSError:
        return MetadataFields()
    return _parse_header("".join(lines))
