"""RL103 mutable-vcs-ref, RL104 unhashed-url, RL105 local-path, RL106 editable."""

from __future__ import annotations

from conftest import audit_cases, findings, lines


def test_vcs_refs_must_be_full_commits():
    run = audit_cases("references/vcs_refs.txt")
    by_package = {f["package"]: f for f in findings(run, "RL103")}
    assert sorted(by_package) == ["branch", "fragment", "noref", "short", "tagged"]
    assert "'main' is a branch" in by_package["branch"]["message"]
    assert "'v1.2.3'" in by_package["tagged"]["message"]
    assert "'3f1c2e9'" in by_package["short"]["message"]
    assert "default branch" in by_package["noref"]["message"]
    assert "URL fragment, which pip ignores" in by_package["fragment"]["message"]
    assert {f["severity"] for f in by_package.values()} == {"error"}
    assert by_package["branch"]["detail"] == {"vcs": "git", "ref": "main"}


def test_vcs_requirements_are_not_unpinned_or_unhashed():
    run = audit_cases("references/vcs_refs.txt")
    assert not {"RL101", "RL102", "RL104", "RL105"} & set(run.rules())


def test_direct_url_needs_a_hash():
    run = audit_cases("references/direct_urls.txt")
    (nohash,) = findings(run, "RL104")
    assert nohash["package"] == "nohash"
    assert nohash["severity"] == "warning"
    assert nohash["detail"]["url"] == "https://files.example.org/nohash-1.0.tar.gz"


def test_local_paths():
    run = audit_cases("references/local_paths.txt")
    assert lines(run, "RL105") == [1, 2, 3]
    assert all(f["severity"] == "warning" for f in findings(run, "RL105"))
    # a named file: URL is RL202, not RL105 as well
    assert lines(run, "RL202") == [4]


def test_editable_in_a_pinned_set():
    run = audit_cases("references/local_paths.txt")
    assert lines(run, "RL106") == [2]
    assert findings(run, "RL106")[0]["severity"] == "warning"


def test_editable_in_a_loose_input_is_fine():
    run = audit_cases("references/editable_loose.in")
    assert "RL106" not in run.rules()
    assert "RL105" in run.rules()
