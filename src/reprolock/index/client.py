"""HTTP for the index: bounded, retrying GETs with per-host credentials, over :mod:`reprolock.index.http11`.

:func:`open_client` makes the :class:`Pool` a run uses: kept-alive connections
per origin (16 requests in flight at most by default), connect and read
timeouts, each host name resolved once per run and the addresses reused by
every connection (concurrent lookups can stall for seconds on some networks;
TLS still checks the certificate for the host name, and the ``Host`` header
names it), and a ``reprolock/VERSION`` User-Agent. :class:`HttpClient` is what
the finder calls: it is given a pool (or makes one on first use), follows
redirects one hop at a time so that every hop carries the credential of its own
host and no other, decodes gzip and deflate, and retries with exponential
backoff on timeouts, connection errors, 429 and 5xx. When the retries are spent
it raises :class:`~reprolock.errors.IndexUnreachableError` with the URL redacted.

The index's requests are plain GETs of pages and files, so this is all the
client they need: a general HTTP library would cost a run its import (tens of
milliseconds, before the first request) and a few hundred Python calls per
request. Proxy variables and ``.netrc`` are not read here (credentials come from
the index URLs and pip's configuration, see :mod:`reprolock.index.config`).

The finder imports this module only when a page has to come from the network,
so a run answered from the cache never loads it.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
import time
import zlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Self
from urllib.parse import quote, urljoin, urlsplit

from reprolock import __version__
from reprolock.errors import IndexUnreachableError
from reprolock.index import http11
from reprolock.index.models import Answer
from reprolock.redaction import redacted

if TYPE_CHECKING:
    from collections.abc import Mapping
    from urllib.parse import SplitResult

RETRY_STATUS = frozenset({429, 500, 502, 503, 504})
MAX_REDIRECTS = 10
REDIRECT_STATUS = frozenset({301, 302, 303, 307, 308})
_DEFAULT_PORTS = {"http": 80, "https": 443}
_SAFE = "/%:@!$&'()*+,;=-._~"
"""Characters a request target keeps as they are (anything else is percent-encoded)."""


class TransportError(Exception):
    """A request that got no usable answer: no connection, a TLS failure, a broken or undecodable answer."""


class TransportTimeoutError(TransportError):
    """Connecting, or waiting for an answer, took longer than the timeout."""


class ResolveOnce:
    """Each host name looked up once per run; every connection goes to the addresses found then."""

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
                    msg = f"cannot resolve {host}: {exc}"
                    raise TransportError(msg) from None
                known = list(dict.fromkeys(str(item[4][0]) for item in found))
                self._addresses[(host, port)] = known
            return known

    def connect(self, host: str, port: int, timeout: float | None) -> socket.socket:
        """A TCP socket to the first of ``host``'s addresses that answers."""
        failure: TransportError | None = None
        for address in self.addresses(host, port):
            try:
                sock = socket.create_connection((address, port), timeout=timeout)
            except TimeoutError:
                failure = TransportTimeoutError(f"connecting to {host}:{port} timed out")
            except OSError as exc:
                failure = TransportError(f"cannot connect to {host}:{port}: {exc}")
            else:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                return sock
        raise failure or TransportError(f"no address for {host}")


