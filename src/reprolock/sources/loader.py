"""Turn the paths given on the command line into ``SourceFile`` records.

Includes (``-r`` / ``-c``) are followed here, relative to the including file
as pip does, each file read once; a loop or a missing include is an input
error that names the chain of files.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from reprolock.errors import InputError
from reprolock.records import FileKind, SourceFile
from reprolock.redaction import ENV_VAR
from reprolock.sources.kinds import infer_kind, kind_from_name
from reprolock.sources.pylock import read_pylock
from reprolock.sources.pyproject import read_pyproject
from reprolock.sources.requirements import parse_text
from reprolock.sources.textfile import display_path, read_text

if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import TextIO

    from reprolock.sources.requirements import Include, ParsedText

STDIN = "-"
_DISCOVER = ("requirements*.txt", "requirements/*.txt", "*.in", "constraints*.txt", "pyproject.toml", "pylock*.toml")
_DISCOVER_DOCKERFILES = ("Dockerfile", "Containerfile", "*.Dockerfile", "Dockerfile.*", "*.Containerfile", "Containerfile.*")


def discover(directory: Path) -> list[Path]:
    """The input files the contract says ``audit`` finds in ``directory``."""
    found = {path for pattern in _DISCOVER for path in directory.glob(pattern) if path.is_file()}
    found.update(path for pattern in _DISCOVER_DOCKERFILES for path in directory.glob(pattern) if path.is_file() and kind_from_name(path.name))
    return sorted(found)


@dataclass(frozen=True, slots=True)
class _Frame:
    resolved: Path
    display: str
    via: Include | None


class Loader:
    """Reads files and their includes, each once, in a stable order."""

    def __init__(self, cwd: Path) -> None:
        self.cwd = cwd
        self.files: list[SourceFile] = []
        self._seen: set[Path] = set()
        self._shown: dict[Path, str] = {}

    def add_path(self, path: Path, kind: FileKind | None = None) -> None:
        resolved = (self.cwd / path).resolve()
        display = path.as_posix() if not path.is_absolute() else display_path(resolved, self.cwd)
        if resolved in self._seen:
            return
        self._read(_Frame(resolved, display, None), kind, chain=())

    def add_stream(self, stream: TextIO, display: str, kind: FileKind) -> None:
        try:
            text = stream.read()
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"{display}: cannot read: {exc}") from None
        self._add_requirements_text(text, _Frame(Path(display), display, None), kind, chain=())

    def _read(self, frame: _Frame, kind: FileKind | None, chain: tuple[_Frame, ...]) -> None:
        self._seen.add(frame.resolved)
        self._shown[frame.resolved] = frame.display
        text = read_text(frame.resolved, frame.display)
        kind = kind or kind_from_name(frame.resolved.name)
        if kind is FileKind.DOCKERFILE:
            self._add_dockerfile(text, frame, chain)
        elif kind is FileKind.PYPROJECT:

            self.files.append(read_pyproject(text, frame.display))
        elif kind is FileKind.PYLOCK:

            self.files.append(read_pylock(text, frame.display))
        else:
            self._add_requirements_text(text, frame, kind, chain)

    def _add_dockerfile(self, text: str, frame: _Frame, chain: tuple[_Frame, ...]) -> None:
        """The Dockerfile, then the repository files its ``pip install -r`` lines read (audited in place)."""
        from reprolock.sources.dockerfile import read_dockerfile  # noqa: PLC0415 - dockerfile-parse and the RUN reader (~25 ms) only when a Dockerfile is read

        source, follows = read_dockerfile(text, frame.display, frame.resolved, root=self.cwd, known=self._shown)
        self.files.append(source)
        for follow in follows:
            if follow.path not in self._seen:
                kind = FileKind.CONSTRAINTS if follow.via.constraint else None
                self._read(_Frame(follow.path, follow.display, follow.via), kind, (*chain, frame))

    def _add_requirements_text(self, text: str, frame: _Frame, kind: FileKind | None, chain: tuple[_Frame, ...]) -> None:
        constraint = frame.via is not None and frame.via.constraint

        parsed = parse_text(text, frame.display, constraint=constraint)
        kind = kind or infer_kind(frame.resolved.name, parsed, constraint=constraint)
        notes = []
        targets = []
        for include in parsed.includes:
            target = self._include_target(include, frame)
            if target is None:
                notes.append(f"{include.origin}: remote include {include.target} not followed")
            else:
                targets.append((include, target))
        self.files.append(_source_file(frame, kind, parsed, notes))
        chain = (*chain, frame)
        for include, target in targets:
            if any(link.resolved == target for link in chain):
                raise InputError(f"include loop: {_chain_text((*chain, _Frame(target, _include_display(frame.display, include.target, target), include)))}", hint="remove one of the -r/-c lines")
            if target in self._seen:
                continue
            child = _Frame(target, _include_display(frame.display, include.target, target), include)
            if not target.is_file():
                flag = "-c" if include.constraint else "-r"
                raise InputError(
                    f"{include.origin}: {flag} {include.target}: included file {child.display} does not exist (include chain: {_chain_text(chain)})",
                    hint="includes are relative to the including file",
                )
            self._read(child, None, chain)

    def _include_target(self, include: Include, frame: _Frame) -> Path | None:
        target = include.target
        if target.startswith(("http://", "https://")):
            return None
        missing = [m.group("name") for m in ENV_VAR.finditer(target) if m.group("name") not in os.environ]
        if missing:
            raise InputError(f"{include.origin}: cannot follow include {target}: ${{{missing[0]}}} is not set", hint="set the variable or give the file directly")
        target = ENV_VAR.sub(lambda m: os.environ[m.group("name")], target)
        if target.startswith("file:"):
            target = target.removeprefix("file://").removeprefix("file:")
        return (frame.resolved.parent / Path(target).expanduser()).resolve()


def _include_display(parent: str, written: str, resolved: Path) -> str:
    """Show an include in the style its root was given: relative stays relative."""
    written = ENV_VAR.sub(lambda m: os.environ.get(m.group("name"), m.group(0)), written)
    if "$" in written or written.startswith(("file:", "~")) or Path(written).is_absolute():
        return resolved.as_posix()
    return Path(os.path.normpath(Path(parent).parent / written)).as_posix()


def _chain_text(chain: Sequence[_Frame]) -> str:
    """``a.txt:3 (-r b.txt) -> b.txt:1 (-r a.txt) -> a.txt``."""
    steps = [chain[0].display]
    for frame in chain[1:]:
        if frame.via is not None:
            flag = "-c" if frame.via.constraint else "-r"
            steps[-1] = f"{frame.via.origin} ({flag} {frame.via.target})"
        steps.append(frame.display)
    return " -> ".join(steps)


def _source_file(frame: _Frame, kind: FileKind, parsed: ParsedText, notes: list[str]) -> SourceFile:
    return SourceFile(
        path=frame.display,
        kind=kind,
        requirements=tuple(parsed.requirements),
        options=tuple(parsed.options),
        invalid=tuple(parsed.invalid),
        env_vars=tuple(parsed.env_vars),
        secrets=tuple(parsed.secrets),
        included_from=frame.via.origin if frame.via else None,
        notes=tuple(notes),
        hash_mode=parsed.hash_mode,
        freeze_comments=tuple(parsed.freeze_comments),
        valid_where=(parsed.valid_where,) if parsed.valid_where else (),
    )


def load(
    paths: Sequence[str],
    *,
    cwd: Path,
    kind: FileKind | None = None,
    freeze: Sequence[str] = (),
    stdin: TextIO | None = None,
) -> tuple[SourceFile, ...]:
    """Read every input: the paths (files or directories to discover in), then ``--freeze`` inputs."""
    loader = Loader(cwd)
    targets = list(paths) or ([] if freeze else ["."])
    for given in targets:
        path = Path(given)
        if (cwd / path).is_dir():
            found = discover(cwd / path)
            if not found:
                raise InputError(f"{given}: no requirement, constraint, pyproject, pylock or Dockerfile found", hint="give the files to audit")
            for item in found:
                loader.add_path(Path(display_path(item, cwd)) if not path.is_absolute() else item)
        else:
            loader.add_path(path, kind)
    for given in freeze:
        if given == STDIN:
            if stdin is None:
                raise InputError("--freeze -: no standard input")
            loader.add_stream(stdin, "<stdin>", FileKind.FREEZE)
        else:
            loader.add_path(Path(given), FileKind.FREEZE)
    return tuple(loader.files)
