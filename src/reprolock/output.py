"""Write output files atomically: a reader never sees a half-written file."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from reprolock.errors import InputError


def check_writable(path: Path) -> None:
    """Fail early (exit 3) when ``path`` cannot be written: a folder, or in a folder that does not exist."""
    directory = path.parent if str(path.parent) else Path()
    if path.is_dir():
        raise InputError(f"{path}: is a folder", hint="give the name of a file to write")
    if not directory.is_dir():
        raise InputError(f"{path}: cannot write: the folder {directory} does not exist", hint="create it first")


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to a temporary file beside ``path``, then rename it over ``path``.

    A missing folder, a ``path`` that is a folder, or a write that fails is an input
    error (exit 3) that leaves nothing behind, never a traceback.
    """

    check_writable(path)
    directory = path.parent if str(path.parent) else Path()
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    except OSError as exc:
        raise InputError(f"{path}: cannot write: {exc.strerror}", hint="check the folder exists and is writable") from None
    temporary = Path(tmp)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
        if path.exists():
            with contextlib.suppress(OSError):
                temporary.chmod(path.stat().st_mode & 0o777)
        else:
            umask = os.umask(0)
            os.umask(umask)
            temporary.chmod(0o666 & ~umask)
        temporary.replace(path)
    except OSError as exc:
        temporary.unlink(missing_ok=True)
        raise InputError(f"{path}: cannot write: {exc.strerror}", hint="check the disk has room and the file is writable") from None
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
