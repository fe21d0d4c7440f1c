"""``graph LOCK --python-version/--platform`` (issue 18, item 3): a lock drawn as one target would install it.

The universal pylock is made by ``lock --universal`` against the local index;
without the options the running interpreter (the test one, CPython 3.11 on
linux) is the target, as ``uv tree`` does.
"""

from __future__ import annotations

import sys

import pytest

from test_universal_audit import WORLD  # the same index: two versions by Python, colorama for windows (and numpy 2.0.2's)


@pytest.fixture
def locked(index_server, cli, tmp_path):
    """A universal pylock.toml and requirements lock of ``app`` (3.9 to 3.14) in ``tmp_path``."""
    for dist in WORLD:
        index_server.add_wheel(dist)
    (tmp_path / "requirements.in").write_text("app\n", encoding="utf-8")
    for output in ("pylock.toml", "lock.txt"):
        made = cli("lock", "requirements.in", "--universal", "--python-version", "3.9", "-o", output, "--index-url", index_server.url, "--no-cache", "-q", cwd=tmp_path)
        assert made.code == 0, made.err
    return tmp_path


def drawn(cli, folder, *options, lock="pylock.toml"):
    run = cli("graph", lock, "--format", "json", *options, cwd=folder)
    assert run.code == 0, run.err
    graph = run.json
    return {node["name"]: node["version"] for node in graph["nodes"]}, sorted((edge["from"], edge["to"]) for edge in graph["edges"]), run


def test_python_39_on_windows(cli, locked):
    nodes, edges, _ = drawn(cli, locked, "--python-version", "3.9", "--platform", "windows")
    assert nodes == {"alabaster": "0.7.16", "app": "1.0", "colorama": "0.4.6", "numpy": "2.0.2"}
    assert edges == [("app", "alabaster"), ("app", "colorama"), ("app", "numpy"), ("numpy", "colorama")]


def test_python_312_on_windows_and_on_macos(cli, locked):
    nodes, edges, _ = drawn(cli, locked, "--python-version", "3.12", "--platform", "windows")
    assert nodes == {"alabaster": "1.0.0", "app": "1.0", "colorama": "0.4.6", "numpy": "2.2.6"}
    assert edges == [("app", "alabaster"), ("app", "colorama"), ("app", "numpy")]  # numpy 2.2.6 needs no colorama
    nodes, edges, _ = drawn(cli, locked, "--python-version", "3.12", "--platform", "macos")
    assert nodes == {"alabaster": "1.0.0", "app": "1.0", "numpy": "2.2.6"}
    assert edges == [("app", "alabaster"), ("app", "numpy")]  # no edge to colorama, and no missing node either


def test_python_39_on_linux_keeps_numpys_colorama(cli, locked):
    nodes, edges, _ = drawn(cli, locked, "--python-version", "3.9.7", "--platform", "x86_64-manylinux_2_17")
    assert nodes == {"alabaster": "0.7.16", "app": "1.0", "colorama": "0.4.6", "numpy": "2.0.2"}
    assert ("numpy", "colorama") in edges
    assert ("app", "colorama") not in edges  # the lock keeps app's requirement with its marker, false on linux


def test_an_edge_whose_requirement_marker_is_false_is_left_out(cli, tmp_path):
    entry = 'archive = {{ url = "https://example.invalid/{0}.tar.gz", hashes = {{ sha256 = "{1}" }} }}\n'
    (tmp_path / "pylock.toml").write_text(
        'lock-version = "1.0"\ncreated-by = "hand"\n\n'
        '[[packages]]\nname = "app"\nversion = "1.0"\n' + entry.format("app-1.0", "0" * 64)
        + '[packages.tool.reprolock]\nrequires = ["colorama; sys_platform == \'win32\'", "lib"]\n\n'
        '[[packages]]\nname = "colorama"\nversion = "0.4.6"\n' + entry.format("colorama-0.4.6", "1" * 64) + "\n"
        '[[packages]]\nname = "lib"\nversion = "1.0"\n' + entry.format("lib-1.0", "2" * 64),
        encoding="utf-8",
    )
    nodes, edges, _ = drawn(cli, tmp_path, "--platform", "linux")
    assert nodes == {"app": "1.0", "colorama": "0.4.6", "lib": "1.0"}
    assert edges == [("app", "lib")]
    _, edges, _ = drawn(cli, tmp_path, "--platform", "windows")
    assert edges == [("app", "colorama"), ("app", "lib")]


@pytest.mark.skipif(sys.version_info[:2] < (3, 10) or sys.platform != "linux", reason="the default target is the running interpreter")
def test_by_default_the_running_interpreter_is_the_target(cli, locked):
    nodes, edges, run = drawn(cli, locked)
    assert nodes == {"alabaster": "1.0.0", "app": "1.0", "numpy": "2.2.6"}
    assert edges == [("app", "alabaster"), ("app", "numpy")]
    assert "3 lock entries with a marker false for this interpreter" in run.err
    tree = cli("graph", "pylock.toml", "--platform", "windows", cwd=locked)
    assert tree.code == 0, tree.err
    assert tree.out.splitlines() == ["app 1.0", "├── alabaster 1.0.0 [requires any]", "├── colorama 0.4.6 [requires any]", "└── numpy 2.2.6 [requires any]"]
    assert tree.err == ""


def test_a_lock_without_markers_is_drawn_whole(cli, tmp_path):
    (tmp_path / "pylock.toml").write_text(
        'lock-version = "1.0"\ncreated-by = "hand"\n\n'
        '[[packages]]\nname = "app"\nversion = "1.0"\ndependencies = [{ name = "lib", version = "1.0" }, { name = "lib", version = "1.0" }]\n'
        'archive = { url = "https://example.invalid/app-1.0.tar.gz", hashes = { sha256 = "' + "0" * 64 + '" } }\n\n'
        '[[packages]]\nname = "lib"\nversion = "1.0"\n'
        'archive = { url = "https://example.invalid/lib-1.0.tar.gz", hashes = { sha256 = "' + "1" * 64 + '" } }\n',
        encoding="utf-8",
    )
    for options in ((), ("--python-version", "3.8", "--platform", "windows")):
        nodes, edges, _ = drawn(cli, tmp_path, *options)
        assert nodes == {"app": "1.0", "lib": "1.0"}
        assert edges == [("app", "lib")]  # a dependency named twice (with versions) is one edge


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (("lock.txt", "--python-version", "3.9"), "give one as INPUT"),
        (("pylock.toml", "--python-version", "3.9", "--python", sys.executable), "no environment goes with them"),
        (("pylock.toml", "--platform", "amiga"), "not a supported platform"),
        (("pylock.toml", "--python-version", "2.7"), "3.8 or later"),
    ],
)
def test_what_cannot_be_drawn_for_a_target_is_a_usage_error(cli, locked, options, message):
    run = cli("graph", *options, cwd=locked)
    assert run.code == 2
    assert message in run.err
    assert "Traceback" not in run.err
