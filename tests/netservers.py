"""Real network parts for the index tests: a forwarding proxy, TLS, redirects, stalls, huge pages.

Everything listens on 127.0.0.1 (TLS servers are named ``localhost`` in their
URLs, as their certificate says) and is served by threads of the test
process. Every server is a context manager, and ``close()`` ends it for good:
the listener, the serving thread and every connection still open (a handler
blocked on a client that stopped reading is woken by its socket closing).

::

    certs = make_certificates(tmp_path)             # a trustme CA, ca.pem, client.pem
    with ForwardProxy() as proxy:                   # proxy.url, proxy.log
        ...
    index = TlsIndexServer(folder, certs.server_context()).start()   # index.url: https://localhost:PORT/simple/
    RecordingServer(upstream=index.root)           # relays to the index, records every request
    RedirectServer("http://127.0.0.1:PORT")        # 302 to the same path there
    StallServer("silent")                          # accepts, reads the request, never answers
    HugePageServer(300 * MB, framing="chunked")    # a project page streamed as it is generated

Nothing here forwards to anything but the loopback: the proxy refuses other
hosts (403) before it connects anywhere, so a test can never reach the internet
through it.
"""

from __future__ import annotations

import base64
import contextlib
import http.client
import select
import socket
import socketserver
import ssl
import threading
import time
import zlib
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any, Self
from urllib.parse import urlsplit

import trustme

from indexserver import IndexServer

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path
    from types import TracebackType

MB = 1024 * 1024
LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authorization",
        "proxy-authenticate",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)
HANDSHAKE_TIMEOUT = 10.0
"""Seconds a TLS handshake (or a plain client's first byte) may take before the server drops the connection."""
JSON_TYPE = "application/vnd.pypi.simple.v1+json"

Reply = tuple[int, dict[str, str], bytes]
"""An answer: status, headers, body (``Content-Length`` is added)."""


# -- certificates -----------------------------------------------------------


@dataclass
class Certificates:
    """A CA made for the test, a server certificate for ``localhost``/``127.0.0.1`` and client certificates.

    ``ca_pem``: the CA certificate (what ``--cert`` / ``PIP_CERT`` take);
    ``client_pem``: key and certificate of a client signed by the CA (pip's ``client-cert``);
    ``stranger_pem``: key and certificate of a client signed by another CA;
    ``stranger_ca_pem``: that other CA's certificate (a valid bundle that does not vouch for the server).
    """

    folder: Path
    ca: trustme.CA
    server: trustme.LeafCert
    ca_pem: Path
    client_pem: Path
    stranger_pem: Path
    stranger_ca_pem: Path

    def server_context(self, *, require_client_cert: bool = False) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.server.configure_cert(context)
        if require_client_cert:
            context.verify_mode = ssl.CERT_REQUIRED
            self.ca.configure_trust(context)
        return context

    def client_context(self, *, client_cert: Path | None = None) -> ssl.SSLContext:
        context = ssl.create_default_context(cafile=str(self.ca_pem))
        if client_cert is not None:
            context.load_cert_chain(str(client_cert))
        return context


def make_certificates(folder: Path) -> Certificates:
    folder.mkdir(parents=True, exist_ok=True)
    ca = trustme.CA()
    server = ca.issue_cert("localhost", "127.0.0.1")
    ca_pem = folder / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_pem))
    client_pem = folder / "client.pem"
    ca.issue_cert("client").private_key_and_cert_chain_pem.write_to_path(str(client_pem))
    other = trustme.CA()
    stranger_pem = folder / "stranger.pem"
    other.issue_cert("client").private_key_and_cert_chain_pem.write_to_path(str(stranger_pem))
    stranger_ca_pem = folder / "stranger-ca.pem"
    other.cert_pem.write_to_path(str(stranger_ca_pem))
    return Certificates(folder, ca, server, ca_pem, client_pem, stranger_pem, stranger_ca_pem)


# -- the common server ------------------------------------------------------


