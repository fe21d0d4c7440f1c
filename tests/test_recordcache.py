"""The environment scan remembers what each RECORD and METADATA say, and reads a file again whenever it changed."""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING

from conftest import findings, run_cli
from envfactory import make_venv, pip_install, site_packages
from reprolock.sources.metadata import scan_path
from reprolock.sources.recordcache import LAYOUT, METADATA_LAYOUT, RecordCache
from wheelfactory import Dist, build_all

if TYPE_CHECKING:
    from pathlib import Path


def _dist_info(site: Path, name: str, version: str, record: list[str]) -> Path:
    folder = site / f"{name}-{version}.dist-info"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n\n", encoding="utf-8")
    (folder / "RECORD").write_text("".join(f"{path},,\n" for path in [*record, f"{folder.name}/RECORD"]), encoding="utf-8")
    return folder


def _scan(site: Path, cache: Path) -> tuple[dict[str, tuple[tuple[str, ...], tuple[str, ...]]], int]:
    """Each distribution's modules and namespace portions, and how many RECORDs were read."""
    records = RecordCache(cache)
    found = scan_path([str(site)], records=records)
    return {dist.name: (dist.top_level, dist.namespaces) for dist in found}, records.reads


def _site(tmp_path: Path) -> Path:
    site = tmp_path / "site-packages"
    _dist_info(site, "alpha", "1.0", ["alpha/__init__.py", "alpha/core.py", "alpha_ext.cpython-311-x86_64-linux-gnu.so"])
    _dist_info(site, "beta", "2.0", ["beta.py", "nspkg/beta/__init__.py", "../../bin/beta"])
    return site


def test_a_warm_scan_reads_no_record_and_finds_the_same_modules(tmp_path):
    site, cache = _site(tmp_path), tmp_path / "cache"
    uncached = {dist.name: (dist.top_level, dist.namespaces) for dist in scan_path([str(site)])}
    assert uncached == {"alpha": (("alpha", "alpha_ext"), ()), "beta": (("beta",), ("nspkg",))}
    assert _scan(site, cache) == (uncached, 2)
    assert _scan(site, cache) == (uncached, 0)
    assert [dist.has_record for dist in scan_path([str(site)], records=RecordCache(cache))] == [True, True]


def test_a_changed_record_is_read_again(tmp_path):
    site, cache = _site(tmp_path), tmp_path / "cache"
    _scan(site, cache)
    _dist_info(site, "alpha", "1.0", ["alpha/__init__.py", "alpha_two.py"])  # a reinstall of the same version
    found, reads = _scan(site, cache)
    assert reads == 1
    assert found["alpha"] == (("alpha", "alpha_two"), ())
    assert found["beta"] == (("beta",), ("nspkg",))


def test_a_record_rewritten_to_the_same_size_is_read_again_by_its_time(tmp_path):
    site, cache = _site(tmp_path), tmp_path / "cache"
    _scan(site, cache)
    record = site / "beta-2.0.dist-info" / "RECORD"
    before = record.stat()
    record.write_text(record.read_text(encoding="utf-8").replace("beta.py", "gamm.py"), encoding="utf-8")
    os.utime(record, ns=(before.st_atime_ns, before.st_mtime_ns + 1_000_000))
    assert record.stat().st_size == before.st_size
    found, reads = _scan(site, cache)
    assert reads == 1
    assert found["beta"] == (("gamm",), ("nspkg",))


def test_removed_distributions_leave_the_cache_and_it_names_no_path(tmp_path):
    site, cache = _site(tmp_path), tmp_path / "cache"
    _scan(site, cache)
    (files,) = (cache / LAYOUT).iterdir()
    assert set(json.loads(files.read_text(encoding="utf-8"))) == {"alpha-1.0.dist-info", "beta-2.0.dist-info"}
    assert str(tmp_path) not in files.read_text(encoding="utf-8")
    for item in (site / "beta-2.0.dist-info").iterdir():
        item.unlink()
    (site / "beta-2.0.dist-info").rmdir()
    found, reads = _scan(site, cache)
    assert (set(found), reads) == ({"alpha"}, 0)
    assert set(json.loads(files.read_text(encoding="utf-8"))) == {"alpha-1.0.dist-info"}


def test_a_damaged_cache_is_a_miss_and_is_rewritten(tmp_path):
    site, cache = _site(tmp_path), tmp_path / "cache"
    expected, _ = _scan(site, cache)
    (files,) = (cache / LAYOUT).iterdir()
    files.write_text("{not json", encoding="utf-8")
    assert _scan(site, cache) == (expected, 2)
    stored = json.loads(files.read_text(encoding="utf-8"))
    stored["alpha-1.0.dist-info"][3] = 7  # right stamp, outcome of the wrong shape
    files.write_text(json.dumps(stored), encoding="utf-8")
    assert _scan(site, cache) == (expected, 1)
    assert _scan(site, cache) == (expected, 0)


