"""A real package index on 127.0.0.1 for tests: PEP 691 JSON, PEP 503 HTML, files, faults.

Usage (see the ``index_server`` fixture in conftest.py)::

    server.url                      # "http://127.0.0.1:PORT/simple/"
    server.add_wheel(Dist("a", "1.0"), yanked="broken")
    server.add_sdist(Dist("a", "1.0"))
    server.load_fixture("requests")  # fixtures/index/requests.json (recorded-style page)
    server.set_status("a", "archived", "moved to b")
    server.vulnerabilities[("a", "1.0")] = [{"id": "PYSEC-1", ...}]
    server.fault("a", "500", times=2)  # also "slow", "malformed", "404", "huge"
    server.requests                  # [(path, headers), ...] seen so far

Options: ``advertise_metadata`` (PEP 658 in the pages), ``serve_metadata``
(``<file>.metadata`` answers), ``ranges`` (HTTP Range), ``json_api``
(``/pypi/NAME/VERSION/json``), ``html_only`` (ignore the JSON Accept),
``cache_control`` (header on pages).
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from packaging.utils import canonicalize_name

from wheelfactory import Dist, build_sdist, build_wheel

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "index"
JSON_TYPE = "application/vnd.pypi.simple.v1+json"


@dataclass
class Project:
    files: list[dict[str, Any]] = field(default_factory=list)
    status: str | None = None
    status_reason: str | None = None


@dataclass
class Fault:
    kind: str
    times: int | None
    delay: float = 0.0


class IndexServer:
    """State of the test index; the HTTP handler reads it on every request."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.folder.mkdir(parents=True, exist_ok=True)
        self.projects: dict[str, Project] = {}
        self.blobs: dict[str, bytes] = {}
        self.metadata: dict[str, bytes] = {}
        self.vulnerabilities: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.faults: dict[str, Fault] = {}
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.advertise_metadata = True
        self.serve_metadata = True
        self.ranges = True
        self.json_api = False
        self.html_only = False
        self.cache_control: str | None = None
        self.send_etag = True
        self.released = threading.Event()
        """Set by :meth:`release`: requests held by a ``hold`` fault go on."""
        self.held = 0
        """How many requests a ``hold`` fault holds right now."""
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)

    # -- lifecycle ---------------------------------------------------------

    @property
    def root(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def url(self) -> str:
        return f"{self.root}/simple/"

    def start(self) -> IndexServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    # -- content -----------------------------------------------------------

    def _add_file(self, name: str, filename: str, data: bytes, metadata: bytes | None, **extra: Any) -> dict[str, Any]:
        entry = {
            "filename": filename,
            "url": f"../../files/{filename}",
            "hashes": {"sha256": hashlib.sha256(data).hexdigest()},
            "requires-python": extra.get("requires_python"),
            "yanked": extra.get("yanked", False),
            "upload-time": extra.get("upload_time", "2024-01-01T00:00:00.000000Z"),
            "size": len(data),
        }
        self.blobs[filename] = data
        if metadata is not None:
            self.metadata[filename] = metadata
            entry["core-metadata"] = {"sha256": hashlib.sha256(metadata).hexdigest()}
        self.projects.setdefault(canonicalize_name(name), Project()).files.append(entry)
        return entry

    def add_wheel(self, dist: Dist, *, yanked: bool | str = False, upload_time: str | None = None) -> Path:
        """Build ``dist`` as a real wheel and list it (PEP 658 metadata beside it)."""
        path = build_wheel(dist, self.folder)
        extra: dict[str, Any] = {"yanked": yanked, "requires_python": dist.requires_python}
        if upload_time:
            extra["upload_time"] = upload_time
        self._add_file(dist.name, path.name, path.read_bytes(), dist.metadata().encode(), **extra)
        return path

    def add_sdist(self, dist: Dist, *, yanked: bool | str = False) -> Path:
        path = build_sdist(dist, self.folder)
        self._add_file(dist.name, path.name, path.read_bytes(), None, yanked=yanked, requires_python=dist.requires_python)
        return path

    def load_fixture(self, name: str) -> None:
        """A recorded-style page from fixtures/index/NAME.json (files are listed, not served)."""
        data = json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))
        project = self.projects.setdefault(canonicalize_name(data["name"]), Project())
        project.files.extend(data["files"])
        status = data.get("project-status") or {}
        project.status, project.status_reason = status.get("status"), status.get("reason")

    def set_status(self, name: str, status: str, reason: str | None = None) -> None:
        project = self.projects.setdefault(canonicalize_name(name), Project())
        project.status, project.status_reason = status, reason

    def fault(self, target: str, kind: str, *, times: int | None = None, delay: float = 2.0) -> None:
        """Misbehave for ``target`` (a project name or a file name): ``500``, ``slow``, ``malformed``, ``404``, ``huge``.

        ``hold``: answer normally, but only once :meth:`release` is called (or after 5 s).
        """
        self.faults[target] = Fault(kind, times, delay)

    def release(self) -> None:
        self.released.set()

    def take_fault(self, target: str) -> Fault | None:
        with self._lock:
            fault = self.faults.get(target)
            if fault is None:
                return None
            if fault.times is not None:
                fault.times -= 1
                if fault.times <= 0:
                    del self.faults[target]
            return fault

    def hits(self, fragment: str) -> int:
        """How many requests had ``fragment`` in their path."""
        return sum(1 for path, _ in self.requests if fragment in path)

    # -- answers -----------------------------------------------------------

    def page_json(self, name: str) -> bytes:
        project = self.projects[name]
        files = []
        for entry in project.files:
            item = {key: value for key, value in entry.items() if key != "core-metadata" or self.advertise_metadata}
            files.append(item)
        versions = sorted({entry["filename"].split("-")[1] for entry in project.files if entry["filename"].endswith(".whl")})
        data: dict[str, Any] = {"meta": {"api-version": "1.4"}, "name": name, "files": files, "versions": versions}
        if project.status:
            data["project-status"] = {"status": project.status, **({"reason": project.status_reason} if project.status_reason else {})}
        return json.dumps(data).encode()

    def page_html(self, name: str) -> bytes:
        project = self.projects[name]
        head = ""
        if project.status:
            head += f'<meta name="pypi:project-status" content="{project.status}">'
            if project.status_reason:
                head += f'<meta name="pypi:project-status-reason" content="{project.status_reason}">'
        anchors = []
        for entry in project.files:
            attrs = f'href="{entry["url"]}#sha256={entry["hashes"]["sha256"]}"'
            if entry.get("requires-python"):
                attrs += f' data-requires-python="{entry["requires-python"].replace(">", "&gt;").replace("<", "&lt;")}"'
            if entry.get("yanked"):
                reason = entry["yanked"] if isinstance(entry["yanked"], str) else ""
                attrs += f' data-yanked="{reason}"'
            if entry.get("core-metadata") and self.advertise_metadata:
                attrs += f' data-core-metadata="sha256={entry["core-metadata"]["sha256"]}"'
            anchors.append(f"<a {attrs}>{entry['filename']}</a><br>")
        return f"<!DOCTYPE html><html><head>{head}</head><body>{''.join(anchors)}</body></html>".encode()


