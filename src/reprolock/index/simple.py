"""Parse simple API pages: PEP 691 JSON and PEP 503 HTML, into :class:`ProjectPage`.

A page is parsed once and only what reprolock reads is kept (no ``data-gpg-sig``,
no per-file ``provenance``). Files that are neither wheels nor sdists (eggs,
Windows installers) are dropped: no installer picks them.
"""

from __future__ import annotations

import json
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urldefrag, urljoin

from packaging.utils import canonicalize_name

from reprolock.index.models import DistFile, ProjectPage

JSON_TYPE = "application/vnd.pypi.simple.v1+json"
HTML_TYPE = "application/vnd.pypi.simple.v1+html"
ACCEPT = f"{JSON_TYPE}, {HTML_TYPE};q=0.2, text/html;q=0.01"
_SDIST_SUFFIXES = (".tar.gz", ".zip", ".tar.bz2", ".tgz", ".tar.xz", ".tar")


class PageError(ValueError):
    """A page that cannot be understood (malformed JSON, wrong shape)."""


def file_version(filename: str, project: str) -> tuple[str, str] | None:
    """``(version, packagetype)`` from a wheel or sdist file name; ``None`` for other files."""
    if filename.endswith(".whl"):
        parts = filename[:-4].split("-")
        return (parts[1], "bdist_wheel") if len(parts) >= 5 else None
    for suffix in _SDIST_SUFFIXES:
        if filename.lower().endswith(suffix):
            stem = filename[: -len(suffix)]
            break
    else:
        return None
    # The name may itself hold dashes: split where the prefix names the project.
    for position, char in enumerate(stem):
        if char == "-" and canonicalize_name(stem[:position]) == project:
            return (stem[position + 1 :], "sdist") if position + 1 < len(stem) else None
    name, _, version = stem.rpartition("-")
    return (version, "sdist") if name and version else None


def _absolute(page_url: str, url: str) -> str:
    return url if url.startswith(("https://", "http://")) else urljoin(page_url, url)


def _hash_pairs(value: object) -> tuple[tuple[str, str], ...]:
    if isinstance(value, dict):
        return tuple(sorted((str(key), str(digest)) for key, digest in value.items()))
    return ()


def _versions(files: list[DistFile], given: object) -> tuple[str, ...]:
    if isinstance(given, list) and given:
        return tuple(str(item) for item in given)
    return tuple(dict.fromkeys(item.version for item in files))


