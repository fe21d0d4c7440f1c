"""HTTP for the index: the only module that imports httpx.

:class:`HttpClient` does the index's GETs through an ``httpx.Client`` it is
given. :func:`open_client` builds the one a run uses: HTTP/1.1 keep-alive
connections (16 in use at a time by default), connect and read timeouts,
gzip/deflate (decoded by httpx), a ``reprolock/VERSION`` User-Agent, and each
host name resolved once per run, the addresses reused by every connection
(concurrent lookups can stall for seconds on some networks; TLS still checks
the certificate for the host name, and the ``Host`` header names it).

:class:`HttpClient` follows redirects one hop at a time so that every hop
carries the credential of its own host and no other (httpx builds each
redirect request and drops ``Authorization`` when the origin changes), and
retries with exponential backoff on timeouts, connection errors, 429 and 5xx.
When the retries are spent it raises
:class:`~reprolock.errors.IndexUnreachableError` with the URL redacted.

The finder imports this module only when a page has to come from the network,
so a run answered from the cache never imports httpx.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpcore
import httpx

from reprolock import __version__
from reprolock.errors import IndexUnreachableError
from reprolock.index.models import Answer
from reprolock.redaction import redacted

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

SocketOption = tuple[int, int, int] | tuple[int, int, bytes | bytearray] | tuple[int, int, None, int]
"""httpcore's socket option shapes."""
RETRY_STATUS = frozenset({429, 500, 502, 503, 504})
MAX_REDIRECTS = 10
_DEFAULT_PORTS = {"http": 80, "https": 443}
_READ_LIMIT = 1 << 20

# httpcore's errors as httpx's, most specific first (a timeout is also a network error).
_ERRORS: tuple[tuple[type[Exception], type[httpx.TransportError]], ...] = (
    (httpcore.ConnectTimeout, httpx.ConnectTimeout),
    (httpcore.ReadTimeout, httpx.ReadTimeout),
    (httpcore.WriteTimeout, httpx.WriteTimeout),
    (httpcore.PoolTimeout, httpx.PoolTimeout),
    (httpcore.TimeoutException, httpx.TimeoutException),
    (httpcore.ConnectError, httpx.ConnectError),
    (httpcore.ReadError, httpx.ReadError),
    (httpcore.WriteError, httpx.WriteError),
    (httpcore.NetworkError, httpx.NetworkError),
    (httpcore.RemoteProtocolError, httpx.RemoteProtocolError),
    (httpcore.LocalProtocolError, httpx.LocalProtocolError),
    (httpcore.ProtocolError, httpx.ProtocolError),
    (httpcore.ProxyError, httpx.ProxyError),
    (httpcore.UnsupportedProtocol, httpx.UnsupportedProtocol),
)


class _BulkStream(httpcore.NetworkStream):
    """A socket stream whose reads take every byte already at hand, up to 1 MiB, not one TLS record.

    A TLS socket returns one record (16 KiB at most) per ``recv``; httpcore and
    h11 then spend more time per chunk than the socket does, and a multi-megabyte
    page is hundreds of chunks. After the first (blocking) read this one keeps
    reading without waiting while data is ready.
    """

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:  # noqa: ARG002 - reads up to _READ_LIMIT instead
        sock = self._sock
        try:
            sock.settimeout(timeout)
            first = sock.recv(_READ_LIMIT)
            if not first or len(first) >= _READ_LIMIT:
                return first
            chunks = [first]
            size = len(first)
            sock.settimeout(0.0)
            try:
                while size < _READ_LIMIT:
                    more = sock.recv(_READ_LIMIT - size)
                    if not more:
                        break
                    chunks.append(more)
                    size += len(more)
            except (ssl.SSLWantReadError, BlockingIOError):
                pass
            return b"".join(chunks)
        except TimeoutError as exc:
            raise httpcore.ReadTimeout(str(exc)) from exc
        except OSError as exc:
            raise httpcore.ReadError(str(exc)) from exc

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        try:
            sock = self._sock
            view = memoryview(buffer)
            while view:
                sock.settimeout(timeout)
                view = view[sock.send(view) :]
        except TimeoutError as exc:
            raise httpcore.WriteTimeout(str(exc)) from exc
        except OSError as exc:
            raise httpcore.WriteError(str(exc)) from exc

    def close(self) -> None:
        self._sock.close()

    def start_tls(self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None) -> httpcore.NetworkStream:
        try:
            self._sock.settimeout(timeout)
            wrapped = ssl_context.wrap_socket(self._sock, server_hostname=server_hostname)
        except TimeoutError as exc:
            self._sock.close()
            raise httpcore.ConnectTimeout(str(exc)) from exc
        except OSError as exc:
            self._sock.close()
            raise httpcore.ConnectError(str(exc)) from exc
        return _BulkStream(wrapped)

    def get_extra_info(self, info: str) -> Any:  # noqa: ANN401 - httpcore's interface
        if info == "ssl_object" and isinstance(self._sock, ssl.SSLSocket):
            return self._sock  # answers selected_alpn_protocol() as the SSL object does
        if info == "socket":
            return self._sock
        if info == "client_addr":
            return self._sock.getsockname()
        if info == "server_addr":
            return self._sock.getpeername()
        if info == "is_readable":
            return _readable(self._sock)
        return None


