"""The cache folder is shared by processes that run at once (CI jobs over one cache).

Every file is written to a temporary file and renamed; a damaged, cut short
or replaced file is a miss (the run fetches or builds again and rewrites it),
never an error; the folders the cache makes are private; writes may be made
in the background. The last tests run real ``reprolock lock`` processes at
once over one cache folder, and read stored tables while another process
keeps replacing them.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
from packaging.version import Version

from reprolock.index.cache import Cache, Entry, Freshness, cache_directives
from reprolock.index.cachefiles import Writer
from reprolock.index.compact import data_file
from reprolock.index.pages import LazyPage
from reprolock.lock.candidates import ProjectTable
from reprolock.lock.tables import TableStore
from reprolock.lock.target import running_target
from reprolock.sources.metadata import scan_path
from reprolock.sources.recordcache import LAYOUT, RecordCache
from wheelfactory import Dist

INDEX = "http://127.0.0.1:1/simple/"
ROOT = Path(__file__).resolve().parent.parent


def _row(name: str, version: str, tag: str = "a") -> list:
    filename = f"{name}-{version}-py3-none-any.whl"
    return [filename, f"http://127.0.0.1:1/files/{filename}#{tag}", version, "bdist_wheel", [["sha256", "ab" * 32]], None, False, None, None, 10, None, []]


def _page(name: str = "demo") -> LazyPage:
    rows = [_row(name, "1.0"), _row(name, "2.0")]
    return LazyPage.from_data({"name": name, "index_url": INDEX, "versions": ["1.0", "2.0"], "status": None, "status_reason": None, "files": rows})


class _Table(ProjectTable):
    """A table held in memory: version text -> rows of the compact form."""

    def __init__(self, name: str, rows: dict[str, list[list]], index_url: str = INDEX) -> None:
        self._rows = {Version(text): value for text, value in rows.items()}
        super().__init__(name, index_url, sorted(self._rows, reverse=True), running_target())

    def files(self, version):
        return tuple(data_file(row) for row in self._rows.get(version, ()))


def _damage(path: Path, how: str) -> None:
    data = path.read_bytes()
    if how == "truncated":
        path.write_bytes(data[: len(data) // 2])
    elif how == "garbage":
        path.write_bytes(b"\x00\xff not json " + data[:10])
    elif how == "flipped":  # same length, one byte changed near the end
        path.write_bytes(data[:-3] + bytes([data[-3] ^ 0x55]) + data[-2:])
    elif how == "empty":
        path.write_bytes(b"")
    elif how == "other-json":
        path.write_bytes(b'["a", 1]')


# -- (a) damaged entries are misses, and written again --------------------------------------------------------


@pytest.mark.parametrize("how", ["truncated", "garbage", "flipped", "empty", "other-json"])
def test_a_damaged_index_page_entry_is_a_miss_and_is_written_again(tmp_path, how):
    cache = Cache(tmp_path)
    cache.put(INDEX, "demo", Entry(_page(), time.time(), 300.0, '"e1"'))
    (path,) = (tmp_path / "index-v1").rglob("demo.json")
    _damage(path, how)
    if how != "flipped":  # a flipped byte may leave valid JSON of the right shape (a changed ETag...)
        assert cache.get(INDEX, "demo") is None
    cache.put(INDEX, "demo", Entry(_page(), time.time(), 300.0, '"e2"'))
    entry = cache.get(INDEX, "demo")
    assert entry is not None
    assert entry.etag == '"e2"'
    assert [file.version for file in entry.page.page().files] == ["1.0", "2.0"]
    assert json.loads(path.read_bytes())["etag"] == '"e2"'


def test_a_page_entry_of_the_wrong_shape_is_a_miss(tmp_path):
    cache = Cache(tmp_path)
    cache.put(INDEX, "demo", Entry(_page(), time.time(), 300.0))
    (path,) = (tmp_path / "index-v1").rglob("demo.json")
    good = json.loads(path.read_bytes())
    for page in ({"name": "demo"}, {**good["page"], "files": [["too", "short"]]}, {**good["page"], "files": "x"}, [1, 2]):
        path.write_text(json.dumps({**good, "page": page}), encoding="utf-8")
        assert cache.get(INDEX, "demo") is None
    path.write_text(json.dumps({**good, "etag": 5}), encoding="utf-8")
    assert cache.get(INDEX, "demo") is None


@pytest.mark.parametrize("how", ["truncated", "garbage", "empty", "other-json"])
def test_a_damaged_data_entry_is_a_miss_and_is_written_again(tmp_path, how):
    cache = Cache(tmp_path)
    cache.put_data(INDEX, "capabilities", {"per_version_json": True})
    (path,) = (tmp_path / "index-v1").rglob("_capabilities.json")
    _damage(path, how)
    assert cache.get_data(INDEX, "capabilities", None) is None
    cache.put_data(INDEX, "capabilities", {"per_version_json": False})
    assert cache.get_data(INDEX, "capabilities", 60) == {"per_version_json": False}


@pytest.mark.parametrize("how", ["truncated", "garbage", "flipped", "empty"])
def test_a_damaged_blob_is_a_miss_and_is_written_again(tmp_path, how):
    cache = Cache(tmp_path)
    key = "0f" * 32
    cache.put_blob("metadata", key, b"Metadata-Version: 2.1\nName: demo\nVersion: 1.0\n\n")
    assert cache.get_blob("metadata", key) == b"Metadata-Version: 2.1\nName: demo\nVersion: 1.0\n\n"
    path = tmp_path / "metadata-v1" / "0f" / key
    _damage(path, how)
    assert cache.get_blob("metadata", key) is None
    cache.put_blob("metadata", key, b"again")
    assert cache.get_blob("metadata", key) == b"again"
    assert cache.get_blob("metadata", key.upper()) == b"again"


def test_a_blob_key_that_is_not_hex_is_never_a_path(tmp_path):
    cache = Cache(tmp_path / "cache")
    for key in ("../../../escape", "ab/cd" * 8, "", "zz" * 32, "0f" * 100):
        cache.put_blob("metadata", key, b"x")
        assert cache.get_blob("metadata", key) is None
    cache.put_blob("../x", "0f" * 32, b"x")
    assert not (tmp_path / "x-v1").exists()
    assert not any(path.is_file() for path in tmp_path.rglob("*"))


def _store(tmp_path: Path, **options) -> TableStore:
    return TableStore(tmp_path, INDEX, running_target(), max_age=None, **options)


def _demo_table(tag: str = "a") -> _Table:
    return _Table("demo", {"1.0": [_row("demo", "1.0", tag)], "2.0": [_row("demo", "2.0", tag)], "3.0": [_row("demo", "3.0", tag)] * 3})


@pytest.mark.parametrize("how", ["truncated", "garbage", "empty", "other-json"])
def test_a_damaged_lock_table_is_a_miss_and_is_written_again(tmp_path, how):
    store = _store(tmp_path)
    store.save(_demo_table())
    (path,) = (tmp_path / "lock-tables-v1").rglob("demo.table")
    _damage(path, how)
    assert store.load("demo") is None
    store.save(_demo_table("b"))
    stored = store.load("demo")
    assert stored is not None
    assert stored.files(Version("2.0")) == (data_file(_row("demo", "2.0", "b")),)


def test_a_table_damaged_inside_a_version_gives_the_rebuilt_files_and_is_removed(tmp_path):
    built = []

    def rebuild(name):
        built.append(name)
        return _demo_table("rebuilt")

    for options, expected in (({}, ()), ({"rebuild": rebuild}, (data_file(_row("demo", "1.0", "rebuilt")),))):
        store = _store(tmp_path, **options)
        store.save(_demo_table())
        (path,) = (tmp_path / "lock-tables-v1").rglob("demo.table")
        _damage(path, "flipped")  # the last version's files (the oldest): same size, so the header still fits the file
        stored = store.load("demo")
        assert stored is not None
        assert stored.files(Version("3.0")) == (data_file(_row("demo", "3.0")),) * 3
        assert stored.files(Version("1.0")) == expected
        assert not path.exists()  # the next run writes it again
    assert built == ["demo"]


@pytest.mark.parametrize("how", ["truncated", "garbage", "empty", "other-json"])
def test_a_damaged_record_cache_is_a_miss_and_is_written_again(tmp_path, how):
    site = tmp_path / "site-packages"
    folder = site / "alpha-1.0.dist-info"
    folder.mkdir(parents=True)
    (folder / "METADATA").write_text("Metadata-Version: 2.1\nName: alpha\nVersion: 1.0\n\n", encoding="utf-8")
    (folder / "RECORD").write_text("alpha/__init__.py,,\nalpha-1.0.dist-info/RECORD,,\n", encoding="utf-8")

    def scan():
        records = RecordCache(tmp_path / "cache")
        found = scan_path([str(site)], records=records)
        return [dist.top_level for dist in found], records.reads

    assert scan() == ([("alpha",)], 1)
    (path,) = (tmp_path / "cache" / LAYOUT).glob("*.json")
    _damage(path, how)
    assert scan() == ([("alpha",)], 1)
    assert scan() == ([("alpha",)], 0)  # written again
    entry = json.loads(path.read_bytes())
    entry[folder.name][3:] = [5, 6, 7]  # a damaged entry of a whole file
    path.write_text(json.dumps(entry), encoding="utf-8")
    assert scan() == ([("alpha",)], 1)


# -- (b) private folders ----------------------------------------------------------------------------------------


def test_the_cache_root_and_its_folders_are_created_private(tmp_path):
    os.umask(old := os.umask(0o022))
    try:
        parent = tmp_path / "home"
        parent.mkdir(mode=0o755)
        root = parent / "made" / "cache"
        cache = Cache(root)
        cache.put(INDEX, "demo", Entry(_page(), time.time(), 300.0))
        cache.put_blob("metadata", "0f" * 32, b"x")
        _store(root).save(_demo_table())
        records = RecordCache(root)
        records.outcome(str(tmp_path), "alpha-1.0.dist-info", str(__file__), lambda _text: ((), (), []))
        records.save()
    finally:
        os.umask(old)
    folders = [root.parent, root, *(path for path in root.rglob("*") if path.is_dir())]
    assert len(folders) > 8
    assert {path: stat.S_IMODE(path.stat().st_mode) for path in folders} == dict.fromkeys(folders, 0o700)
    assert stat.S_IMODE(parent.stat().st_mode) == 0o755  # a folder that was there is left alone
    assert not list(root.rglob(".tmp-*"))


# -- (c) Cache-Control -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, Freshness(300.0)),
        ("", Freshness(300.0)),
        ("max-age=60", Freshness(60.0)),
        ("public, MAX-AGE=120", Freshness(120.0)),
        ('max-age="45"', Freshness(45.0)),
        ("max-age = 30 , must-revalidate", Freshness(30.0)),
        ("max-age=0", Freshness(0.0)),
        ("no-cache", Freshness(0.0)),
        ('no-cache="Set-Cookie, X-Other", max-age=60', Freshness(0.0)),
        ("No-Store", Freshness(0.0, store=False)),
        ("max-age=60, no-store", Freshness(0.0, store=False)),
        ("s-maxage=600", Freshness(300.0)),  # for shared caches only
        ("s-maxage=600, max-age=10", Freshness(10.0)),
        ("private, max-age=90", Freshness(90.0)),
        ('x-note="no-store, no-cache", max-age=70', Freshness(70.0)),  # inside a quoted value, not directives
        ("x-no-store-hint, max-age=80", Freshness(80.0)),  # a substring is not a directive
        ("max-age=-5", Freshness(300.0)),
        ("max-age=abc", Freshness(300.0)),
        ("max-age=", Freshness(300.0)),
        ("max-age=1.5", Freshness(300.0)),
        ('max-age="60', Freshness(300.0)),  # unclosed quote: the value cannot be read
        ("max-age=20, max-age=40", Freshness(20.0)),  # the first wins
    ],
)
def test_cache_control_is_read_as_a_directive_list(header, expected):
    assert Freshness.from_headers(header, 300.0) == expected


def test_cache_directives_split_names_and_values():
    assert cache_directives('Private, max-age="6\\"0", no-cache="a, b",,immutable') == {"private": None, "max-age": '6"0', "no-cache": "a, b", "immutable": None}
    assert cache_directives('max-age="unclosed') is None


# -- (d) background writes ---------------------------------------------------------------------------------------


def test_background_writes_are_read_back_before_they_are_on_disk_and_on_disk_after_close(tmp_path):
    cache = Cache(tmp_path, background=True)
    gate = threading.Event()
    cache.writer.write(tmp_path / "gate", lambda: gate.wait(10) and b"")  # holds the writer until the entries are queued
    entry = Entry(_page(), time.time(), 300.0, '"e"')
    cache.put(INDEX, "demo", entry)
    cache.put_data(INDEX, "capabilities", {"per_version_json": True})
    cache.put_blob("metadata", "0f" * 32, b"METADATA")
    table = _demo_table()
    store = _store(tmp_path, writer=cache.writer)
    store.save(table)
    assert not list((tmp_path / "index-v1").rglob("*.json"))  # nothing written yet
    assert cache.get(INDEX, "demo") is entry
    assert cache.get_data(INDEX, "capabilities", 60) == {"per_version_json": True}
    assert cache.get_blob("metadata", "0f" * 32) == b"METADATA"
    assert store.load("demo") is table
    gate.set()
    cache.close()
    cache.close()  # twice is fine
    (path,) = (tmp_path / "index-v1").rglob("demo.json")
    assert json.loads(path.read_bytes())["etag"] == '"e"'
    assert Cache(tmp_path).get(INDEX, "demo").etag == '"e"'
    assert Cache(tmp_path).get_blob("metadata", "0f" * 32) == b"METADATA"
    assert _store(tmp_path).load("demo").files(Version("3.0")) == table.files(Version("3.0"))
    cache.put_data(INDEX, "after", [1])  # after close: written at once
    assert Cache(tmp_path).get_data(INDEX, "after", None) == [1]
    assert not list(tmp_path.rglob(".tmp-*"))


def test_background_writes_of_one_path_keep_their_order_and_pending_answers_the_latest(tmp_path):
    writer = Writer(background=True)
    gate = threading.Event()
    path = tmp_path / "deep" / "file"
    writer.write(tmp_path / "gate", lambda: gate.wait(10) and b"")
    for number in range(50):
        writer.write(path, lambda number=number: str(number).encode(), number)
    assert writer.pending(path) == (True, 49)
    assert writer.pending(tmp_path / "other") == (False, None)
    gate.set()
    writer.flush()
    assert path.read_bytes() == b"49"
    assert writer.pending(path) == (False, None)
    assert any(thread.name.startswith("reprolock-cache-writer") for thread in threading.enumerate())
    writer.close()
    writer.close()
    assert not any(thread.name.startswith("reprolock-cache-writer") for thread in threading.enumerate())
    writer.write(path, lambda: b"after close", "ignored")  # made at once, nothing pending
    assert path.read_bytes() == b"after close"
    assert writer.pending(path) == (False, None)
    writer.write(path, lambda: 1 / 0)  # a value that cannot be encoded is not written, and raises nothing
    assert path.read_bytes() == b"after close"
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


def test_background_writes_are_on_disk_when_a_short_process_ends_without_close(tmp_path):
    code = textwrap.dedent(
        f"""
        import time
        from pathlib import Path
        from reprolock.index.cache import Cache
        cache = Cache(Path({str(tmp_path)!r}), background=True)
        for number in range(200):
            cache.put_data("{INDEX}", f"k{{number}}", list(range(2000)))
        cache.put_blob("metadata", "0f" * 32, b"x" * 100000)
        """
    )
    subprocess.run([sys.executable, "-c", code], check=True, env={**os.environ, "PIP_CONFIG_FILE": "/dev/null"})
    cache = Cache(tmp_path)
    assert all(cache.get_data(INDEX, f"k{number}", None) == list(range(2000)) for number in range(200))
    assert cache.get_blob("metadata", "0f" * 32) == b"x" * 100000


# -- (e) processes at once over one cache -----------------------------------------------------------------------

WORLD = [
    Dist("web", "1.0", requires=("core>=1",)),
    Dist("web", "2.0", requires=("core>=2",)),
    Dist("core", "1.9"),
    Dist("core", "2.0"),
    Dist("app", "1.0", requires=("lib", "core")),
    Dist("lib", "1.0"),
    Dist("lib", "1.1", requires=("extra-lib",)),
    Dist("extra-lib", "3.0"),
    Dist("client", "1.0", extras=("socks",), requires=('socksy>=2; extra == "socks"',)),
    Dist("socksy", "2.0"),
]


def _env() -> dict[str, str]:
    env = {**os.environ, "PIP_CONFIG_FILE": "/dev/null", "NO_COLOR": "1"}
    for name in ("PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_FIND_LINKS", "VIRTUAL_ENV"):
        env.pop(name, None)
    return env


def _make_stale(cache: Path) -> int:
    """Age every page entry and table of ``cache`` (their ``fetched``), so the next runs revalidate and rebuild them."""
    aged = 0
    for path in cache.rglob("*.json"):
        data = json.loads(path.read_bytes())
        if isinstance(data, dict) and "fetched" in data:
            data["fetched"] = 1.0
            path.write_text(json.dumps(data), encoding="utf-8")
            aged += 1
    for path in cache.rglob("*.table"):
        header, _, body = path.read_bytes().partition(b"\n")
        data = json.loads(header)
        data["fetched"] = 1.0
        path.write_bytes(json.dumps(data).encode() + b"\n" + body)
        aged += 1
    return aged


def _locks_at_once(work: Path, url: str, cache: Path, runs: int) -> list[str]:
    processes = []
    for number in range(runs):
        folder = work / f"job-{number}"  # one folder each: the lockfile names its own output path
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "requirements.in").write_text("web\ncore<2\napp\nclient[socks]\nlib>=1.1\n", encoding="utf-8")
        out = folder / "requirements.txt"
        argv = [sys.executable, "-m", "reprolock", "lock", "requirements.in", "-o", "requirements.txt", "--index-url", url, "--cache-dir", str(cache)]
        processes.append((out, subprocess.Popen(argv, cwd=folder, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)))
    texts = []
    for out, process in processes:
        stdout, stderr = process.communicate(timeout=120)
        assert process.returncode == 0, stdout + stderr
        texts.append(out.read_text(encoding="utf-8"))
        out.unlink()
    return texts


def test_four_locks_at_once_over_one_cache_folder(index_server, tmp_path):
    for dist in WORLD:
        index_server.add_wheel(dist)
    work = tmp_path / "work"
    cache = tmp_path / "shared-cache"
    expected = None
    for round_number in range(3):
        texts = _locks_at_once(work, index_server.url, cache, 4)
        expected = expected or texts[0]
        assert texts == [expected] * 4, round_number
        assert _make_stale(cache) > 10
    assert "web==1.0" in expected
    assert "extra-lib==3.0" in expected
    assert stat.S_IMODE(cache.stat().st_mode) == 0o700
    # every file damaged at once: each is a miss, the runs succeed and write them again
    damaged = [path for path in cache.rglob("*") if path.is_file()]
    for path in damaged:
        _damage(path, "truncated")
    assert _locks_at_once(work, index_server.url, cache, 4) == [expected] * 4
    assert not list(cache.rglob(".tmp-*"))
    for path in cache.rglob("*.json"):
        json.loads(path.read_bytes())


_REPLACER = """
import os, sys
path, first, second, stop = sys.argv[1:]
tables = [open(first, "rb").read(), open(second, "rb").read()]
count = 0
while not os.path.exists(stop):
    temporary = f"{path}.{count}.tmp"
    with open(temporary, "wb") as stream:
        stream.write(tables[count % 2])
    os.replace(temporary, path)
    count += 1
