"""Parse simple API pages: PEP 691 JSON and PEP 503 HTML, into :class:`ProjectPage`.

A page is parsed once and only what reprolock reads is kept (no ``data-gpg-sig``,
no per-file ``provenance``). Files that are neither wheels nor sdists (eggs,
Windows installers) are dropped: no installer picks them.
"""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urldefrag, urljoin, urlsplit

from packaging.utils import canonicalize_name

from reprolock.index.compact import page_from_data, page_to_data
from reprolock.index.models import DistFile, ProjectPage
from reprolock.index.pages import LazyPage, PageError, file_version

__all__ = ["ACCEPT", "PageError", "file_version", "page_from_data", "page_to_data", "parse_html", "parse_json", "parse_lazy"]

JSON_TYPE = "application/vnd.pypi.simple.v1+json"
HTML_TYPE = "application/vnd.pypi.simple.v1+html"
ACCEPT = f"{JSON_TYPE}, {HTML_TYPE};q=0.2, text/html;q=0.01"


def parse_json(body: bytes | str, page_url: str, index_url: str, name: str) -> ProjectPage:
    """A PEP 691 JSON page; relative file URLs are resolved against ``page_url``."""
    return LazyPage.from_json(body, page_url, index_url, name).page()


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
        versions=tuple(dict.fromkeys(item.version for item in files)),
        status=links.meta.get("pypi:project-status") or None,
        status_reason=links.meta.get("pypi:project-status-reason") or None,
    )


def parse_lazy(body: bytes, content_type: str, page_url: str, index_url: str, name: str) -> LazyPage:
    """A page in either form, by the answer's content type; a JSON page's files stay undecoded into objects until asked for."""
    media = content_type.split(";", 1)[0].strip().lower()
    if media == JSON_TYPE or media.endswith("+json") or media == "application/json":
        return LazyPage.from_json(body, page_url, index_url, name)
    return LazyPage.of(parse_html(body.decode("utf-8", "replace"), page_url, index_url, name))


def local_page(index_url: str, name: str) -> LazyPage | None:
    """A project of a ``file://`` PEP 503 tree: ``NAME/index.html``, else the folder's files."""
    folder = Path(unquote(urlsplit(index_url).path)) / name
    page_url = f"{index_url}{name}/"
    index = folder / "index.html"
    try:
        if index.is_file():
            return LazyPage.of(parse_html(index.read_text(encoding="utf-8", errors="replace"), page_url, index_url, name))
        if folder.is_dir():
            links = "".join(f'<a href="{item.name}">{item.name}</a>' for item in sorted(folder.iterdir()) if item.is_file())
            return LazyPage.of(parse_html(links, page_url, index_url, name))
    except OSError:
        return None
    return None
