"""Pure pieces: edges with markers and extras, cycles, reachability, the graph view, the consistency checks and metadata reading."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass

from packaging.specifiers import SpecifierSet

from reprolock.checks.consistency import check_declared, check_dependencies, check_extraneous
from reprolock.dependencies import resolve_edges
from reprolock.graph import build_graph, find_cycles, reachable
from reprolock.records import Origin, Requirement
from reprolock.render.views import GraphView
from reprolock.sources.metadata import egg_requires, scan_entry

LINUX = {
    "python_version": "3.11",
    "python_full_version": "3.11.7",
    "sys_platform": "linux",
    "platform_system": "Linux",
    "os_name": "posix",
    "implementation_name": "cpython",
    "platform_python_implementation": "CPython",
    "platform_machine": "x86_64",
    "platform_release": "",
    "platform_version": "",
    "implementation_version": "3.11.7",
}


@dataclass(frozen=True)
class Locked:
    """A lock's package: what verify will hand over."""

    name: str
    version: str
    requires: tuple[str, ...] = ()


def test_extras_spread_through_requirements_and_roots():
    nodes = [
        Locked("a", "1", ("b[x]>=1",)),
        Locked("b", "1", ("c; extra == 'x'", "d; extra == 'y'", "e; python_version < '3'")),
        Locked("c", "1", ("f; extra == 'z'",)),
        Locked("d", "1"),
    ]
    deps = resolve_edges(nodes, LINUX, root_extras={"c": ["Z"]})
    assert [(e.source, e.target, e.extra) for e in deps.edges] == [("a", "b", None), ("b", "c", "x"), ("c", "f", "z")]
    assert dict(deps.extras) == {"b": ("x",), "c": ("z",)}


def test_invalid_requirement_strings_are_kept_aside():
    deps = resolve_edges([Locked("a", "1", ("b >= = 1", "c"))], LINUX)
    assert [edge.target for edge in deps.edges] == ["c"]
    assert deps.invalid == (("a", "b >= = 1"),)


def test_cycles_and_reachability():
    nodes = [Locked("a", "1", ("b",)), Locked("b", "1", ("c",)), Locked("c", "1", ("a",)), Locked("d", "1", ("d",)), Locked("e", "1")]
    edges = resolve_edges(nodes, LINUX).edges
    assert find_cycles(edges) == [("a", "b", "c"), ("d",)]
    assert reachable(edges, ["b"]) == {"a", "b", "c"}


def test_deep_chain_has_no_recursion_limit():
    nodes = [Locked(f"p{i}", "1", (f"p{i + 1}",)) for i in range(5000)]
    assert find_cycles(resolve_edges(nodes, LINUX).edges) == []
    ring = resolve_edges([*nodes[:-1], Locked("p4999", "1", ("p0",))], LINUX).edges
    assert find_cycles(ring) == [tuple(sorted(f"p{i}" for i in range(5000)))]


def test_an_extra_adds_only_what_its_marker_adds_and_may_ask_for_another_extra():
    nodes = [
        Locked("app", "1", ("lib[all]",)),
        Locked("lib", "1", ("base", "lib[fast]; extra == 'all'", "speed; extra == 'fast' or extra == 'all'")),
    ]
    deps = resolve_edges(nodes, LINUX)
    edges = [(e.source, e.target, e.extra, e.target_extras) for e in deps.edges]
    assert edges == [
        ("app", "lib", None, ("all",)),
        ("lib", "base", None, ()),  # once, not once more per extra
        ("lib", "lib", "all", ("fast",)),
        ("lib", "speed", "all", ()),
        ("lib", "speed", "fast", ()),
    ]
    assert dict(deps.extras) == {"lib": ("all", "fast")}


