"""``lock --python-version/--platform/--implementation`` (issue 18): a lock for a target that is not here.

Markers are evaluated and wheels chosen for the named target, with no
interpreter of it; a lock for 3.9 (made from 3.11) installs with real pip
into a 3.9 virtualenv.
"""

from __future__ import annotations

import subprocess
import tomllib
from pathlib import Path

import pytest
from packaging.pylock import Pylock
from packaging.specifiers import SpecifierSet

from test_lock_e2e import PIP_ENV
from test_lock_targets import pins
from wheelfactory import Dist

PY39 = sorted(Path("/root/.pyenv/versions").glob("3.9*/bin/python"))

WORLD = [
    # before 3.10 the app needs a backport; its 2.0 needs Python 3.10
    Dist("app", "1.0", requires=('backport; python_version < "3.10"', "lib", 'colorama; sys_platform == "win32"')),
    Dist("backport", "1.0"),
    Dist("lib", "1.0"),
    Dist("lib", "2.0", requires_python=">=3.10"),
    Dist("colorama", "1.0"),
    # native 2.0 has a Windows CPython 3.9 wheel only; 3.0 a Windows and a manylinux wheel whose dependencies differ
    Dist("native", "1.0"),
    Dist("native", "2.0", tag="cp39-cp39-win_amd64"),
    Dist("native", "3.0", tag="cp310-cp310-win_amd64", requires=("winhelper",)),
    Dist("native", "3.0", tag="cp310-cp310-manylinux_2_17_x86_64.manylinux2014_x86_64", requires=("linhelper",)),
    Dist("winhelper", "1.0"),
    Dist("linhelper", "1.0"),
]


@pytest.fixture
def world(index_server):
    for dist in WORLD:
        index_server.add_wheel(dist)
    return index_server


def lock(cli, folder, server, *options, inputs="app\n", output="requirements.txt"):
    (folder / "requirements.in").write_text(inputs, encoding="utf-8")
    result = cli("lock", "requirements.in", "--index-url", server.url, "--no-cache", "-o", output, *options, cwd=folder)
    assert result.code == 0, result.err
    return (folder / output).read_text(encoding="utf-8")


