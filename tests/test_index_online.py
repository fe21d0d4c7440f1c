"""A few polite tests against the live index (only with ``pytest --online``)."""

from __future__ import annotations

import sys

import pytest

from conftest import run_cli
from reprolock.index.config import pip_default_index, split_credentials
from reprolock.index.finder import IndexFinder
from reprolock.index.options import IndexOptions

pytestmark = pytest.mark.online


@pytest.fixture
def live_index(monkeypatch):
    url = pip_default_index(sys.executable)
    assert url is not None
    monkeypatch.setenv("PIP_INDEX_URL", url)
    return url


def test_live_drift_and_yank(tmp_path, live_index):
    (tmp_path / "requirements.txt").write_text("requests==2.32.0\n")
    run = run_cli("audit", "requirements.txt", "--format", "json", "--cache-dir", "c", "--index-url", live_index, cwd=tmp_path)
    rules = {item["rule"] for item in run.json["findings"]}
    assert {"RL501", "RL502"} <= rules
    assert run.json["packages"][0]["latest"] is not None


def test_live_core_metadata_without_advertised_pep658(live_index):
    finder = IndexFinder(IndexOptions(indexes=(split_credentials(live_index),)))
    page = finder.project("six")
    assert page is not None
    wheel = next(item for item in page.files if item.version == "1.16.0" and item.packagetype == "bdist_wheel")
    assert b"Name: six" in finder.core_metadata(wheel)
