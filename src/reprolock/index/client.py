"""HTTP for the index: the only module that imports httpx.

:class:`HttpClient` does the index's GETs through an ``httpx.Client`` it is
given. :func:`open_client` builds the one a run uses: httpx over
:class:`Http11Transport`, a small HTTP/1.1 transport on the standard library's
sockets (:mod:`reprolock.index.http11`), with keep-alive connections (16 in use
at a time by default), connect and read timeouts, gzip/deflate (decoded by
httpx), a ``reprolock/VERSION`` User-Agent, and each host name resolved once per
run, the addresses reused by every connection (concurrent lookups can stall for
seconds on some networks; TLS still checks the certificate for the host name,
and the ``Host`` header names it).

The transport reads a page of known length straight into one buffer. httpx's
default transport (httpcore and h11) takes the same bytes one TLS record at a
time in Python, which costs about a third more CPU on a cold audit's 22 MB of
pages; the transport is the only part replaced, the client is httpx's own.

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
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import httpx

from reprolock import __version__
from reprolock.errors import IndexUnreachableError
from reprolock.index import http11
from reprolock.index.models import Answer
from reprolock.redaction import redacted

if TYPE_CHECKING:
    from collections.abc import Mapping

RETRY_STATUS = frozenset({429, 500, 502, 503, 504})
MAX_REDIRECTS = 10
_DEFAULT_PORTS = {"http": 80, "https": 443}


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
                    raise httpx.ConnectError(msg) from None
                known = list(dict.fromkeys(str(item[4][0]) for item in found))
                self._addresses[(host, port)] = known
            return known

    def connect(self, host: str, port: int, timeout: float | None) -> socket.socket:
        """A TCP socket to the first of ``host``'s addresses that answers."""
        failure: httpx.TransportError | None = None
        for address in self.addresses(host, port):
            try:
                sock = socket.create_connection((address, port), timeout=timeout)
            except TimeoutError:
                failure = httpx.ConnectTimeout(f"connecting to {host}:{port} timed out")
            except OSError as exc:
                failure = httpx.ConnectError(f"cannot connect to {host}:{port}: {exc}")
            else:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                return sock
        raise failure or httpx.ConnectError(f"no address for {host}")


class Http11Transport(httpx.BaseTransport):
    """httpx's transport over :mod:`reprolock.index.http11`: kept-alive connections per origin, bodies read in full.

    At most ``concurrency`` requests are on the wire at a time. An idle
    connection the server has closed is dropped before reuse; one that turns out
    closed when the request is sent is replaced once (the index's requests are
    GETs, safe to send again).
    """

    def __init__(self, *, tls: ssl.SSLContext, resolver: ResolveOnce, concurrency: int = 16) -> None:
        self._tls = tls
        self._resolver = resolver
        self._slots = threading.BoundedSemaphore(concurrency)
        self._lock = threading.Lock()
        self._idle: dict[tuple[str, str, int], list[http11.Connection]] = {}
        self._limit = concurrency

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        scheme, host = url.scheme, url.host
        if scheme not in _DEFAULT_PORTS:
            msg = f"unsupported URL scheme {scheme!r}"
            raise httpx.UnsupportedProtocol(msg, request=request)
        origin = (scheme, host, url.port or _DEFAULT_PORTS[scheme])
        timeouts = request.extensions.get("timeout", {})
        try:
            head = http11.request_head(request.method, url.raw_path, request.headers.raw)
        except ValueError as exc:
            raise httpx.LocalProtocolError(str(exc), request=request) from None
        body = request.read()
        with self._slots:
            while True:
                connection = self._checkout(origin, timeouts.get("connect"), request)
                try:
                    answer = connection.exchange(head, body, method=request.method, timeout=timeouts.get("read"))
                except http11.StaleConnectionError:
                    connection.close()
                    continue  # a kept-alive connection the server had closed: a new one
                except http11.WireTimeoutError as exc:
                    connection.close()
                    raise httpx.ReadTimeout(str(exc), request=request) from None
                except http11.MalformedError as exc:
                    connection.close()
                    raise httpx.RemoteProtocolError(str(exc), request=request) from None
                except http11.WireError as exc:
                    connection.close()
                    raise httpx.ReadError(str(exc), request=request) from None
                break
        if answer.keep:
            self._checkin(origin, connection)
        else:
            connection.close()
        return httpx.Response(
            answer.status,
            headers=answer.headers,
            stream=httpx.ByteStream(answer.body),
            extensions={"http_version": b"HTTP/1.1", "reason_phrase": answer.reason},
        )

    def _checkout(self, origin: tuple[str, str, int], timeout: float | None, request: httpx.Request) -> http11.Connection:
        """An idle connection to ``origin`` that is still open, else a new one."""
        with self._lock:
            idle = self._idle.get(origin) or []
            while idle:
                connection = idle.pop()
                if not connection.dropped():
                    return connection
                connection.close()
        scheme, host, port = origin
        while True:
            tls = self._tls
            try:
                sock = self._resolver.connect(host, port, timeout)
            except httpx.TransportError as exc:
                exc.request = request
                raise
            if scheme != "https":
                return http11.Connection(sock)
            try:
                return http11.Connection(tls.wrap_socket(sock, server_hostname=host))
            except ssl.SSLCertVerificationError as exc:
                sock.close()
                wider = http11.wider_tls(tls)
                if wider is None:
                    raise httpx.ConnectError(f"TLS with {host}:{port} failed: {exc}", request=request) from None
                self._tls = wider  # the certificate folder alone did not do: the whole trust store, from now on
            except TimeoutError:
                sock.close()
                msg = f"TLS with {host}:{port} timed out"
                raise httpx.ConnectTimeout(msg, request=request) from None
            except OSError as exc:
                sock.close()
                raise httpx.ConnectError(f"TLS with {host}:{port} failed: {exc}", request=request) from None

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


def open_client(*, concurrency: int = 16, timeout: float = 20.0, backend: ResolveOnce | None = None, tls: ssl.SSLContext | None = None) -> httpx.Client:
    """The httpx client for one run: ``concurrency`` kept-alive connections, each host resolved once.

    ``timeout`` is the read timeout; connecting may take up to ten seconds of it.
    Certificates are checked against the system's trust store (as ``ssl`` finds
    it, ``SSL_CERT_FILE`` included; see :func:`~reprolock.index.http11.default_tls`
    for the certificate folder read lazily, and the whole store tried when it refuses). Proxy variables and ``.netrc`` are not read
    (credentials come from the index URLs and pip's configuration). ``tls``: such
    a context made already (by default the process's :func:`~reprolock.index.http11.default_tls`).
    """
    transport = Http11Transport(
        tls=tls if tls is not None else http11.default_tls(),
        resolver=backend if backend is not None else ResolveOnce(),
        concurrency=concurrency,
    )
    return httpx.Client(
        transport=transport,
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
            with contextlib.suppress(httpx.ConnectError):  # reported, and retried, by the requests that need it
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
