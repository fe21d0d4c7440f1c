"""The index's HTTP client: an injected connection pool, hop-by-hop credentials, one lookup per host."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING

import pytest

from reprolock import __version__
from reprolock.errors import IndexUnreachableError
from reprolock.index import http11
from reprolock.index.client import HttpClient, Pool, ResolveOnce, open_client
from reprolock.index.config import split_credentials
from reprolock.index.finder import IndexFinder, warm_up
from wheelfactory import Dist

if TYPE_CHECKING:
    from collections.abc import Mapping


class Recording(Pool):
    """The run's own pool, noting every request that passes through it and whether it was closed."""

    def __init__(self) -> None:
        super().__init__(tls=http11.default_tls(), resolver=ResolveOnce(), user_agent="injected/1")
        self.seen: list[str] = []
        self.closed = False

    def request(self, method: str, url: str, headers: Mapping[str, str] | None = None) -> http11.Answer:
        self.seen.append(url.split("/", 3)[3])
        return super().request(method, url, headers)

    def close(self) -> None:
        self.closed = True
        super().close()


def test_the_finder_fetches_through_the_injected_pool(index_server):
    index_server.add_wheel(Dist("alpha", "1.0"))
    injected = Recording()
    finder = IndexFinder([split_credentials(index_server.url)], http=HttpClient(client=injected, retries=0))
    page = finder.project("alpha")
    finder.close()
    assert page is not None
    assert [item.version for item in page.files] == ["1.0"]
    assert ["/" + path for path in injected.seen] == [path for path, _ in index_server.requests] == ["/simple/alpha/"]
    assert index_server.requests[0][1]["user-agent"] == "injected/1"
    assert injected.closed  # the finder's client closes the pool it was handed


def test_the_run_client_names_reprolock_and_asks_for_gzip(index_server):
    index_server.add_wheel(Dist("alpha", "1.0"))
    finder = IndexFinder([split_credentials(index_server.url)])
    assert finder.project("alpha") is not None
    finder.close()
    headers = index_server.requests[0][1]
    assert headers["user-agent"] == f"reprolock/{__version__}"
    assert headers["accept-encoding"] == "gzip, deflate"


def test_each_host_is_resolved_once_and_still_named_in_the_host_header(index_server):
    for number in range(8):
        index_server.add_wheel(Dist(f"pkg{number}", "1.0"))
    port = index_server.root.rpartition(":")[2]
    backend = ResolveOnce()
    client = HttpClient(client=open_client(concurrency=4, backend=backend), retries=0)
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda number: client.get(f"http://localhost:{port}/simple/pkg{number}/"), range(8)))
    client.close()
    assert [answer.status for answer in answers] == [200] * 8
    assert backend.lookups == 1
    assert {headers["host"] for _, headers in index_server.requests} == {f"localhost:{port}"}


class _Hop(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    target = ""
    seen: list[tuple[int, str | None]] = []  # noqa: RUF012 - per-test state, reset by the fixture

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class's name
        pass

    def do_GET(self) -> None:
        self.seen.append((self.server.server_address[1], self.headers.get("Authorization")))
        if self.path == "/away/":
            self.send_response(302)
            self.send_header("Location", self.target)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")


@pytest.fixture
def two_hosts():
    _Hop.seen = []
    servers = [ThreadingHTTPServer(("127.0.0.1", 0), _Hop) for _ in range(2)]
    for server in servers:
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
    first, second = (f"127.0.0.1:{server.server_address[1]}" for server in servers)
    _Hop.target = f"http://{second}/here/"
    yield first, second
    for server in servers:
        server.shutdown()
        server.server_close()


def test_a_redirect_to_another_host_drops_the_credential(two_hosts):
    first, second = two_hosts
    client = HttpClient(auth={first: "Basic first"}, retries=0)
    answer = client.get(f"http://{first}/away/")
    client.close()
    assert (answer.status, answer.body, answer.url) == (200, b"ok", f"http://{second}/here/")
    assert [auth for _, auth in _Hop.seen] == ["Basic first", None]


def test_each_hop_carries_its_own_hosts_credential(two_hosts):
    first, second = two_hosts
    client = HttpClient(auth={first: "Basic first", second: "Basic second"}, retries=0)
    assert client.get(f"http://{first}/away/").status == 200
    client.close()
    assert [auth for _, auth in _Hop.seen] == ["Basic first", "Basic second"]


def test_a_redirect_loop_is_index_unreachable(two_hosts):
    first, _ = two_hosts
    _Hop.target = f"http://{first}/away/"
    client = HttpClient(retries=0)
    with pytest.raises(IndexUnreachableError, match="more than 10 redirects"):
        client.get(f"http://{first}/away/")
    client.close()
    assert len(_Hop.seen) == 11


def test_a_fresh_client_keeps_the_name_lookups_and_not_the_connections(index_server):
    first = HttpClient(timeout=5.0, retries=0)
    first.resolve(index_server.url)
    assert first.backend is not None
    assert first.backend.lookups == 1
    first.resolve(index_server.url)
    assert first.backend.lookups == 1  # once per host
    copy = first.fresh()
    assert copy.get(index_server.url).status in {200, 404}
    assert copy.backend is not None
    assert copy.backend.lookups == 0  # answered from what the first one looked up
    assert copy.client is not first.client
    first.close()
    copy.close()


def test_the_trust_store_loads_once_per_process_and_can_load_ahead_on_a_thread():
    http11._TLS.clear()
    warm_up()
    deadline = time.monotonic() + 30
    while not http11._TLS and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(http11._TLS) == 1  # loaded by the thread, before any client asked
    made = http11._TLS[0]
    assert http11.default_tls() is made
    client = open_client()
    assert client._tls is made  # the run's client uses it
    client.close()