class _Handler(BaseHTTPRequestHandler):
    """Answers from :attr:`index`, the state of the test index (see :func:`_handler`)."""

    index: IndexServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        pass

    def _send(self, status: int, body: bytes, content_type: str = "text/plain", headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        path = unquote(self.path.split("?", 1)[0])
        self.index.requests.append((path, {key.lower(): value for key, value in self.headers.items()}))
        parts = [part for part in path.split("/") if part]
        target = parts[1] if len(parts) > 1 else ""
        fault = self.index.take_fault(target)
        if fault is not None and self._fault(fault, target):
            return
        if parts[:1] == ["simple"] and len(parts) == 2:
            self._project(canonicalize_name(target))
        elif parts[:1] == ["files"] and len(parts) == 2:
            self._file(target)
        elif parts[:1] == ["pypi"] and len(parts) == 4 and parts[3] == "json":
            self._version_json(canonicalize_name(parts[1]), parts[2])
        else:
            self._send(404, b"not found")

    def _fault(self, fault: Fault, target: str) -> bool:
        """Misbehave as ``fault`` says; whether that answered the request (else it is answered as usual, late)."""
        if fault.kind == "slow":
            time.sleep(fault.delay)
        elif fault.kind == "hold":
            with self.index._lock:
                self.index.held += 1
            self.index.released.wait(5)
            with self.index._lock:
                self.index.held -= 1
        answers = {
            "500": (500, b"server error", "text/plain", {}),
            "404": (404, b"not found", "text/plain", {}),
            "malformed": (200, b'{"files": [', JSON_TYPE, {}),
        }
        if fault.kind == "huge":
            answers["huge"] = (200, _huge_page(target), JSON_TYPE, {"Cache-Control": self.index.cache_control} if self.index.cache_control else {})
        if fault.kind not in answers:
            return False
        status, body, kind, headers = answers[fault.kind]
        self._send(status, body, kind, headers=headers)
        return True

    def _project(self, name: str) -> None:
        if name not in self.index.projects:
            self._send(404, b"not found")
            return
        wants_json = JSON_TYPE in self.headers.get("Accept", "") and not self.index.html_only
        body = self.index.page_json(name) if wants_json else self.index.page_html(name)
        etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
        headers = {"ETag": etag} if self.index.send_etag else {}
        if self.index.cache_control:
            headers["Cache-Control"] = self.index.cache_control
        if self.headers.get("If-None-Match") == etag:
            self._send(304, b"", headers=headers)
            return
        self._send(200, body, JSON_TYPE if wants_json else "text/html", headers)

    def _file(self, filename: str) -> None:
        if filename.endswith(".metadata"):
            data = self.index.metadata.get(filename[: -len(".metadata")])
            if data is None or not self.index.serve_metadata:
                self._send(404, b"not found")
            else:
                self._send(200, data, "application/octet-stream")
            return
        data = self.index.blobs.get(filename)
        if data is None:
            self._send(404, b"not found")
            return
        wanted = self.headers.get("Range", "")
        if self.index.ranges and wanted.startswith("bytes="):
            start_text, _, end_text = wanted[6:].partition("-")
            if start_text:
                start, end = int(start_text), min(int(end_text) if end_text else len(data) - 1, len(data) - 1)
            else:
                start, end = max(0, len(data) - int(end_text)), len(data) - 1
            headers = {"Content-Range": f"bytes {start}-{end}/{len(data)}", "Accept-Ranges": "bytes"}
            self._send(206, data[start : end + 1], "application/octet-stream", headers)
            return
        self._send(200, data, "application/octet-stream")

    def _version_json(self, name: str, version: str) -> None:
        project = self.index.projects.get(name)
        if not self.index.json_api or project is None:
            self._send(404, b"not found")
            return
        body = {"info": {"name": name, "version": version}, "vulnerabilities": self.index.vulnerabilities.get((name, version), [])}
        self._send(200, json.dumps(body).encode(), "application/json")


def _handler(server: IndexServer) -> type[BaseHTTPRequestHandler]:
    """A handler class bound to ``server`` (http.server makes one handler object per request)."""
    return type("Handler", (_Handler,), {"index": server})


def _huge_page(name: str) -> bytes:
    """A valid page with many thousand files (a project with many wheels per release)."""
    files = [
        {
            "filename": f"{name}-1.{minor}.{patch}-cp311-cp311-manylinux_2_17_x86_64.whl",
            "url": f"../../files/{name}-1.{minor}.{patch}-cp311-cp311-manylinux_2_17_x86_64.whl",
            "hashes": {"sha256": "0" * 64},
            "requires-python": ">=3.8",
            "yanked": False,
            "upload-time": "2024-01-01T00:00:00Z",
            "size": 1000,
            "provenance": "x" * 200,
        }
        for minor in range(100)
        for patch in range(100)
    ]
    return json.dumps({"meta": {"api-version": "1.1"}, "name": name, "files": files}).encode()


def start_server(folder: Path) -> IndexServer:
    return IndexServer(folder).start()


__all__ = ["Dist", "IndexServer", "start_server"]
