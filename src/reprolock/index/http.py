"""The index's HTTP client: httpx, built once from :class:`~reprolock.index.options.IndexOptions`.

The only module that imports httpx. :class:`IndexHttp` sends GETs with

- proxies (``--proxy`` / pip's ``proxy``, else ``HTTP(S)_PROXY``/``ALL_PROXY``,
  ``NO_PROXY`` honoured by both);
- TLS against ``cert`` (pip's ``cert``, ``REQUESTS_CA_BUNDLE``) or the OS trust
  store (``truststore``; ``SSL_CERT_FILE``/``SSL_CERT_DIR`` when set), a client
  certificate, and no verification for pip's ``trusted-host`` hosts;
- credentials sent only to the origin (scheme, host, port) they belong to:
  redirects are followed here, hop by hop, so a hop to another origin or to
  plain http carries none;
- one deadline per request, retries included (pip's ``timeout``), retries
  with backoff on connection errors, 429 and 5xx (``Retry-After`` honoured);
- a cap on the decoded size of every answer, read as a stream.

Connections are HTTP/1.1, kept alive, up to ``concurrency`` per host; each host
name is looked up once per client (:class:`ResolveOnce`): on some networks
several lookups of one name at once stall for seconds. (HTTP/2 over httpx was
measured no faster against the index here, and one multiplexed connection
stalled for minutes under the resolver's concurrency.)
"""

from __future__ import annotations

import os
import socket
import ssl
import sys
import threading
import time
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING
from urllib.parse import urljoin

import httpcore
import httpx

from reprolock import __version__
from reprolock.errors import IndexUnreachableError, InputError
from reprolock.index.config import origin_of
from reprolock.index.models import Answer
from reprolock.redaction import redacted

if TYPE_CHECKING:
    import contextlib
    from collections.abc import Iterable, Iterator, Mapping

    from reprolock.index.options import IndexOptions

RETRY_STATUS = frozenset({429, 500, 502, 503, 504})
REDIRECT_STATUS = frozenset({301, 302, 303, 307, 308})
MAX_REDIRECTS = 10
BACKOFF = 0.25
"""Seconds before the first retry; doubled for each one after."""


class ResponseTooLargeError(IndexUnreachableError):
    """An answer larger than the size cap."""


