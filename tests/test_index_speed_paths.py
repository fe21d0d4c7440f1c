"""The index's fast paths behave like the plain ones: summaries without built files, warm runs, the HTTP client."""

from __future__ import annotations

import gc
import gzip
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from conftest import run_cli
from reprolock.errors import IndexUnreachableError
from reprolock.index.cache import Cache
from reprolock.index.config import split_credentials
from reprolock.index.finder import IndexFinder
from reprolock.index.http import IndexHttp
from reprolock.index.models import IndexTarget
from reprolock.index.options import IndexOptions
from reprolock.index.pages import LazyPage
from reprolock.index.simple import parse_json
from reprolock.index.summary import summarize
from reprolock.sources.probe import probe

PY = ".".join(str(part) for part in sys.version_info[:3])
FIXTURES = ("requests", "django", "numpy", "oldlib")
TARGETS = (
    IndexTarget(PY),
    IndexTarget("3.8.10", frozenset({"cp38-cp38-manylinux_2_17_x86_64", "py3-none-any"})),
    IndexTarget("2.7.18", frozenset({"py2-none-any"})),
)


@pytest.fixture
def index(index_server):
    for name in FIXTURES:
        index_server.load_fixture(name)
    return index_server


def finder_for(server, *sources, cache=None, **options):
    settings = IndexOptions(indexes=(split_credentials(server.url), *sources), timeout=5.0, retries=1)
    return IndexFinder(settings, cache=cache, **options)


@pytest.mark.parametrize("target", TARGETS, ids=["running", "cp38", "py27"])
def test_summaries_from_decoded_entries_equal_those_of_built_pages(index, target):
    assert gc.isenabled()
    fast = finder_for(index).summaries(FIXTURES, target)
    assert gc.isenabled()  # paused only while the pages decode
    slow = finder_for(index)
    for name in FIXTURES:
        assert fast[name] == summarize(slow.project(name), target), name


def test_summaries_of_pages_merged_with_a_file_index(index, tmp_path):
    tree = tmp_path / "simple"
    (tree / "requests").mkdir(parents=True)
    (tree / "requests" / "index.html").write_text(
        '<a href="../../files/requests-2.28.0-py3-none-any.whl#sha256=ab" data-yanked="local reason">x</a>'
        '<a href="../../files/requests-9.0.0-py3-none-any.whl#sha256=cd">y</a>'
    )
    local = split_credentials(tree.as_uri() + "/")
    target = IndexTarget(PY)
    fast = finder_for(index, local).summaries(["requests", "django"], target)
    slow = finder_for(index, local)
    assert [release.version for release in fast["requests"].releases][:1] == ["9.0.0"]
    for name in ("requests", "django"):
        assert fast[name] == summarize(slow.project(name), target)


def test_lazy_page_builds_the_same_files_and_cache_form_as_the_parser(index):
    body = index.page_json("django")
    url = f"{index.url}django/"
    lazy = LazyPage.from_json(body, url, index.url, "django")
    lazy.facts(IndexTarget(PY))
    lazy.release()  # the entries are decoded again when the files are wanted after all
    assert lazy.page() == parse_json(body, url, index.url, "django")
    assert LazyPage.from_json(body, url, index.url, "django").to_data() == LazyPage.of(lazy.page()).to_data()


def test_pages_fetched_for_summaries_are_cached_for_later_runs(index, tmp_path):
    finder = finder_for(index, cache=Cache(tmp_path))
    finder.summaries(["django"], IndexTarget(PY))
    finder.close()
    before = len(index.requests)
    page = finder_for(index, cache=Cache(tmp_path)).project("django")
    assert page is not None
    assert len(index.requests) == before
    assert page == finder_for(index).project("django")


def test_a_warm_audit_sends_no_request(tmp_path, index):
    (tmp_path / "requirements.txt").write_text("requests==2.28.0\ndjango==3.2.25\n")
    options = ["--format", "json", "--index-url", index.url, "--cache-dir", str(tmp_path / "cache")]
    cold = run_cli("audit", "requirements.txt", *options, cwd=tmp_path)
    before = len(index.requests)
    warm = run_cli("audit", "requirements.txt", *options, cwd=tmp_path)
    assert warm.code == cold.code
    assert len(index.requests) == before
    assert warm.json["findings"] == cold.json["findings"]


class _Redirecting(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    seen: list[tuple[str, str | None]] = []  # noqa: RUF012 - per-test state, reset by the fixture
    ports: set[int] = set()  # noqa: RUF012 - same

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class's name
        pass

    def do_GET(self) -> None:
        self.seen.append((self.path, self.headers.get("Authorization")))
        self.ports.add(self.client_address[1])
        if self.path == "/old/":
            self.send_response(301)
            self.send_header("Location", "/new/")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = gzip.compress(b"hello " * 1000)
        self.send_response(200)
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def redirecting():
    _Redirecting.seen = []
    _Redirecting.ports = set()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Redirecting)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def http_for(url, auth_url=None, **settings):
    return IndexHttp(IndexOptions(indexes=(split_credentials(auth_url or url),), retries=0, **settings))


def test_http_client_follows_redirects_decodes_gzip_and_keeps_connections(redirecting):
    host, port = redirecting.server_address[:2]
    client = http_for(f"http://user:pw@{host}:{port}/")
    answer = client.get(f"http://{host}:{port}/old/")
    again = client.get(f"http://{host}:{port}/new/")
    client.close()
    assert answer.status == 200
    assert answer.url == f"http://{host}:{port}/new/"
    assert answer.body == b"hello " * 1000
    assert again.body == answer.body
    assert [path for path, _ in _Redirecting.seen] == ["/old/", "/new/", "/new/"]
    assert all(auth is not None and auth.startswith("Basic ") for _, auth in _Redirecting.seen)
    assert len(_Redirecting.ports) == 1  # one kept-alive connection for all three requests


def test_http_client_sends_credentials_only_to_their_origin(redirecting):
    host, port = redirecting.server_address[:2]
    for other in (f"http://user:pw@{host}:{port + 1 if port < 65535 else port - 1}/", f"https://user:pw@{host}:{port}/"):
        _Redirecting.seen.clear()
        client = http_for(other)
        assert client.get(f"http://{host}:{port}/new/").status == 200
        client.close()
        assert _Redirecting.seen == [("/new/", None)]


def test_an_answer_over_the_size_cap_is_refused(redirecting):
    host, port = redirecting.server_address[:2]
    client = http_for(f"http://{host}:{port}/", max_bytes=1000)
    with pytest.raises(IndexUnreachableError, match="larger than"):
        client.get(f"http://{host}:{port}/new/")
    client.close()


def test_the_probe_reads_the_same_default_index_as_the_real_pip_imports(tmp_path):
    imported = subprocess.run(
        [sys.executable, "-c", "from pip._internal.models.index import PyPI; print(PyPI.simple_url)"], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert probe(sys.executable, tmp_path).pip_index_url == imported
    assert probe(sys.executable, tmp_path, pip_index=False).pip_index_url is None
