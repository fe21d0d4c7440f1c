"""Read a Dockerfile (or Containerfile) into a ``SourceFile`` of kind ``dockerfile``.

Instructions come from dockerfile-parse (``dockerlines``); this module walks
them stage by stage, keeping what Docker keeps: global ``ARG`` values for
``FROM``, each stage's ``ARG``/``ENV`` values and ``WORKDIR``, a stage built
on another (``FROM builder``) inheriting its environment, folder and files.
``RUN`` is read by ``dockerrun``. A requirement file a ``pip install -r``
reads is followed to the repository file copied there, which the loader then
reads as an input of its own (it is audited in place, at its own lines).

Not a Dockerfile at all (no ``FROM``, or an instruction before the first
``FROM`` other than ``ARG``) is an input error; a line that cannot be
understood (an unknown instruction, an unclosed quote or here-document) is
an invalid line (RL111) and the rest is still read.
"""

from __future__ import annotations

import json
import os
import posixpath
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from dockerfile_parse.util import WordSplitter, extract_key_values

from reprolock.dockerrecords import Copy, Dockerfile, Setting, Stage
from reprolock.errors import InputError
from reprolock.records import FileKind, InvalidLine, Origin, Secret, SourceFile
from reprolock.redaction import redact
from reprolock.sources.dockerlines import Instruction, instructions, split_flags
from reprolock.sources.dockerrun import Collected, StageState, add_setting, read_run
from reprolock.sources.requirements import Include
from reprolock.sources.shellwords import ShellSyntaxError, expand, tokenize

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

_KNOWN = frozenset(
    {"CMD", "ENTRYPOINT", "EXPOSE", "VOLUME", "USER", "LABEL", "MAINTAINER", "STOPSIGNAL", "HEALTHCHECK", "SHELL", "ONBUILD"}
)
_SETTING_PREFIXES = ("PIP_", "UV_")


@dataclass(frozen=True, slots=True)
class Follow:
    """A repository file a ``pip install -r`` of the Dockerfile reads: the loader reads it next."""

    path: Path
    display: str
    via: Include


def _substitute(text: str, lookup: Callable[[str], str | None]) -> tuple[str, tuple[str, ...]]:
    """``text`` with the variables Docker substitutes (``$NAME``, ``${NAME}``, ``${NAME:-x}``); unknown ones kept as ``${NAME}``."""
    try:
        words = [token for token in tokenize(text) if not isinstance(token, str)]
    except ShellSyntaxError:
        return text, ()
    fields = [item for word in words for item in expand(word, lookup)]
    return " ".join(item.text for item in fields), tuple(name for item in fields for name in item.unresolved)


def _reference(image: str) -> tuple[str, str | None, str | None]:
    """``registry/name:tag@sha256:...`` to (repository, tag, digest)."""
    name, _, digest = image.partition("@")
    head, _, last = name.rpartition("/")
    repository, _, tag = last.partition(":")
    return (f"{head}/{repository}" if head else repository), (tag or None), (digest or None)