class IndexHttp:
    """Bounded, retrying GETs with origin-bound credentials; safe to share between threads."""

    def __init__(self, options: IndexOptions, *, transport: httpx.BaseTransport | None = None) -> None:
        self.options = options
        self._auth = {source.origin: source.auth for source in options.indexes if source.auth}
        self._transport = transport
        """Given by tests that inject faults; else each client makes its own."""
        self._clients: dict[tuple[bool, str | None], httpx.Client] = {}
        self._resolver = ResolveOnce()
        self._lock = threading.Lock()
        self.requests = 0

    def get(self, url: str, headers: Mapping[str, str] | None = None) -> Answer:
        """GET ``url`` within the deadline; the answer of the last attempt, or :class:`IndexUnreachableError`."""
        deadline = time.monotonic() + self.options.timeout
        attempt = 0
        while True:
            try:
                answer = self._follow(url, dict(headers or {}), deadline)
            except httpx.TransportError as exc:
                if _is_certificate_error(exc):
                    raise _certificate_error(url, exc) from None
                if _is_unknown_host(exc):  # no retry makes a name that does not exist resolve
                    raise IndexUnreachableError(
                        f"the package index could not be reached: {redacted(url)}: {_describe(exc)}", hint="check the host name in the index URL"
                    ) from None
                problem, wait = _describe(exc), 0.0
            else:
                if answer.status not in RETRY_STATUS:
                    return answer
                problem, wait = f"HTTP {answer.status}", _retry_after(answer.headers.get("retry-after"))
            wait = max(wait, BACKOFF * 2**attempt)
            attempt += 1
            if attempt > self.options.retries or time.monotonic() + wait >= deadline:
                raise IndexUnreachableError(
                    f"the package index could not be reached: {redacted(url)}: {problem} (after {attempt} attempt{'s' if attempt > 1 else ''})",
                    hint="check the network, the proxy and --index-url, or raise pip's timeout/retries",
                )
            time.sleep(wait)

    def _follow(self, url: str, headers: dict[str, str], deadline: float) -> Answer:
        for _ in range(MAX_REDIRECTS + 1):
            with self._open(url, headers, deadline) as response:
                location = response.headers.get("location")
                body = self._read(response, url, deadline)  # read in full, so the connection is kept
                if response.status_code in REDIRECT_STATUS and location:
                    url = urljoin(url, location)
                    continue
                return Answer(response.status_code, _headers(response.headers), body, redacted(url))
        raise IndexUnreachableError(f"too many redirects from {redacted(url)}", hint="check --index-url")

    def _open(self, url: str, headers: dict[str, str], deadline: float) -> contextlib.AbstractContextManager[httpx.Response]:
        """The streamed answer of one hop, with the credential of ``url``'s origin and no other."""
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise httpx.TimeoutException("the request's deadline passed")
        sent = dict(headers)
        credential = self._auth.get(origin_of(url))
        if credential is not None:
            sent["Authorization"] = credential
        with self._lock:
            self.requests += 1
        return self._client(url).stream("GET", url, headers=sent, timeout=httpx.Timeout(remaining))

    def _read(self, response: httpx.Response, url: str, deadline: float) -> bytes:
        """The decoded body, stopped at the size cap and at the deadline."""
        cap = self.options.max_bytes
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > cap and not response.headers.get("content-encoding"):
            raise _too_large(url, cap)
        chunks: list[bytes] = []
        size = 0
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > cap:
                raise _too_large(url, cap)
            if time.monotonic() > deadline:
                raise httpx.ReadTimeout("the answer took longer than the deadline")
            chunks.append(chunk)
        return b"".join(chunks)

    def _client(self, url: str) -> httpx.Client:
        """The client for ``url``'s proxy and verification (most runs have one)."""
        key = (self.options.is_trusted(url), self.options.proxy_for(url))
        with self._lock:
            client = self._clients.get(key)
            if client is None:
                client = self._clients[key] = self._make_client(trusted=key[0], proxy=key[1])
            return client

    def _make_client(self, *, trusted: bool, proxy: str | None) -> httpx.Client:
        options = self.options
        verify: ssl.SSLContext | bool = tls_context(options.cert, options.client_cert, verify=not trusted)
        limits = httpx.Limits(max_connections=options.concurrency, max_keepalive_connections=options.concurrency)
        transport = self._transport
        if transport is None:
            transport = httpx.HTTPTransport(verify=verify, proxy=proxy, limits=limits, trust_env=False)
            # httpx takes no network backend; its connection pool does (httpcore's documented extension point).
            transport._pool._network_backend = self._resolver  # noqa: SLF001 - see the line above
        return httpx.Client(
            transport=transport,
            trust_env=False,  # proxies, certificates and .netrc are chosen in IndexOptions, never by httpx
            follow_redirects=False,  # followed in _follow, so that credentials never leave their origin
            headers={"User-Agent": f"reprolock/{__version__}"},
        )

    def close(self) -> None:
        with self._lock:
            clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            client.close()


