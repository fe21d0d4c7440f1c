"""The HTTP/1.1 wire under the index's client, against a scripted server on 127.0.0.1.

The server reads each request and sends the raw bytes it is told to, so that
every way RFC 9112 frames an answer (and a few ways servers break it) is met
on a real socket.
"""

from __future__ import annotations

import gzip
import socket
import ssl
import subprocess
import threading
import zlib
from dataclasses import dataclass, field

import pytest

from reprolock.errors import IndexUnreachableError
from reprolock.index import http11
from reprolock.index.client import HttpClient, TransportError, TransportTimeoutError, open_client


class Last(bytes):
    """A reply after which the server closes the connection."""


@dataclass
class Scripted:
    """Answers each request with the next of ``replies``; ``None`` closes the connection instead of answering."""

    replies: list[bytes | None]
    tls: ssl.SSLContext | None = None
    port: int = 0
    requests: list[bytes] = field(default_factory=list)
    connections: int = 0

    def __post_init__(self) -> None:
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port = self._server.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self._server.accept()
            except OSError:
                return
            self.connections += 1
            if self.tls is not None:
                try:
                    conn = self.tls.wrap_socket(conn, server_side=True)
                except OSError:  # the client refused the certificate
                    conn.close()
                    continue
            threading.Thread(target=self._talk, args=(conn,), daemon=True).start()

    def _talk(self, conn: socket.socket) -> None:
        with conn:
            data = b""
            while self.replies:
                while b"\r\n\r\n" not in data:
                    more = conn.recv(65536)
                    if not more:
                        return
                    data += more
                head, _, data = data.partition(b"\r\n\r\n")
                self.requests.append(head)
                reply = self.replies.pop(0)
                if reply is None:
                    return
                conn.sendall(reply)
                if isinstance(reply, Last):
                    return

    def url(self, path: str = "/") -> str:
        if self.tls is not None:  # the certificate names localhost
            return f"https://localhost:{self.port}{path}"
        return f"http://127.0.0.1:{self.port}{path}"

    def close(self) -> None:
        self._server.close()


@pytest.fixture
def scripted():
    servers: list[Scripted] = []

    def start(*replies: bytes | None, tls: ssl.SSLContext | None = None) -> Scripted:
        servers.append(Scripted(list(replies), tls))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


def fetch(url: str, *, method: str = "GET", timeout: float = 5.0) -> http11.Answer:
    with open_client(timeout=timeout) as client:
        return client.request(method, url)


def ok(body: bytes, *extra: bytes) -> bytes:
    return b"HTTP/1.1 200 OK\r\nContent-Length: " + str(len(body)).encode() + b"\r\n" + b"".join(line + b"\r\n" for line in extra) + b"\r\n" + body


def test_a_length_framed_body_is_read_whole_and_the_connection_kept(scripted):
    big = bytes(range(256)) * 40000  # 10 MB, many TLS-record-sized reads on any socket
    server = scripted(ok(big), ok(b"second"))
    with open_client() as client:
        first = client.request("GET", server.url("/a"))
        second = client.request("GET", server.url("/b"))
    assert first.body == big
    assert second.body == b"second"
    assert server.connections == 1
    assert [request.split(b"\r\n")[0] for request in server.requests] == [b"GET /a HTTP/1.1", b"GET /b HTTP/1.1"]


