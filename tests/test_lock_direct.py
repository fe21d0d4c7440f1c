"""Direct references are locked (issue 15, item 2): VCS at its full commit id, archive URLs with their hash,
local paths as written; real pip installs each lock.

The projects are real: a git repository made in the test (``git+file://``), a
wheel served by the test index under a URL no page lists, and a local folder;
the source trees build with an in-tree backend (tests/sourceproject.py), so
pip needs nothing from outside.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import tomllib

import pytest
from packaging.pylock import Pylock

from sourceproject import commit_value, make_project, make_repository
from test_lock_e2e import PIP_ENV, fresh_venv, installed
from wheelfactory import Dist, build_sdist, build_wheel


@pytest.fixture
def world(index_server):
    index_server.add_wheel(Dist("lib", "1.0"))
    index_server.add_wheel(Dist("lib", "2.0"))
    index_server.add_wheel(Dist("extra-dep", "1.0"))
    return index_server


def pip_in(folder, *args, check=True):
    """Real pip, run in ``folder`` (relative paths in a requirements file start there, as for a user)."""
    done = subprocess.run([sys.executable, "-m", "pip", *args], capture_output=True, text=True, env=PIP_ENV, cwd=folder, check=False)
    if check:
        assert done.returncode == 0, done.stdout + done.stderr
    return done


def value_of(python, module):
    return subprocess.run([str(python), "-c", f"import {module}; print({module}.VALUE)"], capture_output=True, text=True, check=True).stdout.strip()


def lock(cli, folder, server, output, *extra):
    return cli("lock", "requirements.in", "--index-url", server.url, "--no-cache", "-o", output, *extra, cwd=folder)


# -- VCS ----------------------------------------------------------------------------------------------


def test_git_branch_is_locked_at_its_commit_and_pip_installs_that_commit(cli, tmp_path, world):
    repo = tmp_path / "repo"
    first = make_repository(repo, "mylib", "1.0", ["lib<2"])
    (tmp_path / "requirements.in").write_text(f"mylib @ git+file://{repo}@main\n", encoding="utf-8")
    result = lock(cli, tmp_path, world, "lock.txt")
    assert result.code == 0, result.err
    text = (tmp_path / "lock.txt").read_text(encoding="utf-8")
    assert f"mylib @ git+file://{repo}@{first}\n" in text
    assert "lib==1.0 \\\n" in text  # the repository's static dependency, resolved from the index
    assert "pip install --no-require-hashes --no-deps -r <this file>" in text
    assert lock(cli, tmp_path, world, "lock.txt").code == 0
    assert (tmp_path / "lock.txt").read_text(encoding="utf-8") == text  # deterministic
    audit = cli("audit", "lock.txt", "--format", "json", cwd=tmp_path)
    assert "RL103" not in audit.rules()
    assert lock(cli, tmp_path, world, "lock.txt", "--check").code == 0
    commit_value(repo, "mylib", 2)  # main moves on; the lock keeps the commit it was made from
    stale = lock(cli, tmp_path, world, "lock.txt", "--check", "--format", "json")
    assert stale.code == 1
    assert stale.json["findings"][0]["rule"] == "RL406"
    python = fresh_venv(tmp_path / "venv")
    pip_in(tmp_path, "--python", str(python), "install", "--no-require-hashes", "--no-deps", "--index-url", world.url, "-r", "lock.txt")
    pip_in(tmp_path, "--python", str(python), "check")
    assert installed(python) == {"mylib": "1.0", "lib": "1.0"}
    assert value_of(python, "mylib") == "1"


def test_git_reference_in_pylock_is_a_vcs_table_that_pip_installs(cli, tmp_path, world):
    repo = tmp_path / "repo"
    first = make_repository(repo, "mylib", "1.0", ["lib<2"])
    (tmp_path / "requirements.in").write_text(f"mylib @ git+file://{repo}@main\n", encoding="utf-8")
    result = lock(cli, tmp_path, world, "pylock.toml")
    assert result.code == 0, result.err
    parsed = Pylock.from_dict(tomllib.loads((tmp_path / "pylock.toml").read_text(encoding="utf-8")))
    mylib = next(package for package in parsed.packages if package.name == "mylib")
    assert mylib.vcs is not None
    assert (mylib.vcs.type, mylib.vcs.url, mylib.vcs.requested_revision, mylib.vcs.commit_id) == ("git", f"file://{repo}", "main", first)
    assert mylib.version is None  # PEP 751: a source tree's version is not recorded
    assert [dep["name"] for dep in mylib.dependencies or []] == ["lib"]
    commit_value(repo, "mylib", 2)
    python = fresh_venv(tmp_path / "venv")
    pip_in(tmp_path, "--python", str(python), "install", "--no-require-hashes", "--index-url", world.url, "-r", "pylock.toml")
    assert installed(python) == {"mylib": "1.0", "lib": "1.0"}
    assert value_of(python, "mylib") == "1"


def test_git_reference_without_static_dependencies_is_a_one_line_error(cli, tmp_path, world):
    repo = tmp_path / "repo"
    make_repository(repo, "mylib", "1.0", [], dynamic=("dependencies",))
    (tmp_path / "requirements.in").write_text(f"lib\nmylib @ git+file://{repo}@main\n", encoding="utf-8")
    result = lock(cli, tmp_path, world, "lock.txt")
    assert result.code == 3
    (line,) = result.err.splitlines()
    assert line.startswith(f"reprolock: error: requirements.in:2: mylib @ git+file://{repo}@main: its pyproject.toml declares dependencies dynamic")
    assert "list its dependencies" in line
    assert not (tmp_path / "lock.txt").exists()


def test_unknown_git_ref_is_a_one_line_error(cli, tmp_path, world):
    repo = tmp_path / "repo"
    make_repository(repo, "mylib", "1.0", [])
    (tmp_path / "requirements.in").write_text(f"mylib @ git+file://{repo}@no-such-branch\n", encoding="utf-8")
    result = lock(cli, tmp_path, world, "lock.txt")
    assert result.code == 3
    (line,) = result.err.splitlines()
    assert "requirements.in:1:" in line
    assert "cannot fetch no-such-branch" in line
    assert "Traceback" not in result.err


# -- archive URLs -------------------------------------------------------------------------------------


@pytest.fixture
def archive(world, tmp_path):
    """A wheel the test index serves under a URL no page lists."""
    path = build_wheel(Dist("arc", "2.0", requires=("lib<2",)), tmp_path / "built")
    world.blobs[path.name] = path.read_bytes()
    return f"{world.root}/files/{path.name}", hashlib.sha256(path.read_bytes()).hexdigest()


def test_archive_url_is_locked_with_its_hash_and_installs_with_require_hashes(cli, tmp_path, world, archive):
    url, digest = archive
    (tmp_path / "requirements.in").write_text(f"arc @ {url}\n", encoding="utf-8")
    result = lock(cli, tmp_path, world, "lock.txt")
    assert result.code == 0, result.err
    text = (tmp_path / "lock.txt").read_text(encoding="utf-8")
    assert f"arc @ {url} \\\n    --hash=sha256:{digest}\n" in text
    assert "lib==1.0 \\\n" in text
    assert "--no-require-hashes" not in text  # every line can be hashed
    python = fresh_venv(tmp_path / "venv")
    pip_in(tmp_path, "--python", str(python), "install", "--require-hashes", "--no-deps", "--index-url", world.url, "-r", "lock.txt")
    pip_in(tmp_path, "--python", str(python), "check")
    assert installed(python) == {"arc": "2.0", "lib": "1.0"}


def test_archive_url_in_pylock_is_an_archive_table(cli, tmp_path, world, archive):
    url, digest = archive
    (tmp_path / "requirements.in").write_text(f"arc @ {url}\n", encoding="utf-8")
    assert lock(cli, tmp_path, world, "pylock.toml").code == 0
    parsed = Pylock.from_dict(tomllib.loads((tmp_path / "pylock.toml").read_text(encoding="utf-8")))
    arc = next(package for package in parsed.packages if package.name == "arc")
    assert arc.archive is not None
    assert (arc.archive.url, dict(arc.archive.hashes), str(arc.version)) == (url, {"sha256": digest}, "2.0")
    python = fresh_venv(tmp_path / "venv")
    pip_in(tmp_path, "--python", str(python), "install", "--index-url", world.url, "-r", "pylock.toml")
    assert installed(python) == {"arc": "2.0", "lib": "1.0"}


def test_archive_with_a_wrong_hash_or_a_dynamic_sdist_is_refused(cli, tmp_path, world, archive):
    url, _ = archive
    (tmp_path / "requirements.in").write_text(f"arc @ {url}#sha256={'0' * 64}\n", encoding="utf-8")
    wrong = lock(cli, tmp_path, world, "lock.txt")
    assert wrong.code == 3
    assert len(wrong.err.splitlines()) == 1
    assert f"not {'0' * 64}" in wrong.err
    sdist = build_sdist(Dist("old", "1.0", requires=("lib",)), tmp_path / "built")  # Metadata-Version 2.1: not static
    world.blobs[sdist.name] = sdist.read_bytes()
    (tmp_path / "requirements.in").write_text(f"old @ {world.root}/files/{sdist.name}\n", encoding="utf-8")
    built = lock(cli, tmp_path, world, "lock.txt")
    assert built.code == 3
    (line,) = built.err.splitlines()
    assert "requirements.in:1: old @" in line
    assert "list its dependencies" in line
    assert not (tmp_path / "lock.txt").exists()


# -- local paths --------------------------------------------------------------------------------------


def test_editable_local_path_is_kept_as_written_and_reported(cli, tmp_path, world):
    make_project(tmp_path / "mylocal", "mylocal", "0.3", ["lib<2", "extra-dep"])
    (tmp_path / "requirements.in").write_text("-e ./mylocal\n", encoding="utf-8")
    result = lock(cli, tmp_path, world, "lock.txt", "--format", "json")
    assert result.code == 0, result.err
    assert sorted((item["rule"], item["package"]) for item in result.json["findings"]) == [("RL105", "mylocal"), ("RL106", "mylocal")]
    text = (tmp_path / "lock.txt").read_text(encoding="utf-8")
    assert "\n-e ./mylocal\n" in text
    assert "lib==1.0 \\\n" in text
    assert "extra-dep==1.0 \\\n" in text
    python = fresh_venv(tmp_path / "venv")
    pip_in(tmp_path, "--python", str(python), "install", "--no-require-hashes", "--no-deps", "--index-url", world.url, "-r", "lock.txt")
    assert installed(python) == {"mylocal": "0.3", "lib": "1.0", "extra-dep": "1.0"}
    (tmp_path / "mylocal" / "mylocal" / "__init__.py").write_text("VALUE = 7\n", encoding="utf-8")
    assert value_of(python, "mylocal") == "7"  # editable: the working tree


def test_local_path_in_pylock_is_a_directory_table_relative_to_the_lock(cli, tmp_path, world):
    make_project(tmp_path / "mylocal", "mylocal", "0.3", ["lib<2"])
    (tmp_path / "locks").mkdir()
    (tmp_path / "requirements.in").write_text("./mylocal\n", encoding="utf-8")
    result = lock(cli, tmp_path, world, "locks/pylock.toml")
    assert result.code == 0, result.err
    parsed = Pylock.from_dict(tomllib.loads((tmp_path / "locks" / "pylock.toml").read_text(encoding="utf-8")))
    mine = next(package for package in parsed.packages if package.name == "mylocal")
    assert mine.directory is not None
    assert (mine.directory.path, mine.directory.editable) == ("../mylocal", None)
    python = fresh_venv(tmp_path / "venv")
    pip_in(tmp_path / "locks", "--python", str(python), "install", "--no-require-hashes", "--index-url", world.url, "-r", "pylock.toml")
    assert installed(python) == {"mylocal": "0.3", "lib": "1.0"}


def test_local_path_without_pyproject_is_a_one_line_error(cli, tmp_path, world):
    (tmp_path / "legacy").mkdir()
    (tmp_path / "legacy" / "setup.py").write_text("from setuptools import setup\nsetup(name='legacy')\n", encoding="utf-8")
    (tmp_path / "requirements.in").write_text("-e ./legacy\n", encoding="utf-8")
    result = lock(cli, tmp_path, world, "lock.txt")
    assert result.code == 3
    (line,) = result.err.splitlines()
    assert "requirements.in:1: -e ./legacy:" in line
    assert "has no pyproject.toml" in line
    missing = tmp_path / "requirements.in"
    missing.write_text("./nowhere\n", encoding="utf-8")
    gone = lock(cli, tmp_path, world, "lock.txt")
    assert gone.code == 3
    assert "does not exist" in gone.err
    assert not (tmp_path / "lock.txt").exists()


# -- --from-freeze / --from-env: a named direct reference is matched by name ----------------------------


def test_from_freeze_matches_a_named_direct_root_by_name_and_refuses_an_unnamed_one(cli, tmp_path, world):
    commit = "a" * 40
    (tmp_path / "freeze.txt").write_text(f"mylib @ git+https://git.invalid/mylib.git@{commit}\nlib==1.0\n", encoding="utf-8")
    (tmp_path / "roots.in").write_text("mylib @ git+https://git.invalid/mylib.git@main\nlib\n", encoding="utf-8")
    argv = ("lock", "roots.in", "--from-freeze", "freeze.txt", "-o", "lock.txt", "--index-url", world.url, "--no-cache")
    result = cli(*argv, "--format", "json", cwd=tmp_path)
    # nothing is fetched (the freeze says what is installed); the git install is reported as not reproducible from the index
    assert [(item["rule"], item["package"]) for item in result.json["findings"]] == [("RL504", "mylib")]
    text = (tmp_path / "lock.txt").read_text(encoding="utf-8")
    assert f"    # not reproducible from the index: installed from git+https://git.invalid/mylib.git@{commit}\n" in text
    assert "lib==1.0 \\\n" in text
    (tmp_path / "roots.in").write_text("./somewhere\n", encoding="utf-8")
    unnamed = cli(*argv, cwd=tmp_path)
    assert unnamed.code == 3
    assert unnamed.err.splitlines() == [
        "reprolock: error: roots.in:1: ./somewhere: an unnamed reference cannot be matched to an installed distribution (write it as NAME @ URL)"
    ]


def test_a_direct_version_that_another_requirement_excludes_is_named_in_the_conflict(cli, tmp_path, world, archive):
    url, _ = archive
    (tmp_path / "requirements.in").write_text(f"arc @ {url}\narc<2\n", encoding="utf-8")
    result = lock(cli, tmp_path, world, "lock.txt")
    assert result.code == 1
    assert result.err.splitlines() == [f"reprolock: error: cannot resolve: arc @ {url} is version 2.0, which does not meet arc<2 (requirements.in:2)"]


def test_offline_refuses_a_remote_reference_naming_its_line(cli, tmp_path, world, archive):
    url, _ = archive
    (tmp_path / "requirements.in").write_text(f"lib\narc @ {url}\n", encoding="utf-8")
    result = lock(cli, tmp_path, world, "lock.txt", "--offline")
    assert result.code == 4
    (line,) = result.err.splitlines()
    assert line.startswith(f"reprolock: error: requirements.in:2: arc @ {url}: --offline")