print(count)
"""


def test_stored_tables_read_while_another_process_replaces_them(tmp_path):
    # two tables for one key, laid out differently (one small, read whole; one large, read through its descriptor)
    small = _Table("demo", {"1.0": [_row("demo", "1.0", "a")], "2.0": [_row("demo", "2.0", "a")] * 2, "3.0": [_row("demo", "3.0", "a")]}, "http://127.0.0.1:1/a/")
    large = _Table("demo", {"1.0": [_row("demo", "1.0", "b")] * 300, "2.0": [_row("demo", "2.0", "b")], "3.0": [_row("demo", "3.0", "b")] * 200}, "http://127.0.0.1:1/b/")
    expected = {table.index_url: {version: table.files(version) for version in table.versions} for table in (small, large)}
    sources = []
    for label, table in (("small", small), ("large", large)):
        _store(tmp_path / label).save(table)
        (source,) = (tmp_path / label).rglob("demo.table")
        sources.append(source)
    assert sources[0].stat().st_size < 65536 < sources[1].stat().st_size
    store = _store(tmp_path / "shared")
    store.save(small)
    (path,) = (tmp_path / "shared").rglob("demo.table")
    stop = tmp_path / "stop"
    replacer = subprocess.Popen([sys.executable, "-c", _REPLACER, str(path), *map(str, sources), str(stop)], stdout=subprocess.PIPE, text=True)
    try:
        seen = set()
        for _ in range(1500):
            table = store.load("demo")
            if table is None:  # between two renames there is always a whole file; a miss here would be a bug too
                pytest.fail("a whole table was read as a miss")
            seen.add(table.index_url)
            for version in reversed(table.versions):
                assert table.files(version) == expected[table.index_url][version]
    finally:
        stop.touch()
        replaced = int(replacer.communicate(timeout=30)[0])
    assert replaced > 0
    assert seen == {"http://127.0.0.1:1/a/", "http://127.0.0.1:1/b/"}
