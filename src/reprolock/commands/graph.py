"""``reprolock graph``: the dependency graph of an environment (or of a ``pylock.toml``), rooted at the requirements given."""

from __future__ import annotations

import io
import os
from typing import TYPE_CHECKING

from reprolock.commands.targets import named_target_of
from reprolock.errors import UsageError
from reprolock.output import write_atomic
from reprolock.records import FileKind
from reprolock.sources.environment import choose_python, inspect
from reprolock.sources.probe import RunningProbe

if TYPE_CHECKING:
    import argparse
    from collections.abc import Mapping

    from reprolock.commands import Context
    from reprolock.dependencies import LockedNode
    from reprolock.graph import DependencyGraph
    from reprolock.lock.othertarget import NamedTarget
    from reprolock.records import SourceFile


def run(args: argparse.Namespace, context: Context) -> int:
    if args.depth is not None and args.depth < 0:
        raise UsageError("--depth must be 0 or more")
    named = bool(args.python_version or args.platform)
    if named and (args.python or args.image):
        raise UsageError("--python-version/--platform draw a lockfile for a named target: no environment goes with them", hint="drop --python/--image, or drop --python-version/--platform")
    python = None if args.image or named else choose_python(args.python, context.cwd, os.environ)
    if python is None:
        return _draw(args, context, None, None)
    # The interpreter starts up while the graph code and the renderer are imported.
    with RunningProbe(python, context.cwd, pip_index=False) as started:
        return _draw(args, context, python, started)


def _draw(args: argparse.Namespace, context: Context, python: str | None, started: RunningProbe | None) -> int:
    # Imported here, while the interpreter probe starts up: at the top of the module they would
    # run before it and cost ~25 ms a run (measured).
    from reprolock.graph import build_graph  # noqa: PLC0415 - overlaps the probe (see above)

    files, roots, extras = _inputs(args.inputs, context)
    locks = [source for source in files if source.kind is FileKind.PYLOCK]
    if (args.python_version or args.platform) and not locks:
        raise UsageError(
            "--python-version/--platform draw a pylock.toml: give one as INPUT",
            hint="a requirements-style lock records no dependency edges; write the lock with 'reprolock lock -o pylock.toml'",
        )
    if python is None and not locks and not args.image:
        raise UsageError(
            "no environment or lockfile to draw",
            hint="give --python PATH (an interpreter or a virtualenv), activate a virtualenv, create ./.venv, or give a pylock.toml",
        )
    if args.image:
        from reprolock.commands.imaging import inspect_one  # noqa: PLC0415 - only with --image: it loads the checks

        env = inspect_one(args.image, args.python, context)
        graph = build_graph(env.winners().values(), env.interpreter.marker_env, roots=roots or None, root_extras=extras)
    elif python is None:
        graph = _lock_graph(locks, named_target_of(args.python_version, args.platform), roots, context)
    else:
        env = inspect(python, context.cwd, owners=False, pip_index=False, modules=False, started=started)
        graph = build_graph(env.winners().values(), env.interpreter.marker_env, roots=roots or None, root_extras=extras)
    if args.package or args.reverse or args.depth is not None:
        try:
            graph = graph.narrow(args.package, reverse=args.reverse, depth=args.depth)
        except KeyError as exc:
            raise UsageError(f"--package {exc.args[0]}: not in the graph", hint="check the name against 'reprolock graph'") from None
    text = _render(graph, args, context)
    if args.output:
        write_atomic(context.cwd / args.output, text or "")
        context.stderr.write(f"reprolock: wrote {args.output} ({len(graph.nodes)} packages, {len(graph.edges)} edges)\n")
    elif text is not None:
        context.stdout.write(text)
    return 0


