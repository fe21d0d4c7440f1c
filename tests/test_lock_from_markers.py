"""``--from-freeze`` and ``--from-env`` keep the markers of the input lines on their pins (issue 15, item 3).

A root line ``web; python_version >= "3.8"`` must come out as ``web==1.0 ; python_version >= "3.8"``,
as a resolved lock writes it; a pin that another locked package also needs keeps no marker.
"""

from __future__ import annotations

import tomllib

import pytest

from test_lock_e2e import fresh_venv, pip
from wheelfactory import Dist

ROOTS = 'web; python_version >= "3.8"\nlib\n'


@pytest.fixture
def world(index_server):
    for dist in (Dist("web", "1.0", requires=("core",)), Dist("core", "1.9"), Dist("lib", "1.0", requires=("core",))):
        index_server.add_wheel(dist)
    return index_server


def _line(text, name):
    return next(line for line in text.splitlines() if line.startswith(f"{name}=="))


@pytest.mark.parametrize("output", ["lock.txt", "pylock.toml"])
def test_from_freeze_keeps_the_marker_of_the_input_line(cli, tmp_path, world, output):
    (tmp_path / "freeze.txt").write_text("web==1.0\ncore==1.9\nlib==1.0\n", encoding="utf-8")
    (tmp_path / "roots.in").write_text(ROOTS, encoding="utf-8")
    result = cli("lock", "roots.in", "--from-freeze", "freeze.txt", "-o", output, "--index-url", world.url, "--no-cache", cwd=tmp_path)
    assert result.code == 0, result.err
    text = (tmp_path / output).read_text(encoding="utf-8")
    if output == "lock.txt":
        assert _line(text, "web") == 'web==1.0 ; python_version >= "3.8" \\'
        assert _line(text, "lib") == "lib==1.0 \\"
        assert _line(text, "core") == "core==1.9 \\"  # needed by two parents: no marker
    else:
        markers = {package["name"]: package.get("marker") for package in tomllib.loads(text)["packages"]}
        assert markers == {"web": 'python_version >= "3.8"', "lib": None, "core": None}


def test_from_env_keeps_the_marker_of_the_input_line(cli, tmp_path, world):
    python = fresh_venv(tmp_path / "venv")
    pip("--python", str(python), "install", "--index-url", world.url, "web", "lib")
    (tmp_path / "roots.in").write_text(ROOTS, encoding="utf-8")
    result = cli("lock", "roots.in", "--from-env", "--python", str(tmp_path / "venv"), "-o", "lock.txt", "--index-url", world.url, "--no-cache", cwd=tmp_path)
    assert result.code == 0, result.err
    text = (tmp_path / "lock.txt").read_text(encoding="utf-8")
    assert _line(text, "web") == 'web==1.0 ; python_version >= "3.8" \\'
    assert _line(text, "lib") == "lib==1.0 \\"
