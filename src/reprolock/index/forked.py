"""Share a batch of page jobs with a forked copy of this process, so both cores work on it.

Fetching and decoding simple pages is CPU work in Python (TLS records, HTTP
framing, ``json.loads``, the summaries), and threads share one interpreter
lock: a cold audit of a large environment keeps one core busy while the
other idles. On Linux, when the process has no other thread (``fork`` then
copies a consistent state), :class:`Forked` runs a copy of the process that
takes jobs from the same :class:`JobQueue` as the parent's threads, so the
two share the work however uneven the pages are, and sends each answer back
as soon as it has it, pickled through a pipe (written by a fork of this very
process, read by it), so the parent takes them in while the copy works.
The copy opens its own connections, points its standard streams at
/dev/null and ends with ``os._exit`` (nothing of the parent's is flushed or
closed twice). :class:`Standby` is a copy forked early that gets ready while
the parent works, then takes the work when it is handed over.

Anywhere else (macOS, Windows, a process with threads, such as a test
runner serving an index) nothing is forked and the parent does every job.
"""

from __future__ import annotations

import contextlib
import json
import os
import pickle
import struct
import sys
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NoReturn

from reprolock import errors

if TYPE_CHECKING:
    from collections.abc import Iterator

_CLAIM = struct.Struct("=I")
_MOST = 16384
"""Jobs a queue holds: a pipe holds 64 KiB (callers share no more than this)."""
_SIZE = struct.Struct("=I")
_PIPE_SIZE = 1 << 20


def can_fork() -> bool:
    """Whether forking is safe and useful here: Linux, two cores or more, and no thread but this one."""
    return sys.platform == "linux" and (os.cpu_count() or 1) > 1 and threading.active_count() == 1


class JobQueue:
    """Job numbers ``0 .. count-1`` in a pipe; each :meth:`claim` takes the next, in this process or its fork.

    A read of a few bytes from a pipe is atomic on Linux, so every number is
    claimed exactly once whichever thread of whichever process reads it.
    """

    def __init__(self, count: int | None = None) -> None:
        self._read, write = os.pipe()
        self._write: int | None = write
        os.set_blocking(self._read, False)
        if count is not None:
            self.fill(count)

    def fill(self, count: int) -> None:
        """Queue jobs ``0 .. count-1`` (once; a queue made before a fork may be filled after it)."""
        write, self._write = self._write, None
        if write is None:
            raise RuntimeError("a job queue is filled once")
        try:
            _write_all(write, b"".join(_CLAIM.pack(number) for number in range(min(count, _MOST))))
        finally:
            os.close(write)

    def claim(self) -> int | None:
        """The next job's number; ``None`` when every job is taken."""
        try:
            data = os.read(self._read, _CLAIM.size)
        except BlockingIOError:
            return None
        return _CLAIM.unpack(data)[0] if len(data) == _CLAIM.size else None

    def close(self) -> None:
        os.close(self._read)
        if self._write is not None:
            os.close(self._write)
            self._write = None


Report = Callable[[dict[str, Any]], None]
"""How a copy sends a message to its parent while it works (see :meth:`Forked.messages`)."""
Work = Callable[[Report], "dict[str, Any] | None"]
"""A copy's work: it may report messages as it goes; what it returns is its last message (``None``: none)."""


class Forked:
    """A forked copy of this process that sends messages (plain data) back as it works.

    :meth:`messages` yields them as they arrive. A copy that a :class:`Standby` forks in turn writes to its own pipe, read
    here too, so its messages reach the parent without a detour.
    """

    def __init__(self, pid: int, reads: list[int]) -> None:
        self._pid = pid
        self._reads = reads

    @classmethod
    def start(cls, work: Work) -> Forked:
        """Fork; the copy runs ``work`` and ends. A :class:`~reprolock.errors.ReprolockError` it raises is handed over."""
        read, write = _pipe()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the copy ends with os._exit, so coverage never records it
            _copy_runs(work, write, close=(read,))
        os.close(write)
        return cls(pid, [read])

    def messages(self) -> Iterator[dict[str, Any]]:
        """Every message of the copy (and of the copy it forked), in the order each sent them, until all have ended.

        A :class:`~reprolock.errors.ReprolockError` raised in a copy is raised
        here again; a copy that crashes just sends nothing more (the caller does
        what it left).
        """
        try:
            for kind, payload in _frames(self._reads):
                if kind == "error":
                    raise _error(payload)
                yield payload
        finally:
            self._close_reads()
            os.waitpid(self._pid, 0)

    def _close_reads(self) -> None:
        for fd in self._reads:
            os.close(fd)
        self._reads = []