class _Server(ThreadingHTTPServer):
    """A threading HTTP server on the loopback, optionally TLS (and optionally plain HTTP on the same port).

    The TLS handshake runs on the connection's own thread (a client that never
    finishes it cannot hold the listener). Failed handshakes are kept in
    ``tls_errors``. Every open connection is tracked so that :meth:`close` can end it.
    """

    daemon_threads = True
    block_on_close = False

    def __init__(
        self,
        handler: type[socketserver.BaseRequestHandler],
        *,
        tls: ssl.SSLContext | None = None,
        plain_too: bool = False,
        host: str = "127.0.0.1",
    ) -> None:
        super().__init__((host, 0), handler)
        self.tls = tls
        self.plain_too = plain_too
        self.tls_errors: list[str] = []
        self.stopping = threading.Event()
        self._live: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    # lifecycle

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    @property
    def scheme(self) -> str:
        return "https" if self.tls is not None else "http"

    @property
    def host(self) -> str:
        return "localhost" if self.tls is not None else "127.0.0.1"

    @property
    def root(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}"

    @property
    def url(self) -> str:
        return f"{self.root}/simple/"

    def start(self) -> Self:
        self._thread.start()
        return self

    def close(self) -> None:
        if self.stopping.is_set():
            return
        self.stopping.set()
        if self._thread.is_alive():
            self.shutdown()
        self.server_close()
        with self._lock:
            live = list(self._live)
        for sock in live:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                sock.close()
        self._thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self.start() if not self._thread.is_alive() else self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None, trace: TracebackType | None) -> None:
        self.close()

    # connections

    def record(self, items: list[Any], item: object) -> None:
        with self._lock:
            items.append(item)

    def finish_request(self, request: Any, client_address: Any) -> None:
        sock = request
        if self.tls is not None:
            sock = self._tls_accept(request)
            if sock is None:
                return
        with self._lock:
            self._live.add(sock)
        try:
            self.RequestHandlerClass(sock, client_address, self)
        finally:
            with self._lock:
                self._live.discard(sock)
            if sock is not request:
                with contextlib.suppress(OSError):
                    sock.close()

    def _tls_accept(self, request: socket.socket) -> socket.socket | None:
        assert self.tls is not None
        request.settimeout(HANDSHAKE_TIMEOUT)
        try:
            if self.plain_too and request.recv(1, socket.MSG_PEEK) != b"\x16":  # not a TLS handshake record: plain HTTP
                request.settimeout(None)
                return request
            sock = self.tls.wrap_socket(request, server_side=True)
        except (OSError, ValueError) as exc:  # ssl.SSLError is an OSError
            self.record(self.tls_errors, f"{type(exc).__name__}: {exc}")
            return None
        sock.settimeout(None)
        return sock


class _QuietHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: Any

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        pass

    def headers_dict(self) -> dict[str, str]:
        return {key.lower(): value for key, value in self.headers.items()}

    def reply(self, status: int, headers: dict[str, str] | None = None, body: bytes = b"") -> None:
        self.send_response(status)
        for key, value in (headers or {}).items():
            if key.lower() not in {"content-length", "transfer-encoding"}:
                self.send_header(key, value)
        if status not in {204, 304} and status >= 200:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD" and body:
            self.wfile.write(body)


def _relay(upstream: str, method: str, path: str, headers: dict[str, str]) -> Reply:
    """Ask the loopback server ``upstream`` (``http://127.0.0.1:PORT``) and return its whole answer."""
    parts = urlsplit(upstream)
    if parts.scheme != "http" or parts.hostname not in LOOPBACK:
        return 403, {}, b"upstream is not a plain loopback server"
    connection = http.client.HTTPConnection(parts.hostname, parts.port or 80, timeout=30)
    sent = {key: value for key, value in headers.items() if key.lower() not in HOP_BY_HOP and key.lower() != "host"}
    try:
        connection.request(method, path, headers=sent)
        response = connection.getresponse()
        body = response.read()
    except (OSError, http.client.HTTPException) as exc:
        return 502, {}, f"upstream failed: {exc}".encode()
    finally:
        connection.close()
    kept = {key: value for key, value in response.getheaders() if key.lower() not in HOP_BY_HOP | {"content-length", "date", "server"}}
    return response.status, kept, body


# -- forward proxy ----------------------------------------------------------


@dataclass(frozen=True)
class ProxyRequest:
    line: str
    """``GET http://127.0.0.1:PORT/path`` or ``CONNECT host:port``."""
    headers: dict[str, str]
    authorized: bool


