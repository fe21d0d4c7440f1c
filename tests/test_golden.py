"""Golden reports of the bundled example, in every format.

Refresh after an intended change with
``REPROLOCK_UPDATE_GOLDEN=1 python -m pytest tests/test_golden.py`` and review the diff.
"""

from __future__ import annotations

import os

import pytest

from conftest import ROOT

GOLDEN = ROOT / "tests" / "golden"
EXAMPLE = ["audit", "examples/webapp", "--freeze", "examples/webapp/pip-freeze.txt"]


@pytest.mark.parametrize(
    ("name", "extra"),
    [("webapp.txt", []), ("webapp-verbose.txt", ["--verbose"]), ("webapp.json", ["--format", "json"]), ("webapp.md", ["--format", "markdown"])],
)
def test_golden(cli, name, extra):
    result = cli(*EXAMPLE, *extra)
    assert result.code == 1, result.err
    path = GOLDEN / name
    if os.environ.get("REPROLOCK_UPDATE_GOLDEN") == "1":
        path.write_text(result.out, encoding="utf-8")
    assert result.out == path.read_text(encoding="utf-8")
