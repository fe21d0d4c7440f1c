"""A Dockerfile's instructions, each with the line of every piece of its text.

dockerfile-parse splits the file into instructions (line continuations, the
``# escape=`` directive, comment lines inside a continued instruction). It
knows nothing of here-documents (``RUN <<EOF``), so their bodies are taken
out first (kept, with their first line) and the parse is run again without
them. Then each instruction's text is joined again from its physical lines,
keeping where each line starts, so that a word found anywhere in a long
``RUN`` is reported at its own line.
"""

from __future__ import annotations

import bisect
import io
import re
from dataclasses import dataclass
from typing import Any

from dockerfile_parse import DockerfileParser

_HEREDOC = re.compile(r"(?<!<)<<(?P<strip>-?)(?P<quote>[\"']?)(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?P=quote)")
_HEREDOC_KEYWORDS = frozenset({"RUN", "COPY", "ADD"})
_ESCAPE = re.compile(r"^\s*#\s*escape\s*=\s*(\\|`)\s*$", re.IGNORECASE)
_DIRECTIVE = re.compile(r"^\s*#\s*[a-z]+\s*=", re.IGNORECASE)
_COMMENT = re.compile(r"^\s*#")
_FLAG = re.compile(r"\s*--(?P<name>[a-z-]+)(?:=(?P<value>\S*))?(?:\s+|$)")


@dataclass(frozen=True, slots=True)
class Heredoc:
    """The body of a ``<<NAME`` here-document."""

    name: str
    body: str
    line: int
    """The line of the body's first line (1-based)."""
    quoted: bool = False
    closed: bool = True

    def line_at(self, offset: int) -> int:
        return self.line + self.body.count("\n", 0, offset)


@dataclass(frozen=True, slots=True)
class Instruction:
    """One instruction: its keyword, its arguments (continuations joined) and where each piece came from."""

    keyword: str
    text: str
    line: int
    starts: tuple[int, ...] = (0,)
    """Offsets in ``text`` where a physical line starts ..."""
    numbers: tuple[int, ...] = ()
    """... and that line's number."""
    heredocs: tuple[Heredoc, ...] = ()

    def line_at(self, offset: int) -> int:
        if not self.numbers:
            return self.line
        return self.numbers[max(0, bisect.bisect_right(self.starts, offset) - 1)]


def _escape_char(lines: list[str]) -> str:
    for line in lines:
        if match := _ESCAPE.match(line):
            return match.group(1)
        if not _DIRECTIVE.match(line):
            break
    return "\\"


def _structure(lines: list[str]) -> list[dict[str, Any]]:
    parser = DockerfileParser(fileobj=io.BytesIO("".join(lines).encode("utf-8")))
    return list(parser.structure)


def _bodies(lines: list[str], entry: dict[str, Any]) -> tuple[list[Heredoc], int]:
    """The bodies of the here-documents ``entry`` opens, and the last line they take (0-based)."""
    docs: list[Heredoc] = []
    cursor = entry["endline"] + 1
    for match in _HEREDOC.finditer(entry["value"]):
        name, strip = match.group("name"), bool(match.group("strip"))
        body: list[str] = []
        start = cursor
        closed = False
        while cursor < len(lines):
            text = lines[cursor].rstrip("\r\n")
            cursor += 1
            if (text.lstrip("\t") if strip else text) == name:
                closed = True
                break
            body.append((text.lstrip("\t") if strip else text) + "\n")
        docs.append(Heredoc(name, "".join(body), start + 1, bool(match.group("quote")), closed))
    return docs, cursor - 1


def _joined(keyword: str, entry: dict[str, Any], lines: list[str], escape: str, heredocs: tuple[Heredoc, ...]) -> Instruction:
    """The instruction's arguments as Docker joins them (escape + newline removed, comment lines dropped), with a line map."""
    pieces: list[str] = []
    starts: list[int] = []
    numbers: list[int] = []
    offset = 0
    for index in range(entry["startline"], entry["endline"] + 1):
        text = lines[index].rstrip("\r\n")
        if index == entry["startline"]:
            text = text.lstrip()[len(keyword) :].lstrip()
        elif _COMMENT.match(text) or not text.strip():
            continue
        if index < entry["endline"] and text.rstrip().endswith(escape):
            text = text.rstrip()[:-1]
        starts.append(offset)
        numbers.append(index + 1)
        pieces.append(text)
        offset += len(text)
    return Instruction(keyword, "".join(pieces), entry["startline"] + 1, tuple(starts), tuple(numbers), heredocs)


def instructions(text: str) -> list[Instruction]:
    """Every instruction of a Dockerfile, in order, here-documents attached to theirs."""
    lines = [line + "\n" for line in text.split("\n")]
    lines.append("\n")  # ends an instruction whose last line is continued, as the end of the file does for Docker
    escape = _escape_char(lines)
    bodies: dict[int, tuple[Heredoc, ...]] = {}
    while True:
        entries = _structure(lines)
        pending = next(
            (e for e in entries if e["instruction"] in _HEREDOC_KEYWORDS and e["startline"] not in bodies and _HEREDOC.search(e["value"] or "")),
            None,
        )
        if pending is None:
            break
        docs, last = _bodies(lines, pending)
        bodies[pending["startline"]] = tuple(docs)
        for index in range(pending["endline"] + 1, last + 1):
            lines[index] = "\n"
    return [
        _joined(entry["instruction"], entry, lines, escape, bodies.get(entry["startline"], ()))
        for entry in entries
        if entry["instruction"] != "COMMENT"
    ]


def split_flags(text: str) -> tuple[list[tuple[str, str]], str]:
    """The leading ``--name=value`` flags of an instruction (``--from``, ``--mount``, ...) and the text after them."""
    flags: list[tuple[str, str]] = []
    while match := _FLAG.match(text):
        flags.append((match.group("name"), match.group("value") or ""))
        text = text[match.end() :]
    return flags, text.strip()
