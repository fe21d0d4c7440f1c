"""RL201 freeze-artifact, RL202 non-portable-file-url."""

from __future__ import annotations

from conftest import audit_cases, findings


def test_placeholder_versions():
    run = audit_cases("freeze/placeholders-freeze.txt")
    got = {f["package"]: f["message"] for f in findings(run, "RL201")}
    assert sorted(got) == ["pkg-resources", "pointnet2"]
    assert "Debian/Ubuntu" in got["pkg-resources"]
    assert "placeholder" in got["pointnet2"]
    assert run.json["inputs"][0]["kind"] == "freeze"


def test_added_by_freeze_block():
    run = audit_cases("freeze/added_by_freeze-freeze.txt")
    got = [(f["package"], f["location"]["line"]) for f in findings(run, "RL201")]
    assert got == [("argparse", 4), ("coverage", 5)]
    assert {f["severity"] for f in findings(run, "RL201")} == {"warning"}


def test_untraceable_editables():
    run = audit_cases("freeze/untraceable-freeze.txt")
    got = [(f["package"], f["location"]["line"]) for f in findings(run, "RL201")]
    assert got == [(None, 3), ("webapp", 1)]
    messages = [f["message"] for f in findings(run, "RL201")]
    assert any("could not determine the repository location" in m for m in messages)
    assert any("webapp installed in editable mode with no version control" in m for m in messages)


def test_file_urls_are_not_portable():
    run = audit_cases("freeze/file_urls-freeze.txt")
    got = {f["package"]: f for f in findings(run, "RL202")}
    assert sorted(got) == ["certifi", "localbuild"]
    assert "conda build directory" in got["certifi"]["message"]
    assert "local file" in got["localbuild"]["message"]
    assert {f["severity"] for f in got.values()} == {"error"}
    assert run.code == 1
