"""Parse pip requirements, constraints and ``pip freeze`` text into records.

pip-requirements-parser does the line syntax (continuations, comments,
options, PEP 508, editables, URLs). Around it, this module:

* parses one file at a time (includes are followed by ``loader``, which
  detects loops and missing files, unlike the parser's ``include_nested``);
* builds pip's option parser only for lines that carry options (building it
  for every line is most of the parser's cost);
* classifies pins, VCS references and local paths with ``packaging`` (the
  parser calls ``==1.*`` pinned and git URLs local paths);
* keeps ``${VAR}`` unexpanded and masks credentials before anything is stored.
"""

from __future__ import annotations

import functools
import optparse
import re
import shlex
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import pip_requirements_parser as prp
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

from reprolock.records import (
    EnvVarRef,
    FreezeComment,
    FreezeNote,
    InvalidLine,
    OptionLine,
    Origin,
    Requirement,
    Secret,
    VcsRef,
)
from reprolock.redaction import env_var_names, redact

if TYPE_CHECKING:
    from collections.abc import Sequence

    from reprolock.records import SourceFile

_VCS_SCHEMES = ("git", "hg", "svn", "bzr")
_HEX_REF = re.compile(r"[0-9a-fA-F]{7,64}")
_URL_HASH = re.compile(r"(?:^|&)(sha1|sha224|sha256|sha384|sha512|md5)=([0-9a-fA-F]+)")
_ADDED_BY_FREEZE = re.compile(r"## The following requirements were added by pip (?:--)?freeze")
_NO_REPOSITORY = "## !! Could not determine repository location"
_PARENTHESISED = re.compile(r"\(([^()]+)\)")


@dataclass(frozen=True, slots=True)
class Include:
    """A ``-r`` / ``-c`` line: the target as written, and where it was written."""

    target: str
    constraint: bool
    origin: Origin


@dataclass(slots=True)
class ParsedText:
    """What one requirements-style text holds, before includes are followed."""

    requirements: list[Requirement] = field(default_factory=list)
    options: list[OptionLine] = field(default_factory=list)
    includes: list[Include] = field(default_factory=list)
    invalid: list[InvalidLine] = field(default_factory=list)
    env_vars: list[EnvVarRef] = field(default_factory=list)
    secrets: list[Secret] = field(default_factory=list)
    freeze_comments: list[FreezeComment] = field(default_factory=list)
    freeze_markers: int = 0
    hash_mode: bool = False
    """Some requirement has a ``--hash`` option: pip then requires hashes for all."""
    comment_lines: int = 0
    valid_where: str | None = None
    """A reprolock lock's ``# Valid only where: MARKER`` header: the one target it was resolved for."""


@functools.cache
def _parser_defaults() -> dict[str, Any]:
    """pip's option defaults, built once (building the parser is the costly part)."""
    return dict(vars(prp.build_parser().get_default_values()))


def _default_values() -> optparse.Values:
    return optparse.Values(_parser_defaults())


def _split_line(line: str) -> tuple[str, optparse.Values, list[str]]:
    args, options = prp.break_args_options(line)
    if not options:
        return args, _default_values(), []
    parser = prp.build_parser()
    opts, arguments = parser.parse_args(shlex.split(options), parser.get_default_values())
    return args, opts, arguments


def vcs_ref(url: str) -> VcsRef | None:
    """Split ``git+https://host/repo.git@ref#frag`` into its parts."""
    scheme = url.split(":", 1)[0].lower()
    vcs = scheme.split("+", 1)[0]
    if vcs not in _VCS_SCHEMES or ("+" not in scheme and vcs != scheme):
        return None
    bare = url.split("+", 1)[1] if "+" in scheme else url
    bare, _, fragment = bare.partition("#")
    parts = urlsplit(bare)
    path = parts.path
    ref = None
    if "@" in path:
        path, ref = path.rsplit("@", 1)
    fragment_ref = fragment if fragment and "=" not in fragment and _HEX_REF.fullmatch(fragment) else None
    return VcsRef(vcs=vcs, url=f"{parts.scheme}://{parts.netloc}{path}", ref=ref or None, fragment_ref=fragment_ref)


