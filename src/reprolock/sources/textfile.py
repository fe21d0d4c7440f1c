"""Read a user's file as text, or fail with a one-line error naming it."""

from __future__ import annotations

import codecs
import locale
from typing import TYPE_CHECKING

from reprolock.errors import InputError

if TYPE_CHECKING:
    from pathlib import Path

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),  # ``pip freeze > f`` in Windows PowerShell
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


def decode(data: bytes, display: str) -> str:
    """Decode a requirements-style file the way pip does (BOM, else UTF-8, else locale)."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data[len(bom) :].decode(encoding)
            except UnicodeDecodeError:
                break
    if b"\x00" in data:
        raise InputError(
            f"{display}: not a text file (it contains NUL bytes)",
            hint="give a requirements, constraints, freeze, pyproject or pylock file",
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        fallback = locale.getpreferredencoding(do_setlocale=False)
        if fallback.lower().replace("-", "") not in {"utf8", "ascii"}:
            try:
                return data.decode(fallback)
            except UnicodeDecodeError:
                pass
        line = data[: exc.start].count(b"\n") + 1
        raise InputError(
            f"{display}:{line}: not a text file (invalid UTF-8 at byte {exc.start})",
            hint="save the file as UTF-8",
        ) from None


def read_text(path: Path, display: str) -> str:
    """Read ``path`` (shown to the user as ``display``) as text."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{display}: no such file", hint="check the path") from None
    except IsADirectoryError:
        raise InputError(f"{display}: is a directory", hint="give a file") from None
    except OSError as exc:
        raise InputError(f"{display}: cannot read: {exc.strerror}") from None
    return decode(data, display)


def display_path(path: Path, cwd: Path) -> str:
    """How a path is shown: relative to the current directory when below it."""
    try:
        return path.relative_to(cwd).as_posix()
    except ValueError:
        return path.as_posix()