def _inputs(inputs: list[str], context: Context) -> tuple[tuple[SourceFile, ...], list[str], dict[str, set[str]]]:
    """The files given, the names their requirements root the graph at, and the extras they ask of those roots."""
    if not inputs:
        return (), [], {}
    # The requirements parser and the checks package (~45 ms) only when files are given, which few graph runs do.
    from reprolock.checks import declared_extras, declared_roots  # noqa: PLC0415 - heavy, only with input files
    from reprolock.sources.loader import load  # noqa: PLC0415 - heavy, only with input files

    files = load(inputs, cwd=context.cwd)
    requirements = [source for source in files if source.kind is not FileKind.PYLOCK]
    return files, declared_roots(requirements), declared_extras(files)


def _lock_graph(locks: list[SourceFile], target: NamedTarget | None, roots: list[str], context: Context) -> DependencyGraph:
    """The locks' graph as ``target`` (else the running interpreter) would install them.

    Entries whose marker is false there are left out, and so are the edges to a
    name that has entries only for other targets (a universal lock keeps no
    markers on its edges: the entries' markers say where they hold).
    """
    from packaging.markers import default_environment  # noqa: PLC0415 - loaded with the graph code, after the probe starts

    from reprolock.dependencies import resolve_edges  # noqa: PLC0415 - as above
    from reprolock.graph import graph_of  # noqa: PLC0415 - as above

    markers = target.marker_env if target is not None else {key: str(value) for key, value in default_environment().items()}
    nodes, left_out = locked_nodes(locks, markers)
    if left_out and target is None:
        env = markers
        context.stderr.write(
            f"reprolock: {len(left_out)} lock entr{'y' if len(left_out) == 1 else 'ies'} with a marker false for this interpreter "
            f"({env.get('implementation_name', 'python')} {env.get('python_full_version', '')} on {env.get('sys_platform', '')}) left out; "
            "--python-version/--platform draw another target\n"
        )
    absent = {name for name, _ in left_out} - {node.name for node in nodes}
    edges = [edge for edge in resolve_edges(nodes, markers).edges if edge.target not in absent]
    return graph_of(nodes, edges, roots=roots or None)


def locked_nodes(locks: list[SourceFile], markers: Mapping[str, str]) -> tuple[list[LockedNode], list[tuple[str, str]]]:
    """The entries of the ``pylock.toml`` files whose marker holds for ``markers``, each with the edges its lock records,
    and the ``(name, version)`` of the entries left out."""
    from reprolock.dependencies import LockedNode, MarkerEvaluator  # noqa: PLC0415 - loaded with the graph code, after the probe starts

    holds = MarkerEvaluator(markers)
    nodes: list[LockedNode] = []
    left_out: list[tuple[str, str]] = []
    for source in locks:
        # one edges row per [[packages]] entry, in file order: a universal lock has several entries of one name
        for req, (_, requires) in zip(source.requirements, source.lock_dependencies, strict=True):
            if req.name is None:
                continue
            if holds(req.marker):
                nodes.append(LockedNode(req.name, req.pinned_version or "", requires))
            else:
                left_out.append((req.name, req.pinned_version or ""))
    return nodes, left_out


def _render(graph: DependencyGraph, args: argparse.Namespace, context: Context) -> str | None:
    from reprolock.render import graph as draw  # noqa: PLC0415 - overlaps the probe, as the graph code does

    if args.format == "json":
        return draw.render_json(graph)
    if args.format == "dot":
        return draw.render_dot(graph)
    if args.format == "mermaid":
        return draw.render_mermaid(graph)
    from rich.console import Console  # noqa: PLC0415 - ~14 ms, only the tree format draws with rich (and it overlaps the probe)

    if args.output:
        buffer = io.StringIO()
        draw.render_tree(graph, Console(file=buffer, width=100, no_color=True, highlight=False), reverse=args.reverse, depth=args.depth)
        return buffer.getvalue()
    draw.render_tree(graph, Console(file=context.stdout, highlight=False, soft_wrap=True), reverse=args.reverse, depth=args.depth)
    return None
