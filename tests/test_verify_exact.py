"""``reprolock verify`` is exact: real virtualenvs that real pip filled, checked against locks.

Anything installed that the lock does not have, any second copy of a
distribution, any other version, and any installed archive or file whose hash
disagrees with the lock or the install's RECORD is an error (exit 1);
``--allow-extra`` lets the first through.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys

import pytest

from conftest import findings, run_cli
from envfactory import base_python, make_venv, site_packages
from projectfactory import make_project
from wheelfactory import Dist, build_all

PIP_ENV = {**os.environ, "PIP_CONFIG_FILE": "/dev/null", "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PIP_NO_INPUT": "1"}
for _name in ("PIP_FIND_LINKS", "PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL"):
    PIP_ENV.pop(_name, None)

DISTS = (
    Dist("app", "1.0", requires=("lib>=1",)),
    Dist("lib", "1.0"),
    Dist("stray", "1.0"),
    Dist("other", "2.0"),
    # six.py differs between the two, so each RECORD can tell whose file is on disk
    Dist("six", "1.16.0", modules=(), files={"six.py": "__version__ = '1.16.0'\n"}),
    Dist("six", "1.17.0", modules=(), files={"six.py": "__version__ = '1.17.0'\n"}),
)


def pip(*args: str) -> None:
    done = subprocess.run([sys.executable, "-m", "pip", *args], capture_output=True, text=True, env=PIP_ENV, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.fixture(scope="module")
def wheelhouse(tmp_path_factory):
    folder = tmp_path_factory.mktemp("verify-wheels")
    build_all(DISTS, folder)
    return folder


def venv_with(folder, wheelhouse, *names):
    venv = make_venv(folder)
    pip("install", "--quiet", "--no-index", "--no-deps", "--find-links", str(wheelhouse), "--target", str(site_packages(venv)), *names)
    return venv


def verify(project, lock_text, venv, *extra):
    (project / "lock.txt").write_text(lock_text, encoding="utf-8")
    run = run_cli("verify", "lock.txt", "--python", str(venv), "--format", "json", *extra, cwd=project)
    assert run.code in {0, 1}, run.err
    return run


def rules(run):
    return sorted((item["rule"], item["package"], item["severity"]) for item in run.json["findings"])


@pytest.fixture(scope="module")
def plain(tmp_path_factory, wheelhouse):
    return venv_with(tmp_path_factory.mktemp("verify-plain") / "venv", wheelhouse, "app", "lib", "stray", "other")


def test_the_exact_set_passes(plain, tmp_path):
    run = verify(tmp_path, "app==1.0\nlib==1.0\nstray==1.0\nother==2.0\n", plain)
    assert run.code == 0, run.out
    assert run.json["findings"] == []


def test_installed_but_not_locked_is_an_error(plain, tmp_path):
    run = verify(tmp_path, "app==1.0\nlib==1.0\n", plain)
    assert run.code == 1
    assert rules(run) == [("RL404", "other", "error"), ("RL404", "stray", "error")]
    assert findings(run, "RL404")[0]["message"] == "other 2.0 is installed but not in the lock"


def test_allow_extra_lets_unlocked_packages_through_but_nothing_else(plain, tmp_path):
    allowed = verify(tmp_path, "app==1.0\nlib==1.0\n", plain, "--allow-extra")
    assert allowed.code == 0, allowed.out
    assert rules(allowed) == [("RL404", "other", "info"), ("RL404", "stray", "info")]
    mismatch = verify(tmp_path, "app==1.0\nlib==2.0\n", plain, "--allow-extra")
    assert mismatch.code == 1
    assert ("RL405", "lib", "error") in rules(mismatch)


def test_a_lock_entry_whose_marker_excludes_this_target_does_not_cover_the_installed_package(plain, tmp_path):
    run = verify(tmp_path, "app==1.0\nlib==1.0\nother==2.0\nstray==1.0; sys_platform == 'win32'\n", plain)
    assert run.code == 1
    assert rules(run) == [("RL404", "stray", "error")]


def test_pip_counts_like_any_other_package(tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([base_python(), "-m", "venv", str(venv)], check=True, env=PIP_ENV)  # with pip, from ensurepip's bundled wheel
    python = str(venv / "bin" / "python")
    frozen = subprocess.run([python, "-m", "pip", "freeze", "--all"], capture_output=True, text=True, check=True, env=PIP_ENV).stdout
    assert "pip==" in frozen
    exact = verify(tmp_path, frozen, venv)
    assert exact.code == 0, exact.out
    without_pip = "".join(line + "\n" for line in frozen.splitlines() if not line.startswith("pip=="))
    unlocked = verify(tmp_path, without_pip, venv)
    assert unlocked.code == 1
    assert rules(unlocked) == [("RL404", "pip", "error")]


def test_two_metadata_folders_in_one_site_packages(tmp_path, wheelhouse):
    """``pip install --target --upgrade`` replaces six.py and leaves the old dist-info behind."""
    venv = venv_with(tmp_path / "venv", wheelhouse, "six==1.16.0")
    pip("install", "--quiet", "--no-index", "--no-deps", "--upgrade", "--find-links", str(wheelhouse), "--target", str(site_packages(venv)), "six==1.17.0")
    assert sorted(path.name for path in site_packages(venv).glob("six-*.dist-info")) == ["six-1.16.0.dist-info", "six-1.17.0.dist-info"]
    run = verify(tmp_path, "six==1.17.0\n", venv)
    assert run.code == 1
    assert rules(run) == [("RL301", "six", "error")]  # 1.17.0's files are on disk: no version mismatch
    message = findings(run, "RL301")[0]["message"]
    assert message == f"two metadata folders for six in one site-packages ({site_packages(venv)}): 1.16.0 and 1.17.0; the files on disk are 1.17.0's"
    audit = run_cli("audit", "--python", str(venv), "--no-index", "--format", "json", cwd=tmp_path)
    assert [item["message"] for item in findings(audit, "RL301")] == [message]
    assert findings(audit, "RL301")[0]["detail"]["on_disk"] == "1.17.0"


def test_an_archive_installed_with_another_hash_is_a_mismatch(tmp_path, wheelhouse):
    venv = make_venv(tmp_path / "venv")
    wheel = wheelhouse / "six-1.16.0-py3-none-any.whl"
    pip("install", "--quiet", "--no-index", "--no-deps", "--target", str(site_packages(venv)), str(wheel))
    right = hashlib.sha256(wheel.read_bytes()).hexdigest()
    wrong = hashlib.sha256((wheelhouse / "six-1.17.0-py3-none-any.whl").read_bytes()).hexdigest()
    matching = verify(tmp_path, f"six==1.16.0 --hash=sha256:{wrong} --hash=sha256:{right}\n", venv)
    assert matching.code == 0, matching.out
    other = verify(tmp_path, f"six==1.16.0 --hash=sha256:{wrong}\n", venv)
    assert other.code == 1
    assert rules(other) == [("RL507", "six", "error")]
    found = findings(other, "RL507")[0]
    assert found["detail"]["installed_hashes"] == [f"sha256:{right}"]
    assert right in found["message"]
    assert "the lock does not list" in found["message"]


def test_installed_files_that_differ_from_their_record_are_a_mismatch(tmp_path, wheelhouse):
    venv = venv_with(tmp_path / "venv", wheelhouse, "app", "lib")
    lock = "app==1.0\nlib==1.0\n"
    assert verify(tmp_path, lock, venv).code == 0
    (site_packages(venv) / "lib" / "__init__.py").write_text("PATCHED = True\n", encoding="utf-8")
    (site_packages(venv) / "app" / "__init__.py").unlink()
    run = verify(tmp_path, lock, venv)
    assert run.code == 1
    assert rules(run) == [("RL507", "app", "error"), ("RL507", "lib", "error")]
    by_name = {item["package"]: item for item in findings(run, "RL507")}
    assert by_name["lib"]["detail"]["changed_files"] == ["lib/__init__.py"]
    assert by_name["app"]["detail"]["missing_files"] == ["app/__init__.py"]
    assert by_name["lib"]["message"] == "lib 1.0: 1 installed file differs from its RECORD (lib/__init__.py)"


def test_the_project_a_lock_names_by_its_path_is_not_extra(tmp_path, wheelhouse):
    project = make_project(tmp_path / "proj", "localproj", "0.3", requires=["lib>=1"])
    venv = make_venv(tmp_path / "venv")
    python = str(venv / "bin" / "python")
    pip("--python", python, "install", "--quiet", "--no-index", "--no-build-isolation", "--find-links", str(wheelhouse), str(project))
    (tmp_path / "locks").mkdir()
    by_path = verify(tmp_path / "locks", "lib==1.0\n../proj\n", venv)
    assert by_path.code == 0, by_path.out
    unlisted = verify(tmp_path / "locks", "lib==1.0\n", venv)
    assert rules(unlisted) == [("RL404", "localproj", "error")]
    hashed = verify(tmp_path / "locks", "lib==1.0\nlocalproj==0.3 --hash=sha256:" + "0" * 64 + "\n", venv)
    assert rules(hashed) == [("RL507", "localproj", "error")]
    assert "was built from the folder file://" in findings(hashed, "RL507")[0]["message"]


def test_padded_hashes_and_an_unreadable_record_are_no_mismatch(tmp_path, wheelhouse):
    venv = venv_with(tmp_path / "venv", wheelhouse, "app", "lib")
    lib_record = next(site_packages(venv).glob("lib-1.0.dist-info")) / "RECORD"
    rows = lib_record.read_text(encoding="utf-8").splitlines()
    padded = []
    for row in rows:
        path, digest, size = row.split(",")
        padded.append(f"{path},{digest}=,{size}" if digest else row)  # base64 padding, which the wheel spec drops
    assert padded != rows
    lib_record.write_text("\n".join(padded) + "\n", encoding="utf-8")
    (next(site_packages(venv).glob("app-1.0.dist-info")) / "RECORD").write_bytes(b'\x00\xff\xfe,\x00\n"unterminated')
    run = verify(tmp_path, "app==1.0\nlib==1.0\n", venv)
    assert run.code == 0, run.out
    assert "Traceback" not in run.err