@dataclass(slots=True)
class _Reader:
    out: Collected
    meta: dict[str, str | None] = field(default_factory=dict)
    stages: list[Stage] = field(default_factory=list)
    states: list[StageState] = field(default_factory=list)

    @property
    def state(self) -> StageState:
        return self.states[-1]

    def read(self, items: list[Instruction]) -> None:
        handlers: dict[str, Callable[[Instruction], None]] = {
            "FROM": self._from,
            "ARG": self._arg,
            "ENV": self._env,
            "WORKDIR": self._workdir,
            "COPY": self._copy,
            "ADD": self._copy,
            "RUN": lambda item: read_run(item, self.state, self.out),
        }
        for item in items:
            if not self.states and item.keyword not in {"FROM", "ARG"}:
                hint = "a Dockerfile starts with FROM; ARG lines may come before it"
                raise InputError(f"{self.out.display}:{item.line}: {item.keyword} before the first FROM", hint=hint)
            handler = handlers.get(item.keyword)
            if handler is not None:
                handler(item)
            elif item.keyword not in _KNOWN:
                self._invalid(item, f"unknown instruction {item.keyword}")
        if not self.states:
            raise InputError(f"{self.out.display}: no FROM instruction: not a Dockerfile", hint="give --kind to read it as another kind of file")

    def _invalid(self, item: Instruction, message: str) -> None:
        text = redact(f"{item.keyword} {item.text}".strip())[0]
        self.out.invalid.append(InvalidLine(text[:80], message, self.out.at(item.line)))

    def _from(self, item: Instruction) -> None:
        words = [word for word in item.text.split() if not word.startswith("--")]
        if not words:
            self._invalid(item, "FROM names no image")
            return
        image, unresolved = _substitute(words[0], self.meta.get)
        alias = words[2] if len(words) >= 3 and words[1].lower() == "as" else None
        parent = next((stage.index for stage in reversed(self.stages) if stage.alias and stage.alias.lower() == image.lower()), None)
        repository, tag, digest = _reference(image)
        index = len(self.stages)
        origin = self.out.at(item.line)
        self.stages.append(Stage(index, image, origin, alias, repository, tag, digest, parent, unresolved))
        if parent is None:
            self.states.append(StageState(index))
            return
        base = self.states[parent]
        self.states.append(
            StageState(index, dict(base.env), {}, base.workdir, list(base.settings), list(base.steps), list(base.venvs))
        )

    def _arg(self, item: Instruction) -> None:
        for word in WordSplitter(item.text).split(dequote=False):
            name, equals, written = word.partition("=")
            if not self.states:
                self.meta[name] = _substitute(written, self.meta.get)[0] if equals else None
                continue
            value = _substitute(written, self.state.lookup)[0] if equals else self.meta.get(name)
            self.state.args[name] = value
            if value is not None and name.startswith(_SETTING_PREFIXES) and name not in self.state.env:
                setting = Setting(name, redact(value)[0], self.out.at(item.line), self.state.index, "ARG")
                add_setting(self.out, self.state, setting, persists=True)

    def _env(self, item: Instruction) -> None:
        known = {name: value for name, value in self.state.args.items() if value is not None}
        try:
            pairs = extract_key_values(env_replace=True, args=known, envs=dict(self.state.env), instruction_value=item.text)
        except (ValueError, IndexError) as exc:
            self._invalid(item, str(exc) or "ENV needs NAME=value")
            return
        for name, value in pairs:
            shown, secrets = redact(value)
            if secrets:
                self.out.secrets.append(Secret(where=f"ENV {name}", origin=self.out.at(item.line)))
            self.state.env[name] = value
            if name.startswith(_SETTING_PREFIXES):
                add_setting(self.out, self.state, Setting(name, shown, self.out.at(item.line), self.state.index, "ENV"), persists=True)

    def _workdir(self, item: Instruction) -> None:
        folder = _substitute(item.text.strip(), self.state.lookup)[0]
        self.state.workdir = posixpath.normpath(posixpath.join(self.state.workdir, folder))

    def _copy(self, item: Instruction) -> None:
        flags, rest = split_flags(item.text)
        paths = _paths(rest, self.state.lookup)
        if len(paths) < 2:
            self._invalid(item, f"{item.keyword} needs a source and a destination")
            return
        *sources, dest = paths
        directory = dest.endswith("/") or len(sources) > 1 or dest in {".", "./"}
        dest = posixpath.normpath(posixpath.join(self.state.workdir, dest))
        source_from = next((value for name, value in flags if name == "from"), None)
        shown = redact(" ".join(f"{item.keyword} {item.text}".split()))[0]
        step = Copy(tuple(sources), dest, self.out.at(item.line), shown, directory, source_from, self.state.index)
        self.state.steps.append(step)
        self.out.copies.append(step)


def _paths(text: str, lookup: Callable[[str], str | None]) -> list[str]:
    """The paths of a ``COPY``/``ADD`` (JSON form or words), variables substituted; here-documents (``<<EOF``) kept."""
    if text.startswith("["):
        try:
            items = json.loads(text)
        except ValueError:
            items = None
        if isinstance(items, list) and all(isinstance(entry, str) for entry in items):
            return [_substitute(entry, lookup)[0] for entry in items]
    return [word if word.startswith("<<") else _substitute(word, lookup)[0] for word in text.split()]


def read_dockerfile(text: str, display: str, path: Path, *, root: Path, known: Mapping[Path, str]) -> tuple[SourceFile, list[Follow]]:
    """The Dockerfile's record, and the repository files its ``pip install -r`` lines read (to audit in place)."""
    contexts = [path.parent]
    if path.parent.is_relative_to(root):
        contexts += [folder for folder in path.parent.parents if folder.is_relative_to(root)]
    follows: dict[Path, Follow] = {}

    def follow(target: Path, origin: Origin, written: str, constraint: bool) -> str:
        if target not in follows:
            shown = known.get(target) or Path(os.path.normpath(Path(display).parent / os.path.relpath(target, path.parent))).as_posix()
            follows[target] = Follow(target, shown, Include(written, constraint, origin))
        return follows[target].display

    out = Collected(display, tuple(contexts), follow)
    reader = _Reader(out)
    reader.read(instructions(text))
    record = Dockerfile(tuple(reader.stages), tuple(out.pip), tuple(out.os_packages), tuple(out.settings), tuple(out.copies))
    source = SourceFile(
        path=display,
        kind=FileKind.DOCKERFILE,
        options=tuple(out.options),
        invalid=tuple(out.invalid),
        secrets=tuple(out.secrets),
        notes=tuple(dict.fromkeys(out.notes)),
        dockerfile=record,
    )
    return source, list(follows.values())
