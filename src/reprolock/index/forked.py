"""Share a batch of page jobs with a forked copy of this process, so both cores work on it.

Fetching and decoding simple pages is CPU work in Python (TLS records, HTTP
framing, ``json.loads``, the summaries), and threads share one interpreter
lock: a cold audit of a large environment keeps one core busy while the
other idles. On Linux, when the process has no other thread (``fork`` then
copies a consistent state), :class:`Forked` runs a copy of the process that
takes jobs from the same :class:`JobQueue` as the parent's threads, so the
two share the work however uneven the pages are, and hands back its answers
pickled through a pipe (written by a fork of this very process, read by it).
The copy opens its own connections, points its standard streams at
/dev/null and ends with ``os._exit`` (nothing of the parent's is flushed or
closed twice). :class:`Standby` is a copy forked early that gets ready while
the parent works, then takes the work when it is handed over.

Anywhere else (macOS, Windows, a process with threads, such as a test
runner serving an index) nothing is forked and the parent does every job.
"""

from __future__ import annotations

import json
import os
import pickle
import struct
import sys
import threading
from typing import TYPE_CHECKING, Any, NoReturn

from reprolock import errors

if TYPE_CHECKING:
    from collections.abc import Callable

_CLAIM = struct.Struct("=I")
_MOST = 16384
"""Jobs a queue holds: a pipe holds 64 KiB (callers share no more than this)."""


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


class Forked:
    """A forked copy of this process computing one JSON document; :meth:`result` waits for it."""

    def __init__(self, pid: int, read: int) -> None:
        self._pid = pid
        self._read = read

    @classmethod
    def start(cls, work: Callable[[], dict[str, Any]]) -> Forked:
        """Fork; the copy runs ``work`` and ends. A :class:`~reprolock.errors.ReprolockError` it raises is handed over."""
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the copy ends with os._exit, so coverage never records it
            _copy_runs(work, write, close=(read,))
        os.close(write)
        return cls(pid, read)

    def result(self) -> dict[str, Any] | None:
        """The copy's answer; ``None`` when it ended without one (the caller then does its jobs itself).

        A :class:`~reprolock.errors.ReprolockError` raised in the copy is raised here again.
        """
        chunks = []
        try:
            while chunk := os.read(self._read, 1 << 20):
                chunks.append(chunk)
        finally:
            os.close(self._read)
            os.waitpid(self._pid, 0)
        try:
            message = pickle.loads(b"".join(chunks))  # noqa: S301 - written by a fork of this very process
        except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError):
            return None
        if not isinstance(message, dict):
            return None
        failure = message.get("error")
        if isinstance(failure, dict):
            kind = getattr(errors, str(failure.get("kind")), errors.IndexUnreachableError)
            if not (isinstance(kind, type) and issubclass(kind, errors.ReprolockError)):
                kind = errors.IndexUnreachableError
            raise kind(str(failure.get("message")), hint=failure.get("hint"))
        answer = message.get("answer")
        return answer if isinstance(answer, dict) else None


class Standby(Forked):
    """A copy forked early, while the parent still reads files: it gets ready (imports, TLS setup), then waits.

    :meth:`send` hands it its work (a JSON document its ``serve`` function reads);
    :meth:`cancel` sends it away unused. The parent's share of the same work comes
    from the :class:`JobQueue` made before the fork.
    """

    def __init__(self, pid: int, read: int, go: int, queue: JobQueue) -> None:
        super().__init__(pid, read)
        self._go: int | None = go
        self.queue = queue

    @classmethod
    def begin(cls, prepare: Callable[[], object], serve: Callable[[object, dict[str, Any], JobQueue], dict[str, Any]]) -> Standby:
        """Fork; the copy runs ``prepare()``, waits for :meth:`send`, and answers ``serve(prepared, work, queue)``."""
        queue = JobQueue()
        go_read, go_write = os.pipe()
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the copy ends with os._exit, so coverage never records it

            def when_sent() -> dict[str, Any] | None:
                prepared = prepare()
                chunks = []
                while chunk := os.read(go_read, 1 << 16):
                    chunks.append(chunk)
                return serve(prepared, json.loads(b"".join(chunks)), queue) if chunks else None  # nothing: cancelled

            _copy_runs(when_sent, write, close=(read, go_write))
        os.close(go_read)
        os.close(write)
        return cls(pid, read, go_write, queue)

    def send(self, work: dict[str, Any]) -> bool:
        """Hand over the work (fill :attr:`queue` first); :meth:`result` then waits for the answer.

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

    def cancel(self) -> None:
        """Send it away without work (nothing happens if it was given some)."""
        if self._go is None:
            return
        os.close(self._go)
        self._go = None
        os.close(self._read)
        self.queue.close()
        os.waitpid(self._pid, os.WNOHANG)  # it ends on its own: no need to wait for it


def _copy_runs(work: Callable[[], dict[str, Any] | None], write: int, *, close: tuple[int, ...]) -> NoReturn:  # pragma: no cover - in a copy
    """The forked copy's whole life: close the parent's ends of the pipes, run ``work``, write its answer (or the
    :class:`~reprolock.errors.ReprolockError` it raised) to ``write``, and end. ``None`` from ``work``: no answer."""
    status = 1
    try:
        for fd in close:
            os.close(fd)
        _detach()
        try:
            answer = work()
            message = None if answer is None else {"answer": answer}
        except errors.ReprolockError as exc:
            message = {"error": {"kind": type(exc).__name__, "message": exc.message, "hint": exc.hint}}
        if message is not None:
            _write_all(write, pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL))
        status = 0
    finally:
        os._exit(status)


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
    """A standby copy for an audit's index pages: it makes the HTTP client (httpx's imports, the TLS setup) while
    the parent probes the interpreter and reads the environment; ``None`` where nothing may be forked.

    Call it before starting any thread (a subprocess already started is fine: the copy never waits for it).
    """
    if not can_fork():
        return None
    return Standby.begin(_connections, _serve)


def _connections() -> object:  # pragma: no cover - runs in the standby copy
    from reprolock.index.client import ResolveOnce, open_client  # noqa: PLC0415 - in the copy, while the parent works

    backend = ResolveOnce()
    return (open_client(backend=backend), backend)


def _serve(connections: object, work: dict[str, Any], queue: JobQueue) -> dict[str, Any]:  # pragma: no cover - runs in the standby copy
    from reprolock.index.finder import IndexFinder  # noqa: PLC0415 - the finder imports this module

    return IndexFinder.serve(connections, work, queue)
