"""HTTP for the index, on the standard library's ``http.client``.

One :class:`HttpClient` per run: a pool of keep-alive connections (16 in use
at a time by default), each host name resolved once and the addresses reused
by every connection (concurrent lookups can stall for seconds on some
networks), connect and read timeouts, redirects, gzip/deflate, and retries
with exponential backoff on timeouts, connection errors, 429 and 5xx. When the
retries are spent it raises :class:`~reprolock.errors.IndexUnreachableError`
with the URL redacted.

Why not httpx: the index pages are tens of megabytes in all, and reading them
through ``http.client`` costs a fraction of the CPU (its buffered reader takes
a whole body in one call, where httpx's stack handles every TLS record in
Python), besides the ~100 ms that importing httpx takes. ``http.client`` is
already imported by the requirements parser, so the network costs no import.
"""

from __future__ import annotations

import http.client
import socket
import threading
import time
import zlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import urljoin, urlsplit

from reprolock import __version__
from reprolock.errors import IndexUnreachableError
from reprolock.redaction import redacted

if TYPE_CHECKING:
    import ssl
    from collections.abc import Mapping

RETRY_STATUS = frozenset({429, 500, 502, 503, 504})
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_MAX_REDIRECTS = 10


@dataclass(frozen=True, slots=True)
class Answer:
    """An HTTP answer, read in full."""

    status: int
    headers: Mapping[str, str]
    """Lower-case names; repeated headers joined with ``, ``."""
    body: bytes
    url: str
    """The final URL (after redirects), without credentials."""


class _Resolver:
    """Resolve each host once per run; connect every socket to the known addresses."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._addresses: dict[tuple[str, int], list[str]] = {}

    def addresses(self, host: str, port: int) -> list[str]:
        with self._lock:
            known = self._addresses.get((host, port))
            if known is None:
                try:
                    found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
                except OSError as exc:
                    raise OSError(f"cannot resolve {host}: {exc}") from None
                known = list(dict.fromkeys(str(item[4][0]) for item in found))
                self._addresses[(host, port)] = known
            return known

    def connect(self, host: str, port: int, connect_timeout: float, read_timeout: float) -> socket.socket:
        failure: OSError | None = None
        for address in self.addresses(host, port):
            try:
                sock = socket.create_connection((address, port), timeout=connect_timeout)
            except OSError as exc:
                failure = exc
                continue
            sock.settimeout(read_timeout)
            return sock
        raise failure or OSError(f"no address for {host}")


class _Connection(http.client.HTTPConnection):
    """A plain HTTP connection whose socket comes from the :class:`_Resolver`."""

    def __init__(self, host: str, port: int, resolver: _Resolver, connect_timeout: float, read_timeout: float) -> None:
        super().__init__(host, port, timeout=read_timeout)
        self._resolver = resolver
        self._connect_timeout = connect_timeout

    def connect(self) -> None:
        self.sock = self._resolver.connect(self.host, self.port, self._connect_timeout, self.timeout or self._connect_timeout)


class _TlsConnection(_Connection):
    """HTTPS: the resolved socket wrapped with the run's TLS context (certificates checked for the host name)."""

    default_port = http.client.HTTPS_PORT

    def __init__(self, host: str, port: int, resolver: _Resolver, connect_timeout: float, read_timeout: float, *, context: ssl.SSLContext) -> None:
        super().__init__(host, port, resolver, connect_timeout, read_timeout)
        self._tls = context

    def connect(self) -> None:
        super().connect()
        self.sock = self._tls.wrap_socket(self.sock, server_hostname=self.host)


