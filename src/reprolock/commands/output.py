"""Deliver a rendered report: to stdout, or atomically to ``-o FILE``.

Two environment variables tune the file formats (read here, in the wiring, and
passed down): ``REPROLOCK_DOCS_URL`` is the base of the rule help links in
SARIF (default: the relative ``docs/rules.md``), and ``REPROLOCK_GRAPH_LAYOUT``
picks the HTML graph layout (``builtin``, the default, or ``dot``/``auto`` to
use Graphviz when it is installed).
"""

from __future__ import annotations

import io
import os
from typing import TYPE_CHECKING

from reprolock.errors import UsageError
from reprolock.output import write_atomic
from reprolock.render.json_report import render_json
from reprolock.render.markdown import render_markdown
from reprolock.render.sarif import DOCS_BASE, render_sarif

if TYPE_CHECKING:
    from reprolock.commands import Context
    from reprolock.report import Report


def render(report: Report, fmt: str, *, verbose: bool, context: Context, to_file: bool) -> str | None:
    """Render ``report``; text for the terminal is printed straight to stdout (returns ``None``)."""
    if fmt == "json":
        return render_json(report)
    if fmt == "markdown":
        return render_markdown(report, verbose=verbose)
    if fmt == "sarif":
        return render_sarif(report, docs_base=os.environ.get("REPROLOCK_DOCS_URL") or DOCS_BASE)
    if fmt == "html":
        from reprolock.render.html import render_html  # noqa: PLC0415 - ~8 ms with its SVG layout, only for --format html
        from reprolock.render.svg import LAYOUT_ENGINES  # noqa: PLC0415 - loaded with render.html

        engine = os.environ.get("REPROLOCK_GRAPH_LAYOUT") or "builtin"
        if engine not in LAYOUT_ENGINES:
            raise UsageError(f"REPROLOCK_GRAPH_LAYOUT={engine!r} is not a layout", hint=f"use one of {', '.join(LAYOUT_ENGINES)}")
        return render_html(report, engine=engine)
    from rich.console import Console  # noqa: PLC0415 - rich, ~14 ms, only for the text format

    from reprolock.render.text import render_text  # noqa: PLC0415 - loads rich too

    if not to_file:
        render_text(report, Console(file=context.stdout, highlight=False, soft_wrap=False), verbose=verbose)
        return None
    buffer = io.StringIO()
    render_text(report, Console(file=buffer, width=100, no_color=True, highlight=False), verbose=verbose)
    return buffer.getvalue()


def deliver(report: Report, fmt: str, output: str | None, *, verbose: bool, context: Context) -> int:
    """Print or write the report; return its exit code."""
    text = render(report, fmt, verbose=verbose, context=context, to_file=output is not None)
    if output:
        write_atomic(context.cwd / output, text or "")
        counts = ", ".join(f"{count} {severity}" for severity, count in report.summary.items())
        context.stderr.write(f"reprolock: wrote {output} ({counts}; exit {report.exit_code})\n")
    elif text is not None:
        context.stdout.write(text)
    return report.exit_code
