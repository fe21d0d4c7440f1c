"""Lock inputs and target rules on the real test index: PEP 735 include-group, transitive
markers, the single-target header, and the candidate tables kept between runs."""

from __future__ import annotations

import platform
import sys

import pytest

from reprolock.errors import InputError
from reprolock.index.models import DistFile, ProjectPage
from reprolock.lock.candidates import PageTable, Wanted
from reprolock.lock.metadata import parse_dependencies
from reprolock.lock.tables import TableStore
from reprolock.lock.target import LockTarget
from reprolock.sources.coremetadata import parse_fields
from reprolock.sources.loader import load
from reprolock.sources.pyproject import included_groups
from wheelfactory import Dist

PYPROJECT = """\
[project]
name = "demo"
version = "0"
dependencies = ["app"]

[dependency-groups]
all = [{include-group = "test"}, "extra-tool"]
test = ["tester", {include-group = "lint"}]
lint = ["linter"]
"""

WORLD = [
    Dist("app", "1.0", requires=("lib",)),
    Dist("lib", "1.0"),
    Dist("tester", "1.0"),
    Dist("linter", "1.0"),
    Dist("extra-tool", "1.0"),
    # transitive markers: "colorama" only on Windows, "oldshim" only before Python 3,
    # "shared" guarded in one parent but needed plainly by another
    Dist("cli", "1.0", requires=('colorama; sys_platform == "win32"', 'oldshim; python_version < "3"', 'fresh; python_version >= "3"')),
    Dist("colorama", "1.0"),
    Dist("oldshim", "1.0"),
    Dist("fresh", "1.0"),
    Dist("gui", "1.0", requires=('shared; sys_platform == "win32"',)),
    Dist("tool", "1.0", requires=("shared",)),
    Dist("shared", "1.0"),
]


@pytest.fixture
def world(index_server):
    for dist in WORLD:
        index_server.add_wheel(dist)
    return index_server


def pins(text):
    return {line.split("==")[0]: line.split("==")[1].split()[0] for line in text.splitlines() if line[:1].isalpha()}


# -- PEP 735 include-group ------------------------------------------------------------------------


def test_include_group_entries_are_recorded_and_followed(tmp_path):
    (tmp_path / "pyproject.toml").write_text(PYPROJECT, encoding="utf-8")
    (source,) = load(["pyproject.toml"], cwd=tmp_path)
    assert [(inc.group, inc.include, inc.origin.line) for inc in source.group_includes] == [("all", "test", 7), ("test", "lint", 8)]
    assert not source.invalid
    assert included_groups(source, ["all"]) == ["all", "test", "lint"]
    assert included_groups(source, ["lint"]) == ["lint"]


def test_lock_group_follows_includes_transitively(cli, tmp_path, world):
    (tmp_path / "pyproject.toml").write_text(PYPROJECT, encoding="utf-8")
    result = cli("lock", "pyproject.toml", "--group", "all", "--index-url", world.url, "--no-cache", "-o", "lock.txt", cwd=tmp_path)
    assert result.code == 0, result.err
    text = (tmp_path / "lock.txt").read_text(encoding="utf-8")
    assert pins(text) == {"app": "1.0", "lib": "1.0", "tester": "1.0", "linter": "1.0", "extra-tool": "1.0"}
    assert "    # via pyproject.toml (dependency-groups.lint)\n" in text
    only_lint = cli("lock", "pyproject.toml", "--group", "lint", "--index-url", world.url, "--no-cache", cwd=tmp_path)
    assert only_lint.code == 0, only_lint.err
    assert set(pins(only_lint.out)) == {"app", "lib", "linter"}


def test_include_group_cycle_is_a_one_line_input_error(cli, tmp_path, world):
    text = '[project]\nname = "demo"\nversion = "0"\n\n[dependency-groups]\na = [{include-group = "b"}]\nb = ["tester", {include-group = "c"}]\nc = [{include-group = "a"}]\n'
    (tmp_path / "pyproject.toml").write_text(text, encoding="utf-8")
    result = cli("lock", "pyproject.toml", "--group", "a", "--index-url", world.url, "--no-cache", "-o", "lock.txt", cwd=tmp_path)
    assert result.code == 3
    assert result.err.splitlines() == ["reprolock: error: pyproject.toml:8: dependency group cycle: a -> b -> c -> a (remove one include-group of the cycle)"]
    assert not (tmp_path / "lock.txt").exists()