def test_a_chunked_body_with_extensions_and_trailers(scripted):
    server = scripted(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n7\r\n, world\r\n0\r\nX-Trailer: yes\r\n\r\n", ok(b"after"))
    with open_client() as client:
        assert client.request("GET", server.url()).body == b"hello, world"
        assert client.request("GET", server.url()).body == b"after"  # the trailer was consumed: the next answer parses
    assert server.connections == 1


def test_a_body_without_length_runs_to_the_close_and_the_connection_is_not_reused(scripted):
    server = scripted(Last(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end"), ok(b"next"))
    with open_client() as client:
        assert client.request("GET", server.url()).body == b"until the end"
        assert client.request("GET", server.url()).body == b"next"
    assert server.connections == 2


def test_gzip_and_deflate_are_decoded_by_the_client(scripted):
    raw = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    bare = raw.compress(b"bare deflate") + raw.flush()
    server = scripted(ok(gzip.compress(b'{"name": "alpha"}'), b"Content-Encoding: gzip"), ok(zlib.compress(b"zlib"), b"Content-Encoding: deflate"), ok(bare, b"Content-Encoding: deflate"), ok(b"broken", b"Content-Encoding: gzip"))
    client = HttpClient(retries=0)
    assert [client.get(server.url()).body for _ in range(3)] == [b'{"name": "alpha"}', b"zlib", b"bare deflate"]
    with pytest.raises(IndexUnreachableError, match="cannot decode the answer's gzip content"):
        client.get(server.url())
    client.close()


def test_informational_answers_are_skipped_and_head_and_304_have_no_body(scripted):
    server = scripted(
        b"HTTP/1.1 100 Continue\r\n\r\n" + ok(b"real"),
        b"HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n",  # HEAD: the length is the GET's, no body follows
        b"HTTP/1.1 304 Not Modified\r\nETag: x\r\n\r\n",
        ok(b"still in step"),
    )
    with open_client() as client:
        assert client.request("GET", server.url()).body == b"real"
        assert client.request("HEAD", server.url()).body == b""
        not_modified = client.request("GET", server.url())
        assert (not_modified.status, not_modified.body) == (304, b"")
        assert client.request("GET", server.url()).body == b"still in step"
    assert server.connections == 1


def test_connection_close_and_http_1_0_are_not_kept(scripted):
    server = scripted(ok(b"one", b"Connection: close"), ok(b"two"))
    other = scripted(b"HTTP/1.0 200 OK\r\nContent-Length: 5\r\n\r\nthree", ok(b"four"))
    with open_client() as client:
        assert [client.request("GET", server.url()).body for _ in range(2)] == [b"one", b"two"]
        assert [client.request("GET", other.url()).body for _ in range(2)] == [b"three", b"four"]
    assert (server.connections, other.connections) == (2, 2)


def test_a_kept_connection_the_server_closed_is_replaced(scripted):
    server = scripted(ok(b"first"), None, ok(b"second"))
    with open_client() as client:
        assert client.request("GET", server.url()).body == b"first"
        # the server has the next request on the kept connection and closes it without answering
        assert client.request("GET", server.url()).body == b"second"
    assert server.connections == 2


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        (b"SPDY/3 200 OK\r\n\r\n", "not an HTTP/1.x status line"),
        (b"HTTP/1.1 2000 OK\r\n\r\n", "not an HTTP/1.x status line"),
        (b"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n", "not a header line"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd", "Content-Length is not one number"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", "after 5 of 10 bytes"),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "not a chunk size"),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcXY0\r\n\r\n", "does not end with CRLF"),
        (b"HTTP/1.1 200 OK\r\nX: " + b"y" * (70 * 1024), "larger than"),
        (b"HTTP/1.1 200 OK\r\nX: cut", "before the answer's header ended"),
    ],
)
def test_a_broken_answer_is_a_protocol_error(scripted, reply, message):
    server = scripted(Last(reply))
    with pytest.raises(TransportError, match=message):
        fetch(server.url())


def test_a_silent_server_is_a_read_timeout(scripted):
    server = socket.create_server(("127.0.0.1", 0))  # accepts (the backlog does) and never answers
    try:
        with pytest.raises(TransportTimeoutError):
            fetch(f"http://127.0.0.1:{server.getsockname()[1]}/", timeout=0.3)
    finally:
        server.close()


def test_a_refused_connection_is_a_connect_error_and_retries_end_in_index_unreachable():
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]  # closed again: nothing listens there now
    client = HttpClient(retries=1, backoff=0.0)
    with pytest.raises(IndexUnreachableError, match="could not be reached") as caught:
        client.get(f"http://127.0.0.1:{port}/simple/")
    client.close()
    assert "cannot connect" in str(caught.value)


def test_line_breaks_in_a_header_never_reach_the_wire(scripted):
    server = scripted(ok(b"never"))
    with open_client() as client, pytest.raises(TransportError, match="line break"):
        client.request("GET", server.url(), headers={"Authorization": "Basic x\r\nX-Injected: 1"})
    assert server.requests == []