def _readable(sock: socket.socket) -> bool:
    """Whether a kept-alive socket has data or EOF waiting (then it is dropped, not reused)."""
    import select  # noqa: PLC0415 - only when a connection is reused

    if sock.fileno() < 0:
        return True
    if not hasattr(select, "poll"):  # Windows
        return bool(select.select([sock], [], [], 0)[0])
    poller = select.poll()
    poller.register(sock, select.POLLIN)
    return bool(poller.poll(0))


class ResolveOnce(httpcore.SyncBackend):
    """httpcore's socket backend, resolving each host once and connecting every socket to the known addresses.

    httpcore passes the URL's host name to :meth:`connect_tcp`; the socket goes to
    a cached address, and httpcore then starts TLS with the host name (SNI and the
    certificate check), so only the lookup is shared.
    """

    def __init__(self, known: Mapping[tuple[str, int], list[str]] | None = None) -> None:
        self._lock = threading.Lock()
        self._addresses: dict[tuple[str, int], list[str]] = dict(known or {})
        self.lookups = 0
        """How many times a host name was looked up (once per host and port)."""

    def known(self) -> dict[tuple[str, int], list[str]]:
        """The addresses looked up so far."""
        with self._lock:
            return dict(self._addresses)

    def addresses(self, host: str, port: int) -> list[str]:
        """The addresses of ``host``, looked up on first use."""
        with self._lock:
            known = self._addresses.get((host, port))
            if known is None:
                self.lookups += 1
                try:
                    found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
                except OSError as exc:
                    raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from None
                known = list(dict.fromkeys(str(item[4][0]) for item in found))
                self._addresses[(host, port)] = known
            return known

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[SocketOption] | None = None,
    ) -> httpcore.NetworkStream:
        failure: Exception | None = None
        for address in self.addresses(host, port):
            try:
                plain = super().connect_tcp(address, port, timeout, local_address, socket_options)
                return _BulkStream(plain.get_extra_info("socket"))
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
        raise failure or httpcore.ConnectError(f"no address for {host}")


class _Transport(httpx.BaseTransport):
    """httpx over an httpcore connection pool with the given network backend; bodies are read in full."""

    def __init__(self, pool: httpcore.ConnectionPool) -> None:
        self._pool = pool

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        core = httpcore.Request(
            method=request.method,
            url=httpcore.URL(scheme=request.url.raw_scheme, host=request.url.raw_host, port=request.url.port, target=request.url.raw_path),
            headers=request.headers.raw,
            content=request.stream,
            extensions=request.extensions,
        )
        try:
            answer = self._pool.handle_request(core)
            try:
                body = answer.read()  # the connection goes back to the pool at once
            finally:
                answer.close()
        except (httpcore.NetworkError, httpcore.TimeoutException, httpcore.ProtocolError, httpcore.ProxyError, httpcore.UnsupportedProtocol) as exc:
            kind = next(ours for theirs, ours in _ERRORS if isinstance(exc, theirs))
            raise kind(str(exc) or type(exc).__name__, request=request) from None
        return httpx.Response(answer.status, headers=answer.headers, stream=httpx.ByteStream(body), extensions=answer.extensions)

    def close(self) -> None:
        self._pool.close()


def open_client(
    *, concurrency: int = 16, timeout: float = 20.0, backend: httpcore.NetworkBackend | None = None, tls: ssl.SSLContext | None = None
) -> httpx.Client:
    """The httpx client for one run: ``concurrency`` kept-alive connections, each host resolved once.

    ``timeout`` is the read timeout; connecting may take up to ten seconds of it.
    Certificates are checked against the system's trust store (as ``ssl`` finds
    it, ``SSL_CERT_FILE`` included). Proxy variables and ``.netrc`` are not read
    (credentials come from the index URLs and pip's configuration). ``tls``: such
    a context made already (``ssl.create_default_context()``).
    """
    pool = httpcore.ConnectionPool(
        ssl_context=tls if tls is not None else ssl.create_default_context(),
        max_connections=concurrency,
        max_keepalive_connections=concurrency,
        keepalive_expiry=30.0,
        http1=True,
        http2=False,
        network_backend=backend if backend is not None else ResolveOnce(),
    )
    return httpx.Client(
        transport=_Transport(pool),
        timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0), pool=None),
        follow_redirects=True,
        max_redirects=MAX_REDIRECTS,
        headers={"User-Agent": f"reprolock/{__version__}", "Accept-Encoding": "gzip, deflate"},
        trust_env=False,
    )