class Pool:
    """Kept-alive HTTP/1.1 connections per origin; at most ``concurrency`` requests on the wire at a time.

    An idle connection the server has closed is dropped before reuse; one that
    turns out closed when the request is sent is replaced once (the index's
    requests are GETs, safe to send again).
    """

    def __init__(self, *, tls: ssl.SSLContext, resolver: ResolveOnce, concurrency: int = 16, timeout: float = 20.0, user_agent: str | None = None) -> None:
        self._tls = tls
        self._resolver = resolver
        self._slots = threading.BoundedSemaphore(concurrency)
        self._lock = threading.Lock()
        self._idle: dict[tuple[str, str, int], list[http11.Connection]] = {}
        self._limit = concurrency
        self.timeout = timeout
        self.headers = [(b"User-Agent", (user_agent or f"reprolock/{__version__}").encode()), (b"Accept-Encoding", b"gzip, deflate")]
        """Sent with every request (before the request's own)."""

    def request(self, method: str, url: str, headers: Mapping[str, str] | None = None) -> http11.Answer:
        """Send one request to ``url`` and read its whole answer (no redirect followed, no content coding undone)."""
        parts = urlsplit(url)
        scheme, host = parts.scheme, parts.hostname
        if scheme not in _DEFAULT_PORTS or not host:
            msg = f"not an http or https URL: {redacted(url)}"
            raise TransportError(msg)
        try:
            port = parts.port or _DEFAULT_PORTS[scheme]
        except ValueError:
            msg = f"not a valid port in {redacted(url)}"
            raise TransportError(msg) from None
        try:
            given = _encoded(headers)
            named = {name.lower() for name, _ in given}
            defaults = [(name, value) for name, value in self.headers if name.lower() not in named]
            head = http11.request_head(method, _target(parts), [(b"Host", _host_header(host, parts.port)), *defaults, *given])
        except (ValueError, UnicodeError) as exc:
            raise TransportError(str(exc)) from None
        origin = (scheme, host, port)
        with self._slots:
            while True:
                connection = self._checkout(origin)
                try:
                    answer = connection.exchange(head, b"", method=method, timeout=self.timeout)
                except http11.StaleConnectionError:
                    connection.close()
                    continue  # a kept-alive connection the server had closed: a new one
                except http11.WireTimeoutError as exc:
                    connection.close()
                    raise TransportTimeoutError(str(exc)) from None
                except http11.WireError as exc:
                    connection.close()
                    raise TransportError(str(exc)) from None
                break
        if answer.keep:
            self._checkin(origin, connection)
        else:
            connection.close()
        return answer

    def _checkout(self, origin: tuple[str, str, int]) -> http11.Connection:
        """An idle connection to ``origin`` that is still open, else a new one."""
        with self._lock:
            idle = self._idle.get(origin) or []
            while idle:
                connection = idle.pop()
                if not connection.dropped():
                    return connection
                connection.close()
        scheme, host, port = origin
        timeout = min(self.timeout, 10.0)
        while True:
            tls = self._tls
            sock = self._resolver.connect(host, port, timeout)
            if scheme != "https":
                return http11.Connection(sock)
            try:
                return http11.Connection(tls.wrap_socket(sock, server_hostname=host))
            except ssl.SSLCertVerificationError as exc:
                sock.close()
                wider = http11.wider_tls(tls)
                if wider is None:
                    raise TransportError(f"TLS with {host}:{port} failed: {exc}") from None
                self._tls = wider  # the certificate folder alone did not do: the whole trust store, from now on
            except TimeoutError:
                sock.close()
                msg = f"TLS with {host}:{port} timed out"
                raise TransportTimeoutError(msg) from None
            except OSError as exc:
                sock.close()
                raise TransportError(f"TLS with {host}:{port} failed: {exc}") from None

    def _checkin(self, origin: tuple[str, str, int], connection: http11.Connection) -> None:
        with self._lock:
            idle = self._idle.setdefault(origin, [])
            if len(idle) < self._limit:
                idle.append(connection)
                return
        connection.close()

    def close(self) -> None:
        with self._lock:
            idle = [connection for connections in self._idle.values() for connection in connections]
            self._idle.clear()
        for connection in idle:
            connection.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def _target(parts: SplitResult) -> bytes:
    """The request target of a URL: its path (``/`` when empty) and query, percent-encoded where needed."""
    target = quote(parts.path or "/", safe=_SAFE)
    if parts.query:
        target += "?" + quote(parts.query, safe=_SAFE + "?")
    return target.encode("ascii")


def _host_header(host: str, port: int | None) -> bytes:
    name = f"[{host}]" if ":" in host else host.encode("idna").decode("ascii")
    return f"{name}:{port}".encode("ascii") if port is not None else name.encode("ascii")


def _encoded(headers: Mapping[str, str] | None) -> list[tuple[bytes, bytes]]:
    return [(name.encode("ascii"), value.encode("latin-1")) for name, value in (headers or {}).items()]


def open_client(*, concurrency: int = 16, timeout: float = 20.0, backend: ResolveOnce | None = None, tls: ssl.SSLContext | None = None) -> Pool:
    """The connection pool for one run: ``concurrency`` kept-alive connections, each host resolved once.

    ``timeout`` is the read timeout; connecting may take up to ten seconds of it.
    Certificates are checked against the system's trust store (as ``ssl`` finds
    it, ``SSL_CERT_FILE`` included; see :func:`~reprolock.index.http11.default_tls`
    for the certificate folder read lazily, and the whole store tried when it refuses).
    ``tls``: such a context made already (by default the process's ``default_tls()``).
    """
    return Pool(
        tls=tls if tls is not None else http11.default_tls(),
        resolver=backend if backend is not None else ResolveOnce(),
        concurrency=concurrency,
        timeout=timeout,
    )