def test_the_request_head_names_method_target_and_headers():
    head = http11.request_head("GET", b"/simple/a/?q=1", [(b"Host", b"example.test"), (b"Accept", b"*/*")])
    assert head == b"GET /simple/a/?q=1 HTTP/1.1\r\nHost: example.test\r\nAccept: */*\r\n\r\n"
    with pytest.raises(ValueError, match="line break"):
        http11.request_head("GET", b"/a\r\nb", [])


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    """A self-signed certificate for localhost, made by the openssl command."""
    folder = tmp_path_factory.mktemp("tls")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=DNS:localhost", "-keyout", str(folder / "key.pem"), "-out", str(folder / "cert.pem")],
        check=True, capture_output=True,
    )  # fmt: skip
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(folder / "cert.pem", folder / "key.pem")
    return server, folder / "cert.pem"


def test_tls_checks_the_certificate_for_the_host_name(scripted, certificate):
    server_side, cert = certificate
    server = scripted(ok(b"over tls"), ok(b"same connection"), tls=server_side)
    trusting = ssl.create_default_context(cafile=str(cert))
    with open_client(tls=trusting) as client:
        assert [client.request("GET", server.url()).body for _ in range(2)] == [b"over tls", b"same connection"]
    assert server.connections == 1
    with open_client(tls=ssl.create_default_context()) as client, pytest.raises(TransportError, match="CERTIFICATE_VERIFY_FAILED"):
        client.request("GET", server.url())


@pytest.fixture
def fresh_trust():
    """The process's trust stores emptied for the test, and put back after it."""
    saved = (list(http11._TLS), list(http11._FULL))
    http11._TLS.clear()
    http11._FULL.clear()
    yield
    http11._TLS[:], http11._FULL[:] = saved


def _hashed_folder(tmp_path, monkeypatch, *names: str) -> str:
    folder = tmp_path / "certs"
    folder.mkdir()
    for name in names:
        (folder / name).write_text("")
    real = ssl.get_default_verify_paths()
    monkeypatch.setattr(ssl, "get_default_verify_paths", lambda: real._replace(capath=str(folder)))
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    return str(folder)


def test_the_default_trust_reads_a_hashed_certificate_folder_lazily(fresh_trust, tmp_path, monkeypatch):
    _hashed_folder(tmp_path, monkeypatch, "README", "5a3f0ff8.0")
    context = http11.default_tls()
    assert context.cert_store_stats()["x509_ca"] == 0  # nothing read yet: CAs are looked up when a chain needs them
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname
    wider = http11.wider_tls(context)
    assert wider is not None
    assert wider.cert_store_stats()["x509_ca"] > 0  # the whole bundle, for a certificate the folder does not know
    assert http11.wider_tls(wider) is None


@pytest.mark.parametrize("case", ["no hashed names", "SSL_CERT_FILE", "SSL_CERT_DIR"])
def test_the_whole_trust_store_is_read_when_the_folder_cannot_stand_for_it(fresh_trust, tmp_path, monkeypatch, case):
    _hashed_folder(tmp_path, monkeypatch, *(["README"] if case == "no hashed names" else ["5a3f0ff8.0"]))
    if case != "no hashed names":
        monkeypatch.setenv(case, str(tmp_path / "elsewhere"))
    context = http11.default_tls()
    assert context is http11._FULL[0]
    assert http11.wider_tls(context) is None


def test_a_certificate_the_folder_refuses_is_tried_with_the_whole_trust_store(fresh_trust, scripted, certificate, tmp_path):
    server_side, cert = certificate
    server = scripted(ok(b"after a second handshake"), ok(b"kept"), tls=server_side)
    empty = tmp_path / "empty-folder"
    empty.mkdir()
    http11._TLS.append(ssl.create_default_context(capath=str(empty)))  # a folder without the server's CA
    http11._FULL.append(ssl.create_default_context(cafile=str(cert)))  # the whole store, which has it
    with open_client() as client:
        assert [client.request("GET", server.url()).body for _ in range(2)] == [b"after a second handshake", b"kept"]
        assert client._tls is http11._FULL[0]  # later connections go straight to the whole store
    assert server.connections == 2  # the refused handshake, then one connection kept for both requests
