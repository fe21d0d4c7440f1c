"""HTTP for the index: the only module that imports httpx.

One :class:`HttpClient` per run: a pool of keep-alive connections (16 at a
time by default), each host name resolved once and the addresses reused by
every connection (concurrent lookups can stall for seconds on some networks),
timeouts, and retries with exponential backoff on timeouts, connection errors,
429 and 5xx. When the retries are spent it raises
:class:`~reprolock.errors.IndexUnreachableError` with the URL redacted.
"""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import httpcore
import httpx

from reprolock import __version__
from reprolock.errors import IndexUnreachableError
from reprolock.redaction import redacted

if TYPE_CHECKING:
    import ssl
    from collections.abc import Iterable, Mapping

SocketOption = tuple[int, int, int] | tuple[int, int, bytes | bytearray] | tuple[int, int, None, int]
"""httpcore's socket option shapes."""
RETRY_STATUS = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True, slots=True)
class Answer:
    """An HTTP answer, read in full."""

    status: int
    headers: Mapping[str, str]
    body: bytes
    url: str
    """The final URL (after redirects), without credentials."""


class _ResolveOnce(httpcore.NetworkBackend):
    """Resolve each host once per run and connect every socket to the known addresses."""

    def __init__(self) -> None:
        self._backend = httpcore.SyncBackend()
        self._lock = threading.Lock()
        self._addresses: dict[tuple[str, int], list[str]] = {}

    def addresses(self, host: str, port: int) -> list[str]:
        with self._lock:
            known = self._addresses.get((host, port))
            if known is None:
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
                return self._backend.connect_tcp(address, port, timeout, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
        raise failure or httpcore.ConnectError(f"no address for {host}")

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[SocketOption] | None = None,
    ) -> httpcore.NetworkStream:
        return self._backend.connect_unix_socket(path, timeout, socket_options)

    def sleep(self, seconds: float) -> None:
        self._backend.sleep(seconds)


class _Transport(httpx.BaseTransport):
    """httpx over an httpcore pool that uses :class:`_ResolveOnce`; bodies are read eagerly."""

    def __init__(self, ssl_context: ssl.SSLContext, concurrency: int) -> None:
        self._pool = httpcore.ConnectionPool(
            ssl_context=ssl_context,
            max_connections=concurrency,
            max_keepalive_connections=concurrency,
            keepalive_expiry=30.0,
            network_backend=_ResolveOnce(),
        )

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
                body = b"".join(answer.stream)  # type: ignore[arg-type]  # sync pools give sync streams
            finally:
                answer.close()
        except httpcore.TimeoutException as exc:
            raise httpx.TimeoutException(str(exc), request=request) from None
        except (httpcore.NetworkError, httpcore.ProtocolError, httpcore.ProxyError, httpcore.UnsupportedProtocol) as exc:
            raise httpx.TransportError(str(exc) or type(exc).__name__) from None
        return httpx.Response(answer.status, headers=answer.headers, stream=httpx.ByteStream(body), extensions=answer.extensions)

    def close(self) -> None:
        self._pool.close()


@dataclass
class HttpClient:
    """Bounded, retrying GETs with per-host credentials that never leave this object."""

    auth: Mapping[str, str] = field(default_factory=dict, repr=False)
    """``host[:port]`` -> ``Authorization`` header value."""
    concurrency: int = 16
    timeout: float = 20.0
    retries: int = 3
    backoff: float = 0.25
    _client: httpx.Client | None = field(default=None, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def _http(self) -> httpx.Client:
        with self._lock:
            if self._client is None:
                transport = _Transport(httpx.create_ssl_context(), self.concurrency)
                self._client = httpx.Client(
                    transport=transport,
                    timeout=httpx.Timeout(self.timeout, connect=min(self.timeout, 10.0), pool=None),
                    follow_redirects=True,
                    headers={"User-Agent": f"reprolock/{__version__}", "Accept-Encoding": "gzip, deflate"},
                    trust_env=False,
                )
            return self._client

    def get(self, url: str, headers: Mapping[str, str] | None = None, *, retry_status: frozenset[int] = RETRY_STATUS) -> Answer:
        """GET ``url``; 4xx answers are returned, 5xx and network failures retried then raised."""
        request_headers = dict(headers or {})
        credential = self.auth.get(urlsplit(url).netloc)
        if credential:
            request_headers["Authorization"] = credential
        reason = ""
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(self.backoff * 2 ** (attempt - 1))
            try:
                response = self._http().get(url, headers=request_headers)
            except httpx.TimeoutException:
                reason = "timed out"
                continue
            except httpx.TransportError as exc:
                reason = str(exc) or type(exc).__name__
                continue
            if response.status_code in retry_status:
                reason = f"HTTP {response.status_code}"
                continue
            final = str(response.url)
            return Answer(response.status_code, response.headers, response.content, redacted(final))
        raise IndexUnreachableError(
            f"the package index could not be reached: {redacted(url)} ({reason} after {self.retries + 1} attempts)",
            hint="check the network and --index-url, or run with --offline to use cached data",
        )

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
