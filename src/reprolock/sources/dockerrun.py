"""A ``RUN`` instruction to records: its shell (or exec) form, here-documents, bind mounts, and what each command installs."""

from __future__ import annotations

import json
import posixpath
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from reprolock.dockerrecords import Copy, OsPackage, Setting
from reprolock.records import InvalidLine, Origin, Secret
from reprolock.redaction import redact
from reprolock.sources.dockercommands import Arg, Effect, OsCall, PipCall, interpret
from reprolock.sources.dockerlines import split_flags
from reprolock.sources.dockerpip import pip_install
from reprolock.sources.shellwords import ShellSyntaxError, commands, expand

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from reprolock.dockerrecords import PipInstall
    from reprolock.records import OptionLine
    from reprolock.sources.dockerlines import Heredoc, Instruction

_SHELLS = frozenset({"sh", "bash", "dash", "ash", "zsh", "ksh"})
# what follows the name: apt ``=version``, ``:arch``, ``/release``; apk ``=``, ``<``, ``>``, ``~`` constraints; dnf ``-version``
_VERSION_SUFFIX = {"apt": re.compile(r"[=:/].*"), "apk": re.compile(r"[=<>~].*"), "dnf": re.compile(r"-\d[\w.+~-]*$")}
_SETTING_PREFIXES = ("PIP_", "UV_")


@dataclass(slots=True)
class StageState:
    """What a stage knows while it is read: its variables, folder, settings, copies and virtual environments."""

    index: int
    env: dict[str, str] = field(default_factory=dict)
    args: dict[str, str | None] = field(default_factory=dict)
    workdir: str = "/"
    settings: list[Setting] = field(default_factory=list)
    steps: list[Copy] = field(default_factory=list)
    venvs: list[str] = field(default_factory=list)

    def lookup(self, name: str) -> str | None:
        """A variable's value as a ``RUN`` sees it: ``ENV`` wins over ``ARG``; ``None``: no value."""
        return self.env[name] if name in self.env else self.args.get(name)


@dataclass(slots=True)
class Collected:
    """Everything read from one Dockerfile so far."""

    display: str
    contexts: tuple[Path, ...]
    follow: Callable[[Path, Origin, str, bool], str]
    """Registers a repository file to audit (path, ``-r`` line, as written, constraint?) and returns how it is shown."""
    pip: list[PipInstall] = field(default_factory=list)
    os_packages: list[OsPackage] = field(default_factory=list)
    settings: list[Setting] = field(default_factory=list)
    invalid: list[InvalidLine] = field(default_factory=list)
    secrets: list[Secret] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    options: list[OptionLine] = field(default_factory=list)
    copies: list[Copy] = field(default_factory=list)

    def at(self, line: int) -> Origin:
        return Origin(self.display, line)


@dataclass(slots=True)
class Shell:
    """One ``RUN``'s shell: its folder and the variables its commands set, on top of the stage's."""

    stage: StageState
    cwd: str
    mounts: list[Copy]
    variables: dict[str, str] = field(default_factory=dict)
    exported: list[Setting] = field(default_factory=list)

    def lookup(self, name: str) -> str | None:
        return self.variables[name] if name in self.variables else self.stage.lookup(name)


def add_setting(out: Collected, stage: StageState, setting: Setting, *, persists: bool) -> None:
    """A ``PIP_*``/``UV_*`` setting: reported where it is set; kept for the stage's later installs when it persists."""
    out.settings.append(setting)
    if persists:
        stage.settings.append(setting)


def _mounts(flags: list[tuple[str, str]], instruction: Instruction, out: Collected, stage: StageState) -> list[Copy]:
    """``--mount=type=bind,source=...,target=...``: build-context files seen by this ``RUN`` only."""
    steps = []
    for name, value in flags:
        if name != "mount":
            continue
        spec = dict(item.partition("=")[::2] for item in value.split(","))
        if spec.get("type", "bind") != "bind":
            continue
        target = spec.get("target") or spec.get("dst") or spec.get("destination")
        if not target:
            continue
        source = spec.get("source") or spec.get("src") or "."
        dest = posixpath.normpath(posixpath.join(stage.workdir, target))
        shown = f"RUN --mount={value}"
        steps.append(Copy((source,), dest, out.at(instruction.line), shown, directory=False, from_=spec.get("from"), stage=stage.index))
    out.copies.extend(steps)
    return steps


