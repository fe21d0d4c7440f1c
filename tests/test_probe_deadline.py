"""``--python`` given a program that never answers: exit 3 at the probe's deadline, its whole process group killed.

Each case runs the real ``reprolock`` in its own session (so a hang cannot
leave strays behind) against a real shell script posing as an interpreter,
with the deadline shortened by ``REPROLOCK_PROBE_TIMEOUT``.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from reprolock.sources.probe import PROBE_TIMEOUT, probe_timeout

DEADLINE = "1"
HANG = 60  # generous: a run that takes this long is a hang, not a slow machine
SLEEPER = '#!/bin/sh\necho $$ > "$0.pids"\nsleep 600\n'
# the script exits at once; its child keeps stdout (and stderr) open
FORKER = '#!/bin/sh\necho $$ > "$0.pids"\nsleep 600 &\necho $! >> "$0.pids"\nexit 0\n'


def _script(folder: Path, body: str) -> Path:
    path = folder / "python"
    path.write_text(body, encoding="utf-8")
    path.chmod(0o755)
    return path


def _alive(pid: int) -> bool:
    """Running (a zombie nobody reaped yet counts as gone)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text(encoding="utf-8")
    except FileNotFoundError:
        return False
    return "\nState:\tZ" not in status


def _reprolock(cwd: Path, *argv: str, timeout: str | None = DEADLINE) -> tuple[subprocess.CompletedProcess[str], float]:
    env = {key: value for key, value in os.environ.items() if key != "REPROLOCK_PROBE_TIMEOUT"}
    if timeout is not None:
        env["REPROLOCK_PROBE_TIMEOUT"] = timeout
    start = time.monotonic()
    process = subprocess.Popen(
        [sys.executable, "-m", "reprolock", *argv], cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    try:
        out, err = process.communicate(timeout=HANG)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        pytest.fail(f"reprolock {' '.join(argv)} still running after {HANG} s")
    return subprocess.CompletedProcess(process.args, process.returncode, out, err), time.monotonic() - start


@pytest.mark.parametrize("body", [SLEEPER, FORKER], ids=["sleeps", "child-keeps-stdout-open"])
@pytest.mark.parametrize("command", [["audit", "--no-index"], ["graph"], ["verify", "lock.txt"]])
def test_a_silent_interpreter_is_exit_3_at_the_deadline(tmp_path, body, command):
    python = _script(tmp_path, body)
    (tmp_path / "lock.txt").write_text("six==1.16.0\n", encoding="utf-8")
    done, elapsed = _reprolock(tmp_path, *command, "--python", str(python))
    assert done.returncode == 3, done.stderr
    assert done.stderr == f"reprolock: error: {python}: the interpreter did not answer within 1 s (check that it starts on its own)\n"
    assert elapsed < PROBE_TIMEOUT / 2  # the short deadline was kept, not the default one
    pids = [int(line) for line in (tmp_path / "python.pids").read_text(encoding="utf-8").split()]
    assert not [pid for pid in pids if _alive(pid)], "the probe's processes outlived the run"


@pytest.mark.parametrize("value", ["0", "-1", "soon"])
def test_a_bad_probe_deadline_is_a_usage_error(tmp_path, value):
    done, _ = _reprolock(tmp_path, "audit", "--no-index", "--python", sys.executable, timeout=value)
    assert done.returncode == 2
    assert done.stderr == f"reprolock: error: REPROLOCK_PROBE_TIMEOUT={value!r} is not a number of seconds above 0 (it is meant for tests and CI; unset it for the default {PROBE_TIMEOUT:g} s)\n"


def test_probe_deadline_defaults_and_reads_the_environment():
    assert probe_timeout({}) == PROBE_TIMEOUT
    assert probe_timeout({"REPROLOCK_PROBE_TIMEOUT": "2.5"}) == 2.5


def test_a_real_interpreter_still_answers_with_a_short_deadline(tmp_path):
    done, _ = _reprolock(tmp_path, "audit", "--no-index", "--format", "json", "--python", sys.executable, timeout="20")
    assert done.returncode in {0, 1}, done.stderr
    assert '"environment": {' in done.stdout


def test_a_child_that_leaves_the_process_group_cannot_hold_the_run(tmp_path):
    """A grandchild in a session of its own escapes the kill; reprolock stops reading its pipe and returns."""
    python = _script(tmp_path, '#!/bin/sh\nsetsid sleep 600 &\necho $! > "$0.pids"\nsleep 600\n')
    try:
        done, elapsed = _reprolock(tmp_path, "audit", "--no-index", "--python", str(python))
        assert done.returncode == 3, done.stderr
        assert "did not answer within 1 s" in done.stderr
        assert elapsed < PROBE_TIMEOUT / 2
    finally:
        for pid in (tmp_path / "python.pids").read_text(encoding="utf-8").split():
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(pid), signal.SIGKILL)
