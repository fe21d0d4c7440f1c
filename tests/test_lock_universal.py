"""``lock --universal``: one lock for every CPython from the lower bound to 3.14 on linux, macOS and Windows.

The test index holds real wheels modelled on real traps: a numpy-like package
whose 2.0 needs Python 3.10 (so 3.9 gets 1.0), a click-like package that needs
colorama on Windows only, an ipykernel-like package that needs appnope on macOS,
a backport below 3.11, a dependency behind ``platform_machine`` and an extra.
The lock must give each entry the marker that selects it, and real pip on real
3.9, 3.11 and 3.13 interpreters must install exactly what those markers select.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.markers import Marker
from packaging.pylock import Pylock
from packaging.specifiers import SpecifierSet
from packaging.tags import parse_tag

from chromium import in_ci
from test_lock_e2e import PIP_ENV, installed, pip
from wheelfactory import Dist

PYENV = Path("/root/.pyenv/versions")

WORLD = [
    Dist(
        "app",
        "1.0",
        extras=("socks", "docs"),
        requires=(
            "numpyish",
            "clickish",
            "kernelish",
            'backport; python_version < "3.11"',
            'tomlish; python_version < "3.11"',
            'fastlib; platform_machine == "x86_64"',
            'socksy; extra == "socks"',
            'sphinxish; extra == "docs"',
        ),
    ),
    # numpy: 2.0 needs Python 3.10 and ships a wheel per platform
    Dist("numpyish", "1.0", requires_python=">=3.8"),
    Dist("numpyish", "2.0", requires_python=">=3.10", tag="cp310-abi3-manylinux_2_17_x86_64.manylinux2014_x86_64"),
    Dist("numpyish", "2.0", requires_python=">=3.10", tag="cp310-abi3-macosx_11_0_arm64"),
    Dist("numpyish", "2.0", requires_python=">=3.10", tag="cp310-abi3-win_amd64"),
    # click needs colorama on Windows only; colorama 0.4.6 has a Windows wheel and a pure one
    Dist("clickish", "8.0", requires=('colorama; sys_platform == "win32"',)),
    Dist("colorama", "0.4.5"),
    Dist("colorama", "0.4.6", tag="py3-none-win_amd64"),
    Dist("colorama", "0.4.6"),
    # ipykernel needs appnope on macOS (by platform_system), which only has a macOS wheel;
    # it also needs tomlish on Windows, a second path to the package app needs below 3.11
    Dist("kernelish", "6.0", requires=('appnope; platform_system == "Darwin"', 'tomlish; os_name == "nt"')),
    Dist("appnope", "0.1.4", tag="py3-none-macosx_11_0_arm64"),
    Dist("backport", "1.2"),
    Dist("tomlish", "2.0"),
    Dist("fastlib", "3.0"),
    Dist("socksy", "1.0"),
    Dist("sphinxish", "7.0"),
]

MARKERS = {
    ("app", "1.0"): None,
    ("appnope", "0.1.4"): 'sys_platform == "darwin"',
    ("backport", "1.2"): 'python_full_version < "3.11"',
    ("clickish", "8.0"): None,
    ("colorama", "0.4.6"): 'sys_platform == "win32"',
    ("fastlib", "3.0"): 'platform_machine == "x86_64"',
    ("kernelish", "6.0"): None,
    ("numpyish", "1.0"): 'python_full_version < "3.10"',
    ("numpyish", "2.0"): 'python_full_version >= "3.10"',
    ("socksy", "1.0"): None,
    ("tomlish", "2.0"): 'python_full_version < "3.11" or sys_platform == "win32"',
}
"""Every entry of the universal lock of ``app[socks]`` and its marker (``None``: installed everywhere)."""

HEADER = "# Universal lock (--universal): resolved for CPython 3.9 to 3.14 on linux, macos and windows, requires-python >=3.9.\n"


def expected_on_linux(minor: int) -> dict[str, str]:
    """What CPython 3.minor on linux x86_64 must install from the lock of ``app[socks]``."""
    found = {"app": "1.0", "clickish": "8.0", "kernelish": "6.0", "fastlib": "3.0", "socksy": "1.0"}
    found["numpyish"] = "1.0" if minor < 10 else "2.0"
    if minor < 11:
        found |= {"backport": "1.2", "tomlish": "2.0"}
    return found


@pytest.fixture
def world(index_server):
    for dist in WORLD:
        index_server.add_wheel(dist)
    return index_server


def lock(cli, folder, server, *options, inputs="app[socks]\n", output="requirements.txt", python_version="3.9"):
    (folder / "requirements.in").write_text(inputs, encoding="utf-8")
    lower = ("--python-version", python_version) if python_version else ()
    result = cli("lock", "requirements.in", "--universal", *lower, "--index-url", server.url, "--no-cache", "-o", output, *options, cwd=folder)
    assert result.code == 0, result.err
    return (folder / output).read_text(encoding="utf-8")


def entries(text: str) -> dict[tuple[str, str], tuple[str | None, list[str]]]:
    """A requirements-style lock's entries: (name, version) -> (marker, sha256 hashes)."""
    found: dict[tuple[str, str], tuple[str | None, list[str]]] = {}
    current: list[str] = []
    for line in text.splitlines():
        if line[:1].isalpha():
            requirement, _, marker = line.removesuffix("\\").strip().partition(" ; ")
            name, _, version = requirement.partition("==")
            current = []
            found[(name, version)] = (marker or None, current)
        elif line.strip().startswith("--hash=sha256:"):
            current.append(line.strip().removeprefix("--hash=sha256:").removesuffix("\\").strip())
    return found


