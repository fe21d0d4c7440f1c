"""A release that requires a project with no file for the target is never offered to the resolver.

The case is pywin32 before its CPython 3.14 wheels: jupyter-core needs it on
Windows, and a lock of click and ipykernel for 3.14 on Windows, as of
2025-06-01, had the resolver backtrack through every combination of
ipykernel, jupyter-client and jupyter-core versions for seven minutes before
it gave up. Now the releases that need it are left out from the start: the
lock takes the newest versions that can be installed, and when there are
none the one-line error names the project that rules them out.
"""

from __future__ import annotations

from test_lock_targets import pins
from wheelfactory import Dist


def lock(cli, folder, server, *options, inputs="kernel\n"):
    (folder / "requirements.in").write_text(inputs, encoding="utf-8")
    return cli("lock", "requirements.in", "--index-url", server.url, "--no-cache", "-o", "lock.txt", *options, cwd=folder)


def world(server, *, old_core=True):
    server.add_wheel(Dist("kernel", "6.0", requires=("core",)))
    server.add_wheel(Dist("core", "5.0", requires=('winapi>=300; sys_platform == "win32"',)))
    if old_core:
        server.add_wheel(Dist("core", "4.0"))
    for tag in ("cp312-cp312-win_amd64", "cp313-cp313-win_amd64"):
        server.add_wheel(Dist("winapi", "310", tag=tag))


def test_the_newest_release_that_can_be_installed_is_taken(cli, tmp_path, index_server):
    world(index_server)
    done = lock(cli, tmp_path, index_server, "--python-version", "3.14", "--platform", "windows")
    assert done.code == 0, done.err
    assert pins((tmp_path / "lock.txt").read_text(encoding="utf-8")) == {"kernel": "6.0", "core": "4.0"}
    done = lock(cli, tmp_path, index_server, "--python-version", "3.13", "--platform", "windows", "--upgrade")
    assert done.code == 0, done.err
    assert pins((tmp_path / "lock.txt").read_text(encoding="utf-8")) == {"kernel": "6.0", "core": "5.0", "winapi": "310"}


def test_without_an_older_release_the_error_names_the_project_with_no_file(cli, tmp_path, index_server):
    world(index_server, old_core=False)
    done = lock(cli, tmp_path, index_server, "--python-version", "3.14", "--platform", "windows")
    assert done.code == 1
    assert "winapi has no file for this target, which rules out core 5.0" in done.err
    assert len(done.err.strip().splitlines()) == 1
    assert not (tmp_path / "lock.txt").exists()
