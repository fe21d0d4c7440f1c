"""Split the shell text of a ``RUN`` into simple commands of words, each word with its offset.

A small POSIX-shell tokenizer, enough to find the commands a Dockerfile runs:
quotes (``'...'``, ``"..."``, ``$'...'``), backslash escapes, comments, the
separators ``&&``, ``||``, ``;``, ``|``, ``&``, newlines and parentheses,
redirections (their targets are not arguments), here-documents, and
expansions kept as parts (``$NAME``, ``${NAME}``, ``${NAME:-default}``,
``$(...)``, backquotes) so that the caller expands them with the values it
knows, command by command. Nothing here runs anything.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from collections.abc import Callable


_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_BRACED = re.compile(r"(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-=+?])(?P<word>.*))?", re.DOTALL)
_OPERATORS = ("&&", "||", ";;", "|&", "&>>", "&>", ";", "|", "&", "(", ")")
_REDIRECTS = ("<<<", "<<-", "<<", "<&", "<>", "<", ">>", ">&", ">|", ">")
_SEPARATORS = frozenset({"&&", "||", ";;", "|&", ";", "|", "&", "(", ")", "\n"})


class ShellSyntaxError(ValueError):
    """Text the tokenizer cannot split (an unterminated quote or substitution)."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.offset = offset


@dataclass(frozen=True, slots=True)
class Part:
    """A piece of a word: literal text, a variable, or a command substitution."""

    kind: Literal["text", "var", "command"]
    text: str
    """The text, the variable's name, or the substitution as written."""
    quoted: bool = False
    default: str | None = None
    """``${NAME:-default}``: the text used when the variable has no value."""


@dataclass(frozen=True, slots=True)
class Word:
    parts: tuple[Part, ...]
    offset: int


@dataclass(frozen=True, slots=True)
class Field:
    """One argument after expansion."""

    text: str
    offset: int
    unresolved: tuple[str, ...] = ()
    """Variables with no known value (kept as ``${NAME}``) and command substitutions (kept as written)."""


@dataclass(slots=True)
class _State:
    text: str
    pos: int = 0
    parts: list[Part] = field(default_factory=list)
    start: int = -1
    words: list[Word | str] = field(default_factory=list)
    redirect: bool = False
    heredocs: list[tuple[str, bool]] = field(default_factory=list)

    def add(self, part: Part) -> None:
        if self.start < 0:
            self.start = self.pos
        if part.kind == "text" and self.parts and self.parts[-1].kind == "text" and self.parts[-1].quoted == part.quoted:
            self.parts[-1] = Part("text", self.parts[-1].text + part.text, part.quoted)
        else:
            self.parts.append(part)

    def end_word(self) -> None:
        if self.start < 0:
            return
        word = Word(tuple(self.parts), self.start)
        if self.redirect:
            self.redirect = False
            if self.heredocs and self.heredocs[-1][0] == "\0":
                self.heredocs[-1] = (_literal(word), self.heredocs[-1][1])
        else:
            self.words.append(word)
        self.parts, self.start = [], -1


def _literal(word: Word) -> str:
    return "".join(part.text for part in word.parts)


def _closing(text: str, pos: int, opening: str, closing: str) -> int:
    """The offset of the ``closing`` that ends a substitution opened before ``pos``, quotes and nesting skipped."""
    depth = 1
    while pos < len(text):
        char = text[pos]
        if char == "\\":
            pos += 2
            continue
        if char in "'\"":
            end = text.find(char, pos + 1)
            if end < 0:
                break
            pos = end + 1
            continue
        if char == opening:
            depth += 1
        elif char == closing:
            depth -= 1
            if depth == 0:
                return pos
        pos += 1
    raise ShellSyntaxError(f"unterminated {opening}...{closing}", pos)


def _dollar(state: _State, *, quoted: bool) -> None:
    """``$`` at ``state.pos``: a variable, a substitution or a lone dollar."""
    text, pos = state.text, state.pos
    following = text[pos + 1 : pos + 2]
    if following == "(":
        end = _closing(text, pos + 2, "(", ")")
        state.add(Part("command", text[pos : end + 1], quoted))
        state.pos = end + 1
    elif following == "{":
        end = _closing(text, pos + 2, "{", "}")
        inner = _BRACED.fullmatch(text[pos + 2 : end])
        if inner is None:
            state.add(Part("command", text[pos : end + 1], quoted))
        elif inner.group("op") in {":-", "-"}:
            state.add(Part("var", inner.group("name"), quoted, inner.group("word")))
        elif inner.group("op") is None:
            state.add(Part("var", inner.group("name"), quoted))
        else:
            state.add(Part("command", text[pos : end + 1], quoted))
        state.pos = end + 1
    elif following == "'" and not quoted:
        end = text.find("'", pos + 2)
        if end < 0:
            raise ShellSyntaxError("unterminated $' quote", pos)
        state.add(Part("text", text[pos + 2 : end], quoted=True))
        state.pos = end + 1
    elif match := _NAME.match(text, pos + 1):
        state.add(Part("var", match.group(), quoted))
        state.pos = match.end()
    elif following and following in "@*#?$!-0123456789":
        state.add(Part("command", text[pos : pos + 2], quoted))
        state.pos = pos + 2
    else:
        state.add(Part("text", "$", quoted))
        state.pos = pos + 1