def is_local(url: str) -> bool:
    """A ``file:`` URL or a filesystem path rather than a remote URL."""
    if url.startswith(("file:", ".", "/", "~", "\\")):
        return True
    scheme = urlsplit(url).scheme
    return scheme == "" or len(scheme) == 1  # no scheme, or a Windows drive letter


def url_hashes(url: str) -> tuple[str, ...]:
    """Hashes given in a URL fragment (``#sha256=...``)."""
    fragment = url.partition("#")[2]
    return tuple(f"{algo}:{value}" for algo, value in _URL_HASH.findall(fragment))


def _requirement(
    install: Any,  # noqa: ANN401 - pip_requirements_parser.InstallRequirement, untyped
    origin: Origin,
    text: str,
    *,
    constraint: bool,
    added: bool,
) -> Requirement:
    parsed = install.req
    raw_name = install.name
    url = install.link.url if install.link is not None else None
    hashes = tuple(install.hash_options)
    if url is not None:
        hashes += url_hashes(url)
    return Requirement(
        name=canonicalize_name(raw_name) if raw_name else None,
        raw_name=raw_name,
        specifier=parsed.specifier if parsed is not None else SpecifierSet(),
        origin=origin,
        text=text,
        extras=tuple(sorted(install.extras)),
        marker=str(install.marker) if install.marker is not None else None,
        url=redact(url)[0] if url is not None else None,
        vcs=vcs_ref(redact(url)[0]) if url is not None else None,
        editable=bool(install.is_editable),
        hashes=hashes,
        local=url is not None and vcs_ref(url) is None and is_local(url),
        constraint=constraint,
        added_by_freeze=added,
    )


def _option_lines(options: dict[str, Any], origin: Origin, out: ParsedText) -> None:
    for dest, value in options.items():
        flag = prp.OPT_BY_OPTIONS_DEST.get(dest, f"--{dest.replace('_', '-')}")
        values = value if isinstance(value, list) else [value]
        for item in values:
            shown, secrets = redact(str(item)) if isinstance(item, str) else ("", 0)
            if secrets:
                out.secrets.append(Secret(where=flag, origin=origin))
            if dest in {"requirements", "constraints"}:
                out.includes.append(Include(shown, dest == "constraints", origin))
            else:
                out.options.append(OptionLine(option=flag, value=shown, origin=origin, written=str(item) if isinstance(item, str) else ""))


VALID_WHERE = "# Valid only where: "
"""How a single-target lock's header states its target (``reprolock.lock.writers.requirements``)."""


def _comment(line: str, origin: Origin, out: ParsedText) -> bool:
    """Record a pip freeze marker comment; return whether it opens the added-by-freeze block."""
    out.comment_lines += 1
    if line.startswith(VALID_WHERE) and out.valid_where is None and not out.requirements:
        out.valid_where = line.removeprefix(VALID_WHERE).strip()
        return False
    if _ADDED_BY_FREEZE.match(line):
        out.freeze_markers += 1
        return True
    note = None
    if line.startswith(_NO_REPOSITORY):
        note = FreezeNote.NO_REPOSITORY
    elif line.startswith("# Editable") and " install " in line:
        note = FreezeNote.NO_VCS
    if note is not None:
        out.freeze_markers += 1
        named = _PARENTHESISED.search(line)
        package = canonicalize_name(re.split(r"[=<>!~ ]", named.group(1), maxsplit=1)[0]) if named else None
        out.freeze_comments.append(FreezeComment(note, redact(line)[0], origin, package))
    return False


def _numbered_lines(text: str) -> list[tuple[int, str, bool]]:
    """(line number, text, is_comment), continuation lines joined."""
    lines = []
    for number, line in prp.join_lines(enumerate(text.splitlines(), start=1)):
        stripped = line.strip()
        if not stripped:
            continue
        if stripped.startswith("#"):
            lines.append((number, stripped, True))
            continue
        match = prp.COMMENT_RE.search(line)
        code = line[: match.start()].strip() if match else stripped
        if code:
            lines.append((number, code, False))
        if match:
            lines.append((number, match.group(2).strip(), True))
    return lines


