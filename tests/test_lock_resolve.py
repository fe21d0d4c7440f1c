"""Resolution over index records built from real wheels: selection, backtracking, extras, markers."""

from __future__ import annotations

import pytest
from packaging.version import Version

from lockrecords import FolderFinder
from reprolock.lock.candidates import Wanted, releases
from reprolock.lock.inputs import collect_roots
from reprolock.lock.metadata import MetadataError
from reprolock.lock.provider import ResolveOptions
from reprolock.lock.resolve import ResolutionConflictError, lock_from_roots
from reprolock.lock.target import LockTarget, running_target
from reprolock.records import FileKind, SourceFile
from reprolock.sources.requirements import parse_text
from wheelfactory import Dist


def target(python: str = "3.11.7", **markers: str) -> LockTarget:
    base = running_target()
    env = {**base.marker_env, "python_version": ".".join(python.split(".")[:2]), "python_full_version": python, **markers}
    return LockTarget(python_version=python, markers=tuple(sorted(env.items())), tags=base.tags)


def source(text: str, path: str = "requirements.in") -> SourceFile:
    parsed = parse_text(text, path)
    return SourceFile(path=path, kind=FileKind.INPUT, requirements=tuple(parsed.requirements))


def lock(finder, text, *, tgt=None, preferred=None, pre=False, files=()):
    files = (source(text), *files)
    tgt = tgt or target()
    roots = collect_roots(files, tgt)
    options = ResolveOptions(allow_pre=pre, preferred=preferred or {}, constraints=roots.constraints)
    return lock_from_roots(roots, files, finder, tgt, options, command="reprolock lock requirements.in")


def pins(result):
    return {package.name: package.version for package in result.packages}


@pytest.fixture
def finder(tmp_path):
    return FolderFinder(tmp_path / "wheels")


def test_picks_newest_and_follows_dependencies(finder):
    finder.add_all([Dist("app", "1.0", requires=("lib>=1",)), Dist("app", "2.0", requires=("lib>=2",)), Dist("lib", "1.5"), Dist("lib", "2.1"), Dist("lib", "3.0")])
    result = lock(finder, "app\n")
    assert pins(result) == {"app": "2.0", "lib": "3.0"}
    app, lib = result.packages
    assert app.dependencies == ("lib",)
    assert lib.parents == ("app",)
    assert app.provenance.requested == ("requirements.in:1",)
    assert app.provenance.via_files == ("-r requirements.in",)
    assert lib.provenance.roots == ("requirements.in:1",)
    assert len(lib.sha256s) == 1


def test_backtracks_to_a_compatible_pair(finder):
    # web 2.0 needs core>=2, which clashes with the root's core<2; the resolver must fall back to web 1.0.
    finder.add_all([Dist("web", "1.0", requires=("core>=1",)), Dist("web", "2.0", requires=("core>=2",)), Dist("core", "1.9"), Dist("core", "2.0")])
    assert pins(lock(finder, "web\ncore<2\n")) == {"web": "1.0", "core": "1.9"}


def test_conflict_is_a_short_explanation(finder):
    finder.add_all([Dist("web", "1.0", requires=("core>=2",)), Dist("core", "1.0"), Dist("core", "2.0")])
    with pytest.raises(ResolutionConflictError) as raised:
        lock(finder, "web\ncore<2\n")
    message = str(raised.value)
    assert "core<2 (requirements.in:2)" in message
    assert "core>=2 (required by web 1.0)" in message
    assert "\n" not in message


def test_unknown_project_is_named(finder):
    finder.add(Dist("web", "1.0"))
    with pytest.raises(ResolutionConflictError, match="nosuch not found on the index"):
        lock(finder, "web\nnosuch\n")


def test_yanked_release_skipped_unless_pinned(finder):
    finder.add(Dist("lib", "1.0"))
    finder.add(Dist("lib", "1.1"), yanked="broken build")
    assert pins(lock(finder, "lib\n")) == {"lib": "1.0"}
    pinned = lock(finder, "lib==1.1\n")
    assert pins(pinned) == {"lib": "1.1"}
    assert pinned.packages[0].yanked_reason == "broken build"


def test_prereleases_only_when_asked_or_pinned(finder):
    finder.add_all([Dist("lib", "1.0"), Dist("lib", "2.0b1")])
    assert pins(lock(finder, "lib\n")) == {"lib": "1.0"}
    assert pins(lock(finder, "lib\n", pre=True)) == {"lib": "2.0b1"}
    assert pins(lock(finder, "lib==2.0b1\n")) == {"lib": "2.0b1"}
    assert pins(lock(finder, "lib>=2.0b1\n")) == {"lib": "2.0b1"}