def index_hashes(server, name: str, version: str) -> set[str]:
    """The sha256 of every file the index lists for ``name`` ``version``."""
    return {entry["hashes"]["sha256"] for entry in server.projects[name].files if entry["filename"].split("-")[1] == version}


def pyenv_python(minor: int) -> Path:
    """CPython 3.minor from /root/.pyenv; missing, the test is skipped, unless CI is set, where it fails."""
    found = sorted(PYENV.glob(f"3.{minor}.*/bin/python"))
    if not found:
        message = f"no CPython 3.{minor} under {PYENV}"
        if in_ci():
            pytest.fail(f"{message} (CI is set, so the universal install tests must run)")
        pytest.skip(message)
    return found[-1]


def run(*argv, check=True):
    done = subprocess.run([str(part) for part in argv], capture_output=True, text=True, env=PIP_ENV, check=False)
    if check:
        assert done.returncode == 0, f"{argv}\n{done.stdout}\n{done.stderr}"
    return done


def listed(python: Path) -> dict[str, str]:
    """What the venv holds, read by its own pip, without the installer itself."""
    rows = json.loads(run(python, "-m", "pip", "list", "--format", "json").stdout)
    return {row["name"]: row["version"] for row in rows if row["name"] not in {"pip", "setuptools"}}


def drop_installer(python: Path) -> None:
    """Uninstall the venv's own pip and setuptools: ``verify`` counts them as extraneous (they are not in the lock)."""
    run(python, "-m", "pip", "uninstall", "--yes", "pip", "setuptools")


# -- the lock's text ------------------------------------------------------------------------------


def test_each_entry_gets_the_marker_that_selects_it(cli, tmp_path, world):
    """One entry per (package, version), each with the marker of the places it is installed, and the header names the range."""
    text = lock(cli, tmp_path, world)
    found = entries(text)
    assert {key: marker for key, (marker, _) in found.items()} == MARKERS
    assert HEADER in text
    assert "reprolock lock requirements.in --python-version 3.9 --universal -o requirements.txt\n" in text
    # the extra that was not asked for is not followed; the older colorama is not locked
    assert not any(name == "sphinxish" or (name, version) == ("colorama", "0.4.5") for name, version in found)
    # the markers of the two numpyish entries never hold together, and one of them always does
    for minor in range(9, 15):
        env = {"python_version": f"3.{minor}", "python_full_version": f"3.{minor}.0"}
        chosen = [version for (name, version), (marker, _) in found.items() if name == "numpyish" and Marker(marker or "").evaluate(env)]
        assert chosen == ["1.0" if minor < 10 else "2.0"], minor