class ForwardProxy(_Server):
    """An HTTP forwarding proxy on 127.0.0.1: absolute-form requests and ``CONNECT`` tunnels, to loopback hosts only.

    ``log``: every request line (``"GET http://127.0.0.1:PORT/simple/a/"``,
    ``"CONNECT localhost:PORT"``), in arrival order, including refused ones;
    ``requests``: the same with the headers. With ``auth=(user, password)``
    every request must carry that ``Proxy-Authorization`` (else 407).
    """

    def __init__(self, *, auth: tuple[str, str] | None = None) -> None:
        super().__init__(_ProxyHandler)
        self.auth = auth
        self.log: list[str] = []
        self.requests: list[ProxyRequest] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url_with_auth(self) -> str:
        assert self.auth is not None
        user, password = self.auth
        return f"http://{user}:{password}@127.0.0.1:{self.port}"

    @property
    def expected_authorization(self) -> str | None:
        if self.auth is None:
            return None
        return "Basic " + base64.b64encode(f"{self.auth[0]}:{self.auth[1]}".encode()).decode()

    def targets(self) -> list[str]:
        """The request targets logged so far (URL or ``host:port``)."""
        with self._lock:
            return [line.split(" ", 1)[1] for line in self.log]

    def note(self, line: str, headers: dict[str, str], authorized: bool) -> None:
        with self._lock:
            self.log.append(line)
            self.requests.append(ProxyRequest(line, headers, authorized))


class _ProxyHandler(_QuietHandler):
    rbufsize = 0  # unbuffered: nothing the client sends after CONNECT's head is read ahead and lost to the tunnel
    server: ForwardProxy

    def _admitted(self) -> bool:
        expected = self.server.expected_authorization
        authorized = expected is None or self.headers.get("Proxy-Authorization") == expected
        self.server.note(f"{self.command} {self.path}", self.headers_dict(), authorized)
        if not authorized:
            self.close_connection = True
            self.reply(407, {"Proxy-Authenticate": 'Basic realm="test proxy"', "Connection": "close"}, b"proxy authentication required")
        return authorized

    def do_CONNECT(self) -> None:
        if not self._admitted():
            return
        host, _, port_text = self.path.rpartition(":")
        host = host.strip("[]")
        if host not in LOOPBACK or not port_text.isdigit():
            self.close_connection = True
            self.reply(403, {}, b"this test proxy only reaches the loopback")
            return
        try:
            upstream = socket.create_connection((host, int(port_text)), timeout=10)
        except OSError as exc:
            self.close_connection = True
            self.reply(502, {}, f"cannot connect: {exc}".encode())
            return
        self.send_response(200, "Connection established")
        self.end_headers()
        self.close_connection = True
        with self.server._lock:
            self.server._live.add(upstream)
        try:
            _tunnel(self.connection, upstream, self.server.stopping)
        finally:
            with self.server._lock:
                self.server._live.discard(upstream)
            upstream.close()

    def do_GET(self) -> None:
        self._forward()

    def do_HEAD(self) -> None:
        self._forward()

    def _forward(self) -> None:
        if not self._admitted():
            return
        parts = urlsplit(self.path)
        if parts.scheme != "http" or parts.hostname not in LOOPBACK:
            self.reply(403, {}, b"this test proxy forwards absolute http:// URLs of the loopback only")
            return
        connection = http.client.HTTPConnection(parts.hostname, parts.port or 80, timeout=30)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        headers = {key: value for key, value in self.headers.items() if key.lower() not in HOP_BY_HOP}
        try:
            connection.request(self.command, target, headers=headers)
            response = connection.getresponse()
        except (OSError, http.client.HTTPException) as exc:
            connection.close()
            self.reply(502, {}, f"upstream failed: {exc}".encode())
            return
        try:
            self._stream_back(response)
        finally:
            connection.close()

    def _stream_back(self, response: http.client.HTTPResponse) -> None:
        self.send_response_only(response.status, response.reason)
        length = response.getheader("Content-Length")
        for key, value in response.getheaders():
            if key.lower() not in HOP_BY_HOP:
                self.send_header(key, value)
        no_body = self.command == "HEAD" or response.status in {204, 304} or 100 <= response.status < 200
        chunked = not no_body and length is None
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        if no_body:
            return
        try:
            while block := response.read1(64 * 1024) if chunked else response.read(64 * 1024):
                self.wfile.write(b"%x\r\n%s\r\n" % (len(block), block) if chunked else block)
            if chunked:
                self.wfile.write(b"0\r\n\r\n")
        except OSError:  # the client went away (or the upstream broke): this connection is done
            self.close_connection = True


