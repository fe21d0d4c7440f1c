"""HTTP/1.1 over one socket: send a request, read its answer whole, keep the connection for the next.

This is the wire under the index's client (:mod:`reprolock.index.client` keeps
these connections in a pool). It does what the index needs and no more:
one request at a time per connection, answers framed by ``Content-Length``, by
``chunked`` transfer coding or by the end of the connection (RFC 9112, section
6.3), informational ``1xx`` answers skipped, no body for ``HEAD``, ``204`` and
``304``. Content codings (gzip) are undone by the client.

A body of known length is read straight into one buffer of that size, whatever
the number of TLS records it came in: a page of several megabytes costs a few
hundred ``recv_into`` calls and one copy, not a Python-level step per record.
"""

from __future__ import annotations

import os
import re
import select
import ssl
import sys
import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import socket

_HEAD_LIMIT = 64 * 1024
_RECV = 256 * 1024
_NO_BODY = frozenset({204, 304})


_TLS: list[ssl.SSLContext] = []
_FULL: list[ssl.SSLContext] = []
_TLS_LOCK = threading.Lock()
_HASHED = re.compile(r"[0-9a-f]{8}\.[0-9]+")


def default_tls() -> ssl.SSLContext:
    """The context for the index's connections, made once per process: the system's trust store as ``ssl`` finds it.

    ``ssl.create_default_context()`` reads the whole CA bundle (about 25 ms of
    CPU for some 150 certificates). On Linux, when neither ``SSL_CERT_FILE`` nor
    ``SSL_CERT_DIR`` is set and OpenSSL's certificate folder holds hashed names
    (``c_rehash``, as Debian's ``update-ca-certificates`` makes it), the context
    reads that folder only, a CA at a time as a server's chain needs it. The
    folder is part of the default trust, so this trusts nothing the default does
    not; a certificate it refuses is tried once more with the full default context
    (:func:`wider_tls`), so what is accepted is exactly what the default accepts.

    A run about to use the network makes it on a thread while it imports the rest
    (see :func:`reprolock.index.finder.warm_up` and the standby copy of
    :mod:`reprolock.index.forked`). A second caller waits for the first.
    """
    with _TLS_LOCK:
        if not _TLS:
            folder = _hashed_folder()
            _TLS.append(ssl.create_default_context(capath=folder) if folder else _full())
        return _TLS[0]


def wider_tls(context: ssl.SSLContext) -> ssl.SSLContext | None:
    """The full default context when ``context`` is a folder-only :func:`default_tls` (try a refused certificate again with it); else ``None``."""
    with _TLS_LOCK:
        if not _TLS or context is not _TLS[0] or (_FULL and context is _FULL[0]):
            return None
        return _full()


def _full() -> ssl.SSLContext:
    """``ssl.create_default_context()``, once per process (the caller holds the lock)."""
    if not _FULL:
        _FULL.append(ssl.create_default_context())
    return _FULL[0]


def _hashed_folder() -> str | None:
    """OpenSSL's default certificate folder when the folder alone may stand for the trust store (see :func:`default_tls`)."""
    if sys.platform != "linux" or os.environ.get("SSL_CERT_FILE") or os.environ.get("SSL_CERT_DIR"):
        return None
    folder = ssl.get_default_verify_paths().capath
    if not folder:
        return None
    try:
        with os.scandir(folder) as entries:
            return folder if any(_HASHED.fullmatch(entry.name) for entry in entries) else None
    except OSError:
        return None


class WireError(Exception):
    """The connection failed or the server broke the protocol."""


class WireTimeoutError(WireError):
    """The server did not answer within the read timeout."""


class MalformedError(WireError):
    """The server's answer is not HTTP/1.1 as RFC 9112 frames it."""


class StaleConnectionError(WireError):
    """A kept-alive connection was closed by the server before any byte of the answer (safe to retry)."""


class Answer:
    """One answer: status, reason, header pairs (bytes, as received), body, and whether the connection can be kept."""

    __slots__ = ("body", "headers", "keep", "reason", "status")

    def __init__(self, status: int, reason: bytes, headers: list[tuple[bytes, bytes]], body: bytes, *, keep: bool) -> None:
        self.status = status
        self.reason = reason
        self.headers = headers
        self.body = body
        self.keep = keep


def request_head(method: str, target: bytes, headers: list[tuple[bytes, bytes]]) -> bytes:
    """The request line and header block; raises :class:`ValueError` for a CR or LF in a name, value or target."""
    parts = [method.encode("ascii"), b" ", target, b" HTTP/1.1\r\n"]
    for name, value in headers:
        parts += (name, b": ", value, b"\r\n")
    parts.append(b"\r\n")
    head = b"".join(parts)
    if head.count(b"\n") != len(headers) + 2 or head.count(b"\r") != len(headers) + 2:
        msg = "a request line or header holds a line break"
        raise ValueError(msg)
    return head