def test_each_entry_carries_the_hashes_of_every_file_of_its_version(cli, tmp_path, world):
    """colorama lists its Windows wheel and its pure wheel (not 0.4.5's); numpyish 2.0 its three platform wheels."""
    found = entries(lock(cli, tmp_path, world))
    for (name, version), (_, hashes) in found.items():
        assert len(hashes) == len(set(hashes))
        assert set(hashes) == index_hashes(world, name, version), (name, version)
    assert len(found[("colorama", "0.4.6")][1]) == 2
    assert len(found[("numpyish", "2.0")][1]) == 3
    assert not set(found[("colorama", "0.4.6")][1]) & index_hashes(world, "colorama", "0.4.5")


def test_pylock_has_markers_requires_python_and_versioned_edges(cli, tmp_path, world):
    """The pylock gives each package its marker, the range's requires-python, the platforms, and edges that name the version when a name has several entries."""
    text = lock(cli, tmp_path, world, output="pylock.toml")
    data = tomllib.loads(text)
    parsed = Pylock.from_dict(data)
    assert {(package.name, str(package.version)): (str(package.marker) if package.marker else None) for package in parsed.packages} == MARKERS
    assert parsed.requires_python == SpecifierSet(">=3.9")
    assert [str(marker) for marker in parsed.environments or ()] == ['sys_platform == "linux"', 'sys_platform == "darwin"', 'sys_platform == "win32"']
    assert data["tool"]["reprolock"]["universal"] == "CPython 3.9 to 3.14 on linux, macos and windows"
    (app,) = (package for package in data["packages"] if package["name"] == "app")
    assert sorted((edge["name"], edge.get("version")) for edge in app["dependencies"]) == [
        ("backport", None),
        ("clickish", None),
        ("fastlib", None),
        ("kernelish", None),
        ("numpyish", "1.0"),
        ("numpyish", "2.0"),
        ("socksy", None),
        ("tomlish", None),
    ]
    numpy_wheels = {
        package["version"]: sorted(wheel["name"] for wheel in package.get("wheels", ())) for package in data["packages"] if package["name"] == "numpyish"
    }
    assert numpy_wheels == {
        "1.0": ["numpyish-1.0-py3-none-any.whl"],
        "2.0": [
            "numpyish-2.0-cp310-abi3-macosx_11_0_arm64.whl",
            "numpyish-2.0-cp310-abi3-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
            "numpyish-2.0-cp310-abi3-win_amd64.whl",
        ],
    }


# -- real installs --------------------------------------------------------------------------------


@pytest.mark.parametrize("minor", [9, 11, 13])
def test_requirements_lock_installs_what_its_markers_select_on_real_pythons(cli, tmp_path, world, minor):
    """``pip install --require-hashes --no-deps -r`` with the target's own pip installs exactly the entries for that Python on linux."""
    interpreter = pyenv_python(minor)
    lock(cli, tmp_path, world)
    venv = tmp_path / "venv"
    run(interpreter, "-m", "venv", venv)
    python = venv / "bin" / "python"
    run(python, "-m", "pip", "install", "--require-hashes", "--no-deps", "--index-url", world.url, "-r", tmp_path / "requirements.txt")
    assert listed(python) == expected_on_linux(minor)
    run(python, "-m", "pip", "check")
    drop_installer(python)
    verified = cli("verify", "requirements.txt", "--python", str(python), cwd=tmp_path)
    assert verified.code == 0, verified.out + verified.err


def _pip_26_installs_pylock(world, lockfile: Path, interpreter: Path, venv: Path) -> tuple[Path, dict[str, str]]:
    """The test venv's pip (26.3) installs the pylock into a fresh venv without pip, through ``--python``."""
    run(interpreter, "-m", "venv", "--without-pip", venv)
    python = venv / "bin" / "python"
    pip("--python", str(python), "install", "--index-url", world.url, "-r", str(lockfile))
    pip("--python", str(python), "check")
    return python, installed(python)