def _tunnel(client: socket.socket, upstream: socket.socket, stopping: threading.Event) -> None:
    pair = {client: upstream, upstream: client}
    try:
        while not stopping.is_set():
            readable, _, _ = select.select(list(pair), [], [], 0.2)
            for sock in readable:
                data = sock.recv(64 * 1024)
                if not data:
                    return
                pair[sock].sendall(data)
    except (OSError, ValueError):  # a side closed (ValueError: select on a closed socket at teardown)
        return


# -- TLS index ----------------------------------------------------------------


class TlsIndexServer:
    """The test index of tests/indexserver.py served over HTTPS (``https://localhost:PORT/simple/``).

    The content API is the index's own (``add_wheel``, ``requests``, ``fault``,
    ...: any attribute not defined here is the :class:`IndexServer`'s). With a
    context from ``Certificates.server_context(require_client_cert=True)``
    every connection must present a client certificate signed by the test CA.
    """

    def __init__(self, folder: Path, context: ssl.SSLContext) -> None:
        self.index = IndexServer(folder)
        plain = self.index._httpd
        handler = plain.RequestHandlerClass  # the index's handler, bound to its state
        plain.server_close()  # the plain listener made by IndexServer is never served
        self.server = _Server(handler, tls=context)
        self.index._httpd = self.server  # IndexServer.stop() stops this one too

    def __getattr__(self, name: str) -> Any:
        return getattr(self.index, name)

    @property
    def port(self) -> int:
        return self.server.port

    @property
    def root(self) -> str:
        return self.server.root

    @property
    def url(self) -> str:
        return f"{self.root}/simple/"

    @property
    def tls_errors(self) -> list[str]:
        return self.server.tls_errors

    def start(self) -> Self:
        self.server.start()
        return self

    def close(self) -> None:
        self.server.close()

    stop = close

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None, trace: TracebackType | None) -> None:
        self.close()


# -- recording, relaying and redirecting origins ------------------------------------


@dataclass(frozen=True)
class Seen:
    """One request a :class:`RecordingServer` received."""

    scheme: str
    method: str
    path: str
    headers: dict[str, str]
    time: float
    """``time.monotonic()`` when the request head had been read."""


@dataclass
class _Scripted:
    prefix: str
    reply: Reply
    times: int | None


@dataclass(frozen=True)
class Answered:
    path: str
    status: int
    headers: dict[str, str] = field(default_factory=dict)


class RecordingServer(_Server):
    """An origin that records every request (``seen``) and every answer it gives (``answered``).

    Answers, first match wins: ``respond(seen)`` when set and not ``None``;
    then a scripted answer (:meth:`script`); then the answer of ``upstream``
    (a plain loopback server, e.g. ``index_server.root``: the request is
    relayed to it); else 404. With ``tls``, it is an https origin; with
    ``plain_too`` as well, plain HTTP is served on the same port (two origins,
    one port: ``seen[i].scheme`` tells them apart).
    """

    def __init__(
        self,
        *,
        upstream: str | None = None,
        respond: Callable[[Seen], Reply | None] | None = None,
        tls: ssl.SSLContext | None = None,
        plain_too: bool = False,
    ) -> None:
        super().__init__(_RecordingHandler, tls=tls, plain_too=plain_too)
        self.upstream = upstream
        self.respond = respond
        self.seen: list[Seen] = []
        self.answered: list[Answered] = []
        self._scripted: list[_Scripted] = []

    def script(self, prefix: str, status: int, headers: dict[str, str] | None = None, body: bytes = b"", *, times: int | None = 1) -> None:
        """Answer requests whose path starts with ``prefix`` with this (``times`` times; ``None``: always)."""
        with self._lock:
            self._scripted.append(_Scripted(prefix, (status, headers or {}, body), times))

    def take_scripted(self, path: str) -> Reply | None:
        with self._lock:
            for item in self._scripted:
                if path.startswith(item.prefix):
                    if item.times is not None:
                        item.times -= 1
                        if item.times <= 0:
                            self._scripted.remove(item)
                    return item.reply
        return None

    def requests_to(self, prefix: str) -> list[Seen]:
        with self._lock:
            return [item for item in self.seen if item.path.startswith(prefix)]

    def answer(self, seen: Seen, headers: dict[str, str]) -> Reply:
        if self.respond is not None:
            reply = self.respond(seen)
            if reply is not None:
                return reply
        reply = self.take_scripted(seen.path)
        if reply is not None:
            return reply
        if self.upstream is not None:
            return _relay(self.upstream, seen.method, seen.path, headers)
        return 404, {}, b"not found"


