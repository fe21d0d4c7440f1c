"""Candidate tables over a page's decoded entries: files are built only for the versions visited,
and every answer (tables, stored tables, lockfiles) is the same as over the fully built page."""

from __future__ import annotations

import hashlib
import json

import pytest
from packaging.version import Version

from reprolock.index.cache import Cache
from reprolock.index.compact import file_data
from reprolock.index.config import split_credentials
from reprolock.index.finder import IndexFinder
from reprolock.index.options import IndexOptions
from reprolock.index.pages import LazyPage
from reprolock.lock.candidates import PageTable, RowTable, Wanted, files_of_version, project_table, release_of
from reprolock.lock.inputs import collect_roots
from reprolock.lock.provider import ResolveOptions
from reprolock.lock.resolve import build_lock, resolve
from reprolock.lock.tables import TableStore
from reprolock.lock.target import LockTarget, running_target
from reprolock.lock.writers.pylock import write_pylock
from reprolock.lock.writers.requirements import write_requirements
from reprolock.records import FileKind, SourceFile
from reprolock.sources.requirements import parse_text
from wheelfactory import Dist, build_wheel

PADDING = 120
"""Old versions of ``lib`` listed on its page (not served): the resolver never needs them."""

WORLD = [
    Dist("app", "1.0", requires=("lib>=1",)),
    Dist("app", "2.0", requires=("lib>=2", "helper>=2")),
    Dist("lib", "2.0"),
    Dist("lib", "2.1"),
    Dist("lib", "3.0", requires=("helper<2",)),
    Dist("helper", "1.0"),
    Dist("helper", "2.0"),
    Dist("web", "1.0", requires=("core>=1",)),
    Dist("web", "2.0", requires=("core>=2",)),
    Dist("core", "1.9"),
    Dist("core", "2.0"),
]

FOREIGN = ("cp311-cp311-win_amd64", "cp39-cp39-macosx_11_0_arm64")
TARGETS = (
    running_target(),
    LockTarget("3.11.7", (("python_version", "3.11"),), ("cp311-cp311-win_amd64", "py3-none-any")),
    LockTarget("3.8.10", (("python_version", "3.8"),), ("py3-none-any",)),
)


def _listed(server, name: str, filename: str, **extra: object) -> None:
    """A file entry the page lists but the server does not serve (like a recorded page)."""
    entry = {
        "filename": filename,
        "url": f"../../files/{filename}",
        "hashes": {"sha256": hashlib.sha256(filename.encode()).hexdigest()},
        "requires-python": None,
        "yanked": False,
        "upload-time": "2020-01-01T00:00:00.000000Z",
        "size": 1000,
        **extra,
    }
    server.projects[name].files.append(entry)


@pytest.fixture
def world(index_server):
    for dist in WORLD:
        index_server.add_wheel(dist)
    index_server.add_sdist(Dist("lib", "2.1"))
    for minor in range(PADDING):
        version = f"0.{minor}"
        for tag in FOREIGN:
            _listed(index_server, "lib", f"lib-{version}-{tag}.whl", **{"core-metadata": {"sha256": "ab" * 32}})
        _listed(index_server, "lib", f"lib-{version}-py3-none-any.whl", **{"requires-python": ">=3.6", "yanked": "broken" if minor % 7 == 0 else False})
        _listed(index_server, "lib", f"lib-{version}.tar.gz")
    # the same version written two ways, a version that is not PEP 440, and a file that is neither wheel nor sdist
    _listed(index_server, "lib", "lib-1.0-py3-none-any.whl")
    _listed(index_server, "lib", "lib-1.0.0.tar.gz")
    _listed(index_server, "lib", "lib-nightly.tar.gz")
    _listed(index_server, "lib", "lib-1.0.exe")
    return index_server


def finder_for(server, *sources, cache=None):
    return IndexFinder(IndexOptions(indexes=(split_credentials(server.url), *sources), timeout=5.0, retries=1), cache=cache)