def _reference_selection_installs_pylock(world, lockfile: Path, interpreter: Path, venv: Path) -> tuple[Path, dict[str, str]]:
    """For 3.9, which pip 26.3 no longer runs on: packaging's PEP 751 selection for the 3.9 venv, installed by its own pip.

    The venv's marker environment and tags are read by the packaging that its own pip
    vendors; each selected wheel is installed by name, version and that wheel's hash only.
    """
    run(interpreter, "-m", "venv", venv)
    python = venv / "bin" / "python"
    probe = (
        "import json; from pip._vendor.packaging.markers import default_environment; from pip._vendor.packaging.tags import sys_tags; "
        "print(json.dumps({'env': default_environment(), 'tags': [str(tag) for tag in sys_tags()]}))"
    )
    seen = json.loads(run(python, "-c", probe).stdout)
    tags = [tag for text in seen["tags"] for tag in parse_tag(text)]
    parsed = Pylock.from_dict(tomllib.loads(lockfile.read_text(encoding="utf-8")))
    chosen = list(parsed.select(environment=seen["env"], tags=tags, extras=()))
    lines = [f"{package.name}=={package.version} --hash=sha256:{dist.hashes['sha256']}" for package, dist in chosen]
    (venv / "selected.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    run(python, "-m", "pip", "install", "--require-hashes", "--no-deps", "--index-url", world.url, "-r", venv / "selected.txt")
    run(python, "-m", "pip", "check")
    found = listed(python)
    drop_installer(python)
    return python, found


@pytest.mark.parametrize("minor", [9, 11, 13])
def test_pylock_installs_what_its_markers_select_on_real_pythons(cli, tmp_path, world, minor):
    """The universal pylock installs into a fresh venv of each Python exactly the packages its markers select there, and verifies."""
    interpreter = pyenv_python(minor)
    lock(cli, tmp_path, world, output="pylock.toml")
    install = _pip_26_installs_pylock if minor >= 10 else _reference_selection_installs_pylock
    python, found = install(world, tmp_path / "pylock.toml", interpreter, tmp_path / "venv")
    assert found == expected_on_linux(minor)
    verified = cli("verify", "pylock.toml", "--python", str(python), cwd=tmp_path)
    assert verified.code == 0, verified.out + verified.err


# -- --check, preferred pins, --upgrade -------------------------------------------------------------


def test_check_passes_when_current_and_reports_rl406_when_stale(cli, tmp_path, world):
    """``lock --check`` exits 0 on the lock it just wrote; a new release makes ``--check --upgrade`` exit 1 with RL406, and the file is kept."""
    lock(cli, tmp_path, world)
    before = (tmp_path / "requirements.txt").read_bytes()
    args = ("lock", "requirements.in", "--universal", "--python-version", "3.9", "--index-url", world.url, "--no-cache", "-o", "requirements.txt", "--check")
    current = cli(*args, cwd=tmp_path)
    assert current.code == 0, current.out + current.err
    assert "requirements.txt is up to date (11 packages)" in current.err
    world.add_wheel(Dist("numpyish", "2.1", requires_python=">=3.10"))
    # without --upgrade the locked pins are preferred: the lock is still what regenerating gives
    assert cli(*args, cwd=tmp_path).code == 0
    stale = cli(*args, "--upgrade", "--format", "json", cwd=tmp_path)
    assert stale.code == 1, stale.out + stale.err
    (finding,) = stale.json["findings"]
    assert finding["rule"] == "RL406"
    assert finding["detail"]["changed"] == {"numpyish": {"locked": "2.0", "now": "2.1"}}
    # a root added to the inputs is stale too
    (tmp_path / "requirements.in").write_text("app[socks]\nsphinxish\n", encoding="utf-8")
    added = cli(*args, "--format", "json", cwd=tmp_path)
    assert added.code == 1
    assert [item["rule"] for item in added.json["findings"]] == ["RL406"]
    assert (tmp_path / "requirements.txt").read_bytes() == before


def test_relocking_keeps_each_variants_pin_until_upgraded(cli, tmp_path, world):
    """Locking again over a universal lock keeps 1.0 for 3.9 and 2.0 for 3.10+; ``-P numpyish`` moves both variants, ``--upgrade`` everything."""
    lock(cli, tmp_path, world)
    world.add_wheel(Dist("numpyish", "1.1", requires_python=">=3.8"))
    world.add_wheel(Dist("numpyish", "2.1", requires_python=">=3.10"))
    world.add_wheel(Dist("colorama", "0.4.7"))
    world.add_wheel(Dist("appnope", "0.1.5", tag="py3-none-macosx_11_0_arm64"))
    kept = entries(lock(cli, tmp_path, world))
    assert {key: marker for key, (marker, _) in kept.items()} == MARKERS
    moved = {key: marker for key, (marker, _) in entries(lock(cli, tmp_path, world, "-P", "numpyish")).items()}
    assert moved[("numpyish", "1.1")] == 'python_full_version < "3.10"'
    assert moved[("numpyish", "2.1")] == 'python_full_version >= "3.10"'
    assert ("colorama", "0.4.6") in moved
    assert ("appnope", "0.1.4") in moved
    upgraded = {key: marker for key, (marker, _) in entries(lock(cli, tmp_path, world, "--upgrade")).items()}
    assert upgraded[("colorama", "0.4.7")] == 'sys_platform == "win32"'
    assert upgraded[("appnope", "0.1.5")] == 'sys_platform == "darwin"'
    assert {name for name, _ in upgraded} == {name for name, _ in MARKERS}
    assert not {("colorama", "0.4.6"), ("appnope", "0.1.4"), ("numpyish", "1.0"), ("numpyish", "2.0")} & set(upgraded)


def test_relocking_keeps_the_pin_of_a_machine_guarded_dependency(cli, tmp_path, world):
    """A dependency behind ``platform_machine == "x86_64"`` keeps its one pinned version when a newer release appears."""
    lock(cli, tmp_path, world)
    world.add_wheel(Dist("fastlib", "3.1"))
    again = {key: marker for key, (marker, _) in entries(lock(cli, tmp_path, world)).items()}
    assert again == MARKERS


# -- options and requires-python --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "clash"),
    [
        (("--platform", "linux"), "--platform"),
        (("--python", sys.executable), "--python"),
        (("--implementation", "cpython"), "--implementation"),
    ],
)
def test_universal_with_a_single_target_option_is_a_usage_error(cli, tmp_path, options, clash):
    """``--universal`` covers every platform: naming one target as well is refused in one line (exit 2)."""
    (tmp_path / "requirements.in").write_text("app\n", encoding="utf-8")
    result = cli("lock", "requirements.in", "--universal", *options, "--index-url", "http://127.0.0.1:9/simple/", "-o", "requirements.txt", cwd=tmp_path)
    assert result.code == 2
    assert f"--universal cannot be combined with {clash}" in result.err
    assert len(result.err.strip().splitlines()) == 1
    assert not (tmp_path / "requirements.txt").exists()


