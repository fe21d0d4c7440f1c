"""``reprolock audit``: files (and, later, an environment) and the index to a report."""

from __future__ import annotations

from typing import TYPE_CHECKING

from reprolock.checks import Target, run_file_checks
from reprolock.commands.output import deliver
from reprolock.policy import build_policy, read_config
from reprolock.records import FileKind
from reprolock.report import build_report
from reprolock.sources.loader import load

if TYPE_CHECKING:
    import argparse

    from reprolock.commands import Context


def run(args: argparse.Namespace, context: Context) -> int:
    policy = build_policy(read_config(context.cwd / "pyproject.toml"), fail_on=args.fail_on, ignore=args.ignore)
    kind = FileKind(args.kind) if args.kind else None
    files = load(args.paths, cwd=context.cwd, kind=kind, freeze=args.freeze, stdin=context.stdin)
    found = run_file_checks(files, Target.running())
    facts = None
    if not args.no_index:
        from reprolock.index.audit import audit_index  # noqa: PLC0415 - the index code loads only when used

        index_findings, facts = audit_index(files, args, context)
        found.extend(index_findings)
    report = build_report(files, found, policy, facts=facts)
    return deliver(report, args.format, args.output, verbose=args.verbose, context=context)
