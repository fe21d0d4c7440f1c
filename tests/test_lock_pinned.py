"""Freeze-equivalent locks on records: pins from a freeze dump or an environment, closure, marks."""

from __future__ import annotations

import pytest

from lockrecords import FolderFinder
from reprolock.lock.fromsources import pins_from_environment, pins_from_freeze
from reprolock.lock.inputs import collect_roots
from reprolock.lock.pinned import pinned_lock
from reprolock.records import Environment, FileKind, InstalledDistribution, Interpreter, SourceFile
from reprolock.sources.requirements import parse_text
from test_lock_resolve import source, target
from wheelfactory import Dist

FREEZE = """\
app==1.0
lib==1.2
util==0.3
stray==9.0
pkg-resources==0.0.0
mine @ file:///home/me/build/mine-0.1-py3-none-any.whl
gone==4.0
"""


@pytest.fixture
def finder(tmp_path):
    finder = FolderFinder(tmp_path / "wheels")
    finder.add_all([
        Dist("app", "1.0", requires=("lib", 'util; python_version >= "3"')),
        Dist("app", "2.0"),
        Dist("lib", "1.2", requires=("util",)),
        Dist("util", "0.3"),
        Dist("stray", "9.0"),
    ])
    return finder


def freeze_file(text=FREEZE):
    parsed = parse_text(text, "freeze.txt")
    return SourceFile(path="freeze.txt", kind=FileKind.FREEZE, requirements=tuple(parsed.requirements))


def test_freeze_pins_drop_artefacts_and_mark_local_files():
    pins = pins_from_freeze(freeze_file())
    assert sorted(pins) == ["app", "gone", "lib", "mine", "stray", "util"]
    assert pins["mine"].unreproducible == "installed from file:///home/me/build/mine-0.1-py3-none-any.whl"


def test_freeze_lock_keeps_everything_without_inputs(finder):
    lock, findings = pinned_lock(pins_from_freeze(freeze_file()), None, finder, target(), command="reprolock lock --from-freeze freeze.txt")
    assert {p.name: p.version for p in lock.packages} == {"app": "1.0", "gone": "4.0", "lib": "1.2", "mine": "0", "stray": "9.0", "util": "0.3"}
    assert lock.package("app").dependencies == ("lib", "util")
    assert lock.package("util").parents == ("app", "lib")
    assert lock.package("gone").unreproducible == "the project is not on the index"
    assert [(f.rule, f.package) for f in findings] == [("RL504", "gone")]
    assert lock.package("lib").files[0].filename == "lib-1.2-py3-none-any.whl"


def test_freeze_lock_with_inputs_keeps_only_their_closure(finder):
    files = (source("app\n"),)
    roots = collect_roots(files, target()).needs
    lock, findings = pinned_lock(pins_from_freeze(freeze_file()), roots, finder, target(), command="x")
    assert [p.name for p in lock.packages] == ["app", "lib", "util"]
    assert findings == []
    assert lock.package("util").provenance.roots == ("requirements.in:1",)
    assert lock.package("app").provenance.via_files == ("-r requirements.in",)


def test_freeze_lock_reports_a_missing_dependency_and_an_unmet_root(finder):
    pins = pins_from_freeze(freeze_file("app==1.0\nutil==0.3\n"))
    roots = collect_roots((source("app>=2\n"),), target()).needs
    _, findings = pinned_lock(pins, roots, finder, target(), command="x")
    assert sorted((f.rule, f.package) for f in findings) == [("RL401", "app"), ("RL402", "lib")]


def _dist(name, version, requires=(), **extra):
    return InstalledDistribution(name=name, raw_name=name, version=version, path_entry="/venv/site", metadata_path=f"/venv/site/{name}.dist-info", requires=requires, has_record=True, installer="pip", **extra)


def _environment(*dists):
    interpreter = Interpreter(python="/venv/bin/python", version="3.11.7", prefix="/venv", base_prefix="/usr", sys_path=("/venv/site",), markers=target().markers, stdlib=frozenset())
    return Environment(interpreter, dists)


def test_environment_lock_uses_installed_metadata_and_marks_editables(finder):
    environment = _environment(
        _dist("app", "1.0", requires=("lib", "tool[cli]")),
        _dist("lib", "1.2", requires=("util",)),
        _dist("util", "0.3"),
        _dist("tool", "0.1", requires=('stray; extra == "cli"',), editable=True, direct_url="file:///src/tool"),
        _dist("stray", "9.0"),
        _dist("pip", "24.0"),
        _dist("other", "1.0"),
    )
    pins = pins_from_environment(environment)
    roots = collect_roots((source("app\n"),), target()).needs
    lock, findings = pinned_lock(pins, roots, finder, target(), command="x")
    assert [p.name for p in lock.packages] == ["app", "lib", "stray", "tool", "util"]
    assert lock.package("tool").unreproducible == "editable install from file:///src/tool"
    assert lock.package("tool").dependencies == ("stray",)
    assert [(f.rule, f.package) for f in findings] == [("RL106", "tool")]
    # Only the closure's pages were asked for: not pip, not other.
    assert set(finder.requested) == {"app", "lib", "stray", "util"}