class ResolveOnce(httpcore.NetworkBackend):
    """httpcore's network backend, with each host name looked up once and its addresses reused.

    TLS still checks the certificate against the host name (httpcore passes it
    separately), and the ``Host`` header still names it.
    """

    def __init__(self) -> None:
        self._backend = httpcore.SyncBackend()
        self._lock = threading.Lock()
        self._addresses: dict[tuple[str, int], list[str]] = {}
        self.lookups = 0

    def addresses(self, host: str, port: int) -> list[str]:
        with self._lock:  # one lookup at a time: the others wait for its answer
            known = self._addresses.get((host, port))
            if known is None:
                try:
                    found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
                except OSError as exc:
                    raise httpcore.ConnectError(f"cannot look up {host}: {exc}") from exc
                self.lookups += 1
                known = self._addresses[(host, port)] = list(dict.fromkeys(str(info[4][0]) for info in found))
            return known

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        addresses = self.addresses(host, port)
        for address in addresses[:-1]:
            try:
                return self._backend.connect_tcp(address, port, timeout, local_address, socket_options)
            except httpcore.ConnectError:
                continue
        return self._backend.connect_tcp(addresses[-1], port, timeout, local_address, socket_options)

    def connect_unix_socket(self, path: str, timeout: float | None = None, socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None) -> httpcore.NetworkStream:
        return self._backend.connect_unix_socket(path, timeout, socket_options)

    def sleep(self, seconds: float) -> None:
        self._backend.sleep(seconds)


def tls_context(cert: str | None, client_cert: str | None, *, verify: bool = True) -> ssl.SSLContext:
    """The TLS context: ``cert`` (a CA file or folder) when given, else the OS trust store, plus ``client_cert``."""

    if not verify:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # no trust store to load: nothing is verified
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    elif cert is not None:
        folder = os.path.isdir(cert)  # noqa: PTH112 - a str path
        context = ssl.create_default_context(cafile=None if folder else cert, capath=cert if folder else None)
    elif sys.platform not in {"darwin", "win32"} or os.environ.get("SSL_CERT_FILE") or os.environ.get("SSL_CERT_DIR"):
        # OpenSSL's default paths: the system store on Linux (where truststore reads the same files, again at
        # every handshake), SSL_CERT_FILE and SSL_CERT_DIR when set.
        context = ssl.create_default_context()
    else:
        import truststore  # noqa: PLC0415 - macOS and Windows keep their trust store outside OpenSSL

        context = truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if client_cert is not None:
        try:
            context.load_cert_chain(client_cert)
        except (OSError, ssl.SSLError) as exc:

            raise InputError(f"client certificate {client_cert} cannot be loaded ({exc})", hint="give a PEM file holding the key and the certificate") from None
    return context


def _headers(headers: httpx.Headers) -> dict[str, str]:
    return {name.lower(): ", ".join(headers.get_list(name)) for name in headers}


def _retry_after(value: str | None) -> float:
    """Seconds from a ``Retry-After`` header (seconds or an HTTP date); 0 when absent or unreadable."""
    if not value:
        return 0.0
    if value.strip().isdigit():
        return float(value.strip())

    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return 0.0


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: BaseException | None = exc
    while seen is not None:
        yield seen
        seen = seen.__cause__ or seen.__context__


def _is_certificate_error(exc: BaseException) -> bool:
    return any(isinstance(item, ssl.SSLCertVerificationError) or "CERTIFICATE_VERIFY_FAILED" in str(item) for item in _chain(exc))


def _is_unknown_host(exc: BaseException) -> bool:
    """The name does not exist (a temporary lookup failure, EAI_AGAIN, is retried)."""
    return any(isinstance(item, socket.gaierror) and item.errno == socket.EAI_NONAME for item in _chain(exc))


def _certificate_error(url: str, exc: BaseException) -> IndexUnreachableError:
    host = origin_of(url)[1]
    return IndexUnreachableError(
        f"the TLS certificate of {host} could not be verified ({_describe(exc)})",
        hint="give its CA with --cert, PIP_CERT or REQUESTS_CA_BUNDLE, or --trusted-host if you accept an unverified connection",
    )


def _too_large(url: str, cap: int) -> ResponseTooLargeError:
    return ResponseTooLargeError(
        f"the answer for {redacted(url)} is larger than {cap // 2**20} MB",
        hint="raise the limit with --max-response-mb if this index really serves such pages",
    )


def _describe(exc: BaseException) -> str:
    if isinstance(exc, httpx.TimeoutException):
        return "no answer within the deadline"
    if isinstance(exc, httpx.ProxyError):
        return f"the proxy refused or failed ({exc})"
    text = str(exc) or type(exc).__name__
    return redacted(text.splitlines()[0])
