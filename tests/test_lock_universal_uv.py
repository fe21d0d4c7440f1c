"""``lock --universal`` against ``uv pip compile --universal`` on the same inputs and index.

Two locks are compared as what they install: each entry ``name==version ;
marker`` is evaluated over a grid of CPython environments (every minor from
3.9 to 3.14 at several patch releases, on Linux, macOS and Windows, two
machines each), so markers that are logically the same but written
differently (``platform_system == "Darwin"`` and ``sys_platform == "darwin"``,
quotes, the order of clauses) compare equal. Every entry that one lock has
and the other has not, or that the two install on different environments, is
a difference; each test lists the differences it expects, with the reason,
and fails on any other (and on an expected one that is gone).

* Offline: a synthetic index on 127.0.0.1 (real wheels) full of traps, locked
  by reprolock now and compared with uv's answer for the same index, recorded
  once in ``tests/fixtures/uv-universal/synthetic.txt`` (wheels are rebuilt
  every run, so only ``name==version ; marker`` is compared, never hashes).
  ``python tests/test_lock_universal_uv.py`` records it again with the uv of
  ``benchmarks/.work/tools`` (``benchmarks/setup.sh``).
* Online (``--online``): uv 0.13.9 installed from PyPI into a fresh venv
  checks that it still answers the synthetic index as recorded, and both
  tools lock ``click`` and ``ipykernel`` as of 2025-06-01 against PyPI.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from conftest import run_cli
from wheelfactory import Dist

HERE = Path(__file__).resolve().parent
RECORDING = HERE / "fixtures" / "uv-universal" / "synthetic.txt"
TOOLS_UV = HERE.parent / "benchmarks" / ".work" / "tools" / "bin" / "uv"
UV_VERSION = "0.13.9"
UV_ARGS = ("pip", "compile", "-q", "--universal", "--python-version", "3.9", "--no-cache")
"""uv's command (then ``--index-url URL requirements.in -o uv.txt``); reprolock's is ``lock --universal --python-version 3.9``."""

Key = tuple[str, str]

# -- the grid of environments ---------------------------------------------------------------------

PLATFORMS = (
    ("linux", "Linux", "posix", ("x86_64", "aarch64")),
    ("darwin", "Darwin", "posix", ("arm64", "x86_64")),
    ("win32", "Windows", "nt", ("AMD64", "ARM64")),
)
PATCHES = (0, 2, 3, 11)
"""Patch releases of each minor: 3.11.2 and 3.11.3 lie on both sides of a ``python_full_version < "3.11.3"``."""


def _environment(full: str, sys_platform: str, system: str, os_name: str, machine: str) -> dict[str, str]:
    return {
        "implementation_name": "cpython",
        "implementation_version": full,
        "os_name": os_name,
        "platform_machine": machine,
        "platform_python_implementation": "CPython",
        "platform_release": "",
        "platform_system": system,
        "platform_version": "",
        "python_full_version": full,
        "python_version": full.rsplit(".", 1)[0],
        "sys_platform": sys_platform,
        "extra": "",
    }


GRID = tuple(
    _environment(f"3.{minor}.{patch}", sys_platform, system, os_name, machine)
    for minor in range(9, 15)
    for patch in PATCHES
    for sys_platform, system, os_name, machines in PLATFORMS
    for machine in machines
)


def entries(text: str) -> dict[Key, Marker | None]:
    """The ``name==version ; marker`` lines of a requirements file (reprolock's or uv's), by (name, version)."""
    found: dict[Key, Marker | None] = {}
    for line in text.splitlines():
        if line[:1].isalnum():
            req = Requirement(line.rstrip("\\ "))
            (spec,) = req.specifier
            key = (canonicalize_name(req.name), spec.version)
            assert key not in found, f"{key} twice"
            found[key] = req.marker
    return found


def installed_on(marker: Marker | None) -> frozenset[int]:
    """The environments of :data:`GRID` (by position) where an entry with ``marker`` is installed."""
    return frozenset(at for at, env in enumerate(GRID) if marker is None or marker.evaluate(env))


def differences(ours: dict[Key, Marker | None], uv: dict[Key, Marker | None]) -> dict[Key, str]:
    """Every entry the two locks disagree on: ``only reprolock``, ``only uv``, or, for an entry both have, where it
    is installed: ``wider in uv`` (uv installs it on more environments of the grid), ``wider in reprolock``,
    ``overlapping`` (each on some environments the other leaves out)."""
    found = dict.fromkeys(ours.keys() - uv.keys(), "only reprolock")
    found |= dict.fromkeys(uv.keys() - ours.keys(), "only uv")
    for key in ours.keys() & uv.keys():
        mine, theirs = installed_on(ours[key]), installed_on(uv[key])
        if mine == theirs:
            continue
        found[key] = "wider in uv" if mine < theirs else "wider in reprolock" if theirs < mine else "overlapping"
    return found


def describe(ours: dict[Key, Marker | None], uv: dict[Key, Marker | None], keys: set[Key]) -> str:
    return "\n".join(f"{key[0]}=={key[1]}: reprolock {ours.get(key, '(none)')!s} | uv {uv.get(key, '(none)')!s}" for key in sorted(keys))


def check_differences(ours: dict[Key, Marker | None], uv: dict[Key, Marker | None], expected: dict[Key, tuple[str, str]]) -> None:
    found = differences(ours, uv)
    wanted = {key: kind for key, (kind, _reason) in expected.items()}
    assert found == wanted, "differences not as expected:\n" + describe(ours, uv, set(found) ^ set(wanted) | {k for k in found if found[k] != wanted.get(k)})


def test_the_grid_comparison_sees_what_markers_mean():
    same = {("a", "1"): Marker('platform_system == "Darwin" and python_version < "3.11"')}
    other = {("a", "1"): Marker("python_full_version < '3.11' and sys_platform == 'darwin'")}
    assert differences(same, other) == {}  # written differently, installed on the same environments
    patch = {("a", "1"): Marker('python_full_version < "3.11.3"')}
    assert differences(patch, other) == {("a", "1"): "wider in reprolock"}
    machine = {("a", "1"): Marker('platform_machine == "x86_64"')}
    assert differences(machine, {("a", "1"): None}) == {("a", "1"): "wider in uv"}
    assert differences(machine, {("a", "1"): Marker('sys_platform == "linux"')}) == {("a", "1"): "overlapping"}
    assert differences({}, other) == {("a", "1"): "only uv"}


# -- offline: the synthetic index -----------------------------------------------------------------

WORLD = (
    Dist(
        "app",
        "1.0",
        extras=("fast",),
        requires=(
            "lib",
            'colorama; sys_platform == "win32"',
            'appnope; platform_system == "Darwin"',
            'tomli; python_version < "3.11"',
            'fastmath; platform_machine == "x86_64"',
            'armopt; platform_machine == "aarch64"',
            'patchfix; python_full_version < "3.11.3"',
            'speedup; extra == "fast"',
            'webshim; sys_platform == "emscripten"',
            'pypyhelp; implementation_name == "pypy"',
            'future; python_version >= "3.15"',
            "capped",
            'pinned<2; sys_platform == "win32"',
            'pinned; sys_platform != "win32"',
        ),
    ),
    # versions split by Requires-Python, each with its own dependency
    Dist("lib", "1.0", requires=("oldhelper",)),
    Dist("lib", "2.0", requires_python=">=3.10", requires=("newhelper",)),
    Dist("oldhelper", "1.0"),
    Dist("newhelper", "1.0"),
    Dist("colorama", "1.0"),
    Dist("appnope", "1.0"),
    Dist("tomli", "1.0"),
    Dist("fastmath", "1.0"),
    Dist("armopt", "1.0"),
    Dist("patchfix", "1.0"),
    # the extra's package: a dependency for 3.12 on, and colorama again, by platform_system this time
    Dist("speedup", "1.0", requires=('accel; python_version >= "3.12"', 'colorama; platform_system == "Windows"')),
    Dist("accel", "1.0"),
    Dist("webshim", "1.0"),
    Dist("pypyhelp", "1.0"),
    Dist("future", "1.0"),
    # an upper bound on Requires-Python: 2.0 is not for 3.13 and 3.14
    Dist("capped", "1.0"),
    Dist("capped", "2.0", requires_python=">=3.9,<3.13"),
    # below 2 on Windows only; 2.0 brings a helper
    Dist("pinned", "1.0"),
    Dist("pinned", "2.0", requires=("pinhelper",)),
    Dist("pinhelper", "1.0"),
)
INPUT = "app[fast]\n"

SYNTHETIC_AGREED = {
    ("accel", "1.0"),
    ("app", "1.0"),
    ("appnope", "1.0"),
    ("armopt", "1.0"),
    ("colorama", "1.0"),
    ("fastmath", "1.0"),
    ("lib", "1.0"),
    ("lib", "2.0"),
    ("newhelper", "1.0"),
    ("oldhelper", "1.0"),
    ("patchfix", "1.0"),
    ("pypyhelp", "1.0"),
    ("speedup", "1.0"),
    ("tomli", "1.0"),
}
"""The entries both locks have and install on the same environments of the grid."""

SYNTHETIC_EXPECTED = {
    ("webshim", "1.0"): ("only uv", "its marker is sys_platform == emscripten: reprolock samples only Linux, macOS and Windows"),
    ("future", "1.0"): ("only uv", "python_version >= 3.15: uv's range has no upper end, reprolock samples CPython up to 3.14"),
    ("capped", "2.0"): ("wider in uv", "uv ignores Requires-Python upper bounds (<3.13) and keeps 2.0 for 3.13 and 3.14 too"),
    ("capped", "1.0"): ("only reprolock", "the same bound: reprolock honours it and takes 1.0 on 3.13 and 3.14"),
    ("pinned", "1.0"): ("wider in uv", "uv keeps the one version that fits every platform (pinned<2 on Windows) everywhere"),
    ("pinned", "2.0"): ("only reprolock", "reprolock resolves each platform on its own: the newest outside Windows"),
    ("pinhelper", "1.0"): ("only reprolock", "the dependency of pinned 2.0, which uv does not choose"),
}


def uv_environment() -> dict[str, str]:
    """uv without the machine's configuration, any index variable or interpreter downloads."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("UV_") and key != "VIRTUAL_ENV"}
    return {**env, "UV_NO_CONFIG": "1", "UV_PYTHON_DOWNLOADS": "never", "NO_COLOR": "1"}


