"""End to end (issue 17 part 2, case e): a minimal Debian root made by debootstrap, python3-jinja2 installed by
apt in a chroot, audited as an image folder. Slow (about a minute, Debian's mirror): skipped with a reason
when not root or without debootstrap, unless CI is set, where it must run (.ci/run installs debootstrap).
"""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from conftest import findings
from imagefactory import audit
from reprolock.sources.image.inspection import inspect_image

CI = bool(os.environ.get("CI"))


# -- (e) end to end: a minimal Debian made by debootstrap, python3-jinja2 installed by apt -----------------


@pytest.mark.slow
def test_debootstrap_root_with_apt_installed_jinja2(tmp_path_factory):
    search = f"{os.environ.get('PATH', '')}:/usr/sbin:/sbin"
    debootstrap, chroot = shutil.which("debootstrap", path=search), shutil.which("chroot", path=search)
    if os.geteuid() != 0 or debootstrap is None or chroot is None:
        if CI:
            pytest.fail("CI is set: the debootstrap end-to-end test must run (as root, with debootstrap installed by .ci/run)")
        pytest.skip("needs root and debootstrap (apt-get install debootstrap); CI runs it")
    root = tmp_path_factory.mktemp("debootstrap") / "root"
    subprocess.run([debootstrap, "--variant=minbase", "bookworm", str(root)], check=True, capture_output=True, timeout=900)  # debootstrap's own mirror
    shutil.copy("/etc/resolv.conf", root / "etc" / "resolv.conf")
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "DEBIAN_FRONTEND": "noninteractive"}
    install = [chroot, str(root), "apt-get", "install", "-y", "-q", "--no-install-recommends", "python3-jinja2"]
    subprocess.run(install, check=True, capture_output=True, env=env, timeout=900)
    run = audit(root, cwd=root.parent)
    assert run.code == 0, run.err  # the distro's packages are warnings: nothing fails
    environment = run.json["environment"]
    assert environment["python"].startswith(f"{root}:/usr/bin/python3.")
    system = {item["package"]: item["detail"] for item in findings(run, "RL304")}
    assert system["jinja2"]["os_package"] == "python3-jinja2"
    assert system["markupsafe"]["os_package"] == "python3-markupsafe"
    assert findings(run, "RL401") == []
    assert findings(run, "RL402") == []
    rows = {row["name"]: row for row in run.json["packages"]}
    assert rows["jinja2"]["installed_by"] == "dpkg package python3-jinja2"
    assert rows["jinja2"]["image"]["path"].startswith("/usr/lib/python3/dist-packages/Jinja2-")
    probe = subprocess.run([chroot, str(root), "python3", "-c", "import sys, jinja2; print(sys.version.split()[0], jinja2.__version__)"], capture_output=True, text=True, check=True, env=env)
    version, jinja = probe.stdout.split()
    assert (environment["version"], rows["jinja2"]["installed"]) == (version, jinja)  # what the files said is what runs
    # Each interpreter's sys.path, read from the files, is the one it prints when run (a venv seeing the system site too).
    subprocess.run([chroot, str(root), "python3", "-m", "venv", "--without-pip", "--system-site-packages", "/opt/venv"], check=True, env=env)
    for env_found in inspect_image(str(root), root.parent).environments:
        executable = env_found.interpreter.executable
        printed = subprocess.run([chroot, str(root), executable, "-c", "import sys; print('\\n'.join(sys.path[1:]))"], capture_output=True, text=True, check=True, env=env)
        assert list(env_found.interpreter.sys_path) == printed.stdout.split(), executable
        assert {dist.name for dist in env_found.distributions} == {"jinja2", "markupsafe"}