class _Pool:
    """Idle keep-alive connections per origin, and at most ``size`` requests in flight."""

    def __init__(self, size: int, connect_timeout: float, read_timeout: float) -> None:
        self._slots = threading.BoundedSemaphore(size)
        self._lock = threading.Lock()
        self._idle: dict[tuple[str, str, int], list[_Connection]] = {}
        self._resolver = _Resolver()
        self._context: ssl.SSLContext | None = None
        self._connect_timeout = connect_timeout
        self._read_timeout = read_timeout

    def _tls_context(self) -> ssl.SSLContext:
        with self._lock:
            if self._context is None:
                import ssl  # noqa: PLC0415 - loaded with http.client already; the context (CA bundle) only for https

                self._context = ssl.create_default_context()
            return self._context

    def _checkout(self, origin: tuple[str, str, int]) -> tuple[_Connection, bool]:
        with self._lock:
            idle = self._idle.get(origin)
            if idle:
                return idle.pop(), True
        scheme, host, port = origin
        if scheme == "https":
            return _TlsConnection(host, port, self._resolver, self._connect_timeout, self._read_timeout, context=self._tls_context()), False
        return _Connection(host, port, self._resolver, self._connect_timeout, self._read_timeout), False

    def request(self, url: str, headers: Mapping[str, str]) -> tuple[int, dict[str, str], bytes]:
        """One GET (no redirects followed): status, lower-cased headers and the whole body."""
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in {"http", "https"}:
            raise OSError(f"unsupported URL scheme {scheme!r}")
        host = parts.hostname or ""
        port = parts.port or (443 if scheme == "https" else 80)
        origin = (scheme, host, port)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        with self._slots:
            connection, reused = self._checkout(origin)
            try:
                answer = self._exchange(connection, target, headers)
            except (OSError, http.client.HTTPException):
                connection.close()
                if not reused:
                    raise
                # The index closed a kept-alive connection meanwhile: once more on a new one.
                connection, _ = self._checkout_new(origin)
                try:
                    answer = self._exchange(connection, target, headers)
                except BaseException:
                    connection.close()
                    raise
            except BaseException:
                connection.close()
                raise
        return answer

    def _checkout_new(self, origin: tuple[str, str, int]) -> tuple[_Connection, bool]:
        with self._lock:
            stale = self._idle.pop(origin, [])
        for connection in stale:
            connection.close()
        return self._checkout(origin)

    def _exchange(self, connection: _Connection, target: str, headers: Mapping[str, str]) -> tuple[int, dict[str, str], bytes]:
        connection.request("GET", target, headers=dict(headers))
        response = connection.getresponse()
        body = response.read()
        found: dict[str, str] = {}
        for name, value in response.getheaders():
            key = name.lower()
            found[key] = f"{found[key]}, {value}" if key in found else value
        if response.will_close:
            connection.close()
        else:
            origin = (
                "https" if isinstance(connection, _TlsConnection) else "http",
                connection.host,
                connection.port,
            )
            with self._lock:
                self._idle.setdefault(origin, []).append(connection)
        return response.status, found, body

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, {}
        for connections in idle.values():
            for connection in connections:
                connection.close()


def _decoded(body: bytes, encoding: str | None) -> bytes:
    """The body without its ``Content-Encoding`` (gzip or deflate, the ones asked for)."""
    coding = (encoding or "").strip().lower()
    if coding == "gzip":
        return zlib.decompress(body, 16 + zlib.MAX_WBITS)
    if coding == "deflate":
        try:
            return zlib.decompress(body)
        except zlib.error:
            return zlib.decompress(body, -zlib.MAX_WBITS)
    return body


@dataclass
class HttpClient:
    """Bounded, retrying GETs with per-host credentials that never leave this object."""

    auth: Mapping[str, str] = field(default_factory=dict, repr=False)
    """``host[:port]`` -> ``Authorization`` header value."""
    concurrency: int = 16
    timeout: float = 20.0
    retries: int = 3
    backoff: float = 0.25
    _pool: _Pool | None = field(default=None, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def _connections(self) -> _Pool:
        with self._lock:
            if self._pool is None:
                self._pool = _Pool(self.concurrency, min(self.timeout, 10.0), self.timeout)
            return self._pool

    def get(self, url: str, headers: Mapping[str, str] | None = None, *, retry_status: frozenset[int] = RETRY_STATUS) -> Answer:
        """GET ``url``; 4xx answers are returned, 5xx and network failures retried then raised."""
        reason = ""
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(self.backoff * 2 ** (attempt - 1))
            try:
                final, status, found, body = self._follow(url, headers or {})
            except TimeoutError:
                reason = "timed out"
                continue
            except (OSError, http.client.HTTPException, zlib.error) as exc:
                reason = str(exc) or type(exc).__name__
                continue
            if status in retry_status:
                reason = f"HTTP {status}"
                continue
            return Answer(status, found, body, redacted(final))
        raise IndexUnreachableError(
            f"the package index could not be reached: {redacted(url)} ({reason} after {self.retries + 1} attempts)",
            hint="check the network and --index-url, or run with --offline to use cached data",
        )

    def _follow(self, url: str, headers: Mapping[str, str]) -> tuple[str, int, dict[str, str], bytes]:
        """GET with redirects followed; credentials go only to the host they belong to."""
        pool = self._connections()
        for _ in range(_MAX_REDIRECTS + 1):
            request = {"User-Agent": f"reprolock/{__version__}", "Accept-Encoding": "gzip, deflate", **headers}
            credential = self.auth.get(urlsplit(url).netloc)
            if credential:
                request["Authorization"] = credential
            status, found, body = pool.request(url, request)
            location = found.get("location")
            if status in _REDIRECTS and location:
                url = urljoin(url, location)
                continue
            return url, status, found, _decoded(body, found.get("content-encoding"))
        raise OSError(f"more than {_MAX_REDIRECTS} redirects")

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()
            self._pool = None
