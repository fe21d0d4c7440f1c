"""Ask a target interpreter about itself: one subprocess run of a tiny probe.

The probe is plain Python that runs on any CPython from 3.8 up and imports
nothing of reprolock. It prints one JSON object; :func:`probe` turns it into
an :class:`~reprolock.records.Interpreter`. The only part of pip it touches is
pip's own default index, imported inside a ``try``.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import time
from pathlib import Path
from typing import TYPE_CHECKING, Self

from reprolock.errors import InputError, UsageError
from reprolock.records import Interpreter
from reprolock.redaction import redact

if TYPE_CHECKING:
    from collections.abc import Mapping

PROBE_TIMEOUT = 30.0
"""Seconds the interpreter has to answer, counted from its start; ``REPROLOCK_PROBE_TIMEOUT`` (tests, CI) changes it."""
TIMEOUT_VARIABLE = "REPROLOCK_PROBE_TIMEOUT"
_DRAIN = 2.0  # after the kill, how long to wait for the pipes to close (a process that left the group may hold them)

# Runs inside the target interpreter. Keep it 3.8-compatible and dependency-free.
PROBE = r"""
import sys
if sys.path and sys.path[0] in ("", "-c"):
    del sys.path[0]
import json, os, platform, site, sysconfig

def _stdlib(paths):
    names = getattr(sys, "stdlib_module_names", None)
    if names is not None:
        return sorted(names)
    found = set(sys.builtin_module_names)
    for folder in paths:
        try:
            entries = os.listdir(folder)
        except OSError:
            continue
        for entry in entries:
            if entry in ("site-packages", "dist-packages", "__pycache__"):
                continue
            base = entry.split(".", 1)[0]
            if entry.endswith((".py", ".so", ".pyd")) or os.path.isfile(os.path.join(folder, entry, "__init__.py")):
                if base.isidentifier():
                    found.add(base)
    return sorted(found)

def _markers():
    impl = sys.implementation
    info = impl.version
    version = "{0.major}.{0.minor}.{0.micro}".format(info)
    if info.releaselevel != "final":
        version += info.releaselevel[0] + str(info.serial)
    return {
        "implementation_name": impl.name,
        "implementation_version": version,
        "os_name": os.name,
        "platform_machine": platform.machine(),
        "platform_release": platform.release(),
        "platform_system": platform.system(),
        "platform_version": platform.version(),
        "python_full_version": platform.python_version(),
        "platform_python_implementation": platform.python_implementation(),
        "python_version": ".".join(platform.python_version_tuple()[:2]),
        "sys_platform": sys.platform,
    }

def _system_site(prefix):
    try:
        with open(os.path.join(prefix, "pyvenv.cfg"), encoding="utf-8") as handle:
            for line in handle:
                key, _, value = line.partition("=")
                if key.strip().lower() == "include-system-site-packages":
                    return value.strip().lower() == "true"
    except OSError:
        pass
    return False

def _pip_index():
    if "--no-pip" in sys.argv:
        return None
    try:
        from pip._internal.models.index import PyPI
        return PyPI.simple_url
    except Exception:
        return None

paths = sysconfig.get_paths()
stdlib_paths = [p for p in (paths.get("stdlib"), paths.get("platstdlib")) if p]
is_venv = sys.prefix != getattr(sys, "base_prefix", sys.prefix)
marker = os.path.join(paths.get("stdlib", ""), "EXTERNALLY-MANAGED")
try:
    user_site = site.getusersitepackages()
except Exception:
    user_site = None
print(json.dumps({
    "version": platform.python_version(),
    "executable": sys.executable,
    "prefix": sys.prefix,
    "base_prefix": getattr(sys, "base_prefix", sys.prefix),
    "sys_path": list(sys.path),
    "markers": _markers(),
    "stdlib": _stdlib(stdlib_paths),
    "builtin": sorted(sys.builtin_module_names),
    "stdlib_paths": stdlib_paths,
    "user_site": user_site,
    "user_site_enabled": bool(site.ENABLE_USER_SITE),
    "is_venv": is_venv,
    "system_site_packages": is_venv and _system_site(sys.prefix),
    "externally_managed": marker if not is_venv and os.path.isfile(marker) else None,
    "site_packages": [p for p in dict.fromkeys((paths.get("purelib"), paths.get("platlib"))) if p],
    "pip_index_url": _pip_index(),
}))
"""


def _named(python: str, executable: Path, cwd: Path) -> str:
    """How an answer names the interpreter given as ``python``: its executable when a virtualenv folder was given."""
    return str(executable) if (cwd / Path(python).expanduser()).is_dir() else python


def find_interpreter(python: str, cwd: Path) -> Path:
    """The interpreter for ``--python``: a python executable, or a virtualenv folder holding one."""
    path = Path(os.path.normpath(cwd / Path(python).expanduser()))
    if path.is_dir():
        for candidate in (path / "bin" / "python", path / "bin" / "python3", path / "Scripts" / "python.exe"):
            if candidate.is_file():
                return candidate
        raise InputError(f"{python}: no python interpreter in this folder", hint="give a virtualenv folder or the path of a python executable")
    if not path.exists():
        raise InputError(f"{python}: no such interpreter", hint="give a virtualenv folder or the path of a python executable")
    return path


def probe_timeout(environ: Mapping[str, str]) -> float:
    """The probe's deadline: ``REPROLOCK_PROBE_TIMEOUT`` seconds when set, else :data:`PROBE_TIMEOUT`."""
    value = environ.get(TIMEOUT_VARIABLE)
    if value is None:
        return PROBE_TIMEOUT
    try:
        seconds = float(value)
    except ValueError:
        seconds = 0.0
    if not seconds > 0:  # also refuses nan
        raise UsageError(
            f"{TIMEOUT_VARIABLE}={value!r} is not a number of seconds above 0",
            hint=f"it is meant for tests and CI; unset it for the default {PROBE_TIMEOUT:g} s",
        )
    return seconds