def test_pyprojects_requires_python_is_the_lower_bound(cli, tmp_path, world):
    """``requires-python = ">=3.10"`` gives a lock for 3.10 to 3.14: numpyish 2.0 unconditionally, never the 1.0 of 3.9."""
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "proj"\nversion = "0.1"\nrequires-python = ">=3.10"\ndependencies = ["app"]\n', encoding="utf-8"
    )
    for output in ("requirements.txt", "pylock.toml"):
        result = cli("lock", "pyproject.toml", "--universal", "--index-url", world.url, "--no-cache", "-o", output, cwd=tmp_path)
        assert result.code == 0, result.err
    text = (tmp_path / "requirements.txt").read_text(encoding="utf-8")
    assert "# Universal lock (--universal): resolved for CPython 3.10 to 3.14 on linux, macos and windows, requires-python >=3.10.\n" in text
    found = {key: marker for key, (marker, _) in entries(text).items()}
    assert found[("numpyish", "2.0")] is None
    assert ("numpyish", "1.0") not in found
    assert found[("backport", "1.2")] == 'python_full_version < "3.11"'
    assert "socksy" not in {name for name, _ in found}  # the extra was not asked for
    parsed = Pylock.from_dict(tomllib.loads((tmp_path / "pylock.toml").read_text(encoding="utf-8")))
    assert parsed.requires_python == SpecifierSet(">=3.10")
    assert {(package.name, str(package.version)) for package in parsed.packages if package.name == "numpyish"} == {("numpyish", "2.0")}


