"""What one shell command of a ``RUN`` does, as far as Python packages go.

The arguments arrive expanded (``shellwords.expand``), each with its
Dockerfile line. This module recognises the installers: ``pip``/``pip3``/
``python3 -m pip``/``uv pip`` (``install``, ``sync``, ``config set``), the OS
package managers (``apt-get``/``apt``/``aptitude``, ``dnf``/``yum``/
``microdnf``/``tdnf``, ``apk``), virtual environments being made
(``python3 -m venv``, ``virtualenv``, ``uv venv``), ``cd`` and ``export``,
behind the wrappers that change nothing about them (``sudo``, ``env``,
``nice``, ``if``/``then``, ``NAME=value`` prefixes, ...).
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field

_PIP = re.compile(r"pip(?:\d+(?:\.\d+)?)?")
_PYTHON = re.compile(r"python(?:\d+(?:\.\d+)?)?")
_ASSIGNMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*=")
_KEYWORDS = frozenset({"if", "then", "else", "elif", "do", "while", "until", "!", "{", "}", "time", "exec", "command", "nohup", "builtin"})
_WRAPPERS = frozenset({"nice", "ionice", "stdbuf", "linux32", "linux64", "eatmydata", "chronic"})
_WRAPPER_VALUE_OPTIONS = frozenset({"-n", "--adjustment", "-c", "--class", "-p", "--pid", "-i", "-o", "-e", "--classdata"})
_SUDO_VALUE_OPTIONS = frozenset({"-u", "-g", "-C", "-h", "-p", "-r", "-t", "-U", "-D", "-R", "-T", "--user", "--group"})
_PYTHON_VALUE_OPTIONS = frozenset({"-W", "-X", "-c", "-m"})

# pip and uv options that take a value (as the next argument or after ``=``); every other option is a flag.
_PIP_VALUE_OPTIONS = frozenset(
    {
        "--requirement", "--constraint", "--editable", "--index-url", "--extra-index-url", "--find-links", "--target",
        "--prefix", "--root", "--src", "--platform", "--python-version", "--implementation", "--abi", "--upgrade-strategy",
        "--progress-bar", "--global-option", "--install-option", "--config-settings", "--no-binary", "--only-binary",
        "--trusted-host", "--cert", "--client-cert", "--cache-dir", "--log", "--log-file", "--proxy", "--retries",
        "--timeout", "--exists-action", "--python", "--root-user-action", "--report", "--keyring-provider",
        "--use-feature", "--use-deprecated", "--group", "--build-constraint", "--build-constraints", "--override",
        "--index-strategy", "--resolution", "--prerelease", "--python-platform", "--exclude-newer", "--link-mode",
        "--reinstall-package", "--upgrade-package", "--extra", "--color", "--torch-backend", "--index", "--default-index",
        "--refresh-package", "--no-build-package", "--no-binary-package", "--directory", "--project", "--config-file",
    }
)  # fmt: skip
_PIP_SHORT = {
    "-r": "--requirement", "-c": "--constraint", "-e": "--editable", "-i": "--index-url", "-f": "--find-links",
    "-t": "--target", "-C": "--config-settings", "-p": "--python", "-P": "--upgrade-package", "-b": "--build-constraints",
    "-U": "--upgrade", "-I": "--ignore-installed", "-q": "--quiet", "-v": "--verbose", "-n": "--no-cache",
}  # fmt: skip
_OS_VALUE_OPTIONS = {
    "apt": frozenset({"-o", "-t", "-c", "--target-release", "--option", "--config-file"}),
    "dnf": frozenset({"-c", "-x", "--exclude", "--setopt", "--enablerepo", "--disablerepo", "--repo", "--releasever", "--installroot", "--config"}),
    "apk": frozenset({"-t", "--virtual", "-X", "--repository", "-p", "--root", "--arch", "--keys-dir", "--repositories-file", "--cache-dir"}),
}
_OS_MANAGERS = {
    "apt-get": ("apt", "install"), "apt": ("apt", "install"), "aptitude": ("apt", "install"),
    "dnf": ("dnf", "install"), "yum": ("dnf", "install"), "microdnf": ("dnf", "install"), "tdnf": ("dnf", "install"),
    "apk": ("apk", "add"),
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Arg:
    """One argument after expansion, at its Dockerfile line."""

    text: str
    line: int
    unresolved: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class PipCall:
    """A pip (or uv pip) command: what it installs, and how."""

    tool: str
    line: int
    subcommand: str
    words: tuple[str, ...]
    requirements: tuple[tuple[Arg, bool], ...] = ()
    """Requirement arguments, each with whether it is ``-e``."""
    files: tuple[tuple[Arg, bool], ...] = ()
    """``-r``/``-c`` files (and ``uv pip sync`` arguments), each with whether it is a constraint file."""
    flags: tuple[str, ...] = ()
    options: tuple[tuple[str, Arg], ...] = ()
    """Options with a value, long spelling."""
    sudo: bool = False
    inline: tuple[tuple[str, str], ...] = ()
    """``NAME=value`` assignments written before the command."""


@dataclass(frozen=True, slots=True)
class OsCall:
    manager: str
    packages: tuple[Arg, ...]


@dataclass(frozen=True, slots=True)
class Effect:
    """A change to the shell's state: ``cd``, ``export``, a venv made, a ``pip config set``."""

    what: str
    """``cd``, ``export``, ``venv`` or ``config``."""
    name: str
    value: str
    line: int