class RunningProbe:
    """A probe started in the target interpreter; :meth:`result` waits for its answer.

    Starting it early lets the interpreter start up while reprolock reads files
    and imports its checks.
    """

    def __init__(
        self,
        python: str,
        cwd: Path,
        *,
        environ: dict[str, str] | None = None,
        pip_index: bool = True,
        timeout: float | None = None,
    ) -> None:
        self.python = python
        self.cwd = cwd
        self.executable = find_interpreter(python, cwd)
        self.timeout = timeout if timeout is not None else probe_timeout(os.environ)
        self._answer: Interpreter | None = None
        try:
            self._process = subprocess.Popen(  # noqa: S603 - the user chose this interpreter; the probe is a constant
                [str(self.executable), "-c", PROBE, *([] if pip_index else ["--no-pip"])],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                cwd=cwd,
                env=environ,
                start_new_session=True,  # its own process group: the deadline kills whatever it started too
            )
        except OSError as exc:
            raise InputError(f"{python}: cannot run this interpreter: {exc.strerror or exc}", hint="check the path and that it is executable") from None
        self._deadline = time.monotonic() + self.timeout

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_exc: object) -> None:
        """Stop a probe whose answer was never asked for (the run failed before it)."""
        if self._answer is None and self._process.returncode is None:
            self._stop()

    def _stop(self) -> None:
        """Kill the probe's whole process group and reap it, within :data:`_DRAIN` seconds."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self._process.pid, signal.SIGKILL)  # the session leader's pid is the group's id
        try:
            self._process.communicate(timeout=_DRAIN)
        except subprocess.TimeoutExpired:  # a process that left the group still holds a pipe: stop listening
            for stream in (self._process.stdout, self._process.stderr):
                if stream is not None:
                    stream.close()
            self._process.wait()

    def result(self) -> Interpreter:
        """The interpreter's answer (read once, then remembered); exit 3 when it cannot be queried."""
        if self._answer is None:
            self._answer = self._read()
        return self._answer

    def _read(self) -> Interpreter:
        try:
            stdout, stderr = self._process.communicate(timeout=max(0.0, self._deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            self._stop()
            raise InputError(f"{self.python}: the interpreter did not answer within {self.timeout:g} s", hint="check that it starts on its own") from None
        try:
            data = json.loads(stdout)
        except ValueError:
            data = None
        if self._process.returncode != 0 or not isinstance(data, dict):
            last = (stderr.strip().splitlines() or ["no output"])[-1]
            raise InputError(
                f"{self.python}: cannot query this interpreter (exit {self._process.returncode}: {last})",
                hint="it must be a CPython 3.8 or newer",
            )
        return _interpreter(_named(self.python, self.executable, self.cwd), data)


def probe(python: str, cwd: Path, *, environ: dict[str, str] | None = None, pip_index: bool = True, timeout: float | None = None) -> Interpreter:
    """Run the probe in ``python`` (an executable or a venv folder); exit 3 when it cannot be queried."""
    with RunningProbe(python, cwd, environ=environ, pip_index=pip_index, timeout=timeout) as running:
        return running.result()


def _interpreter(python: str, data: dict[str, object]) -> Interpreter:
    def strings(key: str) -> tuple[str, ...]:
        value = data.get(key) or []
        return tuple(str(item) for item in value) if isinstance(value, list) else ()

    def text(key: str) -> str | None:
        value = data.get(key)
        return str(value) if value is not None else None

    markers = data.get("markers")
    pip_index = text("pip_index_url")
    return Interpreter(
        python=python,
        version=text("version") or "",
        prefix=text("prefix") or "",
        base_prefix=text("base_prefix") or "",
        sys_path=strings("sys_path"),
        markers=tuple(sorted((str(k), str(v)) for k, v in markers.items())) if isinstance(markers, dict) else (),
        stdlib=frozenset(strings("stdlib")),
        user_site=text("user_site"),
        user_site_enabled=bool(data.get("user_site_enabled")),
        is_venv=bool(data.get("is_venv")),
        system_site_packages=bool(data.get("system_site_packages")),
        externally_managed=text("externally_managed"),
        site_packages=strings("site_packages"),
        pip_index_url=redact(pip_index)[0] if pip_index else None,
        executable=text("executable"),
        builtin_modules=frozenset(strings("builtin")),
        stdlib_paths=strings("stdlib_paths"),
    )