def test_markers_are_evaluated_for_the_target(finder):
    finder.add_all([Dist("app", "1.0", requires=('winonly; sys_platform == "win32"', 'old; python_version < "3.10"', "always")), Dist("winonly", "1.0"), Dist("old", "1.0"), Dist("always", "1.0")])
    assert pins(lock(finder, "app\n", tgt=target(sys_platform="linux"))) == {"app": "1.0", "always": "1.0"}
    assert pins(lock(finder, "app\n", tgt=target("3.9.18", sys_platform="win32"))) == {"app": "1.0", "always": "1.0", "old": "1.0", "winonly": "1.0"}


def test_root_marker_false_skips_and_true_is_written(finder):
    finder.add_all([Dist("tomli", "2.0"), Dist("colorama", "0.4")])
    result = lock(finder, 'tomli; python_version < "3.12"\ncolorama; sys_platform == "win32"\n')
    assert pins(result) == {"tomli": "2.0"}
    assert result.packages[0].marker == 'python_version < "3.12"'


def test_extras_add_their_dependencies_at_one_version(finder):
    finder.add_all([
        Dist("client", "1.0", extras=("socks",), requires=("base", 'socksy>=2; extra == "socks"')),
        Dist("client", "1.1", extras=("socks",), requires=("base", 'socksy>=2; extra == "socks"')),
        Dist("base", "1.0"),
        Dist("socksy", "2.0"),
    ])
    assert pins(lock(finder, "client\n")) == {"client": "1.1", "base": "1.0"}
    result = lock(finder, "client[socks]==1.0\n")
    assert pins(result) == {"client": "1.0", "base": "1.0", "socksy": "2.0"}
    assert result.package("socksy").parents == ("client",)


def test_requires_python_of_the_metadata_forces_an_older_release(finder):
    finder.add_all([Dist("lib", "1.0"), Dist("lib", "2.0", requires_python=">=3.12")])
    assert pins(lock(finder, "lib\n", tgt=target("3.11.7"))) == {"lib": "1.0"}
    assert pins(lock(finder, "lib\n", tgt=target("3.12.1"))) == {"lib": "2.0"}


def test_constraints_narrow_without_adding(finder):
    finder.add_all([Dist("app", "1.0", requires=("lib",)), Dist("lib", "1.0"), Dist("lib", "2.0"), Dist("unused", "1.0")])
    parsed = parse_text("lib<2\nunused==1.0\n", "constraints.txt", constraint=True)
    constraints = SourceFile(path="constraints.txt", kind=FileKind.CONSTRAINTS, requirements=tuple(parsed.requirements))
    result = lock(finder, "app\n", files=(constraints,))
    assert pins(result) == {"app": "1.0", "lib": "1.0"}
    assert result.package("lib").provenance.via_files == ("-c constraints.txt",)


def test_existing_pins_are_preferred(finder):
    finder.add_all([Dist("lib", "1.0"), Dist("lib", "1.5"), Dist("lib", "2.0")])
    assert pins(lock(finder, "lib\n", preferred={"lib": "1.5"})) == {"lib": "1.5"}
    # A preferred pin the inputs no longer allow is dropped.
    assert pins(lock(finder, "lib>=2\n", preferred={"lib": "1.5"})) == {"lib": "2.0"}


def test_sdist_only_release_is_reported_not_built(finder):
    finder.add(Dist("native", "1.0"), sdist=True, wheel=False)
    with pytest.raises(MetadataError, match="only an sdist"):
        lock(finder, "native\n")


def test_wheel_tags_must_fit_the_target(finder):
    finder.add(Dist("fast", "1.0"))
    finder.add(Dist("fast", "2.0", tag="cp27-cp27m-win32"))
    assert pins(lock(finder, "fast\n")) == {"fast": "1.0"}
    files = lock(finder, "fast\n").packages[0].files
    assert [file.filename for file in files] == ["fast-1.0-py3-none-any.whl"]


def test_selection_orders_preferred_then_newest(finder):
    finder.add_all([Dist("lib", "1.0"), Dist("lib", "1.2"), Dist("lib", "1.1")])
    page = finder.project("lib")
    found = releases(page, target(), Wanted(), prefer="1.1")
    assert [str(release.version) for release in found] == ["1.1", "1.2", "1.0"]
    assert Wanted().admits(Version("1.0"))
    assert not Wanted().admits(Version("2.0rc1"))


def test_backtracks_through_a_transitive_conflict(finder):
    # alpha 2.0 pulls gamma>=2, but beta (any version) needs gamma<2: alpha must go back to 1.0.
    finder.add_all([
        Dist("app", "1.0", requires=("alpha", "beta")),
        Dist("alpha", "1.0", requires=("gamma",)),
        Dist("alpha", "2.0", requires=("gamma>=2",)),
        Dist("beta", "1.0", requires=("gamma<2",)),
        Dist("gamma", "1.0"),
        Dist("gamma", "2.0"),
    ])
    assert pins(lock(finder, "app\n")) == {"app": "1.0", "alpha": "1.0", "beta": "1.0", "gamma": "1.0"}