def read_run(instruction: Instruction, stage: StageState, out: Collected) -> None:
    """Record what a ``RUN`` installs and sets."""
    flags, text = split_flags(instruction.text)
    skipped = instruction.text.rfind(text) if text else 0
    shell = Shell(stage, stage.workdir, _mounts(flags, instruction, out, stage))
    if text.lstrip().startswith("["):
        try:
            argv = json.loads(text)
        except ValueError:
            argv = None
        if isinstance(argv, list) and all(isinstance(item, str) for item in argv):
            _exec_form(argv, instruction.line, shell, out)
            return
    _script(text, lambda offset: instruction.line_at(offset + skipped), shell, out)
    for heredoc in instruction.heredocs:
        if _shell_body(text, heredoc):
            _script(heredoc.body, heredoc.line_at, shell, out)
        if not heredoc.closed:
            out.invalid.append(InvalidLine(f"<<{heredoc.name}", f"the here-document <<{heredoc.name} is never closed", out.at(instruction.line)))


def _shell_body(text: str, heredoc: Heredoc) -> bool:
    """Whether a here-document's body is the script (``RUN <<EOF``, ``RUN bash <<EOF``) rather than a command's input."""
    if heredoc.body.startswith("#!") and not any(name in heredoc.body.split("\n", 1)[0] for name in _SHELLS):
        return False
    words = [word for word in text.split() if not word.startswith("<<")]
    return not words or posixpath.basename(words[0]) in _SHELLS


def _exec_form(argv: list[str], line: int, shell: Shell, out: Collected) -> None:
    """``RUN ["pip", "install", "x"]``: no shell, no expansion; ``["sh", "-c", "..."]`` runs its script."""
    if argv and posixpath.basename(argv[0]) in _SHELLS and "-c" in argv[1:-1]:
        _script(argv[argv.index("-c", 1) + 1], lambda _offset: line, shell, out)
        return
    _command([Arg(word, line) for word in argv], shell, out)


def _script(text: str, line_at: Callable[[int], int], shell: Shell, out: Collected) -> None:
    try:
        found = commands(text)
    except ShellSyntaxError as exc:
        shown = redact(text.strip())[0]
        out.invalid.append(InvalidLine(shown[:80], f"{exc} (the rest of the file is still audited)", out.at(line_at(exc.offset))))
        return
    for words in found:
        argv = [Arg(item.text, line_at(item.offset), item.unresolved) for word in words for item in expand(word, shell.lookup)]
        if argv:
            _command(argv, shell, out)


def _command(argv: list[Arg], shell: Shell, out: Collected) -> None:
    for call in interpret(argv):
        if isinstance(call, Effect):
            _effect(call, shell, out)
        elif isinstance(call, OsCall):
            _os_packages(call, shell.stage, out)
        elif isinstance(call, PipCall):
            _secrets(call, out)
            out.pip.append(pip_install(call, shell, out))


def _effect(effect: Effect, shell: Shell, out: Collected) -> None:
    if effect.what == "cd":
        shell.cwd = posixpath.normpath(posixpath.join(shell.cwd, effect.value)) if effect.value != "~" else "/root"
    elif effect.what == "venv":
        shell.stage.venvs.append(posixpath.normpath(posixpath.join(shell.cwd, effect.value)))
    elif effect.what == "export":
        shell.variables[effect.name] = effect.value
        if effect.name.startswith(_SETTING_PREFIXES):
            setting = Setting(effect.name, redact(effect.value)[0], out.at(effect.line), shell.stage.index, "export")
            shell.exported.append(setting)
            add_setting(out, shell.stage, setting, persists=False)
    elif effect.what == "config":
        add_setting(out, shell.stage, Setting(effect.name, effect.value, out.at(effect.line), shell.stage.index, "pip config"), persists=True)


def _os_packages(call: OsCall, stage: StageState, out: Collected) -> None:
    strip = _VERSION_SUFFIX[call.manager]
    for arg in call.packages:
        name = strip.sub("", arg.text).lower()
        if name:
            out.os_packages.append(OsPackage(call.manager, name, out.at(arg.line), stage.index))


def _secrets(call: PipCall, out: Collected) -> None:
    if redact(" ".join(call.words))[1]:
        out.secrets.append(Secret(where=f"{call.tool} command", origin=out.at(call.line)))
