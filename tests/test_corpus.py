"""Every real file of the shared corpus is audited without a crash.

The expected exit codes and rule families were checked by hand against each
file (see fixtures/corpus/MANIFEST.md for what each file holds). The two
InvokeAI files include ``-r environments-and-requirements/requirements-base.txt``,
a path relative to the repository root rather than to the including file, so
pip itself fails on them: exit 3 is right.
"""

from __future__ import annotations

import pytest

from conftest import FIXTURES

CORPUS = FIXTURES / "corpus"

# (file, exit code, rules that must be among the findings)
EXPECTED = [
    ("AJpon__pyhon-uv-project-template/pyproject.toml", 0, {"RL101"}),
    ("Dan8991__Deep-Neural-Net-numpy/freeze.txt", 0, {"RL102", "RL201"}),
    ("Dan8991__google-hashcode-2019-qualification/freeze.txt", 0, {"RL102", "RL201"}),
    ("Gaobaofogo__Blog-EJECT-2016.2/freeze.txt", 0, {"RL102"}),
    ("ZENGYIMING-EAMON__SPCV/requirements.txt", 1, {"RL201", "RL202"}),
    ("apache__airflow/constraints/constraints.txt", 0, {"RL102"}),
    ("astral-sh__ruff/docs/requirements-insiders.txt", 1, {"RL103"}),
    ("astral-sh__uv/docs/requirements.in", 0, {"RL101"}),
    ("astral-sh__uv/docs/requirements.txt", 0, {"RL102"}),
    ("certbot__certbot/tools/requirements.txt", 0, {"RL102"}),
    ("dev-fjn__Fundacion/requeriments.txt", 1, {"RL101", "RL203"}),
    ("eHealthAfrica__rapidpro/pip-freeze.txt", 0, {"RL106", "RL201", "RL203"}),
    ("encode__httpx/pyproject.toml", 0, {"RL101"}),
    ("encode__httpx/requirements.txt", 1, {"RL101", "RL105", "RL106"}),
    ("getsentry__sentry/requirements-frozen.txt", 0, {"RL102"}),
    ("googlecolab__backend-info/pip-freeze.txt", 1, {"RL201", "RL202", "RL203"}),
    ("graphcore__Gradient-Pytorch-Geometric/graph-prediction/schnet-molecular-prediction/requirements.txt", 1, {"RL101", "RL103"}),
    ("graphcore__Gradient-Pytorch-Geometric/learning-pytorch-geometric-on-ipus/requirements.txt", 1, {"RL101", "RL103"}),
    ("home-assistant__core/homeassistant/package_constraints.txt", 1, {"RL101", "RL203"}),
    ("home-assistant__core/requirements.txt", 1, {"RL101", "RL109"}),
    ("home-assistant__core/requirements_test.txt", 1, {"RL101", "RL109"}),
    ("home-assistant__core/requirements_test_pre_commit.txt", 0, {"RL102"}),
    ("invoke-ai__InvokeAI/environments-and-requirements/requirements-base.txt", 1, {"RL101", "RL104"}),
    ("invoke-ai__InvokeAI/environments-and-requirements/requirements-lin-cuda.txt", 3, set()),
    ("invoke-ai__InvokeAI/environments-and-requirements/requirements-win-colab-cuda.txt", 3, set()),
    ("mmore500__downstream/pyproject.toml", 0, {"RL101"}),
    ("mmore500__downstream/requirements.txt", 0, {"RL102", "RL203"}),
    ("mozilla__telemetry-airflow/constraints.txt", 0, {"RL102", "RL201"}),
    ("mozilla__telemetry-airflow/requirements.in", 0, {"RL101", "RL201"}),
    ("notmayday__CS-SwinGAN_MC_Rec/requirements.txt", 0, {"RL105", "RL106", "RL201"}),
    ("oobabooga__text-generation-webui/requirements.txt", 1, {"RL101", "RL104"}),
    ("openai__openai-python/requirements.lock", 0, {"RL105", "RL106"}),
    ("openedx__edx-platform/requirements/edx/github.in", 1, {"RL103"}),
    ("pola-rs__polars/py-polars/requirements-dev.txt", 1, {"RL101"}),
    ("pypi__warehouse/requirements/deploy.txt", 0, set()),
    ("pypi__warehouse/requirements/docs/blog.in", 0, {"RL101"}),
    ("pypi__warehouse/requirements/docs/blog.txt", 0, set()),
]


def test_every_corpus_file_is_listed():
    on_disk = {p.relative_to(CORPUS).as_posix() for p in CORPUS.rglob("*") if p.is_file() and p.name != "MANIFEST.md"}
    assert on_disk == {name for name, _, _ in EXPECTED}


@pytest.mark.parametrize(("name", "code", "rules"), EXPECTED, ids=[name for name, _, _ in EXPECTED])
def test_corpus_file(cli, name, code, rules):
    result = cli("audit", str(CORPUS / name), "--format", "json")
    assert result.code == code, result.err
    if code == 3:
        assert result.out == ""
        assert result.err.startswith("reprolock: error: ")
        assert "does not exist" in result.err
        assert result.err.count("\n") == 1
        return
    report = result.json
    assert report["exit_code"] == code
    assert rules <= set(report_rules := {f["rule"] for f in report["findings"]}), report_rules
    assert "RL111" not in report_rules  # every corpus line is valid pip syntax


def test_corpus_text_reports_render(cli):
    for name, code, _ in EXPECTED:
        if code != 3:
            result = cli("audit", str(CORPUS / name))
            assert result.code == code
            assert "reprolock audit" in result.out


def test_certbot_markers_keep_double_pins_apart(cli):
    report = cli("audit", str(CORPUS / "certbot__certbot/tools/requirements.txt"), "--format", "json").json
    assert "RL109" not in {f["rule"] for f in report["findings"]}


def test_colab_url_hash_fragments_do_not_turn_on_hash_mode(cli):
    report = cli("audit", str(CORPUS / "googlecolab__backend-info/pip-freeze.txt"), "--format", "json").json
    assert {f["severity"] for f in report["findings"] if f["rule"] == "RL102"} == {"warning"}


def test_warehouse_hashed_lock_is_clean(cli):
    report = cli("audit", str(CORPUS / "pypi__warehouse/requirements/docs/blog.txt"), "--format", "json").json
    assert report["findings"] == []
    assert len(report["packages"]) == 39
