"""The docs agree with the code."""

from __future__ import annotations

import re

from conftest import ROOT
from reprolock import ruledoc
from reprolock.checks import FILE_CHECKS
from reprolock.rules import RULES


def test_rule_reference_is_current():
    committed = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    assert committed == ruledoc.render(), "regenerate with: python -m reprolock.ruledoc > docs/rules.md"


def test_every_contract_rule_is_in_the_registry():
    """The contract's rule table is the registry; its "Rules being added" rows may be there already, by their names."""
    contract = (ROOT.parent / "shared" / "CONTRACT.md")
    text = contract.read_text(encoding="utf-8") if contract.exists() else (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    rows = dict(re.findall(r"^\| (RL\d{3}) \| ([a-z-]+) \|", text, flags=re.MULTILINE))
    planned = dict(re.findall(r"^\| (RL\d{3}) \(planned\) \| ([a-z-]+) \|", text, flags=re.MULTILINE))
    registry = {code: rule.name for code, rule in RULES.items()}
    assert {code: registry.get(code) for code in rows} == rows
    assert {code: name for code, name in registry.items() if code not in rows} == {code: planned.get(code) for code in registry if code not in rows}


def test_every_check_documents_its_rules():
    for check in FILE_CHECKS:
        doc = check.__doc__ or ""
        codes = re.findall(r"RL\d{3}", doc.split("\n", 1)[0])
        assert codes, check.__name__
        assert all(code in RULES for code in codes)


def test_readme_quick_start_has_exactly_two_commands():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```sh\n(.*?)```", section, flags=re.DOTALL)
    assert len(blocks) == 1
    commands = [line for line in blocks[0].splitlines() if line.strip() and not line.lstrip().startswith("#")]
    assert len(commands) == 2
    assert "reprolock audit examples/" in commands[0]
    assert "pytest" in commands[1]


def test_docs_links_point_at_files_that_exist():
    for page in sorted((ROOT / "docs").glob("*.md")):
        text = page.read_text(encoding="utf-8")
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text):
            if "://" in target:
                continue
            assert (page.parent / target).exists(), f"{page.name}: broken link {target}"


def test_docs_cover_every_command_and_format():
    commands = (ROOT / "docs" / "commands.md").read_text(encoding="utf-8")
    for command in ("audit", "lock", "graph", "verify"):
        assert f"## `reprolock {command}" in commands
    from reprolock.cli import REPORT_FORMATS  # noqa: PLC0415 - the test reads the parser's list

    for fmt in REPORT_FORMATS:
        assert f"`{fmt}`" in commands


def test_pre_commit_hooks_run_reprolock():
    import yaml  # noqa: PLC0415 - test-only dependency

    hooks = {hook["id"]: hook for hook in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))}
    assert hooks["reprolock-audit"]["entry"] == "reprolock audit --no-index"  # a commit never waits on the network
    assert hooks["reprolock-lock-check"]["entry"] == "reprolock lock --check"
    for hook in hooks.values():
        assert hook["language"] == "python"
        assert hook["pass_filenames"] is False
        pattern = re.compile(hook["files"])
        assert pattern.search("requirements.in")
        assert pattern.search("sub/pyproject.toml")
        assert not pattern.search("src/module.py")


def test_readme_shows_the_screenshot():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "![The HTML report of the bundled example](docs/images/report.png)" in readme
    assert (ROOT / "docs" / "images" / "report.png").read_bytes().startswith(b"\x89PNG")