class Connection:
    """A socket (plain or TLS) and the bytes read past the end of the last answer."""

    __slots__ = ("_pending", "sock", "used")

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.used = False
        """Whether an answer was read on it already (a failure on such a connection may be a stale keep-alive)."""
        self._pending = bytearray()

    def close(self) -> None:
        self.sock.close()

    def dropped(self) -> bool:
        """Whether the idle connection has something waiting (the server's close, or bytes nobody asked for)."""
        if self._pending or self.sock.fileno() < 0:
            return True
        if not hasattr(select, "poll"):  # pragma: no cover - Windows
            return bool(select.select([self.sock], [], [], 0)[0])
        poller = select.poll()
        poller.register(self.sock, select.POLLIN)
        return bool(poller.poll(0))

    def exchange(self, head: bytes, body: bytes, *, method: str, timeout: float | None) -> Answer:
        """Send one request and read its whole answer."""
        sock = self.sock
        try:
            sock.settimeout(timeout)
            sock.sendall(head + body if body else head)
            status, reason, headers, version = self._head()
            while 100 <= status < 200:  # informational answers come before the real one
                status, reason, headers, version = self._head()
            content, framed = self._body(method, status, headers)
        except TimeoutError as exc:
            msg = f"no answer within {timeout} s"
            raise WireTimeoutError(msg) from exc
        except OSError as exc:
            if self.used and not self._pending and isinstance(exc, (ConnectionResetError, BrokenPipeError)):
                raise StaleConnectionError(str(exc)) from exc
            raise WireError(str(exc) or type(exc).__name__) from exc
        self.used = True
        keep = framed and version == b"HTTP/1.1" and b"close" not in _tokens(headers, b"connection")
        return Answer(status, reason, headers, content, keep=keep)

    def _fill(self) -> bool:
        """Read what the socket has into the pending bytes; False at the end of the stream."""
        chunk = self.sock.recv(_RECV)
        if not chunk:
            return False
        self._pending += chunk
        return True

    def _head(self) -> tuple[int, bytes, list[tuple[bytes, bytes]], bytes]:
        pending = self._pending
        start = 0
        while (end := pending.find(b"\r\n\r\n", start)) < 0:
            if len(pending) > _HEAD_LIMIT:
                msg = f"answer header larger than {_HEAD_LIMIT} bytes"
                raise MalformedError(msg)
            start = max(0, len(pending) - 3)
            if not self._fill():
                if not pending and self.used:
                    msg = "the server closed the kept-alive connection"
                    raise StaleConnectionError(msg)
                msg = "the server closed the connection before the answer's header ended"
                raise MalformedError(msg)
        lines = bytes(pending[:end]).split(b"\r\n")
        del pending[: end + 4]
        version, _, rest = lines[0].partition(b" ")
        code, _, reason = rest.partition(b" ")
        if not version.startswith(b"HTTP/1.") or len(code) != 3 or not code.isdigit():
            msg = f"not an HTTP/1.x status line: {lines[0][:80]!r}"
            raise MalformedError(msg)
        headers: list[tuple[bytes, bytes]] = []
        for line in lines[1:]:
            name, colon, value = line.partition(b":")
            if not colon or not name or name != name.strip():
                msg = f"not a header line: {line[:80]!r}"
                raise MalformedError(msg)
            headers.append((name, value.strip()))
        return int(code), reason, headers, version

    def _body(self, method: str, status: int, headers: list[tuple[bytes, bytes]]) -> tuple[bytes, bool]:
        """The body and whether its end was framed (else it ran to the connection's end)."""
        if method == "HEAD" or status in _NO_BODY:
            return b"", True
        coding = _tokens(headers, b"transfer-encoding")
        if coding:
            if coding[-1] != b"chunked":
                return self._until_closed(), False
            return self._chunked(), True
        lengths = {value for name, value in headers if name.lower() == b"content-length"}
        if not lengths:
            return self._until_closed(), False
        if len(lengths) != 1 or not (length := lengths.pop()).isdigit():
            msg = "the answer's Content-Length is not one number"
            raise MalformedError(msg)
        return self._exactly(int(length)), True

    def _exactly(self, size: int) -> bytes:
        pending = self._pending
        if len(pending) >= size:
            data = bytes(pending[:size])
            del pending[:size]
            return data
        buffer = bytearray(size)
        have = len(pending)
        buffer[:have] = pending
        pending.clear()
        view = memoryview(buffer)
        recv_into = self.sock.recv_into
        while have < size:
            got = recv_into(view[have:])
            if not got:
                msg = f"the server closed the connection after {have} of {size} bytes"
                raise MalformedError(msg)
            have += got
        view.release()
        return bytes(buffer)

    def _line(self) -> bytes:
        pending = self._pending
        while (end := pending.find(b"\r\n")) < 0:
            if len(pending) > _HEAD_LIMIT or not self._fill():
                msg = "a chunk header is too long or was cut off"
                raise MalformedError(msg)
        line = bytes(pending[:end])
        del pending[: end + 2]
        return line

    def _chunked(self) -> bytes:
        chunks: list[bytes] = []
        while True:
            size_field = self._line().partition(b";")[0].strip()
            try:
                size = int(size_field, 16)
            except ValueError:
                msg = f"not a chunk size: {size_field[:20]!r}"
                raise MalformedError(msg) from None
            if size == 0:
                while self._line():  # trailer fields, up to the empty line
                    pass
                return b"".join(chunks)
            chunks.append(self._exactly(size))
            if self._exactly(2) != b"\r\n":
                msg = "a chunk does not end with CRLF"
                raise MalformedError(msg)

    def _until_closed(self) -> bytes:
        while self._fill():
            pass
        data = bytes(self._pending)
        self._pending.clear()
        return data


def _tokens(headers: list[tuple[bytes, bytes]], wanted: bytes) -> list[bytes]:
    """The comma-separated tokens of every ``wanted`` header, lower case."""
    return [token.strip().lower() for name, value in headers if name.lower() == wanted for token in value.split(b",") if token.strip()]