def test_acyclic_graphs_and_reachability_never_load_networkx():
    """networkx takes longer to import than a whole default run: only a cycle or narrowing loads it."""
    code = (
        "import sys\n"
        "from reprolock.dependencies import LockedNode\n"
        "from reprolock.graph import build_graph, find_cycles, reachable\n"
        "graph = build_graph([LockedNode('a', '1', ('b',)), LockedNode('b', '1', ())], {})\n"
        "assert find_cycles(graph.edges) == [] and reachable(graph.edges, ['a']) == {'a', 'b'}\n"
        "assert 'networkx' not in sys.modules, 'networkx loaded'\n"
        "assert find_cycles(build_graph([LockedNode('a', '1', ('a',))], {}).edges) == [('a',)]\n"
        "assert 'networkx' in sys.modules\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stderr


def test_graph_view_from_records_is_the_view_of_the_contract_json():
    nodes = [
        Locked("app", "1", ("lib>=1", "lib >= 1", "gone; extra == 'x'")),
        Locked("lib", "2", ("app",)),
    ]
    graph = build_graph(nodes, LINUX, roots=["app"], root_extras={"app": ["x"]})
    view = GraphView.from_records(graph.nodes, graph.edges)
    assert view == GraphView.from_contract(graph.to_dict())
    assert [(edge.source, edge.target, edge.specifier, edge.extra) for edge in view.edges] == [
        ("app", "gone", None, "x"),
        ("app", "lib", ">=1", None),
        ("lib", "app", None, None),
    ]
    assert [(node.name, node.version, node.root) for node in view.nodes] == [("app", "1", True), ("gone", None, False), ("lib", "2", False)]


def test_lock_packages_checked_against_themselves():
    locked = [Locked("a", "1.0", ("b>=2",)), Locked("b", "1.5"), Locked("c", "1.0", ("missing",))]
    versions = {item.name: item.version for item in locked}
    found = list(check_dependencies(versions, resolve_edges(locked, LINUX).edges, what="locked"))
    assert [(item.rule, item.package) for item in found] == [("RL401", "b"), ("RL402", "missing")]
    assert found[0].message == "a 1.0 requires b>=2, but 1.5 is locked"


def _req(text: str, line: int, *, constraint: bool = False) -> Requirement:
    name = text.partition("=")[0].rstrip("<>!~=")
    return Requirement(name, name, SpecifierSet(text[len(name):]), Origin("reqs.txt", line), text, constraint=constraint)


def test_declared_side_mismatch_conflict_missing_and_constraints():
    declared = [_req("a==1.0", 1), _req("b>=3", 2), _req("c==1", 3), _req("d==2", 4, constraint=True), _req("e==1.0.0", 5)]
    found = list(check_declared(declared, {"a": "1.1", "b": "2.0", "e": "1.0"}, LINUX))
    assert [(item.rule, item.package, item.location.line) for item in found] == [("RL405", "a", 1), ("RL401", "b", 2), ("RL402", "c", 3)]


def test_tooling_is_never_extraneous():
    found = list(check_extraneous(["pip", "setuptools", "wheel", "left"], {"app"}))
    assert [item.package for item in found] == ["left"]


def test_graph_from_lock_packages_roots_and_json():
    graph = build_graph([Locked("b", "1", ("c>=1,<3",)), Locked("a", "1", ("b",)), Locked("c", "2")], LINUX)
    assert graph.to_dict() == {
        "schema_version": 1,
        "nodes": [{"name": "a", "version": "1", "root": True}, {"name": "b", "version": "1", "root": False}, {"name": "c", "version": "2", "root": False}],
        "edges": [{"from": "a", "to": "b", "specifier": "", "extra": None}, {"from": "b", "to": "c", "specifier": "<3,>=1", "extra": None}],
    }
    assert graph.narrow(["b"], reverse=True).roots == ["b"]
    assert [node.name for node in graph.narrow(["b"], reverse=True).nodes] == ["a", "b"]


def test_egg_info_requires_sections():
    text = "six\n\n[:python_version < '3.8']\nimportlib-metadata\n\n[socks]\nPySocks>=1.5\n\n[tests:sys_platform == 'win32']\npywin32\n"
    assert egg_requires(text) == (
        "six",
        "importlib-metadata; (python_version < '3.8')",
        'PySocks>=1.5; extra == "socks"',
        "pywin32; (sys_platform == 'win32') and extra == \"tests\"",
    )


def test_egg_info_folder_and_namespace_portions(tmp_path):
    info = tmp_path / "zope.interface-5.0.egg-info"
    info.mkdir()
    (info / "PKG-INFO").write_text("Metadata-Version: 1.1\nName: zope.interface\nVersion: 5.0\n\nbody: text\n", encoding="utf-8")
    (info / "requires.txt").write_text("setuptools\n", encoding="utf-8")
    (info / "top_level.txt").write_text("zope\n", encoding="utf-8")
    (info / "namespace_packages.txt").write_text("zope\n", encoding="utf-8")
    legacy = tmp_path / "single.egg-info"
    legacy.write_text("Metadata-Version: 1.0\nName: Single_Thing\nVersion: 0.1\n", encoding="utf-8")
    (dist_one, dist_two) = sorted(scan_entry(str(tmp_path), 3), key=lambda dist: dist.name)
    assert (dist_one.name, dist_one.version, dist_one.egg_info, dist_one.path_index) == ("single-thing", "0.1", True, 3)
    assert (dist_two.name, dist_two.requires, dist_two.top_level, dist_two.namespaces) == ("zope-interface", ("setuptools",), (), ("zope",))
    assert dist_two.has_record is False