def _error(payload: object) -> errors.ReprolockError:
    """The error a copy handed over, as raised there (an index error when its kind is unknown)."""
    failure = payload if isinstance(payload, dict) else {}
    kind = getattr(errors, str(failure.get("kind")), errors.IndexUnreachableError)
    if not (isinstance(kind, type) and issubclass(kind, errors.ReprolockError)):
        kind = errors.IndexUnreachableError
    return kind(str(failure.get("message")), hint=failure.get("hint"))


class Helper:
    """In a :class:`Standby` copy: forks one more copy, whose messages go straight to the parent through a pipe of its own."""

    def __init__(self, write: int, close: tuple[int, ...]) -> None:
        self._write: int | None = write
        self._close = close

    def start(self, work: Work) -> bool:  # pragma: no cover - runs in the standby copy
        """Fork a copy that runs ``work``; ``False`` (nothing forked) where :func:`can_fork` says no, or once done."""
        write, self._write = self._write, None
        if write is None:
            return False
        if not can_fork():
            os.close(write)
            return False
        if os.fork() == 0:
            _copy_runs(work, write, close=self._close)
        os.close(write)
        return True


class Standby(Forked):
    """A copy forked early, while the parent still reads files: it gets ready (imports, TLS setup), then waits.

    :meth:`send` hands it its work (a JSON document its ``serve`` function reads);
    :meth:`cancel` sends it away unused. The parent's share of the same work comes
    from the :class:`JobQueue` made before the fork.
    """

    def __init__(self, pid: int, reads: list[int], go: int, queue: JobQueue) -> None:
        super().__init__(pid, reads)
        self._go: int | None = go
        self.queue = queue

    @classmethod
    def begin(cls, prepare: Callable[[], object], serve: Callable[[object, dict[str, Any], JobQueue, Report, Helper], dict[str, Any] | None]) -> Standby:
        """Fork; the copy runs ``prepare()``, waits for :meth:`send`, then ``serve(prepared, work, queue, report, helper)``.

        ``helper`` may fork one more copy to share the work (see :class:`Helper`).
        """
        queue = JobQueue()
        go_read, go_write = os.pipe()
        read, write = _pipe()
        spare_read, spare_write = _pipe()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the copy ends with os._exit, so coverage never records it

            def when_sent(report: Report) -> dict[str, Any] | None:
                prepared = prepare()
                chunks = []
                while chunk := os.read(go_read, 1 << 16):
                    chunks.append(chunk)
                if not chunks:  # nothing: cancelled
                    return None
                return serve(prepared, json.loads(b"".join(chunks)), queue, report, Helper(spare_write, close=(write, go_read)))

            _copy_runs(when_sent, write, close=(read, spare_read, go_write))
        for fd in (go_read, write, spare_write):
            os.close(fd)
        return cls(pid, [read, spare_read], go_write, queue)

    def send(self, work: dict[str, Any]) -> bool:
        """Hand over the work (fill :attr:`queue` first); :meth:`messages` then yields the answers.

        ``False`` when the copy is gone (it failed while it got ready): the caller does the work itself.
        """
        go, self._go = self._go, None
        if go is None:
            raise RuntimeError("a standby copy takes one piece of work")
        try:
            _write_all(go, json.dumps(work, separators=(",", ":")).encode())
        except OSError:  # BrokenPipeError: nobody reads any more
            return False
        finally:
            os.close(go)
        return True

    @property
    def waiting(self) -> bool:
        """Whether it still waits for work."""
        return self._go is not None

    def abandon(self) -> None:
        """Stop listening to it, given work or not: a copy at work ends at its next message (its pipe is closed)."""
        self.cancel()
        self._close_reads()

    def cancel(self) -> None:
        """Send it away without work (nothing happens if it was given some)."""
        if self._go is None:
            return
        os.close(self._go)
        self._go = None
        self._close_reads()
        self.queue.close()
        os.waitpid(self._pid, os.WNOHANG)  # it ends on its own: no need to wait for it


def _copy_runs(work: Work, write: int, *, close: tuple[int, ...]) -> NoReturn:  # pragma: no cover - in a copy
    """The forked copy's whole life: close the parent's ends of the pipes, run ``work`` (which may report messages
    as it goes), send its answer (or the :class:`~reprolock.errors.ReprolockError` it raised) and end."""
    status = 1
    try:
        for fd in close:
            os.close(fd)
        _detach()
        report = _Reporter(write)
        try:
            answer = work(report)
            if answer is not None:
                report.frame("answer", answer)
        except errors.ReprolockError as exc:
            report.frame("error", {"kind": type(exc).__name__, "message": exc.message, "hint": exc.hint})
        status = 0
    finally:
        os._exit(status)


