"""Command line: argument parsing, wiring, and the one place errors become exit codes.

Only what a command needs is imported, when it runs: ``reprolock --version``
imports nothing but this module.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from reprolock import __version__
from reprolock.errors import ReprolockError

if TYPE_CHECKING:
    from collections.abc import Sequence

    from reprolock.report import Report

FORMATS = ("text", "json", "markdown")
KINDS = ("requirements", "input", "constraints", "freeze", "pyproject", "pylock")
INTERNAL_ERROR = 70


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        """Usage errors are exit 2 with one line of advice, as the contract says."""
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="reprolock", description="Make Python dependency sets reproducible and auditable.")
    parser.add_argument("--version", action="version", version=f"reprolock {__version__}")
    parser.add_argument("--debug", action="store_true", help="show a traceback for errors")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    audit = commands.add_parser(
        "audit",
        help="audit requirement, constraint, freeze, pyproject and pylock files",
        description=(
            "Audit requirement, constraint, freeze, pyproject and pylock files. "
            "With no PATH, discovers requirements*.txt, requirements/*.txt, *.in, constraints*.txt, "
            "pyproject.toml and pylock*.toml in the current directory; a directory PATH is searched the same way."
        ),
    )
    audit.add_argument("paths", nargs="*", metavar="PATH", help="files or directories to audit")
    audit.add_argument("--kind", choices=KINDS, help="treat the file PATHs as this kind instead of inferring it")
    audit.add_argument("--freeze", action="append", default=[], metavar="FILE", help="pip freeze output to audit ('-' reads stdin); repeatable")
    audit.add_argument("--format", choices=FORMATS, default="text", help="report format (default: text)")
    audit.add_argument("-o", "--output", metavar="FILE", help="write the report to FILE (atomically) instead of stdout")
    audit.add_argument("--fail-on", action="append", default=[], metavar="LEVEL|RULE,...", help="what makes the exit code 1 (default: error)")
    audit.add_argument("--ignore", action="append", default=[], metavar="RULE[:PACKAGE]", help="drop these findings; repeatable")
    audit.add_argument("--offline", action="store_true", help="never use the network")
    audit.add_argument("-v", "--verbose", action="store_true", help="list every finding instead of folding long runs of one rule")
    return parser


def _render(report: Report, fmt: str, *, verbose: bool, stream: TextIO | None) -> str | None:
    """Render ``report``; print text straight to ``stream`` when one is given."""
    if fmt == "json":
        from reprolock.render.json_report import render_json  # noqa: PLC0415 - lazy by design

        return render_json(report)
    if fmt == "markdown":
        from reprolock.render.markdown import render_markdown  # noqa: PLC0415

        return render_markdown(report, verbose=verbose)
    import io  # noqa: PLC0415

    from rich.console import Console  # noqa: PLC0415

    from reprolock.render.text import render_text  # noqa: PLC0415

    if stream is not None:
        render_text(report, Console(file=stream, highlight=False, soft_wrap=False), verbose=verbose)
        return None
    buffer = io.StringIO()
    render_text(report, Console(file=buffer, width=100, no_color=True, highlight=False), verbose=verbose)
    return buffer.getvalue()


def _audit(args: argparse.Namespace, cwd: Path, stdin: TextIO, stdout: TextIO, stderr: TextIO) -> int:
    from reprolock.checks import Target, run_file_checks  # noqa: PLC0415
    from reprolock.policy import build_policy, read_config  # noqa: PLC0415
    from reprolock.records import FileKind  # noqa: PLC0415
    from reprolock.report import build_report  # noqa: PLC0415
    from reprolock.sources.loader import load  # noqa: PLC0415

    policy = build_policy(read_config(cwd / "pyproject.toml"), fail_on=args.fail_on, ignore=args.ignore)
    kind = FileKind(args.kind) if args.kind else None
    files = load(args.paths, cwd=cwd, kind=kind, freeze=args.freeze, stdin=stdin)
    report = build_report(files, run_file_checks(files, Target.running()), policy)
    if args.output:
        from reprolock.output import write_atomic  # noqa: PLC0415

        text = _render(report, args.format, verbose=args.verbose, stream=None)
        write_atomic(cwd / args.output, text or "")
        counts = ", ".join(f"{count} {severity}" for severity, count in report.summary.items())
        stderr.write(f"reprolock: wrote {args.output} ({counts}; exit {report.exit_code})\n")
    else:
        text = _render(report, args.format, verbose=args.verbose, stream=stdout)
        if text is not None:
            stdout.write(text)
    return report.exit_code


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
    try:
        return _audit(args, cwd or Path.cwd(), stdin, stdout, stderr)
    except ReprolockError as exc:
        if args.debug:
            raise
        stderr.write(f"reprolock: error: {exc}\n")
        return exc.exit_code
    except KeyboardInterrupt:
        stderr.write("reprolock: interrupted\n")
        return 130
    except Exception as exc:
        if args.debug:
            raise
        stderr.write(f"reprolock: internal error: {type(exc).__name__}: {exc} (run with --debug for the traceback and report it)\n")
        return INTERNAL_ERROR
