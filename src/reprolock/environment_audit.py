"""An inspected environment, audited with the files given: findings, package facts and the graph, from one resolution.

``reprolock audit --python`` inspects the interpreter (``sources``) and hands
the records here. The edges between the installed distributions are resolved
once, with the extras the files ask of their roots, and serve the consistency
rules (RL401-RL404), the ``required_by`` key of each JSON package row and the
graph that the HTML and Markdown reports draw. The file rules judge the files
for the inspected interpreter, not for the Python reprolock runs on.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from packaging.utils import canonicalize_name

from reprolock.checks import Target, declared_extras, declared_roots, run_environment_checks, run_file_checks
from reprolock.dependencies import resolve_edges
from reprolock.graph import graph_of

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from pathlib import Path

    from reprolock.dependencies import Edge
    from reprolock.findings import Finding
    from reprolock.graph import DependencyGraph
    from reprolock.records import Environment, InstalledDistribution, Interpreter, SourceFile


@dataclass(frozen=True, slots=True)
class EnvironmentAudit:
    """What the files and the environment gave: findings, facts for the package rows, and the edges judged."""

    findings: tuple[Finding, ...]
    facts: Mapping[str, Mapping[str, Any]]
    """Per installed package (normalised name): ``installer``, ``location`` and ``required_by``."""
    edges: tuple[Edge, ...]
    installed: Mapping[str, InstalledDistribution]
    """The distribution of each name that wins on import."""
    roots: tuple[str, ...]
    """The files' runtime requirements that are installed."""

    def graph(self) -> DependencyGraph:
        """The environment's graph, rooted at the files' installed requirements (else at what nothing requires)."""
        return graph_of(self.installed.values(), self.edges, roots=self.roots or None)


def audit_environment(env: Environment, files: Sequence[SourceFile], local: Mapping[str, str], *, project: Path | None) -> EnvironmentAudit:
    """The file rules for ``env``'s interpreter and the environment rules; ``local`` names the project's own modules (RL308)."""
    winners = env.winners()
    deps = resolve_edges(winners.values(), env.interpreter.marker_env, root_extras=declared_extras(files))
    found = run_file_checks(files, target_of(env.interpreter))
    found.extend(run_environment_checks(env, files, deps, local, project=project))
    return EnvironmentAudit(
        findings=tuple(found),
        facts=_facts(winners, deps.edges),
        edges=deps.edges,
        installed=winners,
        roots=tuple(name for name in declared_roots(files) if name in winners),
    )


def target_of(interpreter: Interpreter) -> Target:
    """The Python the files are judged for: the inspected interpreter's minor version, standard library and markers."""
    return Target(
        version=".".join(interpreter.version.split(".")[:2]),
        stdlib=frozenset(canonicalize_name(name) for name in interpreter.stdlib if not name.startswith("_")),
        markers=interpreter.marker_env,
    )


def _facts(winners: Mapping[str, InstalledDistribution], edges: Sequence[Edge]) -> dict[str, dict[str, Any]]:
    """Who installed each distribution, where it is, and which installed distributions require it."""
    required_by: dict[str, set[str]] = {}
    for edge in edges:
        if edge.source in winners:
            required_by.setdefault(edge.target, set()).add(edge.source)
    return {
        name: {"installer": dist.installer, "location": dist.path_entry, "required_by": sorted(required_by.get(name, ()))}
        for name, dist in winners.items()
    }