class _Reporter:  # pragma: no cover - runs in a forked copy
    """A copy's end of its pipe: each message a length and a pickle, written whole by one thread at a time."""

    def __init__(self, write: int) -> None:
        self._write = write
        self._lock = threading.Lock()

    def __call__(self, message: dict[str, Any]) -> None:
        self.frame("part", message)

    def frame(self, kind: str, payload: object) -> None:
        data = pickle.dumps((kind, payload), protocol=pickle.HIGHEST_PROTOCOL)
        with self._lock:
            _write_all(self._write, _SIZE.pack(len(data)) + data)


def _frames(reads: list[int]) -> Iterator[tuple[str, Any]]:
    """The ``(kind, payload)`` frames written to the pipes ``reads``, as they come, until every writer has ended.

    A frame cut short (its writer crashed) or unreadable ends that pipe's frames.
    """
    import select  # noqa: PLC0415 - only when a copy was forked

    poller = select.poll()
    pending: dict[int, bytearray] = {}
    for fd in reads:
        poller.register(fd, select.POLLIN)
        pending[fd] = bytearray()
    while pending:
        for fd, _ in poller.poll():
            buffer = pending[fd]
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                poller.unregister(fd)
                del pending[fd]
                continue
            buffer += chunk
            while len(buffer) >= _SIZE.size and len(buffer) >= _SIZE.size + (size := _SIZE.unpack_from(buffer)[0]):
                data = bytes(buffer[_SIZE.size : _SIZE.size + size])
                del buffer[: _SIZE.size + size]
                try:
                    frame = pickle.loads(data)  # noqa: S301 - written by a fork of this very process
                except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError):
                    frame = None
                if isinstance(frame, tuple) and len(frame) == 2:
                    yield frame


def _pipe() -> tuple[int, int]:
    """A pipe for a copy's messages, made large (1 MiB on Linux when allowed) so that the copy rarely waits for its reader."""
    read, write = os.pipe()
    with contextlib.suppress(ImportError, AttributeError, OSError):  # F_SETPIPE_SZ is Linux's; above the system's limit, the default
        import fcntl  # noqa: PLC0415 - POSIX only; forking is Linux only

        fcntl.fcntl(write, fcntl.F_SETPIPE_SZ, _PIPE_SIZE)
    return read, write


def _detach() -> None:  # pragma: no cover - runs in a forked copy
    """Point the copy's standard streams at /dev/null: it reports through its pipe, and a reader of the parent's
    output (``$(reprolock ...)``, ``| cat``) must not wait for the copy to end."""
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    os.close(null)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def prepare_standby() -> Standby | None:
    """A standby copy for an audit's index pages: it makes the HTTP client (its imports, the TLS setup) while
    the parent probes the interpreter and reads the environment; ``None`` where nothing may be forked.

    Call it before starting any thread (a subprocess already started is fine: the copy never waits for it).
    """
    if not can_fork():
        return None
    return Standby.begin(_connections, _serve)


def _connections() -> object:  # pragma: no cover - runs in the standby copy
    """The HTTP client, and every module the work needs, loaded while the parent still probes the interpreter.

    The trust store loads in a thread meanwhile (OpenSSL reads it without holding
    the interpreter lock); that thread has ended before anything else is forked.
    """
    from reprolock.index.http11 import default_tls  # noqa: PLC0415 - in the copy, while the parent works

    loader = threading.Thread(target=default_tls)
    loader.start()
    import concurrent.futures  # noqa: PLC0415, F401

    import reprolock.index.finder  # noqa: PLC0415
    import reprolock.index.simple  # noqa: PLC0415, F401
    from reprolock.index.client import ResolveOnce, open_client  # noqa: PLC0415

    loader.join()
    backend = ResolveOnce()
    return (open_client(backend=backend), backend)


def _serve(connections: object, work: dict[str, Any], queue: JobQueue, report: Report, helper: Helper) -> dict[str, Any]:  # pragma: no cover - runs in the standby copy
    from reprolock.index.finder import IndexFinder  # noqa: PLC0415 - the finder imports this module

    return IndexFinder.serve(connections, work, queue, report, helper)
