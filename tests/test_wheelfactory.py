"""The test wheel factory makes wheels that real pip installs."""

from __future__ import annotations

import subprocess
import sys
import zipfile

from wheelfactory import Dist, build_wheel


def test_wheels_are_deterministic_and_install_with_pip(tmp_path):
    dist = Dist("Demo-Pkg", "1.2.0", requires=("six>=1.0; extra == 'six'",), extras=("six",))
    first = build_wheel(dist, tmp_path / "a").read_bytes()
    second = build_wheel(dist, tmp_path / "b").read_bytes()
    assert first == second
    with zipfile.ZipFile(tmp_path / "a" / dist.wheel_name) as archive:
        assert "Requires-Dist: six>=1.0; extra == 'six'" in archive.read("demo_pkg-1.2.0.dist-info/METADATA").decode()
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-index", "--no-deps", "--target", str(target), str(tmp_path / "a" / dist.wheel_name)],
        check=True,
        env={"PIP_CONFIG_FILE": "/dev/null", "PATH": "/usr/bin:/bin"},
    )
    assert (target / "demo_pkg" / "__init__.py").read_text(encoding="utf-8").startswith("NAME = 'demo_pkg'")
    assert (target / "demo_pkg-1.2.0.dist-info" / "RECORD").is_file()
