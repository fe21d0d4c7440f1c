"""audit's environment step over records: one resolution of the edges serves the rules, the package facts and the drawn graph."""

from __future__ import annotations

from packaging.markers import default_environment

from reprolock.environment_audit import audit_environment, target_of
from reprolock.records import Environment, InstalledDistribution, Interpreter
from reprolock.sources.loader import load

MARKERS = tuple(sorted({**default_environment(), "python_version": "3.8", "python_full_version": "3.8.10"}.items()))


def _dist(name: str, requires: tuple[str, ...] = ()) -> InstalledDistribution:
    return InstalledDistribution(
        name=name, raw_name=name, version="1.0", path_entry="/venv/site", metadata_path=f"/venv/site/{name}.dist-info", requires=requires, has_record=True, installer="pip"
    )


def _environment(*dists: InstalledDistribution) -> Environment:
    interpreter = Interpreter(
        python="/venv/bin/python",
        version="3.8.10",
        prefix="/venv",
        base_prefix="/usr",
        sys_path=("/venv/site",),
        markers=MARKERS,
        stdlib=frozenset({"_ast", "json", "zipfile"}),
        site_packages=("/venv/site",),
    )
    return Environment(interpreter, dists)


def test_the_extras_the_files_ask_for_reach_the_rules_the_facts_and_the_graph(tmp_path):
    (tmp_path / "requirements.txt").write_text("app[x]==1.0\ngraphlib-backport==1.0\n", encoding="utf-8")
    files = load(["requirements.txt"], cwd=tmp_path)
    env = _environment(_dist("app", ("lib>=1", "plugin; extra == 'x'")), _dist("lib"), _dist("plugin"), _dist("stray"), _dist("graphlib-backport"))
    checked = audit_environment(env, files, {}, project=None)
    # graphlib joined the standard library in 3.9: for this 3.8 interpreter the backport is no RL203
    assert [(item.rule, item.package) for item in checked.findings if item.rule != "RL102"] == [("RL404", "stray")]
    assert checked.facts["plugin"] == {"installer": "pip", "location": "/venv/site", "required_by": ["app"]}
    assert checked.facts["app"]["required_by"] == []
    graph = checked.graph()
    assert graph.roots == ["app", "graphlib-backport"]
    assert [(edge.source, edge.target, edge.extra) for edge in graph.edges] == [("app", "lib", None), ("app", "plugin", "x")]


def test_target_of_the_inspected_interpreter():
    target = target_of(_environment().interpreter)
    assert (target.version, target.stdlib, target.markers["python_version"]) == ("3.8", frozenset({"json", "zipfile"}), "3.8")