Call = PipCall | OsCall | Effect


@dataclass(slots=True)
class _Prefix:
    sudo: bool = False
    inline: list[tuple[str, str]] = field(default_factory=list)


def _strip_prefix(argv: list[Arg]) -> tuple[list[Arg], _Prefix]:
    """Drop keywords, ``NAME=value`` prefixes and wrappers (``sudo``, ``env``, ``nice``, ...) before the command."""
    prefix = _Prefix()
    args = list(argv)
    while args:
        word = args[0].text
        if word in _KEYWORDS:
            args = args[1:]
        elif word in _WRAPPERS:
            args = _skip_options(args[1:], _WRAPPER_VALUE_OPTIONS)
        elif word == "setarch":
            args = _skip_options(args[2:], frozenset())
        elif _ASSIGNMENT.match(word):
            name, _, value = word.partition("=")
            prefix.inline.append((name, value))
            args = args[1:]
        elif word == "sudo":
            prefix.sudo = True
            args = _skip_options(args[1:], _SUDO_VALUE_OPTIONS)
        elif word == "env":
            args = _skip_options(args[1:], frozenset({"-u", "--unset", "-C", "--chdir", "-S"}))
        elif word == "timeout":
            args = _skip_options(args[1:], frozenset({"-s", "-k", "--signal", "--kill-after"}))[1:]
        elif word in {"gosu", "su-exec"}:
            args = args[2:]
        else:
            break
    return args, prefix


def _skip_options(args: list[Arg], with_value: frozenset[str]) -> list[Arg]:
    while args and args[0].text.startswith("-") and args[0].text != "-":
        args = args[2:] if args[0].text in with_value else args[1:]
    return args


def _tool(args: list[Arg]) -> tuple[str, list[Arg]] | None:
    """The pip (or uv pip) a command runs, and the arguments after it."""
    head = posixpath.basename(args[0].text)
    if _PIP.fullmatch(head):
        return args[0].text, args[1:]
    if _PYTHON.fullmatch(head):
        rest = args[1:]
        while rest and rest[0].text.startswith("-") and rest[0].text != "-m":
            rest = rest[2:] if rest[0].text in _PYTHON_VALUE_OPTIONS else rest[1:]
        if len(rest) >= 2 and rest[0].text == "-m" and rest[1].text in {"pip", "venv", "virtualenv"}:
            return f"{args[0].text} -m {rest[1].text}", rest[2:]
        return None
    if head == "uv":
        rest = _skip_options(args[1:], frozenset({"--directory", "--project", "--config-file", "--cache-dir", "--color"}))
        if rest and rest[0].text in {"pip", "venv"}:
            return f"{args[0].text} {rest[0].text}", rest[1:]
    if head == "virtualenv":
        return "virtualenv", args[1:]
    return None


