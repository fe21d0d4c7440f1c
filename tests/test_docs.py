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
    contract = (ROOT.parent / "shared" / "CONTRACT.md")
    text = contract.read_text(encoding="utf-8") if contract.exists() else (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    rows = dict(re.findall(r"^\| (RL\d{3}) \| ([a-z-]+) \|", text, flags=re.MULTILINE))
    assert rows == {code: rule.name for code, rule in RULES.items()}


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
