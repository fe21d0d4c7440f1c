"""Shared test helpers: run the CLI in-process and read its JSON report."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from reprolock.cli import main

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"


class Run:
    """The outcome of one in-process ``reprolock`` call."""

    def __init__(self, code: int, out: str, err: str) -> None:
        self.code = code
        self.out = out
        self.err = err

    @property
    def json(self) -> dict[str, Any]:
        return json.loads(self.out)

    def rules(self) -> list[str]:
        return [item["rule"] for item in self.json["findings"]]


_INDEX_CHOICES = {"--no-index", "--index", "--index-url", "--extra-index-url", "--offline", "--advisories"}


def run_cli(*argv: str, cwd: Path | None = None, stdin: str = "") -> Run:
    """Run reprolock in-process; an ``audit`` that names no index option gets ``--no-index``
    (the file-rule tests never consult an index; the index tests choose theirs)."""
    if "audit" in argv[:2] and not _INDEX_CHOICES.intersection(argv):
        argv = (*argv, "--no-index")
    if "audit" in argv[:2] and cwd is None and "--python" not in argv:
        argv = (*argv, "--files-only")  # the repository root may hold a developer's ./.venv
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdin=io.StringIO(stdin), stdout=out, stderr=err, cwd=cwd or ROOT)
    return Run(code, out.getvalue(), err.getvalue())


@pytest.fixture
def cli():
    return run_cli


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch, tmp_path_factory):
    """No user configuration or terminal leaks into a test."""
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "100")
    monkeypatch.delenv("VIRTUAL_ENV", raising=False)
    # The machine's pip.conf points at file:// mirrors; index tests choose their index, and a
    # test that forgets to gets a closed local port (exit 4), never the internet.
    monkeypatch.setenv("PIP_CONFIG_FILE", "/dev/null")
    monkeypatch.setenv("PIP_INDEX_URL", "http://127.0.0.1:9/simple/")
    for name in ("PIP_EXTRA_INDEX_URL", "PIP_FIND_LINKS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.getbasetemp() / "user-cache"))


def pytest_addoption(parser):
    parser.addoption("--online", action="store_true", default=False, help="also run the few polite tests against the live index")


def pytest_configure(config):
    config.addinivalue_line("markers", "online: talks to the live package index (run with --online)")
    config.addinivalue_line("markers", "slow: takes minutes (builds a Debian root with debootstrap); .ci/run runs it")


def pytest_collection_modifyitems(config, items):
    if config.getoption("--online"):
        return
    skip = pytest.mark.skip(reason="needs --online (live package index)")
    for item in items:
        if "online" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def index_server(tmp_path_factory):
    """A real index on 127.0.0.1 (see tests/indexserver.py); fresh for each test."""
    from indexserver import start_server  # noqa: PLC0415 - tests/ is on sys.path under pytest

    server = start_server(tmp_path_factory.mktemp("index-files"))
    yield server
    server.stop()


CASES = FIXTURES / "cases"


def audit_cases(*names: str, extra: tuple[str, ...] = ()) -> Run:
    """Audit fixtures/cases files (JSON), from the repository root."""
    return run_cli("audit", *(str((CASES / name).relative_to(ROOT)) for name in names), "--format", "json", *extra)


def findings(run: Run, rule: str) -> list[dict[str, Any]]:
    return [item for item in run.json["findings"] if item["rule"] == rule]


def lines(run: Run, rule: str) -> list[int]:
    return sorted(item["location"]["line"] for item in findings(run, rule))