def interpret(argv: list[Arg]) -> list[Call]:
    """What the simple command ``argv`` does that matters here (nothing, mostly)."""
    args, prefix = _strip_prefix(argv)
    if not args:  # assignments only (``VERSION=1.2``): shell variables for the commands that follow
        return [Effect("export", name, value, argv[0].line) for name, value in prefix.inline]
    head = args[0].text
    if head == "cd":
        return [Effect("cd", "", args[1].text if len(args) > 1 else "~", args[0].line)]
    if head == "export":
        pairs = [arg.text.partition("=") for arg in args[1:] if "=" in arg.text]
        return [Effect("export", name, value, args[0].line) for name, _, value in pairs]
    manager = _OS_MANAGERS.get(posixpath.basename(head))
    if manager is not None:
        found_os = _os_call(manager, args[1:])
        return [found_os] if found_os else []
    found = _tool(args)
    if found is None:
        return []
    tool, rest = found
    if tool.endswith(("venv", "virtualenv")):
        target = next((arg.text for arg in rest if not arg.text.startswith("-")), ".venv" if tool.startswith("uv") else None)
        return [Effect("venv", "", target, args[0].line)] if target else []
    call = _pip_call(tool, rest, args[0].line, prefix)
    return [call] if call else []


def _os_call(manager: tuple[str, str], args: list[Arg]) -> OsCall | None:
    family, verb = manager
    values = _OS_VALUE_OPTIONS[family]
    rest = _skip_options(args, values)
    if not rest or rest[0].text not in {verb, "in"}:
        return None
    packages: list[Arg] = []
    skip = False
    for arg in rest[1:]:
        if skip:
            skip = False
        elif arg.text.startswith("-"):
            skip = arg.text in values
        elif not arg.unresolved and not arg.text.startswith((".", "/")) and not arg.text.endswith((".deb", ".rpm", ".apk")):
            packages.append(arg)
    return OsCall(family, tuple(packages))


def _pip_call(tool: str, args: list[Arg], line: int, prefix: _Prefix) -> PipCall | Effect | None:
    """Parse ``pip [global options] install|sync|config ...``."""
    flags: list[str] = []
    options: list[tuple[str, Arg]] = []
    rest = args
    while rest and rest[0].text.startswith("-"):
        rest = _option(rest, flags, options)
    if not rest:
        return None
    subcommand = rest[0].text
    if subcommand == "config":
        return None if tool.startswith("uv") else _pip_config(rest[1:], line)
    if subcommand not in {"install", "sync"}:
        return None
    requirements: list[tuple[Arg, bool]] = []
    files: list[tuple[Arg, bool]] = []
    rest = rest[1:]
    while rest:
        if rest[0].text.startswith("-") and rest[0].text != "-":
            rest = _option(rest, flags, options)
        else:
            (files if subcommand == "sync" else requirements).append((rest[0], False))
            rest = rest[1:]
    for name, value in options:
        if name in {"--requirement", "--constraint"}:
            files.append((value, name == "--constraint"))
        elif name == "--editable":
            requirements.append((value, True))
    words = (tool, *(arg.text for arg in args))
    return PipCall(tool, line, subcommand, words, tuple(requirements), tuple(files), tuple(flags), tuple(options), prefix.sudo, tuple(prefix.inline))


def _option(args: list[Arg], flags: list[str], options: list[tuple[str, Arg]]) -> list[Arg]:
    """Consume one option (``--name``, ``--name=value``, ``--name value``, ``-Ur file``) from ``args``."""
    first = args[0]
    if first.text.startswith("--"):
        name, equals, value = first.text.partition("=")
        if equals:
            options.append((name, Arg(value, first.line, first.unresolved)))
            return args[1:]
        if name in _PIP_VALUE_OPTIONS and len(args) > 1:
            options.append((name, args[1]))
            return args[2:]
        flags.append(name)
        return args[1:]
    cluster = first.text[1:]
    for position, letter in enumerate(cluster):
        long = _PIP_SHORT.get(f"-{letter}", f"-{letter}")
        if long in _PIP_VALUE_OPTIONS:
            attached = cluster[position + 1 :]
            if attached:
                options.append((long, Arg(attached, first.line, first.unresolved)))
                return args[1:]
            if len(args) > 1:
                options.append((long, args[1]))
                return args[2:]
            return args[1:]
        flags.append(long)
    return args[1:]


def _pip_config(args: list[Arg], line: int) -> Effect | None:
    """``pip config set global.break-system-packages true``: a setting every later pip reads."""
    words = [arg.text for arg in args if not arg.text.startswith("-")]
    if len(words) < 3 or words[0] != "set" or "." not in words[1]:
        return None
    key = words[1].split(".", 1)[1]
    return Effect("config", "PIP_" + key.upper().replace("-", "_"), words[2], line)