def test_an_unwritable_cache_folder_is_no_error(tmp_path):
    site = _site(tmp_path)
    blocker = tmp_path / "cache"
    blocker.write_text("a file where the cache folder would be", encoding="utf-8")
    expected = {dist.name: (dist.top_level, dist.namespaces) for dist in scan_path([str(site)])}
    assert _scan(site, blocker) == (expected, 2)
    assert _scan(site, blocker) == (expected, 2)
    assert not list(tmp_path.glob(".tmp-*"))


def test_audit_with_a_warm_cache_sees_what_pip_installed_since(tmp_path):
    wheels = tmp_path / "wheels"
    build_all((Dist("owner-a", "1.0", modules=("common",)), Dist("owner-b", "1.0", modules=("common",))), wheels)
    venv = make_venv(tmp_path / "venv")
    pip_install(site_packages(venv), wheels, "owner-a")
    argv = ("audit", "--python", str(venv), "--no-index", "--format", "json", "--cache-dir", str(tmp_path / "cache"))
    cold = run_cli(*argv, cwd=tmp_path)
    warm = run_cli(*argv, cwd=tmp_path)
    assert cold.code == warm.code == 0, cold.err
    assert cold.json == warm.json
    assert list((tmp_path / "cache" / LAYOUT).iterdir())
    pip_install(site_packages(venv), wheels, "owner-b")
    after = run_cli(*argv, cwd=tmp_path)
    assert sorted(item["package"] for item in findings(after, "RL303")) == ["owner-a", "owner-b"]
    uncached = run_cli(*argv[:-2], "--no-cache", cwd=tmp_path)
    assert uncached.json == after.json


def _metadata_scan(site: Path, cache: Path) -> tuple[dict[str, tuple[str, tuple[str, ...]]], int]:
    """Each distribution's version and requirements, and how many METADATA / PKG-INFO files were read."""
    records = RecordCache(cache)
    found = scan_path([str(site)], records=records)
    return {dist.name: (dist.version, dist.requires) for dist in found}, records.metadata_reads


def test_a_warm_scan_reads_no_metadata_and_a_changed_one_is_read_again(tmp_path):
    site, cache = _site(tmp_path), tmp_path / "cache"
    egg = site / "Gamma.egg-info"
    egg.mkdir()
    (egg / "PKG-INFO").write_text("Metadata-Version: 1.1\nName: Gamma\nVersion: 3.0\n\nbody\n", encoding="utf-8")
    uncached = {dist.name: (dist.version, dist.requires) for dist in scan_path([str(site)])}
    assert uncached == {"alpha": ("1.0", ()), "beta": ("2.0", ()), "gamma": ("3.0", ())}
    assert _metadata_scan(site, cache) == (uncached, 3)
    assert _metadata_scan(site, cache) == (uncached, 0)
    (files,) = (cache / METADATA_LAYOUT).iterdir()
    assert set(json.loads(files.read_text(encoding="utf-8"))) == {"alpha-1.0.dist-info", "beta-2.0.dist-info", "Gamma.egg-info"}
    metadata = site / "beta-2.0.dist-info" / "METADATA"
    before = metadata.stat()
    metadata.write_text("Metadata-Version: 2.1\nName: beta\nVersion: 2.0\nRequires-Dist: alpha\n\n", encoding="utf-8")
    os.utime(metadata, ns=(before.st_atime_ns, before.st_mtime_ns + 1_000_000))
    assert _metadata_scan(site, cache) == ({**uncached, "beta": ("2.0", ("alpha",))}, 1)


def test_a_damaged_metadata_entry_is_a_miss(tmp_path):
    site, cache = _site(tmp_path), tmp_path / "cache"
    expected, _ = _metadata_scan(site, cache)
    (files,) = (cache / METADATA_LAYOUT).iterdir()
    stored = json.loads(files.read_text(encoding="utf-8"))
    stored["alpha-1.0.dist-info"][4] = 7  # right stamp, a version that is no string
    stored["beta-2.0.dist-info"] = stored["beta-2.0.dist-info"][:5]
    files.write_text(json.dumps(stored), encoding="utf-8")
    assert _metadata_scan(site, cache) == (expected, 2)
    assert _metadata_scan(site, cache) == (expected, 0)