def lazy_forms(server, name):
    """The page of ``name`` in every form a lock may get it: decoded JSON, the compact cache form, built files."""
    body = server.page_json(name)
    page_url = f"{server.url}{name}/"
    fresh = LazyPage.from_json(body, page_url, server.url, name)
    cached = LazyPage.from_data(json.loads(json.dumps(LazyPage.from_json(body, page_url, server.url, name).to_data())))  # as Cache.get reads it
    built = LazyPage.of(LazyPage.from_json(body, page_url, server.url, name).page())
    written = LazyPage.from_json(body, page_url, server.url, name)
    written.to_data()  # as a cold run with a cache does before the lock's table is made
    return {"json": fresh, "cache": cached, "built": built, "written": written}


# -- only what is visited is built ------------------------------------------------------------------


def test_a_row_table_builds_only_the_versions_it_is_asked_for(world):
    finder = finder_for(world)
    table = project_table(finder, "lib", running_target())
    assert isinstance(table, RowTable)
    assert len(table.versions) > PADDING  # every version is known ...
    assert table.built == frozenset()  # ... and no file is built yet
    newest = next(table.iter_releases(Wanted()))
    assert newest.version == Version("3.0")
    assert table.built == {Version("3.0")}
    pinned = next(table.iter_releases(Wanted(), prefer="0.7"))
    assert pinned.version == Version("0.7")
    assert table.built == {Version("3.0"), Version("0.7")}
    assert finder.project("lib") is not None  # the page is still there for the other callers, built on demand


def test_a_cold_lock_builds_the_files_of_a_few_versions_only(world):
    finder = finder_for(world)
    text = "app\nweb\ncore<2\n"
    files = (SourceFile(path="requirements.in", kind=FileKind.INPUT, requirements=tuple(parse_text(text, "requirements.in").requirements)),)
    target = running_target()
    roots = collect_roots(files, target)
    result, provider = resolve(roots, finder, target, ResolveOptions(constraints=roots.constraints), workers=4)
    assert {c.name: str(c.version) for c in result.mapping.values() if c.release is not None} == {"app": "2.0", "lib": "2.1", "helper": "2.0", "web": "1.0", "core": "1.9"}
    table = provider.table("lib")
    assert isinstance(table, RowTable)
    # lib 3.0 (wants helper<2, app 2.0 wants helper>=2) is tried and given up for 2.1: two versions built of 120+
    assert table.built == {Version("3.0"), Version("2.1")}


# -- same answers as over the built page ------------------------------------------------------------


@pytest.mark.parametrize("form", ["json", "cache", "built", "written"])
def test_row_tables_answer_like_page_tables_for_every_version_and_target(world, form):
    for name in ("lib", "app"):
        lazy = lazy_forms(world, name)[form]
        page = lazy_forms(world, name)["built"].page()
        for target in TARGETS:
            rows = RowTable(lazy.version_rows(), target)
            pages = PageTable(page, target)
            assert rows.versions == pages.versions
            assert (rows.name, rows.index_url) == (pages.name, pages.index_url)
            for version in pages.versions:
                assert rows.files(version) == pages.files(version)
                stored = json.dumps([file_data(file) for file in pages.files(version)])  # what a stored table holds
                assert json.dumps(rows.file_data(version)) == json.dumps(pages.file_data(version)) == stored
                for allow_yanked in (False, True):
                    assert rows.release(version, allow_yanked=allow_yanked) == pages.release(version, allow_yanked=allow_yanked)
            for text in ("1.0", "1.0.0", "0.3", "nightly", "9.9", "2.1"):
                assert rows.files_of(text) == pages.files_of(text) == files_of_version(page, text)
            assert list(rows.iter_releases(Wanted(), prefer="0.3")) == list(pages.iter_releases(Wanted(), prefer="0.3"))
    lib = lazy_forms(world, "lib")["built"].page()
    assert {file.filename for file in files_of_version(lib, "1.0")} == {"lib-1.0-py3-none-any.whl", "lib-1.0.0.tar.gz"}
    assert [file.filename for file in files_of_version(lib, "nightly")] == ["lib-nightly.tar.gz"]
    release = release_of(lib, Version("2.1"), files_of_version(lib, "2.1"), running_target(), allow_yanked=False)
    assert release == PageTable(lib, running_target()).release(Version("2.1"), allow_yanked=False)