def test_a_lock_for_python_39_installs_in_a_real_39_venv(cli, tmp_path, world):
    if not PY39:
        pytest.skip("no Python 3.9 under /root/.pyenv")
    text = lock(cli, tmp_path, world, "--python-version", "3.9")
    assert pins(text) == {"app": "1.0", "backport": "1.0", "lib": "1.0"}  # markers and Requires-Python for 3.9, not 3.11
    assert "# Locked for one target: cpython 3.9.* on linux x86_64 (--python-version 3.9)." in text
    assert '# Valid only where: implementation_name == "cpython" and python_version == "3.9"' in text
    assert "reprolock lock requirements.in --python-version 3.9 " in text
    venv = tmp_path / "venv"
    subprocess.run([str(PY39[-1]), "-m", "venv", str(venv)], check=True)
    python = str(venv / "bin" / "python")
    install = [python, "-m", "pip", "install", "--require-hashes", "--no-deps", "--index-url", world.url, "-r", str(tmp_path / "requirements.txt")]
    done = subprocess.run(install, capture_output=True, text=True, env=PIP_ENV, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    check = subprocess.run([python, "-m", "pip", "check"], capture_output=True, text=True, env=PIP_ENV, check=False)
    assert check.returncode == 0, check.stdout + check.stderr


def test_a_windows_only_dependency_follows_the_platform(cli, tmp_path, world):
    assert "colorama" in pins(lock(cli, tmp_path, world, "--platform", "windows"))
    assert "colorama" not in pins(lock(cli, tmp_path, world, "--platform", "linux", "--upgrade"))
    assert "colorama" in pins(lock(cli, tmp_path, world, "--platform", "x86_64-pc-windows-msvc", "--implementation", "cpython", "--upgrade"))


def test_wheel_choice_follows_the_target(cli, tmp_path, world):
    def chosen(*options):
        folder = tmp_path / "-".join(options)  # a fresh folder: no earlier lock's pins are preferred
        folder.mkdir()
        return pins(lock(cli, folder, world, *options, inputs="native\n"))

    assert chosen("--python-version", "3.9", "--platform", "windows") == {"native": "2.0"}  # its cp39 win_amd64 wheel
    assert chosen("--python-version", "3.9", "--platform", "linux") == {"native": "1.0"}  # no 2.0 or 3.0 wheel fits
    assert chosen("--python-version", "3.9", "--platform", "macos") == {"native": "1.0"}
    # 3.0 for CPython 3.10: its dependencies are read from the wheel that target installs
    assert chosen("--python-version", "3.10", "--platform", "windows") == {"native": "3.0", "winhelper": "1.0"}
    assert chosen("--python-version", "3.10", "--platform", "x86_64-manylinux_2_28") == {"native": "3.0", "linhelper": "1.0"}
    assert chosen("--python-version", "3.10", "--platform", "aarch64-manylinux_2_28") == {"native": "1.0"}


def test_pylock_states_the_named_target(cli, tmp_path, world):
    text = lock(cli, tmp_path, world, "--python-version", "3.9.18", "--platform", "windows", output="pylock.toml")
    parsed = Pylock.from_dict(tomllib.loads(text))
    assert [str(marker) for marker in parsed.environments or ()] == [
        'implementation_name == "cpython" and python_full_version == "3.9.18" and sys_platform == "win32" and platform_machine == "AMD64"'
    ]
    assert parsed.requires_python == SpecifierSet("==3.9.18")
    assert {package.name for package in parsed.packages} == {"app", "backport", "lib", "colorama"}
    assert "(--python-version 3.9.18 --platform windows)" in text


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (("--platform", "solaris"), "--platform solaris: not a supported platform"),
        (("--platform", "x86_64-manylinux_2_5"), "manylinux_2_5 is not supported"),
        (("--implementation", "pypy"), "--implementation pypy: only cpython is supported"),
        (("--python-version", "2.7"), "--python-version 2.7: give 3.X or 3.X.Y"),
        (("--python-version", "three"), "--python-version three: give 3.X or 3.X.Y"),
        (("--python-version", "3.9", "--python", "/usr/bin/python3"), "--python-version cannot be combined with --python"),
        (("--platform", "linux", "--from-env"), "--platform cannot be combined with --from-env"),
    ],
)
def test_a_target_that_cannot_be_named_is_a_usage_error(cli, tmp_path, options, message):
    (tmp_path / "requirements.in").write_text("app\n", encoding="utf-8")
    result = cli("lock", "requirements.in", "--index-url", "http://127.0.0.1:9/simple/", *options, cwd=tmp_path)
    assert result.code == 2
    assert message in result.err
    assert len(result.err.strip().splitlines()) == 1


def test_platform_only_packages_are_locked_with_that_platforms_files(cli, tmp_path, index_server):
    """From this Linux machine: a lock for Windows has colorama (click's), one for macOS appnope (ipykernel's), each hashed with the wheel that platform installs."""
    index_server.add_wheel(Dist("clicky", "8.0", requires=('colorama; platform_system == "Windows"',)))
    index_server.add_wheel(Dist("kernel", "6.0", requires=('appnope; platform_system == "Darwin"',)))
    index_server.add_wheel(Dist("colorama", "0.4.6", tag="py3-none-win_amd64"))
    index_server.add_wheel(Dist("appnope", "0.1.4", tag="py3-none-macosx_11_0_arm64"))
    hashes = {entry["filename"].split("-")[0]: entry["hashes"]["sha256"] for name in ("colorama", "appnope") for entry in index_server.projects[name].files}
    windows = lock(cli, tmp_path, index_server, "--platform", "windows", inputs="clicky\nkernel\n")
    assert pins(windows) == {"clicky": "8.0", "kernel": "6.0", "colorama": "0.4.6"}
    assert f"colorama==0.4.6 \\\n    --hash=sha256:{hashes['colorama']}\n" in windows
    macos = lock(cli, tmp_path, index_server, "--platform", "macos", "--upgrade", inputs="clicky\nkernel\n")
    assert pins(macos) == {"clicky": "8.0", "kernel": "6.0", "appnope": "0.1.4"}
    assert f"appnope==0.1.4 \\\n    --hash=sha256:{hashes['appnope']}\n" in macos
    linux = lock(cli, tmp_path, index_server, "--platform", "linux", "--upgrade", inputs="clicky\nkernel\n")
    assert pins(linux) == {"clicky": "8.0", "kernel": "6.0"}  # neither fits nor is needed here