def _double_quoted(state: _State) -> None:
    text = state.text
    if state.start < 0:
        state.start = state.pos
    state.pos += 1
    literal: list[str] = []

    def flush() -> None:
        state.add(Part("text", "".join(literal), quoted=True))
        literal.clear()

    while state.pos < len(text):
        char = text[state.pos]
        if char == '"':
            flush()
            state.pos += 1
            return
        if char == "\\" and text[state.pos + 1 : state.pos + 2] in {"$", "`", '"', "\\", "\n"}:
            literal.append("" if text[state.pos + 1] == "\n" else text[state.pos + 1])
            state.pos += 2
        elif char == "$":
            flush()
            _dollar(state, quoted=True)
        elif char == "`":
            flush()
            _backquote(state, quoted=True)
        else:
            literal.append(char)
            state.pos += 1
    raise ShellSyntaxError('unterminated " quote', state.pos)


def _backquote(state: _State, *, quoted: bool) -> None:
    end = state.text.find("`", state.pos + 1)
    if end < 0:
        raise ShellSyntaxError("unterminated ` substitution", state.pos)
    state.add(Part("command", state.text[state.pos : end + 1], quoted))
    state.pos = end + 1


def _operator(state: _State) -> bool:
    """An operator or redirection at ``state.pos``: ends the word; a redirection's target is no argument."""
    text, pos = state.text, state.pos
    for redirect in _REDIRECTS:
        if text.startswith(redirect, pos):
            if state.start >= 0 and all(p.kind == "text" and not p.quoted and p.text.isdigit() for p in state.parts):
                state.parts, state.start = [], -1  # ``2>``: the digits name a descriptor
            state.end_word()
            state.redirect = True
            if redirect in {"<<", "<<-"}:
                state.heredocs.append(("\0", redirect == "<<-"))
            state.pos = pos + len(redirect)
            return True
    for operator in _OPERATORS:
        if text.startswith(operator, pos):
            state.end_word()
            if operator.startswith("&>"):
                state.redirect = True
            else:
                state.words.append(operator)
            state.pos = pos + len(operator)
            return True
    return False


def _newline(state: _State) -> None:
    """A newline ends the command; the bodies of here-documents opened on the line are skipped."""
    state.end_word()
    state.words.append("\n")
    state.pos += 1
    for delimiter, strip_tabs in state.heredocs:
        while state.pos < len(state.text):
            end = state.text.find("\n", state.pos)
            end = len(state.text) if end < 0 else end
            line = state.text[state.pos : end]
            state.pos = end + 1
            if (line.lstrip("\t") if strip_tabs else line) == delimiter.strip("'\""):
                break
    state.heredocs.clear()


def _quote(state: _State) -> None:
    end = state.text.find("'", state.pos + 1)
    if end < 0:
        raise ShellSyntaxError("unterminated ' quote", state.pos)
    state.add(Part("text", state.text[state.pos + 1 : end], quoted=True))
    state.pos = end + 1


def _escape(state: _State) -> None:
    if state.text[state.pos + 1 : state.pos + 2] != "\n":
        state.add(Part("text", state.text[state.pos + 1 : state.pos + 2]))
    state.pos += 2


def _comment(state: _State) -> None:
    end = state.text.find("\n", state.pos)
    state.pos = len(state.text) if end < 0 else end


def _blank(state: _State) -> None:
    state.end_word()
    state.pos += 1


_SPECIAL: dict[str, Callable[[_State], None]] = {
    " ": _blank,
    "\t": _blank,
    "\r": _blank,
    "\n": _newline,
    "\\": _escape,
    "'": _quote,
    '"': _double_quoted,
    "$": lambda state: _dollar(state, quoted=False),
    "`": lambda state: _backquote(state, quoted=False),
}


def tokenize(text: str) -> list[Word | str]:
    """Words and operators (``&&``, ``;``, ``\\n``, ...) of shell ``text``, in order."""
    state = _State(text)
    while state.pos < len(text):
        char = text[state.pos]
        if char == "#" and state.start < 0:
            _comment(state)
        elif char in _SPECIAL:
            _SPECIAL[char](state)
        elif char in "&|;()<>" and _operator(state):
            continue
        else:
            state.add(Part("text", char))
            state.pos += 1
    state.end_word()
    return state.words


def commands(text: str) -> list[list[Word]]:
    """The simple commands of shell ``text``: words between separators, empty ones dropped."""
    found: list[list[Word]] = [[]]
    for token in tokenize(text):
        if isinstance(token, str):
            if token in _SEPARATORS and found[-1]:
                found.append([])
        else:
            found[-1].append(token)
    return [command for command in found if command]


def expand(word: Word, lookup: Callable[[str], str | None]) -> list[Field]:
    """The fields ``word`` becomes: known variables substituted (split on blanks when unquoted), unknown ones kept as ``${NAME}``."""
    fields: list[list[str]] = [[]]
    unresolved: list[str] = []
    for part in word.parts:
        if part.kind == "text":
            fields[-1].append(part.text)
            continue
        value = lookup(part.text) if part.kind == "var" else None
        if value is None and part.default is not None:
            value = part.default
        if value is None:
            unresolved.append(part.text if part.kind == "command" else f"${{{part.text}}}")
            fields[-1].append(unresolved[-1])
        elif part.quoted:
            fields[-1].append(value)
        else:
            pieces = value.split()
            if not pieces:
                continue
            if value[:1].isspace() and fields[-1]:
                fields.append([])
            fields[-1].append(pieces[0])
            fields.extend([piece] for piece in pieces[1:])
            if value[-1:].isspace():
                fields.append([])
    texts = ["".join(pieces) for pieces in fields]
    if not any(part.quoted for part in word.parts):
        texts = [text for text in texts if text]
    return [Field(text, word.offset, tuple(unresolved)) for text in texts]
