"""``reprolock audit`` with the index rules RL501-RL506, end to end against the test index."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import sys
from pathlib import Path

import pytest

from conftest import FIXTURES, findings, run_cli
from reprolock.checks.index import IndexData, Subject, check_index, subjects_from
from reprolock.cli import main
from reprolock.index.advisories import Vulnerability, load_advisories
from reprolock.index.models import DistFile, IndexTarget, ProjectPage
from reprolock.index.summary import summarize
from reprolock.sources.loader import load
from wheelfactory import Dist

ADVISORIES = FIXTURES / "advisories"
PY = ".".join(str(part) for part in sys.version_info[:3])


@pytest.fixture
def index(index_server):
    for name in ("requests", "django", "numpy", "oldlib"):
        index_server.load_fixture(name)
    return index_server


def audit(tmp_path, server, text, *extra):
    (tmp_path / "requirements.txt").write_text(text)
    return run_cli(
        "audit", "requirements.txt", "--format", "json", "--index-url", server.url, "--cache-dir", str(tmp_path / "cache"), *extra, cwd=tmp_path
    )


def by_package(run, rule):
    return {item["package"]: item for item in findings(run, rule)}


def test_drift_latest_wanted_step_and_days(tmp_path, index):
    run = audit(tmp_path, index, "requests==2.28.0\ndjango==3.2.25\nnumpy==1.26.4\n")
    drift = by_package(run, "RL501")
    assert drift["requests"]["detail"] == {
        "current": "2.28.0", "latest": "2.32.3", "wanted": "2.32.3", "step": "minor", "days_behind": 720,
    }  # fmt: skip
    assert drift["requests"]["severity"] == "info"
    assert drift["requests"]["location"] == {"path": "requirements.txt", "line": 1}
    assert drift["django"]["detail"]["latest"] == "5.1.2"  # 5.2a1 is a pre-release
    assert drift["django"]["detail"]["step"] == "major"
    assert drift["django"]["severity"] == "warning"
    # numpy 2.9.0 has no file for this Python: 2.2.0 is the latest that installs here.
    assert drift["numpy"]["detail"]["latest"] == "2.2.0"
    rows = {row["name"]: row for row in run.json["packages"]}
    assert rows["requests"]["latest"] == "2.32.3"
    assert rows["requests"]["wanted"] == "2.32.3"
    assert rows["requests"]["yanked"] is False


def test_wanted_follows_the_files_own_ranges(tmp_path, index):
    (tmp_path / "constraints.txt").write_text("django<5\n")
    run = audit(tmp_path, index, "-c constraints.txt\ndjango==4.2.0\n")
    detail = by_package(run, "RL501")["django"]["detail"]
    assert (detail["latest"], detail["wanted"], detail["step"]) == ("5.1.2", "4.2.16", "major")


def test_a_pinned_pre_release_is_compared_with_pre_releases(tmp_path, index):
    run = audit(tmp_path, index, "requests==3.0.0b1\ndjango==5.1.2\n")
    assert "requests" not in by_package(run, "RL501")  # nothing newer, pre-release or not
    assert "django" not in by_package(run, "RL501")  # 5.2a1 is not offered to a final pin


def test_yanked_with_reason(tmp_path, index):
    run = audit(tmp_path, index, "requests==2.32.0\n")
    (item,) = findings(run, "RL502")
    assert item["severity"] == "error"
    assert item["detail"]["reason"] == "Yanked due to conflicts with CVE-2024-35195 mitigation"
    assert "CVE-2024-35195 mitigation" in item["message"]
    assert run.json["packages"][0]["yanked"] is True
    assert run.code == 1


def test_not_on_index_project_and_version(tmp_path, index):
    run = audit(tmp_path, index, "requests==9.9.9\nno-such-project==1.0\n")
    messages = sorted(item["message"] for item in findings(run, "RL504"))
    assert messages == ["no-such-project is not on the package index", "requests 9.9.9 (pinned) is not on the package index"]


def test_project_status(tmp_path, index):
    run = audit(tmp_path, index, "oldlib==1.1\n")
    (item,) = findings(run, "RL505")
    assert item["detail"] == {"status": "archived", "reason": "no longer maintained"}
    assert item["severity"] == "warning"


def test_unaudited_without_vulnerability_data(tmp_path, index):
    run = audit(tmp_path, index, "requests==2.28.0\noldlib==1.1\n")
    (item,) = findings(run, "RL506")
    assert item["detail"]["packages"] == ["oldlib==1.1", "requests==2.28.0"]
    assert not findings(run, "RL503")


def test_vulnerable_from_osv_advisories(tmp_path, index):
    run = audit(tmp_path, index, "requests==2.28.0\ndjango==3.2.25\noldlib==1.1\n", "--advisories", str(ADVISORIES))
    vulnerable = by_package(run, "RL503")
    assert vulnerable["requests"]["detail"]["ids"] == ["GHSA-9wx4-h78v-vm56", "PYSEC-2023-74"]
    assert vulnerable["requests"]["detail"]["fixed_in"] == ["2.31.0", "2.32.0"]
    assert vulnerable["django"]["detail"]["ids"] == ["PYSEC-2024-EXAMPLE"]
    assert "oldlib" not in vulnerable
    assert not findings(run, "RL506")  # the OSV data covers every package


def test_vulnerable_from_the_index_per_version_json(tmp_path, index_server):
    index_server.add_wheel(Dist("alpha", "1.0"))
    index_server.add_wheel(Dist("beta", "2.0"))
    index_server.json_api = True
    index_server.vulnerabilities[("alpha", "1.0")] = [{"id": "PYSEC-0000-1", "aliases": ["CVE-0000-1"], "fixed_in": ["1.1"]}]
    run = audit(tmp_path, index_server, "alpha==1.0\nbeta==2.0\n")
    (item,) = findings(run, "RL503")
    assert item["package"] == "alpha"
    assert item["detail"]["aliases"] == ["CVE-0000-1"]
    assert not findings(run, "RL506")


def test_unreachable_index_is_exit_4(tmp_path):
    (tmp_path / "requirements.txt").write_text("requests==2.28.0\n")
    run = run_cli("audit", "requirements.txt", "--index-url", "http://user:pw@127.0.0.1:9/simple/", "--no-cache", cwd=tmp_path)
    assert run.code == 4
    assert "Traceback" not in run.err
    assert "user:pw" not in run.err
    assert "127.0.0.1:9/simple/" in run.err
    assert "could not be reached" in run.err


def test_offline_uses_the_cache_and_reports_the_rest_unknown(tmp_path, index):
    audit(tmp_path, index, "requests==2.28.0\n")
    index.requests.clear()
    run = audit(tmp_path, index, "requests==2.28.0\ndjango==3.2.25\n", "--offline")
    assert index.requests == []
    assert "requests" in by_package(run, "RL501")
    assert "django" not in by_package(run, "RL501")
    assert not findings(run, "RL504")  # unknown is not missing
    rows = {row["name"]: row for row in run.json["packages"]}
    assert rows["django"]["latest"] is None
    assert rows["django"]["index"] == "unknown"
    assert "django==3.2.25" in findings(run, "RL506")[0]["detail"]["packages"]


def test_offline_with_nothing_cached_still_succeeds(tmp_path, index):
    (tmp_path / "requirements.txt").write_text("requests==2.28.0 --hash=sha256:" + "0" * 64 + "\n")
    run = run_cli("audit", "requirements.txt", "--format", "json", "--offline", "--index-url", index.url, "--cache-dir", "c", cwd=tmp_path)
    assert run.code == 0
    assert [item["rule"] for item in run.json["findings"]] == ["RL506"]


def test_no_index_skips_the_index_rules(tmp_path, index):
    (tmp_path / "requirements.txt").write_text("requests==2.32.0\n")
    run = run_cli("audit", "requirements.txt", "--format", "json", "--no-index", "--index-url", index.url, cwd=tmp_path)
    assert not [item for item in run.json["findings"] if item["rule"].startswith("RL5")]
    assert index.requests == []


def test_pip_index_url_is_honoured(tmp_path, index, monkeypatch):
    monkeypatch.setenv("PIP_INDEX_URL", index.url)
    (tmp_path / "requirements.txt").write_text("requests==2.32.0\n")
    run = run_cli("audit", "requirements.txt", "--format", "json", "--offline", cwd=tmp_path)
    assert run.code == 0  # nothing cached yet: unknown, not an error
    run = run_cli("audit", "requirements.txt", "--format", "json", "--index-url", index.url, cwd=tmp_path)
    assert findings(run, "RL502")


def test_text_report_shows_index_findings(tmp_path, index):
    (tmp_path / "requirements.txt").write_text("requests==2.32.0\n")
    run = run_cli("audit", "requirements.txt", "--index-url", index.url, "--cache-dir", "c", cwd=tmp_path)
    assert "RL502" in run.out
    assert "yanked" in run.out


# -- the pure rules, without a server ------------------------------------------


def page(*files):
    return ProjectPage("demo", "http://index.invalid/simple/", tuple(files))


def wheel(version, **extra):
    return DistFile(f"demo-{version}-py3-none-any.whl", "u", version, "bdist_wheel", **extra)


def test_a_release_is_yanked_only_when_every_file_is():
    target = IndexTarget(PY)
    facts = summarize(
        page(
            wheel("1.0", yanked=True, yanked_reason="bad"),
            DistFile("demo-1.0.tar.gz", "u", "1.0", "sdist"),
            wheel("1.1", yanked=True, yanked_reason="worse"),
        ),
        target,
    )
    assert [(item.version, item.yanked) for item in facts.releases] == [("1.1", True), ("1.0", False)]
    found, known = check_index([Subject("demo", "1.1")], IndexData({"demo": facts}))
    assert [item.rule for item in found] == ["RL502", "RL506"]
    assert known["demo"]["latest"] == "1.0"


def test_wheel_tags_and_requires_python_decide_latest():
    target = IndexTarget("3.11.7", frozenset({"cp311-cp311-manylinux_2_17_x86_64", "py3-none-any"}))
    facts = summarize(
        page(
            wheel("1.0"),
            DistFile("demo-2.0-cp312-cp312-manylinux_2_17_x86_64.whl", "u", "2.0", "bdist_wheel"),
            wheel("3.0", requires_python=">=3.12"),
        ),
        target,
    )
    found, known = check_index([Subject("demo", "1.0")], IndexData({"demo": facts}))
    assert known["demo"]["latest"] == "1.0"
    assert "RL501" not in [item.rule for item in found]


def test_subjects_skip_direct_references_and_placeholders(tmp_path):
    (tmp_path / "r.txt").write_text("a==1.0\nb @ https://host.invalid/b-1.0.tar.gz\npkg-resources==0.0.0\nc>=2\n")
    subjects = subjects_from(load(["r.txt"], cwd=tmp_path))
    assert [(item.name, item.version) for item in subjects] == [("a", "1.0")]


def test_osv_ranges_versions_and_last_affected():
    database = load_advisories(ADVISORIES)
    assert [item.id for item in database.matches("Django", "4.2.0")] == ["PYSEC-2024-EXAMPLE"]
    assert database.matches("django", "4.2.1") == []
    assert [item.id for item in database.matches("django", "3.2.25")] == ["PYSEC-2024-EXAMPLE"]
    assert [item.id for item in database.matches("requests", "2.31.0")] == ["GHSA-9wx4-h78v-vm56"]
    assert database.matches("requests", "2.32.0") == []
    assert database.skipped == []


def test_osv_zip_and_missing_path(tmp_path):
    archive = shutil.make_archive(str(tmp_path / "osv"), "zip", ADVISORIES)
    assert [item.id for item in load_advisories(Path(archive)).matches("requests", "2.30.0")] == ["GHSA-9wx4-h78v-vm56", "PYSEC-2023-74"]
    (tmp_path / "requirements.txt").write_text("a==1\n")
    run = run_cli("audit", "requirements.txt", "--advisories", "nope", "--offline", "--index-url", "http://127.0.0.1:9/simple/", "--cache-dir", "c", cwd=tmp_path)
    assert run.code == 3
    assert "nope: advisories folder or zip not found" in run.err


def test_vulnerability_records_keep_their_source():
    facts = summarize(page(wheel("1.0")), IndexTarget(PY))
    data = IndexData({"demo": facts}, vulnerabilities={("demo", "1.0"): [Vulnerability("X-1", source="index")]})
    found, _ = check_index([Subject("demo", "1.0")], data)
    assert [(item.rule, item.detail["sources"]) for item in found] == [("RL503", ["index"])]


def default_index_audit(tmp_path, index, monkeypatch, name, text, *extra):
    """``audit NAME`` with no index option, the index coming from the user's pip.conf (not run_cli: it adds --no-index)."""
    (tmp_path / "pip.conf").write_text(f"[global]\nindex-url = {index.url}\n", encoding="utf-8")
    monkeypatch.setenv("PIP_CONFIG_FILE", str(tmp_path / "pip.conf"))
    monkeypatch.delenv("PIP_INDEX_URL", raising=False)
    (tmp_path / name).write_text(text, encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()
    code = main(["audit", name, "--format", "json", "--cache-dir", str(tmp_path / "cache"), *extra], stdout=out, stderr=err, cwd=tmp_path)
    return code, (json.loads(out.getvalue()) if out.getvalue() else None), err.getvalue()


def test_a_pinned_file_is_audited_against_the_index_by_default(tmp_path, index, monkeypatch):
    code, report, _ = default_index_audit(tmp_path, index, monkeypatch, "requirements.txt", "requests==2.32.0\n")
    assert code == 1
    assert {item["rule"] for item in report["findings"]} >= {"RL501", "RL502"}  # 2.32.0 is yanked
    assert index.hits("requests") > 0


def test_loose_inputs_and_no_index_stay_static(tmp_path, index, monkeypatch):
    code, report, _ = default_index_audit(tmp_path, index, monkeypatch, "requirements.in", "requests>=2\n")
    assert code == 0
    assert not [item for item in report["findings"] if item["rule"].startswith("RL5")]
    code, report, _ = default_index_audit(tmp_path, index, monkeypatch, "requirements.txt", "requests==2.32.0\n", "--no-index")
    assert not [item for item in report["findings"] if item["rule"].startswith("RL5")]
    assert index.requests == []


def test_an_unreachable_default_index_is_exit_4(tmp_path, monkeypatch):
    (tmp_path / "requirements.txt").write_text("requests==2.32.0\n", encoding="utf-8")
    monkeypatch.setenv("PIP_INDEX_URL", "http://127.0.0.1:9/simple/")
    out, err = io.StringIO(), io.StringIO()
    code = main(["audit", "requirements.txt", "--no-cache", "--retries", "0"], stdout=out, stderr=err, cwd=tmp_path)
    assert code == 4
    assert "could not be reached" in err.getvalue()


def hashed_index(index_server):
    index_server.add_wheel(Dist("alpha", "1.0"))
    wheel = index_server.add_wheel(Dist("alpha", "1.0", tag="py2.py3-none-any"))
    return "sha256:" + hashlib.sha256(wheel.read_bytes()).hexdigest()


def test_a_hash_the_index_does_not_list_is_rl507(tmp_path, index_server):
    right = hashed_index(index_server)
    wrong = "sha256:" + "0" * 64
    run = audit(tmp_path, index_server, f"alpha==1.0 --hash={wrong}\n")
    (mismatch,) = findings(run, "RL507")
    assert mismatch["severity"] == "error"
    assert mismatch["location"] == {"path": "requirements.txt", "line": 1}
    assert mismatch["detail"]["pinned"] == [wrong]
    assert run.code == 1
    run = audit(tmp_path, index_server, f"alpha==1.0 --hash={wrong} --hash={right.upper().replace('SHA256', 'sha256')}\n")
    assert not findings(run, "RL507")  # one pinned hash of a listed file is enough, as for pip


def test_a_pylock_hash_the_index_does_not_list_is_rl507(tmp_path, index_server):
    hashed_index(index_server)
    (tmp_path / "pylock.toml").write_text(
        'lock-version = "1.0"\ncreated-by = "test"\n\n[[packages]]\nname = "alpha"\nversion = "1.0"\n'
        '[[packages.wheels]]\nname = "alpha-1.0-py3-none-any.whl"\nurl = "http://127.0.0.1:9/alpha-1.0-py3-none-any.whl"\n'
        f'hashes = {{sha256 = "{"1" * 64}"}}\n',
        encoding="utf-8",
    )
    run = run_cli("audit", "pylock.toml", "--format", "json", "--index-url", index_server.url, "--cache-dir", str(tmp_path / "c"), cwd=tmp_path)
    assert [item["package"] for item in findings(run, "RL507")] == ["alpha"]


def test_listed_hashes_are_cached_for_a_warm_run(tmp_path, index_server):
    right = hashed_index(index_server)
    first = audit(tmp_path, index_server, f"alpha==1.0 --hash=sha256:{'0' * 64}\n")
    before = len(index_server.requests)
    second = audit(tmp_path, index_server, f"alpha==1.0 --hash=sha256:{'0' * 64}\n")
    assert findings(first, "RL507") == findings(second, "RL507") != []
    assert len(index_server.requests) == before
    assert right


def test_index_and_no_index_are_exclusive(tmp_path):
    run = run_cli("audit", "--index", "--no-index", cwd=tmp_path)
    assert run.code == 2
    assert "not allowed with argument" in run.err