class _RecordingHandler(_QuietHandler):
    server: RecordingServer

    def do_GET(self) -> None:
        scheme = "https" if isinstance(self.connection, ssl.SSLSocket) else "http"
        seen = Seen(scheme, self.command, self.path, self.headers_dict(), time.monotonic())
        self.server.record(self.server.seen, seen)
        status, headers, body = self.server.answer(seen, dict(self.headers.items()))
        self.server.record(self.server.answered, Answered(self.path, status, headers))
        self.reply(status, headers, body)

    def do_HEAD(self) -> None:
        self.do_GET()


class RedirectServer(RecordingServer):
    """Answers every request with a redirect (``status``, 302 by default) to ``target`` + the request's path.

    With ``keep_path=False`` the ``Location`` is ``target`` itself. The
    requests (and their headers) are in ``seen``.
    """

    def __init__(self, target: str, *, status: int = 302, keep_path: bool = True, tls: ssl.SSLContext | None = None) -> None:
        super().__init__(respond=self._redirect, tls=tls)
        self.target = target
        self.status = status
        self.keep_path = keep_path

    def _redirect(self, seen: Seen) -> Reply:
        location = self.target.rstrip("/") + seen.path if self.keep_path else self.target
        return self.status, {"Location": location}, b""


# -- a server that stops answering --------------------------------------------------


class StallServer(_Server):
    """Accepts connections and stops answering, until :meth:`close`.

    ``mode``: ``"silent"`` reads the request head and never answers;
    ``"headers"`` answers 200 with a ``Content-Length`` of 10 MB, sends the
    first bytes of a page, then nothing more; ``"accept"`` never even reads.
    ``requests``: the request lines read (and when), ``connections``: how many were accepted.
    """

    def __init__(self, mode: str = "silent") -> None:
        if mode not in {"silent", "headers", "accept"}:
            raise ValueError(mode)
        super().__init__(_StallHandler)
        self.mode = mode
        self.connections = 0
        self.requests: list[tuple[str, float]] = []

    def paths(self) -> list[str]:
        with self._lock:
            return [line.split(" ")[1] for line, _ in self.requests if line.count(" ") >= 2]


class _StallHandler(socketserver.StreamRequestHandler):
    server: StallServer

    def handle(self) -> None:
        server = self.server
        with server._lock:
            server.connections += 1
        if server.mode != "accept":
            self.connection.settimeout(0.2)
            head = b""
            while b"\r\n\r\n" not in head and not server.stopping.is_set():
                try:
                    data = self.connection.recv(4096)
                except TimeoutError:
                    continue
                except OSError:
                    return
                if not data:
                    return
                head += data
            line = head.split(b"\r\n", 1)[0].decode("latin-1")
            server.record(server.requests, (line, time.monotonic()))
            if server.mode == "headers":
                start = b'{"meta": {"api-version": "1.1"}, "name": "a", "files": ['
                answer = b"HTTP/1.1 200 OK\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n%s" % (JSON_TYPE.encode(), 10 * MB, start)
                with contextlib.suppress(OSError):
                    self.connection.sendall(answer)
        server.stopping.wait()


# -- a huge project page ----------------------------------------------------------


