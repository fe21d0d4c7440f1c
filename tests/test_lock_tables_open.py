"""Stored lock tables keep their file open (so another process may replace it) up to a limit owned by the store."""

from __future__ import annotations

import gc

from reprolock.index.models import DistFile, ProjectPage
from reprolock.lock import tables
from reprolock.lock.candidates import PageTable
from reprolock.lock.tables import TableStore
from reprolock.lock.target import running_target


def _page(name: str) -> ProjectPage:
    files = tuple(
        DistFile(f"{name}-{version}-py3-none-any.whl", f"https://x.test/{name}-{version}-py3-none-any.whl", version, "bdist_wheel", (("sha256", "a" * 64),))
        for version in ("1.0", "2.0")
    )
    return ProjectPage(name, "https://x.test/simple/", files)


def _kept_open(table: object) -> bool:
    return table._source._fd is not None


def test_a_store_keeps_at_most_its_limit_of_files_open_and_reads_the_rest_whole(tmp_path, monkeypatch):
    monkeypatch.setattr(tables, "_SMALL", 16)  # every table is "large": kept open when the limit allows
    monkeypatch.setattr(tables, "_MAX_OPEN", 2)
    target = running_target()
    store = TableStore(tmp_path, "https://x.test/simple/", target, max_age=None)
    names = ["a", "b", "c"]
    for name in names:
        store.save(PageTable(_page(name), target))
    loaded = [store.load(name) for name in names]
    assert [_kept_open(table) for table in loaded] == [True, True, False]
    for name, table in zip(names, loaded, strict=True):
        assert table is not None
        assert [file.filename for file in table.files_of("2.0")] == [f"{name}-2.0-py3-none-any.whl"]
    other = TableStore(tmp_path, "https://x.test/simple/", target, max_age=None)
    assert _kept_open(other.load("c"))  # the limit is the store's own
    del loaded
    gc.collect()  # the tables are gone: their files are closed and no longer counted
    assert [_kept_open(store.load(name)) for name in names[:2]] == [True, True]