@dataclass
class HttpClient:
    """Bounded, retrying GETs with per-host credentials that never leave this object."""

    auth: Mapping[str, str] = field(default_factory=dict, repr=False)
    """``host[:port]`` -> ``Authorization`` header value."""
    concurrency: int = 16
    timeout: float = 20.0
    retries: int = 3
    backoff: float = 0.25
    client: httpx.Client | None = field(default=None, repr=False)
    """The httpx client the GETs go through (closed by :meth:`close`); when none is
    given, :func:`open_client` with ``concurrency`` and ``timeout`` on first use."""
    backend: ResolveOnce | None = field(default=None, repr=False)
    """The name lookups of :attr:`client` (when this object made it, or was told)."""
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def _http(self) -> httpx.Client:
        with self._lock:
            if self.client is None:
                self.backend = ResolveOnce(self.backend.known() if self.backend is not None else None)
                self.client = open_client(concurrency=self.concurrency, timeout=self.timeout, backend=self.backend)
            return self.client

    def resolve(self, url: str) -> None:
        """Look up the host of ``url`` now, e.g. before a fork, so that the copies do not all look it up at once."""
        parts = urlsplit(url)
        self._http()  # the client and its lookups
        if self.backend is not None and parts.hostname:
            with contextlib.suppress(httpcore.ConnectError):  # reported, and retried, by the requests that need it
                self.backend.addresses(parts.hostname, parts.port or _DEFAULT_PORTS.get(parts.scheme, 443))

    def fresh(self) -> HttpClient:
        """The same settings and name lookups over new connections (for a forked copy: connections are never shared)."""
        return HttpClient(self.auth, self.concurrency, self.timeout, self.retries, self.backoff, backend=self.backend)

    def get(self, url: str, headers: Mapping[str, str] | None = None, *, retry_status: frozenset[int] = RETRY_STATUS) -> Answer:
        """GET ``url``; 4xx answers are returned, 5xx and network failures retried then raised."""
        reason = ""
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(self.backoff * 2 ** (attempt - 1))
            try:
                response = self._follow(url, headers or {})
            except httpx.TimeoutException:
                reason = "timed out"
                continue
            except (httpx.RequestError, httpx.InvalidURL) as exc:
                reason = redacted(str(exc) or type(exc).__name__)
                continue
            if response.status_code in retry_status:
                reason = f"HTTP {response.status_code}"
                continue
            return Answer(response.status_code, dict(response.headers.items()), response.content, redacted(str(response.url)))
        raise IndexUnreachableError(
            f"the package index could not be reached: {redacted(url)} ({reason} after {self.retries + 1} attempts)",
            hint="check the network and --index-url, or run with --offline to use cached data",
        )

    def _follow(self, url: str, headers: Mapping[str, str]) -> httpx.Response:
        """GET with redirects followed hop by hop; each hop carries only its own host's credential."""
        client = self._http()
        request = client.build_request("GET", url, headers=headers)
        for _ in range(MAX_REDIRECTS + 1):
            credential = self._credential(request.url)
            if credential:
                request.headers["Authorization"] = credential
            else:
                request.headers.pop("Authorization", None)
            response = client.send(request, follow_redirects=False)
            if response.next_request is None:
                return response
            request = response.next_request
        raise httpx.TooManyRedirects(f"more than {MAX_REDIRECTS} redirects", request=request)

    def _credential(self, url: httpx.URL) -> str | None:
        """The ``Authorization`` value for ``url``'s host and port, if one is configured."""
        host = url.host if ":" not in url.host else f"[{url.host}]"
        if url.port is not None:
            return self.auth.get(f"{host}:{url.port}")
        # httpx drops a default port from the URL; the configuration may have kept it.
        return self.auth.get(host) or self.auth.get(f"{host}:{_DEFAULT_PORTS.get(url.scheme, 0)}")

    def close(self) -> None:
        with self._lock:
            client, self.client = self.client, None
        if client is not None:
            client.close()