def written_indexes_in(files: Sequence[SourceFile]) -> tuple[str | None, tuple[str, ...]]:
    """The ``--index-url`` and ``--extra-index-url`` values of ``files`` as written (credentials kept, ``${VAR}``
    not expanded), as pip takes them: the last ``--index-url`` wins, extra indexes add up, in order."""
    primary: str | None = None
    extras: list[str] = []
    for file in files:
        for option in file.options:
            if option.option == "--index-url" and option.written:
                primary = option.written
            elif option.option == "--extra-index-url" and option.written:
                extras.append(option.written)
    return primary, tuple(dict.fromkeys(extras))


def one_line(message: str, line: str) -> str:
    """A parser error as one line for a report: no echoed line and caret, no parser name.

    packaging appends the text it parsed and a ``~~~^`` marker on two more lines;
    when that text is the whole ``line``, the caret becomes ``(at column N)``.
    """
    lines = message.strip().splitlines() or [""]
    text = lines[0].strip()
    for prefix in ("pip_requirements_parser: error: ", "Invalid requirement: : "):
        text = text.removeprefix(prefix)
    if len(lines) == 3 and lines[1].strip() == line.strip() and lines[2].rstrip().endswith("^"):
        indent = len(lines[1]) - len(lines[1].lstrip())
        text += f" (at column {len(lines[2].rstrip()) - indent})"
    return text


def _parse_line(line: str, shown: str, origin: Origin, out: ParsedText, *, constraint: bool, added: bool) -> bool:
    """Parse one logical line into ``out``; return whether it held a requirement."""
    try:
        args, opts, arguments = _split_line(line)
        parsed_line = prp.ParsedLine(
            requirement_line=prp.RequirementLine(line=line, line_number=origin.line, filename=origin.path),
            requirement_string=args,
            options=opts,
            is_constraint=constraint,
            arguments=arguments,
        )
        items = list(prp.handle_line(parsed_line))
    except (prp.OptionParsingError, ValueError, prp.InstallationError) as exc:
        message = exc.msg if isinstance(exc, prp.OptionParsingError) else str(exc)
        out.invalid.append(InvalidLine(shown, one_line(redact(message)[0], shown), origin))
        return False
    found = False
    for item in items:
        if isinstance(item, prp.InvalidRequirementLine):
            out.invalid.append(InvalidLine(shown, one_line(redact(item.error_message)[0], shown), origin))
        elif isinstance(item, prp.OptionLine):
            _option_lines(item.options, origin, out)
            legacy = [prp.OPT_BY_OPTIONS_DEST[d] for d in item.options if d in prp.LEGACY_OPTIONS_DEST]
            if legacy:
                out.invalid.append(InvalidLine(shown, f"unsupported legacy option {', '.join(legacy)}", origin))
        elif item.invalid_options:
            flags = ", ".join(prp.OPT_BY_OPTIONS_DEST.get(d, d) for d in item.invalid_options)
            out.invalid.append(InvalidLine(shown, f"option {flags} is not allowed on a requirement line", origin))
        else:
            try:
                install = prp.build_req_from_parsedreq(item)
            except Exception as exc:  # noqa: BLE001 - the parser raises many kinds
                out.invalid.append(InvalidLine(shown, one_line(redact(str(exc))[0], shown), origin))
                continue
            out.requirements.append(_requirement(install, origin, shown, constraint=constraint, added=added))
            out.hash_mode = out.hash_mode or bool(install.hash_options)
            found = True
    return found


def parse_text(text: str, path: str, *, constraint: bool = False) -> ParsedText:
    """Parse requirements-style ``text`` from the file shown as ``path``."""
    out = ParsedText()
    added = False
    for number, line, is_comment in _numbered_lines(text):
        origin = Origin(path, number)
        if is_comment:
            added = _comment(line, origin, out) or added
            continue
        shown, secret_count = redact(line)
        out.env_vars.extend(EnvVarRef(name, origin) for name in env_var_names(line))
        is_requirement = _parse_line(line, shown, origin, out, constraint=constraint, added=added)
        if secret_count and not any(secret.origin == origin for secret in out.secrets[-1:]):
            package = out.requirements[-1].name if is_requirement else None
            out.secrets.append(Secret("requirement URL" if is_requirement else "line", origin, package))
    return out
