"""RL203 stdlib-backport."""

from __future__ import annotations

from packaging.utils import canonicalize_name

from conftest import audit_cases, findings
from reprolock.checks.stdlib import Target, check_stdlib
from reprolock.records import FileKind, SourceFile
from reprolock.sources.requirements import parse_text


def test_backports_and_stdlib_names():
    run = audit_cases("stdlib/backports.txt")
    got = [(f["package"], f["location"]["line"]) for f in findings(run, "RL203")]
    assert got == [
        ("argparse", 2),
        ("dataclasses", 5),
        ("enum34", 3),
        ("futures", 6),
        ("pathlib", 7),
        ("typing", 4),
        ("uuid", 11),
        ("wsgiref", 1),
    ]
    assert {f["severity"] for f in findings(run, "RL203")} == {"warning"}
    enum34 = next(f for f in findings(run, "RL203") if f["package"] == "enum34")
    assert enum34["detail"] == {"module": "enum", "since": "3.4"}


def test_markers_that_exclude_the_target_are_respected():
    run = audit_cases("stdlib/backports.txt")
    assert 9 not in [f["location"]["line"] for f in findings(run, "RL203")]
    assert "backports-zoneinfo" not in {f["package"] for f in findings(run, "RL203")}


def test_target_python_decides():
    source = SourceFile("r.txt", FileKind.REQUIREMENTS, tuple(parse_text("backports.zoneinfo==0.2.1\ntomllib==1.0\n", "r.txt").requirements))
    stdlib = frozenset(canonicalize_name(n) for n in ("tomllib", "zoneinfo"))
    old = Target(version="3.8", stdlib=frozenset(), markers={"python_version": "3.8"})
    new = Target(version="3.11", stdlib=stdlib, markers={"python_version": "3.11"})
    assert [f.package for f in check_stdlib([source], old)] == []
    assert [f.package for f in check_stdlib([source], new)] == ["backports-zoneinfo", "tomllib"]