def test_include_of_a_missing_group_is_an_input_error(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[dependency-groups]\na = [{include-group = "nope"}]\n', encoding="utf-8")
    (source,) = load(["pyproject.toml"], cwd=tmp_path)
    with pytest.raises(InputError, match=r"pyproject.toml:2: include-group names no such group: a -> nope"):
        included_groups(source, ["a"])


# -- markers of transitive dependencies -----------------------------------------------------------


def test_transitive_dependencies_behind_false_markers_are_left_out(cli, tmp_path, world):
    (tmp_path / "requirements.in").write_text("cli\ngui\n", encoding="utf-8")
    result = cli("lock", "requirements.in", "--index-url", world.url, "--no-cache", "-o", "lock.txt", cwd=tmp_path)
    assert result.code == 0, result.err
    text = (tmp_path / "lock.txt").read_text(encoding="utf-8")
    expected = {"cli": "1.0", "fresh": "1.0", "gui": "1.0"}
    if sys.platform == "win32":  # the lock is for the running interpreter
        expected |= {"colorama": "1.0", "shared": "1.0"}
    assert pins(text) == expected
    assert "oldshim" not in text


def test_a_dependency_needed_plainly_by_another_parent_stays(cli, tmp_path, world):
    (tmp_path / "requirements.in").write_text("gui\ntool\n", encoding="utf-8")
    result = cli("lock", "requirements.in", "--index-url", world.url, "--no-cache", "-o", "lock.txt", cwd=tmp_path)
    assert result.code == 0, result.err
    text = (tmp_path / "lock.txt").read_text(encoding="utf-8")
    assert pins(text) == {"gui": "1.0", "tool": "1.0", "shared": "1.0"}
    # the edge that applies is the one named; no marker is written on a transitive pin
    assert "shared==1.0 \\\n" in text
    assert "    # via tool\n" in text


def test_header_names_the_single_target(cli, tmp_path, world):
    (tmp_path / "requirements.in").write_text("cli\n", encoding="utf-8")
    assert cli("lock", "requirements.in", "--index-url", world.url, "--no-cache", "-o", "lock.txt", cwd=tmp_path).code == 0
    assert cli("lock", "requirements.in", "--index-url", world.url, "--no-cache", "-o", "pylock.toml", cwd=tmp_path).code == 0
    named = f"# Locked for one target: {sys.implementation.name} {platform.python_version()} on {sys.platform} {platform.machine()} (the running interpreter).\n"
    assert named in (tmp_path / "lock.txt").read_text(encoding="utf-8")
    assert named in (tmp_path / "pylock.toml").read_text(encoding="utf-8")


# -- candidate tables kept between runs ----------------------------------------------------------


def test_second_run_reads_stored_tables_instead_of_pages(cli, tmp_path, world):
    (tmp_path / "requirements.in").write_text("app\ncli\n", encoding="utf-8")
    args = ("lock", "requirements.in", "--index-url", world.url, "--cache-dir", str(tmp_path / "cache"), "-o", "lock.txt")
    assert cli(*args, cwd=tmp_path).code == 0
    first = (tmp_path / "lock.txt").read_bytes()
    page_hits = world.hits("/simple/")
    assert page_hits >= 4
    assert list((tmp_path / "cache").glob("lock-tables-v1/*/app.table"))
    for page in (tmp_path / "cache").glob("index-v1/*/*.json"):
        page.unlink()  # the tables alone must do: no page is read again
    assert cli(*args, cwd=tmp_path).code == 0
    assert (tmp_path / "lock.txt").read_bytes() == first
    assert world.hits("/simple/") == page_hits


def test_stored_tables_are_per_target_and_expire(tmp_path):
    files = (
        DistFile("demo-2.0-cp311-cp311-win_amd64.whl", "https://x.test/demo-2.0-cp311-cp311-win_amd64.whl", "2.0", "bdist_wheel", (("sha256", "a" * 64),)),
        DistFile("demo-1.0-py3-none-any.whl", "https://x.test/demo-1.0-py3-none-any.whl", "1.0", "bdist_wheel", (("sha256", "b" * 64),)),
    )
    page = ProjectPage("demo", "https://x.test/simple/", files)
    linux = LockTarget("3.11.7", (("python_version", "3.11"),), ("cp311-cp311-linux_x86_64", "py3-none-any"))
    windows = LockTarget("3.11.7", (("python_version", "3.11"),), ("cp311-cp311-win_amd64", "py3-none-any"))
    for target, versions in ((linux, ["1.0"]), (windows, ["2.0", "1.0"])):
        store = TableStore(tmp_path, "https://x.test/simple/", target, max_age=300.0)
        assert store.load("demo") is None
        table = PageTable(page, target)
        store.save(table)
        stored = store.load("demo")
        assert stored is not None
        assert [str(release.version) for release in stored.iter_releases(Wanted())] == versions
        newest = next(stored.iter_releases(Wanted()))
        assert newest.files == table.files(newest.version)
        assert newest.metadata_file == files[0 if target is windows else 1]
    assert TableStore(tmp_path, "https://x.test/simple/", linux, max_age=0.0).load("demo") is None  # expired
    assert TableStore(tmp_path, "https://other.test/simple/", linux, max_age=None).load("demo") is None  # another index


# -- metadata header parsing ------------------------------------------------------------------------


def test_metadata_header_parse_joins_folded_lines_and_skips_the_body():
    data = (
        b"Metadata-Version: 2.1\r\nName: demo\r\nRequires-Dist: a>=1;\r\n  extra == 'x'\r\n"
        b"Requires-Dist: b\r\nRequires-Python: >=3.8\r\n\r\nRequires-Dist: not-a-header\r\n"
    )
    assert parse_fields(data).requires_dist == ("a>=1; extra == 'x'", "b")
    deps = parse_dependencies(data, "demo 1")
    assert [str(req) for req in deps.requires] == ['a>=1; extra == "x"', "b"]
    assert deps.requires_python == ">=3.8"