class HugePageServer(_Server):
    """Serves one valid PEP 691 page of ``size`` bytes for every ``/simple/NAME/``, generated while it is sent.

    ``framing``: ``"length"`` (with ``Content-Length``), ``"chunked"`` (no
    length) or ``"gzip"`` (chunked, ``Content-Encoding: gzip``: ``size`` is
    the decoded size, a few hundred KB go over the wire). Other paths get 404.
    ``sent``: body bytes written to the socket so far (compressed bytes for
    gzip); ``aborted``: answers the client stopped reading before their end.
    """

    ENTRY = (
        '{"filename": "%s-1.0.%08d-py3-none-any.whl", "url": "../../files/%s-1.0.%08d-py3-none-any.whl", '
        '"hashes": {"sha256": "' + "0" * 64 + '"}, "requires-python": ">=3.8", "size": 1000}'
    )

    def __init__(self, size: int = 300 * MB, *, framing: str = "length") -> None:
        if framing not in {"length", "chunked", "gzip"}:
            raise ValueError(framing)
        super().__init__(_HugeHandler)
        self.size = size
        self.framing = framing
        self.sent = 0
        self.aborted = 0
        self.completed = 0
        self.requests: list[str] = []

    def body_parts(self, name: str) -> tuple[bytes, int, bytes, bytes]:
        """The page's head, the number of entries, one block of entries and the tail; the page is exactly ``size`` bytes long.

        The page is ``head`` + ``count`` entries separated by commas + ``tail``,
        each entry the same length; the last entry is padded with spaces.
        """
        head = b'{"meta": {"api-version": "1.1"}, "name": "%s", "files": [' % name.encode()
        tail = b"]}"
        entry_length = len(self.ENTRY % (name, 0, name, 0))
        room = self.size - len(head) - len(tail)
        count = max(1, (room + 1) // (entry_length + 1))
        block = b"".join((self.ENTRY % (name, number, name, number)).encode() + b"," for number in range(256))
        return head, count, block, tail

    def generate(self, name: str) -> Any:
        head, count, block, tail = self.body_parts(name)
        entry_length = len(block) // 256
        yield head
        left = count
        while left > 256:
            yield block
            left -= 256
        last = block[: entry_length * left]  # the last entries, each with its comma; the final comma goes
        written = len(head) + (count - left) * entry_length + len(last) - 1 + len(tail)
        yield last[:-1] + b" " * max(0, self.size - written)
        yield tail


class _HugeHandler(_QuietHandler):
    server: HugePageServer

    def do_GET(self) -> None:
        server = self.server
        server.record(server.requests, self.path)
        parts = [part for part in self.path.split("?")[0].split("/") if part]
        if len(parts) != 2 or parts[0] != "simple":
            self.reply(404, {}, b"not found")
            return
        self.send_response(200)
        self.send_header("Content-Type", JSON_TYPE)
        if server.framing == "length":
            self.send_header("Content-Length", str(server.size))
        else:
            self.send_header("Transfer-Encoding", "chunked")
        if server.framing == "gzip":
            self.send_header("Content-Encoding", "gzip")
        self.end_headers()
        compressor = zlib.compressobj(6, zlib.DEFLATED, 31) if server.framing == "gzip" else None
        try:
            for piece in server.generate(parts[1]):
                data = compressor.compress(piece) if compressor is not None else piece
                self._write(data)
            if compressor is not None:
                self._write(compressor.flush())
            if server.framing != "length":
                self.wfile.write(b"0\r\n\r\n")
        except OSError:
            self.close_connection = True
            with server._lock:
                server.aborted += 1
            return
        with server._lock:
            server.completed += 1

    def _write(self, data: bytes) -> None:
        if not data:
            return
        if self.server.stopping.is_set():
            raise ConnectionAbortedError("server closing")
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data) if self.server.framing != "length" else data)
        with self.server._lock:
            self.server.sent += len(data)


# -- helpers --------------------------------------------------------------------


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then closed)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


__all__ = [
    "MB",
    "Answered",
    "Certificates",
    "ForwardProxy",
    "HugePageServer",
    "ProxyRequest",
    "RecordingServer",
    "RedirectServer",
    "Seen",
    "StallServer",
    "TlsIndexServer",
    "closed_port",
    "make_certificates",
]
