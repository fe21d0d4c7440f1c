"""Command line: argument parsing, wiring, and the one place errors become exit codes.

Each command's work lives in ``reprolock.commands.<name>``; this module only
builds the parser, imports the one command that runs, and maps errors to the
contract's exit codes. ``reprolock --version`` imports nothing but this module.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import sys
import traceback
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from reprolock import __version__
from reprolock.commands import Context
from reprolock.errors import ReprolockError

if TYPE_CHECKING:
    from collections.abc import Sequence

REPORT_FORMATS = ("text", "json", "markdown", "sarif", "html")
GRAPH_FORMATS = ("tree", "json", "dot", "mermaid")
KINDS = ("requirements", "input", "constraints", "freeze", "pyproject", "pylock", "dockerfile")
INTERNAL_ERROR = 70
_DEBUG_HELP = "show the traceback of an error (the exit code stays the same); accepted in any position"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]  # argparse types it NoReturn; self.exit never returns
        """Usage errors are exit 2 with one line of advice, as the contract says."""
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def _target_options(parser: argparse.ArgumentParser, what: str) -> None:
    """``--python-version`` and ``--platform``, with the meanings ``lock`` gives them."""
    parser.add_argument("--python-version", metavar="X.Y[.Z]", help=f"{what} this CPython version (no interpreter needed; markers are evaluated for X.Y.0 when no patch is given)")
    parser.add_argument("--platform", metavar="NAME", help=f"{what} this platform: linux, macos, windows or a uv --python-platform name (default: this machine's)")


def _python_option(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument("--python", metavar="PATH", help=f"{what} this interpreter or virtualenv (a venv folder or its python)")


def _image_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--image",
        metavar="PATH",
        help="a container image, read without running it: an unpacked root filesystem, a docker save archive or an OCI layout/archive "
        "(--python then picks one of its interpreters by its path inside the image)",
    )


def _index_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("package index")
    group.add_argument("--index-url", metavar="URL", help="PEP 503/691 simple index (default: pip's configuration, else the target pip's default)")
    group.add_argument("--extra-index-url", action="append", default=[], metavar="URL", help="another index to consult; repeatable")
    group.add_argument("--offline", action="store_true", help="no network: use cached index data only; what is not cached is reported as unknown")
    group.add_argument("--cache-dir", metavar="DIR", help="cache folder for index data and environment scans (default: the user cache folder)")
    group.add_argument("--no-cache", action="store_true", help="neither read nor write the cache (index data, environment scans)")
    group.add_argument("--proxy", metavar="URL", help="send index requests through this proxy (default: pip's proxy, else HTTP(S)_PROXY)")
    group.add_argument("--cert", metavar="PATH", help="CA bundle to verify the index with (default: pip's cert, REQUESTS_CA_BUNDLE, the OS store)")
    group.add_argument("--client-cert", metavar="PATH", help="client certificate: one PEM file with the key and the certificate")
    group.add_argument("--trusted-host", action="append", default=[], metavar="HOST[:PORT]", help="do not verify this host's TLS certificate; repeatable")
    group.add_argument("--timeout", type=_seconds, metavar="SECONDS", help="deadline of one index request, retries included (default: pip's timeout, else 30)")
    group.add_argument("--retries", type=_count, metavar="N", help="retries of a failed index request (default: pip's retries, else 5)")
    group.add_argument("--max-response-mb", type=_count, metavar="N", help="refuse index answers larger than N MB (default 256)")
    group.add_argument("-q", "--quiet", action="store_true", help="no progress bar")


def _seconds(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number of seconds") from None
    if number <= 0:
        raise argparse.ArgumentTypeError("must be more than 0")
    return number


def _count(value: str) -> int:
    if not value.isdigit():
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number")
    return int(value)


def _report_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("report")
    group.add_argument("--format", choices=REPORT_FORMATS, default="text", help="report format (default: text)")
    group.add_argument("-o", "--output", metavar="FILE", help="write the report to FILE (atomically) instead of stdout")
    group.add_argument("--fail-on", action="append", default=[], metavar="LEVEL|RULE,...", help="what makes the exit code 1 (default: error)")
    group.add_argument("--ignore", action="append", default=[], metavar="RULE[:PACKAGE]", help="drop these findings; repeatable")
    group.add_argument("-v", "--verbose", action="store_true", help="list every finding instead of folding long runs of one rule")


def _add_audit(commands: argparse._SubParsersAction[_Parser]) -> None:
    audit = commands.add_parser(
        "audit",
        help="audit requirement, constraint, freeze, pyproject and pylock files, Dockerfiles, and an environment",
        description=(
            "Audit requirement, constraint, freeze, pyproject and pylock files and Dockerfiles, and optionally an installed environment. "
            "With no PATH, discovers Dockerfile/Containerfile, requirements*.txt, requirements/*.txt, *.in, constraints*.txt, "
            "pyproject.toml and pylock*.toml in the current directory; a directory PATH is searched the same way."
        ),
    )
    audit.add_argument("paths", nargs="*", metavar="PATH", help="files or directories to audit")
    audit.add_argument("--kind", choices=KINDS, help="treat the file PATHs as this kind instead of inferring it")
    audit.add_argument("--freeze", action="append", default=[], metavar="FILE", help="pip freeze output to audit ('-' reads stdin); repeatable")
    where = audit.add_mutually_exclusive_group()
    where.add_argument("--python", metavar="PATH", help="inspect this interpreter or virtualenv (a venv folder or its python)")
    where.add_argument("--files-only", action="store_true", help="audit the files only: do not inspect $VIRTUAL_ENV or ./.venv")
    _image_option(audit)
    index = audit.add_mutually_exclusive_group()
    index.add_argument("--index", action="store_true", help="consult the package index (the default whenever pinned versions or an environment are audited)")
    index.add_argument("--no-index", action="store_true", help="never consult the package index: a static run (the RL5xx rules do not run)")
    audit.add_argument("--advisories", metavar="PATH", help="a folder or zip of OSV advisories to check versions against")
    _target_options(audit, "audit the files for")
    _index_options(audit)
    _report_options(audit)


def _add_graph(commands: argparse._SubParsersAction[_Parser]) -> None:
    graph = commands.add_parser(
        "graph",
        help="print the dependency graph",
        description=(
            "Print the dependency graph of an installed environment (--python, else $VIRTUAL_ENV, else ./.venv), "
            "rooted at the requirements of the INPUT files when they are given; with no environment, the graph of a pylock.toml INPUT. "
            "A lock's markers are evaluated for one target, as an install there would: the running interpreter by default, "
            "or the one --python-version/--platform name (then the lock is drawn, never an environment). "
            "Entries whose marker is false for the target (the other versions of a universal lock) are left out."
        ),
    )
    graph.add_argument("inputs", nargs="*", metavar="INPUT", help="requirement files whose requirements are the roots, or a pylock.toml to draw")
    _python_option(graph, "read")
    _image_option(graph)
    _target_options(graph, "draw the pylock.toml INPUT as installed on")
    graph.add_argument("--format", choices=GRAPH_FORMATS, default="tree", help="output format (default: tree)")
    graph.add_argument("-o", "--output", metavar="FILE", help="write the graph to FILE (atomically) instead of stdout")
    graph.add_argument("--reverse", action="store_true", help="show who requires each package")
    graph.add_argument("--package", action="append", default=[], metavar="NAME", help="only the part of the graph around NAME; repeatable")
    graph.add_argument("--depth", type=int, metavar="N", help="stop N levels below the roots")


def _add_lock(commands: argparse._SubParsersAction[_Parser]) -> None:
    lock = commands.add_parser("lock", help="write a pinned lockfile", description="Resolve the inputs and write a pinned lockfile (requirements.txt style or pylock.toml).")
    lock.add_argument("inputs", nargs="*", metavar="INPUT", help="requirement, .in or pyproject.toml files")
    lock.add_argument("-o", "--output", metavar="FILE", help="the lockfile to write: *.txt (requirements style) or pylock*.toml")
    _python_option(lock, "lock for")
    _image_option(lock)
    lock.add_argument("--extra", action="append", default=[], metavar="NAME", help="pyproject optional-dependencies to include; repeatable")
    lock.add_argument("--group", action="append", default=[], metavar="NAME", help="pyproject dependency-groups to include; repeatable")
    lock.add_argument("--upgrade", "-U", action="store_true", help="ignore the pins of the existing output")
    lock.add_argument("--upgrade-package", "-P", action="append", default=[], metavar="NAME", help="ignore the existing pin of NAME; repeatable")
    lock.add_argument("--pre", action="store_true", help="allow pre-releases")
    lock.add_argument("--no-hashes", action="store_true", help="omit --hash lines (requirements style)")
    lock.add_argument("--from-env", action="store_true", help="pin what the --python environment has installed instead of resolving")
    lock.add_argument("--from-freeze", metavar="FILE", help="turn a pip freeze dump into a lock instead of resolving")
    lock.add_argument("--check", action="store_true", help="exit 1 (RL406) when the existing output is stale; write nothing")
    lock.add_argument("--python-version", metavar="X.Y[.Z]", help="lock for this CPython version (no interpreter needed)")
    lock.add_argument("--platform", metavar="NAME", help="lock for this platform: linux, macos, windows or a uv --python-platform name")
    lock.add_argument("--implementation", metavar="NAME", help="the target's Python implementation (cpython, the only one supported)")
    lock.add_argument("--universal", action="store_true", help="one lock for every Python version the project supports (requires-python, or --python-version as the lowest) on linux, macos and windows, with markers")
    lock.add_argument("--exclude-newer", metavar="DATE", help="ignore files uploaded after DATE (RFC 3339 timestamp or YYYY-MM-DD, UTC)")
    _index_options(lock)
    group = lock.add_argument_group("report")
    group.add_argument("--format", choices=REPORT_FORMATS, default="text", help="format of the findings report (default: text)")
    group.add_argument("--report", metavar="FILE", help="write the findings report to FILE")


def _add_verify(commands: argparse._SubParsersAction[_Parser]) -> None:
    verify = commands.add_parser("verify", help="check an environment against a lockfile", description="Check that an environment matches a lockfile exactly.")
    verify.add_argument("lock", metavar="LOCK", help="a requirements-style lock or pylock.toml")
    _python_option(verify, "check")
    verify.add_argument("--allow-extra", action="store_true", help="packages installed but not in the lock are information, not errors")
    _report_options(verify)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="reprolock", description="Make Python dependency sets reproducible and auditable.")
    parser.add_argument("--version", action="version", version=f"reprolock {__version__}")
    parser.add_argument("--debug", action="store_true", help=_DEBUG_HELP)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    _add_audit(commands)
    _add_lock(commands)
    _add_graph(commands)
    _add_verify(commands)
    for command in commands.choices.values():
        # SUPPRESS: a subcommand that was not given --debug leaves the top-level value alone
        command.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=_DEBUG_HELP)
    return parser


def main(
    argv: Sequence[str] | None = None,
    *,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
    cwd: Path | None = None,
) -> int:
    """Run reprolock; return the exit code instead of exiting."""

    stdin = stdin if stdin is not None else sys.stdin
    stdout = stdout if stdout is not None else sys.stdout
    stderr = stderr if stderr is not None else sys.stderr
    parser = build_parser()
    try:
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version and usage errors
        return exc.code if isinstance(exc.code, int) else 2
    if args.command is None:
        parser.print_help(stdout)
        return 2
    context = Context(cwd=cwd or Path.cwd(), stdin=stdin, stdout=stdout, stderr=stderr)
    try:
        command = importlib.import_module(f"reprolock.commands.{args.command}")
        code: int = command.run(args, context)
    except ReprolockError as exc:
        return _failed(exc, f"reprolock: error: {exc}", exc.exit_code, stderr, debug=args.debug)
    except KeyboardInterrupt:
        stderr.write("reprolock: interrupted\n")
        return 130
    except Exception as exc:  # noqa: BLE001 - the one boundary where a bug becomes exit 70, not a traceback
        message = f"reprolock: internal error: {type(exc).__name__}: {exc} (run with --debug for the traceback and report it)"
        return _failed(exc, message, INTERNAL_ERROR, stderr, debug=args.debug)
    return code


def _failed(exc: BaseException, message: str, code: int, stderr: TextIO, *, debug: bool) -> int:
    """Report an error in one line (after its traceback with ``--debug``); the exit code is the same either way."""
    if debug:
        traceback.print_exception(exc, file=stderr)
    stderr.write(message + "\n")
    return code


def entry() -> None:  # pragma: no cover - the console script; tests call main()
    """The ``reprolock`` command: :func:`main`, its result as the exit status."""
    sys.exit(main())
