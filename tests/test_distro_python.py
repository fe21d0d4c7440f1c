"""The machine's own distro Python (Debian's /usr/bin/python3): system-provided packages and PEP 668."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import findings, run_cli
from envfactory import make_venv, pip_install, site_packages
from reprolock.sources.metadata import scan_entry
from wheelfactory import Dist, build_wheel

DISTRO_PYTHON = Path("/usr/bin/python3")
DIST_PACKAGES = Path("/usr/lib/python3/dist-packages")

pytestmark = pytest.mark.skipif(not DISTRO_PYTHON.exists() or not DIST_PACKAGES.is_dir(), reason="no distro Python with dist-packages on this machine")


def _marker() -> str | None:
    code = "import os, sysconfig; p = os.path.join(sysconfig.get_paths()['stdlib'], 'EXTERNALLY-MANAGED'); print(p if os.path.isfile(p) else '')"
    out = subprocess.run([str(DISTRO_PYTHON), "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    return out or None


@pytest.fixture(scope="module")
def distro_audit(tmp_path_factory):
    run = run_cli("audit", "--python", str(DISTRO_PYTHON), "--no-index", "--format", "json", cwd=tmp_path_factory.mktemp("distro"))
    assert run.code in {0, 1}, run.err
    return run


def test_externally_managed(distro_audit):
    marker = _marker()
    found = findings(distro_audit, "RL305")
    assert distro_audit.json["environment"]["externally_managed"] is (marker is not None)
    assert [item["detail"]["marker"] for item in found] == ([marker] if marker else [])


def test_distro_packages_are_system_provided_with_their_owner(distro_audit):
    installed = list(scan_entry(str(DIST_PACKAGES), 0))
    assert installed, "dist-packages holds no distribution metadata"
    system = {item["package"]: item for item in findings(distro_audit, "RL304")}
    for dist in installed:
        assert dist.name in system
        assert system[dist.name]["location"] is None
        assert system[dist.name]["detail"]["path"] == str(DIST_PACKAGES)
    if shutil.which("dpkg-query") is None:
        return
    sample = installed[0]
    done = subprocess.run(["dpkg-query", "-S", sample.metadata_path], capture_output=True, text=True, check=False)
    owner = done.stdout.split(":", 1)[0].split(",")[0].strip() if done.returncode == 0 else None
    assert system[sample.name]["detail"]["os_package"] == owner
    if owner:
        assert f"(OS package {owner})" in system[sample.name]["message"]


def test_system_site_venv_over_the_distro_python_shadows_a_distro_package(tmp_path):
    distro = next(iter(scan_entry(str(DIST_PACKAGES), 0)))
    wheels = tmp_path / "wheels"
    build_wheel(Dist(distro.raw_name, "999.0", modules=("reprolock_test_shadow",)), wheels)
    venv = make_venv(tmp_path / "venv", python=str(DISTRO_PYTHON), system_site=True)
    pip_install(site_packages(venv), wheels, distro.raw_name)
    run = run_cli("audit", "--python", str(venv), "--no-index", "--format", "json", cwd=tmp_path)
    assert run.code in {0, 1}, run.err
    assert len(findings(run, "RL306")) == 1
    assert findings(run, "RL305") == []  # PEP 668 does not apply inside a virtualenv
    shadowed = {item["package"]: item["detail"] for item in findings(run, "RL301")}
    copies = shadowed[distro.name]["copies"]
    assert copies[0] == {**copies[0], "version": "999.0", "path": str(site_packages(venv))}
    assert (distro.version, str(DIST_PACKAGES)) in [(copy["version"], copy["path"]) for copy in copies[1:]]
    assert distro.name not in {item["package"] for item in findings(run, "RL304")}  # the winning copy is pip's


def test_pip_default_index_is_asked_only_when_wanted(tmp_path):
    from reprolock.sources.environment import inspect  # noqa: PLC0415 - local to this test

    has_pip = subprocess.run([str(DISTRO_PYTHON), "-c", "import pip"], capture_output=True, check=False).returncode == 0
    asked = inspect(str(DISTRO_PYTHON), tmp_path, owners=False).interpreter.pip_index_url
    assert (asked is not None and asked.startswith("https://")) is has_pip
    assert inspect(str(DISTRO_PYTHON), tmp_path, owners=False, pip_index=False).interpreter.pip_index_url is None