def uv_compile(uv: Path | str, url: str, folder: Path, inputs: str, *options: str) -> str:
    """``uv pip compile --universal`` of ``inputs`` against the index at ``url``; uv's output file."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "requirements.in").write_text(inputs, encoding="utf-8")
    command = [str(uv), *UV_ARGS, *options, "--index-url", url, "requirements.in", "-o", "uv.txt"]
    done = subprocess.run(command, cwd=folder, env=uv_environment(), capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return (folder / "uv.txt").read_text(encoding="utf-8")


def reprolock_universal(url: str, folder: Path, inputs: str, *options: str) -> str:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "requirements.in").write_text(inputs, encoding="utf-8")
    run = run_cli("lock", "requirements.in", "--universal", "--python-version", "3.9", "--index-url", url, "--no-cache", "-o", "requirements.txt", *options, cwd=folder)
    assert run.code == 0, run.err
    return (folder / "requirements.txt").read_text(encoding="utf-8")


def uv_version(uv: Path | str) -> str:
    """``uv --version``: ``uv 0.13.9 (x86_64-unknown-linux-gnu)``."""
    return subprocess.run([str(uv), "--version"], capture_output=True, text=True, check=True).stdout.strip()


def provenance(uv: Path | str) -> str:
    return (
        f"# Recorded by `python tests/test_lock_universal_uv.py` with uv {UV_VERSION} ({uv_version(uv)}, "
        f"benchmarks/.work/tools/bin/uv): `uv {' '.join(UV_ARGS)} --index-url URL requirements.in -o uv.txt`, "
        "URL this test's synthetic index (WORLD, served by tests/indexserver.py on 127.0.0.1), requirements.in: app[fast]\n"
    )


def recorded() -> dict[Key, Marker | None]:
    return entries(RECORDING.read_text(encoding="utf-8"))


@pytest.fixture
def world(index_server):
    for dist in WORLD:
        index_server.add_wheel(dist)
    return index_server


def test_universal_lock_of_the_synthetic_index_matches_uv_but_for_the_listed_differences(tmp_path, world):
    assert RECORDING.read_text(encoding="utf-8").startswith(f"# Recorded by `python tests/test_lock_universal_uv.py` with uv {UV_VERSION} ")
    ours, uv = entries(reprolock_universal(world.url, tmp_path, INPUT)), recorded()
    check_differences(ours, uv, SYNTHETIC_EXPECTED)
    assert (ours.keys() & uv.keys()) - SYNTHETIC_EXPECTED.keys() == SYNTHETIC_AGREED
    # the traps are there, on both sides, and where they belong
    windows = next(env for env in GRID if env["sys_platform"] == "win32")
    assert installed_on(ours["colorama", "1.0"]) == installed_on(Marker('sys_platform == "win32"'))
    assert ours["colorama", "1.0"].evaluate(windows)
    assert installed_on(ours["patchfix", "1.0"]) == installed_on(Marker('python_full_version < "3.11.3"'))
    assert installed_on(ours["fastmath", "1.0"]) == installed_on(Marker('platform_machine == "x86_64"'))
    assert installed_on(ours["lib", "2.0"]) == installed_on(Marker('python_version >= "3.10"'))
    assert ours["speedup", "1.0"] is None  # the extra asked for on the root line


def uv_from_index(folder: Path) -> tuple[Path, str]:
    """uv at the recording's version, installed from PyPI into a tool venv in ``folder``; and PyPI's URL (pip's default)."""
    from reprolock.index.config import pip_default_index  # noqa: PLC0415 - only the online tests ask pip

    url = pip_default_index(sys.executable)
    assert url is not None
    tools = folder / "tools"
    subprocess.run([sys.executable, "-m", "venv", str(tools)], check=True)
    pip_env = {**os.environ, "PIP_INDEX_URL": url, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    install = [str(tools / "bin" / "python"), "-m", "pip", "install", "-q", f"uv=={UV_VERSION}"]
    done = subprocess.run(install, env=pip_env, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return tools / "bin" / "uv", url


@pytest.mark.online
def test_the_recording_is_what_uv_answers_today(tmp_path, world):
    """uv, installed from PyPI at the recorded version, still answers the synthetic index as recorded."""
    uv, _ = uv_from_index(tmp_path)
    assert uv_version(uv).split()[1] == UV_VERSION
    fresh = entries(uv_compile(uv, world.url, tmp_path / "run", INPUT))
    assert {key: str(marker) for key, marker in fresh.items()} == {key: str(marker) for key, marker in recorded().items()}


# -- online: a real input, PyPI, uv installed from PyPI --------------------------------------------

LIVE_INPUT = "click\nipykernel\n"
LIVE_DATE = "2025-06-01"
"""As of 2025-06-01: pywin32 (310) had no wheel for CPython 3.14 yet, and both tools lock it for Windows anyway, judging
a release by its Requires-Python (reprolock's 3.14 Windows sample once backtracked for minutes over it)."""
LIVE_AGREED_COUNT = 42
"""click and ipykernel as of 2025-06-01: 42 entries (ipython at 3 versions, click at 2), all installed on the same
environments of the grid by both locks."""
LIVE_EXPECTED: dict[Key, tuple[str, str]] = {}
"""No difference on the grid. Written differently but the same on it: pexpect and ptyprocess, which uv also
installs on emscripten before 3.10 (ipython 8.18.1's ``sys_platform != "win32"``; reprolock samples no emscripten);
pywin32, its clauses in another order."""


@pytest.mark.online
def test_live_universal_lock_of_click_and_ipykernel_matches_uv(tmp_path):
    tool, url = uv_from_index(tmp_path)
    uv = entries(uv_compile(tool, url, tmp_path / "uv", LIVE_INPUT, "--exclude-newer", LIVE_DATE))
    ours = entries(reprolock_universal(url, tmp_path / "reprolock", LIVE_INPUT, "--exclude-newer", LIVE_DATE))
    check_differences(ours, uv, LIVE_EXPECTED)
    assert len((ours.keys() & uv.keys()) - LIVE_EXPECTED.keys()) == LIVE_AGREED_COUNT
    # the one difference off the grid: uv keeps emscripten conditions, reprolock does not sample emscripten
    assert "emscripten" in str(uv["pexpect", "4.9.0"])
    assert "emscripten" not in str(ours["pexpect", "4.9.0"])


def _record() -> None:
    """Record uv's answer for the synthetic index into :data:`RECORDING` (run by hand, see the module's text)."""
    import tempfile  # noqa: PLC0415

    from indexserver import start_server  # noqa: PLC0415

    if uv_version(TOOLS_UV).split()[1] != UV_VERSION:
        raise SystemExit(f"{TOOLS_UV} is {uv_version(TOOLS_UV)}, not uv {UV_VERSION}")
    with tempfile.TemporaryDirectory() as scratch:
        server = start_server(Path(scratch) / "files")
        try:
            for dist in WORLD:
                server.add_wheel(dist)
            text = uv_compile(TOOLS_UV, server.url, Path(scratch) / "work", INPUT)
        finally:
            server.stop()
    RECORDING.parent.mkdir(parents=True, exist_ok=True)
    RECORDING.write_text(provenance(TOOLS_UV) + text, encoding="utf-8")
    sys.stdout.write(f"wrote {RECORDING} ({len(entries(text))} entries)\n")


if __name__ == "__main__":
    _record()
