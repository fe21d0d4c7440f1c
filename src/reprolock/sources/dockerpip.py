"""One pip (or uv pip) command of a ``RUN`` to a ``PipInstall`` record.

Requirement arguments are parsed as requirement lines are (a name with a
specifier, a URL, a VCS reference, a local path), each at its own line.
``-r``/``-c`` files are followed back to the repository file a ``COPY``,
``ADD`` or bind mount put there, which is then audited as an input of its own.
"""

from __future__ import annotations

import dataclasses
import posixpath
from typing import TYPE_CHECKING

from packaging.specifiers import SpecifierSet

from reprolock.dockerrecords import PipInstall, RequirementFileRef, Setting
from reprolock.records import InvalidLine, OptionLine, Requirement
from reprolock.redaction import redact
from reprolock.sources.dockercontext import locate
from reprolock.sources.requirements import parse_text

if TYPE_CHECKING:
    from reprolock.sources.dockercommands import Arg, PipCall
    from reprolock.sources.dockerrun import Collected, Shell

_SYSTEM_BINS = frozenset({"/usr/bin", "/usr/local/bin", "/bin", "/usr/sbin", "/usr/local/sbin", "/sbin"})
_SETTING_PREFIXES = ("PIP_", "UV_")
_SHOWN_MAX = 100
_SHOWN_ARG = 60
_ARCHIVES = (".whl", ".tar.gz", ".zip", ".tar.bz2", ".tgz")


def unread(unresolved: tuple[str, ...]) -> str:
    """Why an argument was not audited: the variables with no value, else a command's output."""
    variables = [item for item in unresolved if item.startswith("${")]
    if variables:
        return f"{', '.join(variables)} {'has' if len(variables) == 1 else 'have'} no value in the Dockerfile"
    return "it is the output of a command"


def _short(text: str) -> str:
    shown = redact(text)[0]
    return shown if len(shown) <= _SHOWN_ARG else shown[: _SHOWN_ARG - 3] + "..."


def _looks_like_path(text: str) -> bool:
    if "://" in text or text.startswith(("git+", "hg+", "svn+", "bzr+")):
        return False
    return text.startswith((".", "/", "~")) or text.endswith(_ARCHIVES) or ("/" in text and "@" not in text)


def _requirement(arg: Arg, editable: bool, out: Collected) -> Requirement | None:
    """A requirement argument as a record at its own line (``None``: it could not be parsed, recorded as invalid)."""
    origin = out.at(arg.line)
    if _looks_like_path(arg.text):
        return Requirement(None, None, SpecifierSet(), origin, arg.text, url=arg.text, editable=editable, local=True)
    parsed = parse_text(("-e " if editable else "") + arg.text, out.display)
    if parsed.invalid or not parsed.requirements:
        message = parsed.invalid[0].message if parsed.invalid else "not a requirement"
        out.invalid.append(InvalidLine(redact(arg.text)[0], message, origin))
        return None
    return dataclasses.replace(parsed.requirements[0], origin=origin)


def _file(arg: Arg, constraint: bool, shell: Shell, out: Collected) -> RequirementFileRef:
    """A ``-r``/``-c`` file: where pip reads it in the image, and the repository file copied there."""
    origin = out.at(arg.line)
    image_path = posixpath.normpath(posixpath.join(shell.cwd, arg.text))
    if arg.unresolved:
        return RequirementFileRef(arg.text, origin, image_path, constraint, reason=unread(arg.unresolved))
    found = locate(image_path, [*shell.stage.steps, *shell.mounts], out.contexts)
    if found.path is None or found.step is None:
        return RequirementFileRef(arg.text, origin, image_path, constraint, reason=found.reason)
    shown = out.follow(found.path, origin, arg.text, constraint)
    via = f"{found.step.shown} ({found.step.origin})"
    return RequirementFileRef(arg.text, origin, image_path, constraint, source=shown, via=via)


def _into(call: PipCall, shell: Shell) -> str | None:
    """The virtual environment or folder the install goes to, when the Dockerfile says it is not the system's."""
    options = {name: value.text for name, value in call.options}
    for name in ("--target", "--prefix", "--root"):
        if name in options:
            return options[name]
    program = call.tool.split()[0]
    python = options.get("--python")
    for path in (python, program):
        if path and "/" in path and posixpath.dirname(path) not in _SYSTEM_BINS:
            return posixpath.dirname(posixpath.dirname(path))
    if call.tool.split()[-1:] == ["pip"] and call.tool.startswith("uv") and "--system" not in call.flags:
        return shell.lookup("VIRTUAL_ENV") or "a virtual environment (uv pip installs into one unless --system)"
    venv = shell.lookup("VIRTUAL_ENV")
    if venv:
        return venv
    for entry in (shell.lookup("PATH") or "").split(":"):
        if entry.endswith("/bin") and posixpath.dirname(entry) in shell.stage.venvs:
            return posixpath.dirname(entry)
    return None


def _environment(call: PipCall, shell: Shell, out: Collected) -> tuple[Setting, ...]:
    """The ``PIP_*``/``UV_*`` settings this install sees: the stage's, this ``RUN``'s exports, its own prefix."""
    inline = []
    for name, value in call.inline:
        if name.startswith(_SETTING_PREFIXES):
            setting = Setting(name, redact(value)[0], out.at(call.line), shell.stage.index, "inline")
            out.settings.append(setting)
            inline.append(setting)
    return (*shell.stage.settings, *shell.exported, *inline)


def _shown(words: tuple[str, ...]) -> str:
    text = redact(" ".join(words))[0]
    return text if len(text) <= _SHOWN_MAX else text[: _SHOWN_MAX - 3] + "..."


def pip_install(call: PipCall, shell: Shell, out: Collected) -> PipInstall:
    """The record of one pip command; its ``-r`` files registered to be audited."""
    requirements: list[Requirement] = []
    unresolved: list[str] = []
    notes: list[tuple[int, str]] = []
    for arg, editable in call.requirements:
        if arg.unresolved and not _looks_like_path(arg.text):  # a path with a variable is still a local path
            unresolved.append(arg.text)
            notes.append((arg.line, f"{out.at(arg.line)}: {_short(arg.text)} not audited: {unread(arg.unresolved)}"))
        elif (requirement := _requirement(arg, editable, out)) is not None:
            requirements.append(requirement)
    files = tuple(_file(arg, constraint, shell, out) for arg, constraint in call.files)
    notes += [
        (ref.origin.line or 0, f"{ref.origin}: {'-c' if ref.constraint else '-r'} {_short(ref.written)} not followed: {ref.reason}")
        for ref in files
        if ref.source is None
    ]
    out.notes.extend(note for _line, note in sorted(notes, key=lambda item: item[0]))
    for name, value in call.options:
        if name == "--trusted-host":
            out.options.append(OptionLine(option=name, value=value.text, origin=out.at(value.line)))
    return PipInstall(
        tool=call.tool,
        command=_shown(call.words),
        origin=out.at(call.line),
        stage=shell.stage.index,
        requirements=tuple(requirements),
        files=files,
        flags=tuple(call.flags),
        environment=_environment(call, shell, out),
        sudo=call.sudo,
        into=_into(call, shell),
        sync=call.subcommand == "sync",
        unresolved=tuple(unresolved),
    )
