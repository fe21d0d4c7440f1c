"""A lock states exactly the target it was resolved for (issue 15, item 1).

Locked from CPython 3.11.7, a dependency needed only before 3.11.3 (redis needs
``async-timeout; python_full_version < '3.11.3'``) is left out, so the lock is
valid for 3.11.7 and nothing else: the header and pylock's ``environments`` and
``requires-python`` say so, and real pip on another Python refuses the pylock
instead of installing half of what that Python needs.
"""

from __future__ import annotations

import platform
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.markers import Marker, default_environment
from packaging.pylock import Pylock
from packaging.specifiers import SpecifierSet

from test_lock_e2e import installed, pip
from wheelfactory import Dist

FULL = platform.python_version()
ENVIRONMENT = (
    f'implementation_name == "{sys.implementation.name}" and python_full_version == "{FULL}"'
    f' and sys_platform == "{sys.platform}" and platform_machine == "{platform.machine()}"'
)
OTHER_PYTHONS = ("/usr/bin/python3", *sorted(str(path) for path in Path("/root/.pyenv/versions").glob("3.1[0-9]*/bin/python")))


def _version_of(python: str) -> str | None:
    try:
        done = subprocess.run([python, "-c", "import platform; print(platform.python_version())"], capture_output=True, text=True, check=False, timeout=60)
    except OSError:
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def another_python() -> str:
    """An interpreter (3.10 or later, for pip) whose full version differs from the running one."""
    for python in OTHER_PYTHONS:
        version = _version_of(python)
        if version and version != FULL and tuple(int(part) for part in version.split(".")[:2]) >= (3, 10):
            return python
    pytest.skip("no other Python on this machine")
    raise AssertionError  # unreachable: skip raises


@pytest.fixture
def world(index_server):
    index_server.add_wheel(Dist("redisish", "5.0", requires=('async-timeout>=4.0.3; python_full_version < "3.11.3"', "lib")))
    index_server.add_wheel(Dist("async-timeout", "4.0.3"))
    index_server.add_wheel(Dist("lib", "1.0"))
    return index_server


def lock(cli, folder, server, output):
    (folder / "requirements.in").write_text("redisish\n", encoding="utf-8")
    result = cli("lock", "requirements.in", "--index-url", server.url, "--no-cache", "-o", output, cwd=folder)
    assert result.code == 0, result.err
    return (folder / output).read_text(encoding="utf-8")


def test_pylock_states_the_full_version_platform_and_implementation(cli, tmp_path, world):
    text = lock(cli, tmp_path, world, "pylock.toml")
    parsed = Pylock.from_dict(tomllib.loads(text))
    assert [str(marker) for marker in parsed.environments or ()] == [ENVIRONMENT]
    assert parsed.requires_python == SpecifierSet(f"=={FULL}")
    assert f"# Locked for one target: {sys.implementation.name} {FULL} on {sys.platform} {platform.machine()} (the running interpreter).\n" in text
    # what the lock left out must agree with what it claims
    assert Marker('python_full_version < "3.11.3"').evaluate() is ("async-timeout" in {package.name for package in parsed.packages})
    assert all(Marker(str(marker)).evaluate(default_environment()) for marker in parsed.environments or ())


def test_requirements_header_names_the_exact_target(cli, tmp_path, world):
    text = lock(cli, tmp_path, world, "requirements.txt")
    assert f"# Locked for one target: {sys.implementation.name} {FULL} on {sys.platform} {platform.machine()} (the running interpreter).\n" in text
    assert f"# Valid only where: {ENVIRONMENT}\n" in text
    # pip cannot be made to refuse a requirements file: no line carries the target marker (pip would skip it silently)
    assert "python_full_version" not in "".join(line for line in text.splitlines() if not line.startswith("#"))


def test_pip_on_another_python_refuses_the_pylock(cli, tmp_path, world):
    other = another_python()
    lock(cli, tmp_path, world, "pylock.toml")
    subprocess.run([other, "-m", "venv", "--without-pip", str(tmp_path / "other")], check=True)
    python = tmp_path / "other" / "bin" / "python"
    # --index-url: whatever pip looks for beyond the lock comes from the test index, never the internet
    refused = pip("--python", str(python), "install", "--index-url", world.url, "-r", str(tmp_path / "pylock.toml"), check=False)
    assert refused.returncode != 0
    assert f"does not satisfy the Python version requirement '=={FULL}'" in refused.stderr, refused.stderr
    assert installed(python) == {}  # nothing half-installed
    # the environments marker alone refuses too (requires-python is left out for a non-PEP 440 build such as 3.12.1+)
    text = (tmp_path / "pylock.toml").read_text(encoding="utf-8")
    (tmp_path / "pylock.toml").write_text("".join(line for line in text.splitlines(keepends=True) if not line.startswith("requires-python")), encoding="utf-8")
    refused = pip("--python", str(python), "install", "--index-url", world.url, "-r", str(tmp_path / "pylock.toml"), check=False)
    assert refused.returncode != 0
    assert "environments" in refused.stderr, refused.stderr
    assert installed(python) == {}
    same = tmp_path / "same"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(same)], check=True)
    pip("--python", str(same / "bin" / "python"), "install", "--index-url", world.url, "-r", str(tmp_path / "pylock.toml"))
    assert installed(same / "bin" / "python") == {"redisish": "5.0", "lib": "1.0"} | ({"async-timeout": "4.0.3"} if Marker('python_full_version < "3.11.3"').evaluate() else {})