def test_requires_python_admitting_no_sampled_cpython_is_a_usage_error(cli, tmp_path):
    """A lower bound past 3.14 leaves nothing to lock for: a one-line usage error."""
    (tmp_path / "requirements.in").write_text("app\n", encoding="utf-8")
    result = cli("lock", "requirements.in", "--universal", "--python-version", "3.15", "--index-url", "http://127.0.0.1:9/simple/", cwd=tmp_path)
    assert result.code == 2
    assert "--universal: requires-python >=3.15 admits no CPython" in result.err
    assert len(result.err.strip().splitlines()) == 1



def test_a_windows_only_package_without_a_wheel_for_the_newest_python_is_still_locked(cli, tmp_path, index_server):
    """Like pywin32 before its cp314 wheels: a release is judged by its Requires-Python, not by a sample's wheel tags (as uv does).

    Before, the 3.14 Windows sample found no usable release, the resolver backtracked through every
    version of the parents and the whole lock failed.
    """
    index_server.add_wheel(Dist("tool", "1.0", requires=('winapi>=300; sys_platform == "win32"',)))
    for tag in ("cp39-cp39-win_amd64", "cp313-cp313-win_amd64"):
        index_server.add_wheel(Dist("winapi", "310", tag=tag))
    text = lock(cli, tmp_path, index_server, inputs="tool\n")
    assert entries(text).keys() == {("tool", "1.0"), ("winapi", "310")}
    marker, hashes = entries(text)[("winapi", "310")]
    assert marker == 'sys_platform == "win32"'
    assert len(hashes) == 2  # both wheels


def test_a_package_no_release_of_which_supports_a_sampled_python_is_a_one_line_conflict(cli, tmp_path, index_server):
    """uv fails the same way: the range includes 3.12 to 3.14, which no release of ``oldpkg`` supports; the message names the sample."""
    index_server.add_wheel(Dist("oldpkg", "1.0", requires_python="<3.12"))
    (tmp_path / "requirements.in").write_text("oldpkg\n", encoding="utf-8")
    result = cli("lock", "requirements.in", "--universal", "--python-version", "3.9", "--index-url", index_server.url, "--no-cache", "-o", "lock.txt", cwd=tmp_path)
    assert result.code == 1
    assert result.err.startswith("reprolock: error: cannot resolve for CPython 3.12 on linux: no release matches oldpkg (requirements.in:1)")
    assert "--universal covers CPython 3.9 to 3.14 on linux, macos and windows" in result.err
    assert len(result.err.strip().splitlines()) == 1
    assert not (tmp_path / "lock.txt").exists()


def test_pylock_requirements_keep_their_markers_with_extras_settled(cli, tmp_path, world):
    """``[packages.tool.reprolock] requires`` keeps each requirement's condition, with the extras the parent was asked with settled.

    ``app[socks]`` needs socksy wherever app is installed, so its requirement has no marker
    left (an ``extra == "socks"`` there would make ``graph`` drop the edge); docs was not asked for.
    """
    data = tomllib.loads(lock(cli, tmp_path, world, output="pylock.toml"))
    app = next(package for package in data["packages"] if package["name"] == "app")
    requires = app["tool"]["reprolock"]["requires"]
    assert "socksy" in requires
    assert 'colorama; sys_platform == "win32"' not in requires  # clickish's, not app's
    assert 'fastlib; platform_machine == "x86_64"' in requires
    assert 'tomlish; python_full_version < "3.11"' in requires
    assert not [item for item in requires if "extra" in item or "sphinxish" in item]
    graph = cli("graph", "pylock.toml", "--python-version", "3.12", "--platform", "linux", "--format", "json", cwd=tmp_path)
    assert graph.code == 0, graph.err
    assert {"from": "app", "to": "socksy"} in [{"from": edge["from"], "to": edge["to"]} for edge in graph.json["edges"]]