def test_a_stored_table_is_written_from_entries_without_building_and_reads_back_the_same(world, tmp_path):
    target = running_target()
    lazy = lazy_forms(world, "lib")["json"]
    page = lazy_forms(world, "lib")["built"].page()
    rows, pages = RowTable(lazy.version_rows(), target), PageTable(page, target)
    written = {}
    for label, table in (("rows", rows), ("pages", pages)):
        store = TableStore(tmp_path / label, world.url, target, max_age=None)
        store.save(table)
        (path,) = (tmp_path / label).rglob("lib.table")
        header, _, body = path.read_bytes().partition(b"\n")
        written[label] = (json.loads(header)["versions"], body)
        stored = store.load("lib")
        assert stored is not None
        assert stored.versions == pages.versions
        for version in pages.versions:
            assert stored.files(version) == pages.files(version)
    assert rows.built == frozenset()  # every version written, none built
    assert written["rows"] == written["pages"]


# -- whole locks -----------------------------------------------------------------------------------


class PagesOnly:
    """The finder seen through ``project`` alone (no grouped entries): the tables are built over whole pages."""

    def __init__(self, finder: IndexFinder) -> None:
        self._finder = finder

    def project(self, name):
        return self._finder.project(name)

    def prefetch(self, names):
        self._finder.prefetch(names)

    def core_metadata(self, file):
        return self._finder.core_metadata(file)


def lock_text(finder, text, *, workers=4):
    files = (SourceFile(path="requirements.in", kind=FileKind.INPUT, requirements=tuple(parse_text(text, "requirements.in").requirements)),)
    target = running_target()
    roots = collect_roots(files, target)
    result, provider = resolve(roots, finder, target, ResolveOptions(constraints=roots.constraints), workers=workers)
    lock = build_lock(result, provider, roots, files, "reprolock lock requirements.in")
    return write_requirements(lock), write_pylock(lock)


def test_locks_are_identical_over_entries_over_built_pages_and_from_the_cache(world, tmp_path):
    text = "app\nweb\ncore<2\n"
    lazy = lock_text(finder_for(world), text)
    assert "lib==2.1" in lazy[0]
    assert "--hash=sha256:" in lazy[0]
    assert lazy == lock_text(PagesOnly(finder_for(world)), text)
    cache = Cache(tmp_path / "cache")
    assert lock_text(finder_for(world, cache=cache), text) == lazy  # cold, pages and tables written
    for table in (tmp_path / "cache").rglob("*.table"):
        table.unlink()  # tables gone: the cached pages (compact form) are grouped instead
    assert lock_text(finder_for(world, cache=cache), text) == lazy
    assert lock_text(finder_for(world, cache=cache), text) == lazy  # from the stored tables


def test_pages_merged_from_two_indexes_lock_like_before(world, tmp_path):
    tree = tmp_path / "simple"
    (tree / "helper").mkdir(parents=True)
    local_wheel = build_wheel(Dist("helper", "2.5"), tmp_path / "local")
    (tree / "helper" / "index.html").write_text(f'<a href="{local_wheel.as_uri()}">{local_wheel.name}</a>', encoding="utf-8")
    local = split_credentials(tree.as_uri() + "/")
    merged = finder_for(world, local)
    rows = merged.version_rows("helper")
    assert rows is not None
    assert {file.url for file in rows.files("2.5")} == {local_wheel.as_uri()}
    assert len(rows.files("2.0")) == 1
    locked = lock_text(merged, "app\n")
    assert "helper==2.5" in locked[0]
    assert locked == lock_text(PagesOnly(finder_for(world, local)), "app\n")
