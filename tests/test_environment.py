"""Environment audits against real virtualenvs that real pip filled with wheels built here."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from conftest import findings, run_cli
from envfactory import PIP_ENV, base_python, make_venv, pip_install, site_packages
from reprolock.sources.environment import inspect
from reprolock.sources.metadata import listed_distributions
from wheelfactory import Dist, build_all

DISTS = (
    Dist(
        "app",
        "1.0",
        requires=(
            "libc>=2.0",
            "ghost>=1.0",
            "feature[fast]>=1.0",
            "winonly>=1; sys_platform == 'win32'",
        ),
    ),
    Dist("libc", "1.0"),
    Dist("feature", "1.0", extras=("fast", "slow"), requires=("speedup>=1; extra == 'fast'", "unused>=1; extra == 'slow'")),
    Dist("speedup", "1.0"),
    Dist("cyc-a", "1.0", requires=("cyc-b>=1",)),
    Dist("cyc-b", "1.0", requires=("cyc-a",)),
    Dist("typing", "3.7.4.3", modules=("typing.py",)),
    Dist("owner-one", "1.0", modules=("shared",)),
    Dist("owner-two", "2.0", modules=("shared",)),
    Dist("ns-one", "1.0", modules=(), files={"nspkg/one/__init__.py": "", "nspkg/one/core.py": "X = 1\n"}),
    Dist("ns-two", "1.0", modules=(), files={"nspkg/two/__init__.py": ""}),
    Dist("localmod", "1.0"),
    Dist("stray", "1.0"),
    Dist("dup", "1.0"),
    Dist("dup", "2.0"),
    Dist("dup", "3.0"),
)
MAIN = ("app", "libc", "feature", "speedup", "cyc-a", "cyc-b", "typing", "owner-one", "owner-two", "ns-one", "ns-two", "localmod", "stray", "dup==1.0")


@pytest.fixture(scope="session")
def wheelhouse(tmp_path_factory):
    folder = tmp_path_factory.mktemp("wheels")
    build_all(DISTS, folder)
    return folder


@pytest.fixture(scope="session")
def main_venv(tmp_path_factory, wheelhouse):
    venv = make_venv(tmp_path_factory.mktemp("envs") / "main")
    pip_install(site_packages(venv), wheelhouse, *MAIN)
    return venv


@pytest.fixture(scope="session")
def user_site_venv(tmp_path_factory, wheelhouse):
    """A venv that sees the system site-packages, with ``dup`` in it and another ``dup`` in the user site."""
    root = tmp_path_factory.mktemp("usersite")
    venv = make_venv(root / "venv", system_site=True)
    pip_install(site_packages(venv), wheelhouse, "dup==1.0")
    userbase = root / "userbase"
    user_site = userbase / "lib" / f"python{sys.version_info[0]}.{sys.version_info[1]}" / "site-packages"
    pip_install(user_site, wheelhouse, "dup==3.0", "stray")
    return venv, userbase, user_site


@pytest.fixture
def project(tmp_path):
    return tmp_path


def audit(venv, cwd, *files):
    run = run_cli("audit", *files, "--python", str(venv), "--no-index", "--format", "json", cwd=cwd)
    assert run.code in {0, 1}, run.err
    return run


def by_package(run, rule):
    return {item["package"]: item for item in findings(run, rule)}


def test_missing_conflict_and_extras_as_pip_check_sees_them(main_venv, project):
    run = audit(main_venv, project)
    missing = by_package(run, "RL402")
    assert set(missing) == {"ghost"}  # winonly's marker is false here; unused is behind an extra nobody asks for
    assert missing["ghost"]["detail"]["required_by"] == "app"
    assert missing["ghost"]["location"] is None
    conflict = by_package(run, "RL401")
    assert set(conflict) == {"libc"}
    assert conflict["libc"]["detail"]["specifier"] == ">=2.0"
    assert conflict["libc"]["detail"]["version"] == "1.0"
    pip_check = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(main_venv / "bin" / "python"), "check"],
        capture_output=True,
        text=True,
        env=PIP_ENV,
        check=False,
    )
    assert "app 1.0 requires ghost, which is not installed." in pip_check.stdout
    assert "app 1.0 has requirement libc>=2.0, but you have libc 1.0." in pip_check.stdout


def test_cycle(main_venv, project):
    cycles = findings(audit(main_venv, project), "RL403")
    assert [item["detail"]["members"] for item in cycles] == [["cyc-a", "cyc-b"]]
    assert cycles[0]["severity"] == "info"


def test_stdlib_backport_is_shadowed_by_the_stdlib(main_venv, project):
    run = audit(main_venv, project)
    shadow = by_package(run, "RL302")
    assert set(shadow) == {"typing"}
    assert shadow["typing"]["detail"]["wins"] is False
    assert "is shadowed by the standard library" in shadow["typing"]["message"]
    assert "typing" in by_package(run, "RL203")


def test_two_distributions_owning_one_module_but_not_a_namespace(main_venv, project):
    collisions = findings(audit(main_venv, project), "RL303")
    assert sorted(item["package"] for item in collisions) == ["owner-one", "owner-two"]
    assert {item["detail"]["module"] for item in collisions} == {"shared"}


def test_local_file_shadows_installed_module(main_venv, project):
    (project / "localmod.py").write_text("print('mine')\n", encoding="utf-8")
    (project / "feature").mkdir()
    (project / "feature" / "__init__.py").write_text("", encoding="utf-8")
    (project / "speedup").mkdir()  # no __init__.py: a namespace portion never shadows a package
    shadows = by_package(audit(main_venv, project), "RL308")
    assert set(shadows) == {"localmod", "feature"}
    assert shadows["localmod"]["detail"]["local"] == "localmod.py"


def test_extraneous_missing_and_mismatch_against_files(main_venv, project):
    (project / "requirements.txt").write_text("app==1.0\nlibc==1.5\ncyc-a\nnot-there==2.0\n", encoding="utf-8")
    run = audit(main_venv, project, "requirements.txt")
    extraneous = set(by_package(run, "RL404"))
    # Not reachable from app / libc / cyc-a: reached are app, libc, ghost, feature, speedup, cyc-a, cyc-b.
    assert extraneous == {"typing", "owner-one", "owner-two", "ns-one", "ns-two", "localmod", "stray", "dup"}
    mismatch = by_package(run, "RL405")
    assert set(mismatch) == {"libc"}
    assert mismatch["libc"]["location"] == {"path": "requirements.txt", "line": 2}
    assert mismatch["libc"]["detail"] == {"pinned": "1.5", "installed": "1.0"}
    missing = by_package(run, "RL402")
    assert missing["not-there"]["location"] == {"path": "requirements.txt", "line": 4}
    rows = {row["name"]: row for row in run.json["packages"]}
    assert rows["libc"]["pinned"] == "1.5"
    assert rows["libc"]["installed"] == "1.0"
    assert rows["libc"]["installer"] == "pip"
    assert rows["libc"]["required_by"] == ["app"]
    assert rows["libc"]["location"] == str(site_packages(main_venv))


def test_no_files_means_no_extraneous(main_venv, project):
    run = audit(main_venv, project)
    assert findings(run, "RL404") == []
    assert run.json["inputs"] == []
    environment = run.json["environment"]
    assert environment["python"] == str(main_venv / "bin" / "python")
    assert environment["prefix"] == str(main_venv)
    assert str(site_packages(main_venv)) in environment["sys_path"]


def test_relative_venv_folder_is_reported_as_a_clean_path(main_venv, project):
    relative = os.path.relpath(main_venv, project)  # "../..." from the project, not the process's cwd
    assert relative.startswith("..")
    run = audit(relative, project)
    assert run.json["environment"]["python"] == str(main_venv / "bin" / "python")


def test_pythonpath_copy_wins_over_the_venv_copy(main_venv, project, tmp_path, wheelhouse, monkeypatch):
    extra = tmp_path / "pp"
    pip_install(extra, wheelhouse, "dup==2.0")
    monkeypatch.setenv("PYTHONPATH", str(extra))
    shadowed = by_package(audit(main_venv, project), "RL301")
    assert set(shadowed) == {"dup"}
    detail = shadowed["dup"]["detail"]
    assert detail["winner"]["version"] == "2.0"
    assert detail["winner"]["path"] == str(extra)
    assert [copy["version"] for copy in detail["copies"]] == ["2.0", "1.0"]


def test_user_site_over_system_site_venv(user_site_venv, project, monkeypatch):
    venv, userbase, user_site = user_site_venv
    monkeypatch.setenv("PYTHONUSERBASE", str(userbase))
    run = audit(venv, project)
    assert len(findings(run, "RL306")) == 1
    users = by_package(run, "RL307")
    assert set(users) == {"stray"}  # dup's user-site copy is shadowed, so it is not loaded from there
    assert users["stray"]["detail"]["path"] == str(user_site)
    shadowed = by_package(run, "RL301")["dup"]["detail"]
    assert shadowed["winner"]["version"] == "1.0"  # the venv's own folder comes before the user site
    assert [(copy["version"], copy["path"]) for copy in shadowed["copies"]] == [("1.0", str(site_packages(venv))), ("3.0", str(user_site))]


def test_graph_edges_equal_the_targets_own_metadata(main_venv, project):
    graph = run_cli("graph", "--python", str(main_venv), "--format", "json", cwd=project)
    assert graph.code == 0, graph.err
    data = graph.json
    python = str(main_venv / "bin" / "python")
    code = "import importlib.metadata as m, json; print(json.dumps({d.metadata['Name']: d.requires or [] for d in m.distributions()}))"
    own = json.loads(subprocess.run([python, "-c", code], capture_output=True, text=True, check=True).stdout)
    markers = dict(inspect(str(main_venv), project).interpreter.markers)
    expected = set()
    for name, requires in own.items():
        for text in requires:
            req = Requirement(text)
            if req.marker is None or Marker(str(req.marker)).evaluate({**markers, "extra": ""}):
                expected.add((canonicalize_name(name), canonicalize_name(req.name), str(req.specifier)))
    base = {(edge["from"], edge["to"], edge["specifier"]) for edge in data["edges"] if edge["extra"] is None}
    assert base == expected
    assert {"from": "feature", "to": "speedup", "specifier": ">=1", "extra": "fast"} in data["edges"]
    assert not any(edge["to"] in {"unused", "winonly"} for edge in data["edges"])
    nodes = {node["name"]: node for node in data["nodes"]}
    assert nodes["ghost"]["version"] is None
    assert nodes["app"]["root"] is True
    assert nodes["libc"]["root"] is False
    assert nodes["cyc-a"]["root"] is True  # a cycle nothing requires still gets a root
    again = run_cli("graph", "--python", str(main_venv), "--format", "json", cwd=project)
    assert again.out == graph.out


def test_graph_narrowing_and_formats(main_venv, project):
    narrowed = run_cli("graph", "--python", str(main_venv), "--format", "json", "--package", "feature", cwd=project).json
    assert [node["name"] for node in narrowed["nodes"]] == ["feature", "speedup"]
    reverse = run_cli("graph", "--python", str(main_venv), "--format", "json", "--package", "speedup", "--reverse", cwd=project).json
    assert [node["name"] for node in reverse["nodes"]] == ["app", "feature", "speedup"]
    shallow = run_cli("graph", "--python", str(main_venv), "--format", "json", "--package", "app", "--depth", "1", cwd=project).json
    assert "speedup" not in {node["name"] for node in shallow["nodes"]}
    tree = run_cli("graph", "--python", str(main_venv), "--package", "app", cwd=project)
    assert tree.code == 0
    assert "app 1.0" in tree.out
    assert "speedup 1.0 [requires >=1 via extra fast]" in tree.out
    assert "ghost (not installed)" in tree.out
    dot = run_cli("graph", "--python", str(main_venv), "--format", "dot", "--package", "feature", cwd=project).out
    assert '"feature" -> "speedup" [label=">=1 [fast]"];' in dot
    mermaid = run_cli("graph", "--python", str(main_venv), "--format", "mermaid", "--package", "cyc-a", cwd=project).out
    assert 'p_cyc_a -->|">=1"| p_cyc_b' in mermaid
    assert "p_cyc_b --> p_cyc_a" in mermaid
    roots = run_cli("graph", "--python", str(main_venv), "--format", "json", "requirements.in", cwd=_with_file(project, "requirements.in", "libc\n")).json
    assert [node["name"] for node in roots["nodes"] if node["root"]] == ["libc"]


def _with_file(folder: Path, name: str, text: str) -> Path:
    (folder / name).write_text(text, encoding="utf-8")
    return folder


def test_graph_errors(main_venv, project):
    unknown = run_cli("graph", "--python", str(main_venv), "--package", "nope", cwd=project)
    assert unknown.code == 2
    assert "nope" in unknown.err
    nothing = run_cli("graph", cwd=project)
    assert nothing.code == 2
    assert "--python" in nothing.err


@pytest.mark.parametrize("python", ["does-not-exist/python", "/bin/false"])
def test_interpreter_that_cannot_be_queried_is_exit_3(project, python):
    run = run_cli("audit", "--python", python, "--no-index", cwd=project)
    assert run.code == 3
    assert "Traceback" not in run.err
    assert python in run.err


def test_default_target_is_virtual_env_then_dot_venv(main_venv, project, monkeypatch):
    (project / ".venv").symlink_to(main_venv)
    local = run_cli("audit", "--no-index", "--format", "json", cwd=project).json
    assert local["environment"]["prefix"] == str(project / ".venv")
    assert {row["name"] for row in local["packages"]} >= {"app", "libc"}
    monkeypatch.setenv("VIRTUAL_ENV", "/no/such/venv")
    active = run_cli("audit", "--no-index", cwd=project)
    assert active.code == 3
    assert "/no/such/venv" in active.err
    (project / "requirements.txt").write_text("app==1.0\n", encoding="utf-8")
    files_only = run_cli("audit", "--no-index", "--files-only", "--format", "json", cwd=project).json
    assert files_only["environment"] is None  # neither $VIRTUAL_ENV nor ./.venv is looked at
    assert [row["name"] for row in files_only["packages"]] == ["app"]
    both = run_cli("audit", "--files-only", "--python", str(main_venv), cwd=project)
    assert both.code == 2


OLD_PYTHON = Path("/root/.pyenv/versions/3.8.18/bin/python")


@pytest.mark.skipif(not OLD_PYTHON.exists() and shutil.which("python3.8") is None, reason="no CPython 3.8 on this machine")
def test_probe_runs_on_python_38(project):
    python = str(OLD_PYTHON) if OLD_PYTHON.exists() else shutil.which("python3.8")
    env = inspect(python, project)
    assert env.interpreter.version.startswith("3.8.")
    assert "json" in env.interpreter.stdlib  # 3.8 has no sys.stdlib_module_names: the probe lists the stdlib folder
    assert dict(env.interpreter.markers)["python_version"] == "3.8"


def test_probe_matches_the_interpreter(main_venv, project):
    interpreter = inspect(str(main_venv), project).interpreter
    python = str(main_venv / "bin" / "python")
    code = "import sys, json, sysconfig; print(json.dumps([sys.path[1:], sys.prefix, sysconfig.get_paths()['purelib']]))"
    path, prefix, purelib = json.loads(subprocess.run([python, "-c", code], capture_output=True, text=True, check=True, cwd=project).stdout)
    assert list(interpreter.sys_path) == path
    assert interpreter.prefix == prefix
    assert interpreter.site_packages[0] == purelib
    assert interpreter.is_venv is True
    assert interpreter.system_site_packages is False
    assert interpreter.externally_managed is None
    assert base_python()


def test_html_and_markdown_audits_draw_the_environment_graph(main_venv, project):
    (project / "requirements.txt").write_text("app==1.0\n", encoding="utf-8")
    html = run_cli("audit", "requirements.txt", "--python", str(main_venv), "--no-index", "--format", "html", cwd=project)
    assert html.code == 1, html.err
    svg = html.out[html.out.index("<svg") :]
    for name in ("app", "libc", "feature", "speedup"):
        assert f">{name}<" in svg
    markdown = run_cli("audit", "requirements.txt", "--python", str(main_venv), "--no-index", "--format", "markdown", cwd=project)
    assert "```mermaid" in markdown.out
    assert "app" in markdown.out[markdown.out.index("```mermaid") :]
    plain = run_cli("audit", "requirements.txt", "--python", str(main_venv), "--no-index", "--format", "json", cwd=project)
    assert "graph" not in plain.json


def test_text_and_markdown_reports_name_the_environment(main_venv, project):
    python = str(main_venv / "bin" / "python")
    text = run_cli("audit", "--python", str(main_venv), "--no-index", cwd=project)
    assert f"Environment: {python} (Python " in text.out
    assert "File " not in text.out  # no files audited: no empty file table
    markdown = run_cli("audit", "--python", str(main_venv), "--no-index", "--format", "markdown", cwd=project)
    assert f"Environment: `{python}` (Python " in markdown.out
    assert "0 files," in markdown.out


def test_verify_reports_are_headed_verify(main_venv, project):
    (project / "lock.txt").write_text("not-there==1.0\n", encoding="utf-8")
    text = run_cli("verify", "lock.txt", "--python", str(main_venv), cwd=project)
    assert text.code == 1
    assert text.out.startswith("reprolock verify ")
    markdown = run_cli("verify", "lock.txt", "--python", str(main_venv), "--format", "markdown", cwd=project)
    assert markdown.out.startswith("## reprolock verify\n")


def test_the_quick_listing_names_what_the_full_scan_finds(main_venv):
    env = inspect(str(main_venv), main_venv.parent)
    listed = listed_distributions(env.interpreter.sys_path)
    assert listed
    scanned = {(dist.name, dist.version) for dist in env.distributions if dist.metadata_path.endswith(".dist-info")}
    assert set(listed) == scanned
