"""Build a virtualenv holding N generated tiny distributions: make-bigenv.py N DIR.

Each distribution ``bench-pkg-<i>`` ships one module and requires up to two
earlier ones (all satisfied), so audit and graph have real edges to walk.
Wheels come from tests/wheelfactory.py and real pip installs them with
``--no-index --no-deps``; nothing touches the network.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from wheelfactory import Dist, build_wheel


def main() -> None:
    count, folder = int(sys.argv[1]), Path(sys.argv[2])
    env = {**os.environ, "PIP_CONFIG_FILE": "/dev/null", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(folder)], check=True)
    site = next((folder / "lib").glob("python3.*/site-packages"))
    with tempfile.TemporaryDirectory() as tmp:
        wheels = Path(tmp)
        names = []
        for i in range(count):
            requires = tuple(f"bench-pkg-{j}>=1.0" for j in (i // 2, i // 3) if j < i)
            dist = Dist(f"bench-pkg-{i}", "1.0", requires=tuple(dict.fromkeys(requires)))
            build_wheel(dist, wheels)
            names.append(str(wheels / dist.wheel_name))
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-index", "--no-deps", "--target", str(site), *names], check=True, env=env)
    print(f"{folder}: {count} distributions")


if __name__ == "__main__":
    main()