def decoded(body: bytes, codings: str) -> bytes:
    """``body`` with its content codings undone (gzip, deflate; ``identity`` and unknown ones are left as they are)."""
    for coding in reversed([token.strip().lower() for token in codings.split(",") if token.strip()]):
        try:
            if coding in {"gzip", "x-gzip"}:
                body = zlib.decompress(body, 16 + zlib.MAX_WBITS)
            elif coding == "deflate":
                try:
                    body = zlib.decompress(body)
                except zlib.error:  # raw deflate, as some servers send it
                    body = zlib.decompress(body, -zlib.MAX_WBITS)
        except zlib.error as exc:
            msg = f"cannot decode the answer's {coding} content: {exc}"
            raise TransportError(msg) from None
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
    client: Pool | None = field(default=None, repr=False)
    """The pool the GETs go through (closed by :meth:`close`); when none is
    given, :func:`open_client` with ``concurrency`` and ``timeout`` on first use."""
    backend: ResolveOnce | None = field(default=None, repr=False)
    """The name lookups of :attr:`client` (when this object made it, or was told)."""
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def _pool(self) -> Pool:
        with self._lock:
            if self.client is None:
                self.backend = ResolveOnce(self.backend.known() if self.backend is not None else None)
                self.client = open_client(concurrency=self.concurrency, timeout=self.timeout, backend=self.backend)
            return self.client

    def resolve(self, url: str) -> None:
        """Look up the host of ``url`` now, e.g. before a fork, so that the copies do not all look it up at once."""
        parts = urlsplit(url)
        self._pool()  # the pool and its lookups
        if self.backend is not None and parts.hostname:
            with contextlib.suppress(TransportError, ValueError):  # reported, and retried, by the requests that need it
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
                answer = self._follow(url, headers or {})
            except TransportTimeoutError:
                reason = "timed out"
                continue
            except TransportError as exc:
                reason = redacted(str(exc) or type(exc).__name__)
                continue
            if answer.status in retry_status:
                reason = f"HTTP {answer.status}"
                continue
            return answer
        raise IndexUnreachableError(
            f"the package index could not be reached: {redacted(url)} ({reason} after {self.retries + 1} attempts)",
            hint="check the network and --index-url, or run with --offline to use cached data",
        )

    def _follow(self, url: str, headers: Mapping[str, str]) -> Answer:
        """GET with redirects followed hop by hop; each hop carries only its own host's credential."""
        pool = self._pool()
        for _ in range(MAX_REDIRECTS + 1):
            credential = self._credential(url)
            sent = {**headers, "Authorization": credential} if credential else {name: value for name, value in headers.items() if name.lower() != "authorization"}
            answer = pool.request("GET", url, sent)
            found = _headers(answer.headers)
            location = found.get("location")
            if answer.status not in REDIRECT_STATUS or not location:
                body = decoded(answer.body, found["content-encoding"]) if "content-encoding" in found else answer.body
                return Answer(answer.status, found, body, redacted(url))
            url = urljoin(url, location)
        msg = f"more than {MAX_REDIRECTS} redirects"
        raise TransportError(msg)

    def _credential(self, url: str) -> str | None:
        """The ``Authorization`` value for ``url``'s host and port, if one is configured."""
        parts = urlsplit(url)
        host = parts.hostname or ""
        host = f"[{host}]" if ":" in host else host
        try:
            port = parts.port
        except ValueError:
            return None
        if port is not None and port != _DEFAULT_PORTS.get(parts.scheme):
            return self.auth.get(f"{host}:{port}")
        # The default port may be written in the URL or in the configuration, or in neither.
        return self.auth.get(host) or self.auth.get(f"{host}:{_DEFAULT_PORTS.get(parts.scheme, 0)}")

    def close(self) -> None:
        with self._lock:
            pool, self.client = self.client, None
        if pool is not None:
            pool.close()


def _headers(pairs: list[tuple[bytes, bytes]]) -> dict[str, str]:
    """Header pairs as a dict: lower-case names, repeated ones joined with ``, `` (values read as UTF-8, else Latin-1)."""
    found: dict[str, str] = {}
    for raw_name, raw_value in pairs:
        name = raw_name.decode("latin-1").lower()
        try:
            value = raw_value.decode("utf-8")
        except UnicodeDecodeError:
            value = raw_value.decode("latin-1")
        found[name] = f"{found[name]}, {value}" if name in found else value
    return found
