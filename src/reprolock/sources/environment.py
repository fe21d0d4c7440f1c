"""Inspect an interpreter: probe it once, then read its distributions in-process.

:func:`inspect` is the one entry point the commands use (``audit``, ``graph``,
``verify``, ``lock --from-env``); :func:`choose_python` applies the default
(``$VIRTUAL_ENV``, else ``./.venv``) when no ``--python`` is given.
"""

from __future__ import annotations

import dataclasses
import os
from typing import TYPE_CHECKING

from reprolock.errors import UsageError
from reprolock.records import Environment
from reprolock.sources.metadata import scan_path
from reprolock.sources.ospackages import os_owners
from reprolock.sources.probe import probe

if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path

    from reprolock.sources.probe import RunningProbe
    from reprolock.sources.recordcache import RecordCache


def choose_python(python: str | None, cwd: Path, environ: Mapping[str, str]) -> str | None:
    """``--python`` if given, else ``$VIRTUAL_ENV``, else ``./.venv`` when it exists, else ``None`` (files only)."""
    if python:
        return python
    active = environ.get("VIRTUAL_ENV")
    if active:
        return active
    local = cwd / ".venv"
    if (local / "pyvenv.cfg").is_file() or (local / "bin" / "python").exists():
        return str(local)
    return None


def inspect(
    python: str | None,
    cwd: Path,
    *,
    environ: dict[str, str] | None = None,
    owners: bool = True,
    pip_index: bool = True,
    modules: bool = True,
    started: RunningProbe | None = None,
    records: RecordCache | None = None,
) -> Environment:
    """Probe ``python`` (an interpreter or a venv folder; ``None``: the default target) and scan its ``sys.path``.

    ``owners`` asks the OS package manager, in one call, which package owns
    each distribution that looks system-provided; ``pip_index`` asks the
    target's pip for its default index (a few tens of milliseconds);
    ``modules`` reads each distribution's top-level modules from its RECORD
    (only the module rules need them). ``started`` is a probe already
    running for ``python`` (see :class:`~reprolock.sources.probe.RunningProbe`);
    ``records`` remembers what each RECORD names between runs (see
    :class:`~reprolock.sources.recordcache.RecordCache`).
    """
    chosen = choose_python(python, cwd, environ if environ is not None else os.environ)
    if chosen is None:
        raise UsageError("no interpreter to inspect", hint="give --python PATH, activate a virtualenv or create ./.venv")
    interpreter = started.result() if started is not None else probe(chosen, cwd, environ=environ, pip_index=pip_index)
    distributions = scan_path(interpreter.sys_path, modules=modules, records=records)
    if owners:
        asked = [dist.metadata_path for dist in distributions if dist.system_reasons]
        known = os_owners(asked)
        if known:
            distributions = tuple(
                dataclasses.replace(dist, os_package=known[dist.metadata_path]) if dist.metadata_path in known else dist
                for dist in distributions
            )
    return Environment(interpreter=interpreter, distributions=distributions)


def local_modules(directory: Path) -> dict[str, str]:
    """Modules a project folder would provide if Python ran from it: ``name.py``, extension modules and ``name/__init__.py``.

    A folder without ``__init__.py`` is a namespace portion, which never
    shadows a regular package, so it is not listed. Values are paths relative
    to ``directory``.
    """
    found: dict[str, str] = {}
    try:
        entries = sorted(directory.iterdir())
    except OSError:
        return found
    for entry in entries:
        name = entry.name
        if name.startswith("."):
            continue
        if entry.is_dir():
            if name.isidentifier() and (entry / "__init__.py").is_file():
                found.setdefault(name, f"{name}/")
        elif name.endswith(".py") and name[:-3].isidentifier():
            found.setdefault(name[:-3], name)
        elif name.endswith((".so", ".pyd")) and name.split(".", 1)[0].isidentifier():
            found.setdefault(name.split(".", 1)[0], name)
    return found