def parse_json(body: bytes | str, page_url: str, index_url: str, name: str) -> ProjectPage:
    """A PEP 691 JSON page; relative file URLs are resolved against ``page_url``."""
    try:
        data = json.loads(body)
    except ValueError as exc:
        raise PageError(f"malformed JSON from the index for {name}: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("files"), list):
        raise PageError(f"the index's JSON page for {name} has no files list")
    project = canonicalize_name(str(data.get("name") or name))
    files: list[DistFile] = []
    for item in data["files"]:
        if not isinstance(item, dict):
            continue
        filename = str(item.get("filename", ""))
        parsed = file_version(filename, project)
        if parsed is None or not item.get("url"):
            continue
        yanked = item.get("yanked", False)
        metadata = item.get("core-metadata", item.get("dist-info-metadata", False))
        size = item.get("size")
        files.append(
            DistFile(
                filename=filename,
                url=_absolute(page_url, str(item["url"])),
                version=parsed[0],
                packagetype=parsed[1],
                hashes=_hash_pairs(item.get("hashes")),
                requires_python=item.get("requires-python") or None,
                yanked=bool(yanked),
                yanked_reason=yanked if isinstance(yanked, str) and yanked else None,
                upload_time=item.get("upload-time"),
                size=size if isinstance(size, int) else None,
                core_metadata=bool(metadata),
                core_metadata_hashes=_hash_pairs(metadata),
            )
        )
    status = data.get("project-status")
    status_name = status.get("status") if isinstance(status, dict) else None
    status_reason = status.get("reason") if isinstance(status, dict) else None
    return ProjectPage(
        name=project,
        index_url=index_url,
        files=tuple(files),
        versions=_versions(files, data.get("versions")),
        status=status_name,
        status_reason=status_reason,
    )


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.anchors: list[tuple[dict[str, str | None], list[str]]] = []
        self.meta: dict[str, str] = {}
        self.base: str | None = None
        self._text: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "a":
            self._text = []
            self.anchors.append((found, self._text))
        elif tag == "meta" and found.get("name"):
            self.meta[str(found["name"])] = found.get("content") or ""
        elif tag == "base" and found.get("href"):
            self.base = found["href"]

    def handle_data(self, data: str) -> None:
        if self._text is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "a":
            self._text = None


def _fragment_hashes(fragment: str) -> tuple[tuple[str, str], ...]:
    algorithm, _, digest = fragment.partition("=")
    return ((algorithm, digest),) if algorithm and digest else ()


def _html_metadata(attrs: dict[str, str | None]) -> tuple[bool, tuple[tuple[str, str], ...]]:
    value = attrs.get("data-core-metadata", attrs.get("data-dist-info-metadata"))
    if value is None or value == "false":
        return False, ()
    return True, _fragment_hashes(value) if value != "true" else ()


def parse_html(text: str, page_url: str, index_url: str, name: str) -> ProjectPage:
    """A PEP 503 HTML page (with PEP 592 yanks, PEP 658 metadata and PEP 792 status)."""
    links = _Links()
    links.feed(text)
    links.close()
    base = urljoin(page_url, links.base) if links.base else page_url
    project = canonicalize_name(name)
    files: list[DistFile] = []
    for attrs, label in links.anchors:
        href = attrs.get("href")
        if not href:
            continue
        url, fragment = urldefrag(urljoin(base, href))
        filename = url.rsplit("/", 1)[-1] or "".join(label).strip()
        parsed = file_version(filename, project)
        if parsed is None:
            continue
        yanked = attrs.get("data-yanked")
        metadata, metadata_hashes = _html_metadata(attrs)
        files.append(
            DistFile(
                filename=filename,
                url=url,
                version=parsed[0],
                packagetype=parsed[1],
                hashes=_fragment_hashes(fragment),
                requires_python=attrs.get("data-requires-python") or None,
                yanked=yanked is not None,
                yanked_reason=yanked or None,
                core_metadata=metadata,
                core_metadata_hashes=metadata_hashes,
            )
        )
    return ProjectPage(
        name=project,
        index_url=index_url,
        files=tuple(files),
        versions=_versions(files, None),
        status=links.meta.get("pypi:project-status") or None,
        status_reason=links.meta.get("pypi:project-status-reason") or None,
    )


def parse_page(body: bytes, content_type: str, page_url: str, index_url: str, name: str) -> ProjectPage:
    """Either form, by the response's content type."""
    media = content_type.split(";", 1)[0].strip().lower()
    if media == JSON_TYPE or media.endswith("+json") or media == "application/json":
        return parse_json(body, page_url, index_url, name)
    return parse_html(body.decode("utf-8", "replace"), page_url, index_url, name)


# The cache stores pages in this compact form (a list per file), which loads
# several times faster than re-parsing the index's JSON.
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
        "files": [[getattr(item, key) for key in _FIELDS] for item in page.files],
    }


def _pairs(value: object) -> tuple[tuple[str, str], ...]:
    if not isinstance(value, list):
        return ()
    return tuple((str(pair[0]), str(pair[1])) for pair in value)


def page_from_data(data: dict[str, Any]) -> ProjectPage:
    files = []
    for row in data["files"]:
        values = dict(zip(_FIELDS, row, strict=True))
        values["hashes"] = _pairs(values["hashes"])
        values["core_metadata_hashes"] = _pairs(values["core_metadata_hashes"])
        files.append(DistFile(**values))
    return ProjectPage(
        name=data["name"],
        index_url=data["index_url"],
        files=tuple(files),
        versions=tuple(data["versions"]),
        status=data.get("status"),
        status_reason=data.get("status_reason"),
    )
