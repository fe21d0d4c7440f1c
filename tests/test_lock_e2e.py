"""End to end on the real test index: lock, install the lock with real pip, ``pip check``, verify.

Each test starts a real index on 127.0.0.1 (tests/indexserver.py) filled with
real wheels from tests/wheelfactory.py. Fresh virtualenvs are made without
pip and filled by the test runner's own pip through ``--python``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib

import pytest
from packaging.pylock import Pylock
from packaging.version import Version

from wheelfactory import Dist

PIP_ENV = {**os.environ, "PIP_CONFIG_FILE": "/dev/null", "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PIP_NO_CACHE_DIR": "1"}
for _name in ("PIP_FIND_LINKS", "PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL"):
    PIP_ENV.pop(_name, None)

WORLD = [
    # backtracking: web 2.0 needs core>=2, the inputs say core<2
    Dist("web", "1.0", requires=("core>=1",)),
    Dist("web", "2.0", requires=("core>=2",)),
    Dist("core", "1.9"),
    Dist("core", "2.0"),
    # markers: winonly never applies on this target
    Dist("app", "1.0", requires=('winonly; sys_platform == "win32"', "lib")),
    Dist("winonly", "1.0"),
    # extras
    Dist("client", "1.0", extras=("socks",), requires=('socksy>=2; extra == "socks"',)),
    Dist("socksy", "2.0"),
    Dist("lib", "1.0"),
    Dist("stray", "1.0"),
]


def pip(*args, check=True):
    done = subprocess.run([sys.executable, "-m", "pip", *args], capture_output=True, text=True, env=PIP_ENV, check=False)
    if check:
        assert done.returncode == 0, done.stdout + done.stderr
    return done


def fresh_venv(path):
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(path)], check=True)
    return path / "bin" / "python"


def installed(python):
    listed = json.loads(pip("--python", str(python), "list", "--format", "json").stdout)
    return {item["name"]: item["version"] for item in listed if item["name"] not in {"pip", "setuptools"}}


@pytest.fixture
def world(index_server):
    for dist in WORLD:
        index_server.add_wheel(dist)
    index_server.add_wheel(Dist("lib", "1.1"), yanked="broken upload")
    return index_server


@pytest.fixture
def project(tmp_path):
    (tmp_path / "requirements.in").write_text("web\ncore<2\napp\nclient[socks]\n-c constraints.txt\n", encoding="utf-8")
    (tmp_path / "constraints.txt").write_text("socksy<3\n", encoding="utf-8")
    return tmp_path


def lock(cli, project, server, *extra):
    return cli("lock", "requirements.in", "--index-url", server.url, "--no-cache", *extra, cwd=project)


EXPECTED = {"web": "1.0", "core": "1.9", "app": "1.0", "lib": "1.0", "client": "1.0", "socksy": "2.0"}


def test_lock_installs_with_require_hashes_and_passes_pip_check(cli, project, world, tmp_path):
    result = lock(cli, project, world, "-o", "requirements.txt")
    assert result.code == 0, result.err
    text = (project / "requirements.txt").read_text(encoding="utf-8")
    assert "winonly" not in text
    assert "lib==1.0" in text  # 1.1 is yanked
    assert "    # via\n    #   -c constraints.txt\n    #   client\n" in text
    assert text.count("--hash=sha256:") == 6
    python = fresh_venv(tmp_path / "venv")
    pip("--python", str(python), "install", "--require-hashes", "--no-deps", "--index-url", world.url, "-r", str(project / "requirements.txt"))
    pip("--python", str(python), "check")
    assert installed(python) == EXPECTED
    # a second run gives the same bytes
    assert lock(cli, project, world, "-o", "requirements.txt").code == 0
    assert (project / "requirements.txt").read_text(encoding="utf-8") == text


def test_pylock_installs_with_pip_and_keeps_edges(cli, project, world, tmp_path):
    assert Version(pip("--version").stdout.split()[1]) >= Version("26.1")  # the test extra requires it
    result = lock(cli, project, world, "-o", "pylock.toml")
    assert result.code == 0, result.err
    text = (project / "pylock.toml").read_text(encoding="utf-8")
    parsed = Pylock.from_dict(tomllib.loads(text))
    edges = {package.name: [dep["name"] for dep in package.dependencies or []] for package in parsed.packages}
    assert edges["app"] == ["lib"]
    assert edges["client"] == ["socksy"]
    requires = {package.name: package.tool["reprolock"].get("requires") for package in parsed.packages if package.tool}
    assert requires["client"] == ["socksy>=2"]
    graph = cli("graph", "pylock.toml", "--format", "json", cwd=project)  # no environment: the lock's own edges
    assert graph.code == 0, graph.err
    assert {"from": "client", "to": "socksy", "specifier": ">=2", "extra": None} in graph.json["edges"]
    assert {"from": "app", "to": "lib", "specifier": "", "extra": None} in graph.json["edges"]
    assert {node["name"]: node["version"] for node in graph.json["nodes"]}["socksy"] == "2.0"
    python = fresh_venv(tmp_path / "venv")
    pip("--python", str(python), "install", "--index-url", world.url, "-r", str(project / "pylock.toml"))
    pip("--python", str(python), "check")
    assert installed(python) == EXPECTED
    assert lock(cli, project, world, "-o", "pylock.toml").code == 0
    assert (project / "pylock.toml").read_text(encoding="utf-8") == text


def test_check_current_then_stale(cli, project, world):
    assert lock(cli, project, world, "-o", "requirements.txt").code == 0
    before = (project / "requirements.txt").read_bytes()
    current = lock(cli, project, world, "-o", "requirements.txt", "--check")
    assert current.code == 0, current.out + current.err
    assert "is up to date" in current.err
    # a root dropped: every remaining root is still met, but regenerating gives fewer packages
    (project / "requirements.in").write_text("web\ncore<2\nclient[socks]\n-c constraints.txt\n", encoding="utf-8")
    stale = lock(cli, project, world, "-o", "requirements.txt", "--check", "--format", "json")
    assert stale.code == 1
    (finding,) = stale.json["findings"]
    assert finding["rule"] == "RL406"
    assert finding["detail"]["removed"] == ["app", "lib"]
    assert (project / "requirements.txt").read_bytes() == before


def test_existing_pins_kept_until_upgraded(cli, project, world):
    assert lock(cli, project, world, "-o", "requirements.txt").code == 0
    world.add_wheel(Dist("lib", "1.2"))
    world.add_wheel(Dist("socksy", "2.5"))
    assert lock(cli, project, world, "-o", "requirements.txt").code == 0
    text = (project / "requirements.txt").read_text(encoding="utf-8")
    assert "lib==1.0" in text
    assert "socksy==2.0" in text
    assert lock(cli, project, world, "-o", "requirements.txt", "-P", "lib").code == 0
    text = (project / "requirements.txt").read_text(encoding="utf-8")
    assert "lib==1.2" in text
    assert "socksy==2.0" in text
    assert lock(cli, project, world, "-o", "requirements.txt", "--upgrade").code == 0
    assert "socksy==2.5" in (project / "requirements.txt").read_text(encoding="utf-8")


def test_conflict_exits_1_with_the_clash(cli, project, world):
    (project / "requirements.in").write_text("web>=2\ncore<2\n", encoding="utf-8")
    result = lock(cli, project, world, "-o", "requirements.txt")
    assert result.code == 1
    assert "core<2 (requirements.in:2)" in result.err
    assert "core>=2 (required by web 2.0)" in result.err
    assert "Traceback" not in result.err
    assert not (project / "requirements.txt").exists()


def test_from_freeze_drops_artefacts(cli, project, world, tmp_path):
    (project / "freeze.txt").write_text("web==1.0\ncore==1.9\nlib==1.0\npkg-resources==0.0.0\nstray==1.0\n", encoding="utf-8")
    (project / "roots.in").write_text("web\n", encoding="utf-8")
    result = cli("lock", "roots.in", "--from-freeze", "freeze.txt", "-o", "lock.txt", "--index-url", world.url, "--no-cache", "--format", "json", cwd=project)
    assert result.code == 0, result.err
    assert [item["rule"] for item in result.json["findings"]] == ["RL201"]
    python = fresh_venv(tmp_path / "venv")
    pip("--python", str(python), "install", "--require-hashes", "--no-deps", "--index-url", world.url, "-r", str(project / "lock.txt"))
    pip("--python", str(python), "check")
    assert installed(python) == {"web": "1.0", "core": "1.9"}
def test_from_env_pins_what_is_installed_and_verify(cli, project, world, tmp_path):
    python = fresh_venv(tmp_path / "venv")
    pip("--python", str(python), "install", "--index-url", world.url, "app", "core==1.9", "stray")
    world.add_wheel(Dist("lib", "3.0"))  # newer on the index, but the environment has 1.0
    (project / "roots.in").write_text("app\n", encoding="utf-8")
    venv = str(tmp_path / "venv")
    result = cli("lock", "roots.in", "--from-env", "--python", venv, "-o", "lock.txt", "--index-url", world.url, "--no-cache", cwd=project)
    assert result.code == 0, result.err
    text = (project / "lock.txt").read_text(encoding="utf-8")
    assert "app==1.0" in text
    assert "lib==1.0" in text
    assert "stray" not in text
    assert "core" not in text
    # verify: stray and core are installed but not locked
    checked = cli("verify", "lock.txt", "--python", venv, "--format", "json", cwd=project)
    assert checked.code == 1  # verify is exact: RL404 is an error there
    assert sorted((item["rule"], item["package"]) for item in checked.json["findings"]) == [("RL404", "core"), ("RL404", "stray")]
    assert cli("verify", "lock.txt", "--python", venv, "--allow-extra", cwd=project).code == 0
    pip("--python", str(python), "uninstall", "-y", "lib")
    missing = cli("verify", "lock.txt", "--python", venv, "--format", "json", cwd=project)
    assert missing.code == 1
    assert ("RL402", "lib") in {(item["rule"], item["package"]) for item in missing.json["findings"]}
    pip("--python", str(python), "install", "--index-url", world.url, "lib==3.0")
    other = cli("verify", "lock.txt", "--python", venv, "--format", "json", cwd=project)
    assert other.code == 1
    assert ("RL405", "lib") in {(item["rule"], item["package"]) for item in other.json["findings"]}


def test_one_package_is_counted_in_the_singular(cli, project, world):
    (project / "one.in").write_text("stray\n", encoding="utf-8")
    argv = ("lock", "one.in", "-o", "one.txt", "--index-url", world.url, "--no-cache")
    wrote = cli(*argv, cwd=project)
    assert wrote.code == 0, wrote.err
    assert "reprolock: wrote one.txt (1 package)\n" in wrote.err
    assert "(1 package)\n" in cli(*argv, "--check", cwd=project).err


def test_unwritable_output_fails_before_resolving(cli, project, world):
    result = lock(cli, project, world, "-o", "no/such/folder/requirements.txt")
    assert result.code == 3
    assert "no/such/folder does not exist" in result.err
    assert world.requests == []  # nothing was fetched for a lock that could not be written
    report = lock(cli, project, world, "-o", "requirements.txt", "--report", "missing/report.json", "--format", "json")
    assert report.code == 3
    assert not (project / "requirements.txt").exists()


def test_html_report_of_a_lock_lists_it_and_draws_its_graph(cli, project, world):
    result = lock(cli, project, world, "-o", "requirements.txt", "--format", "html", "--report", "lock.html")
    assert result.code == 0, result.err
    page = (project / "lock.html").read_text(encoding="utf-8")
    svg = page[page.index("<svg") :]
    for name in EXPECTED:
        assert f">{name}<" in svg  # every locked package is a node of the drawn graph
    table = page[page.index('<section id="lock">') :]
    table = table[: table.index("</section>")]
    assert "<code>requirements.txt</code>: 6 packages" in table
    for name, version in EXPECTED.items():
        assert name in table
        assert version in table
    markdown = lock(cli, project, world, "-o", "requirements.txt", "--format", "markdown", "--report", "lock.md")
    assert markdown.code == 0, markdown.err
    assert "```mermaid" in (project / "lock.md").read_text(encoding="utf-8")
