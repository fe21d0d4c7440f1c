"""RL101 unpinned, RL102 unhashed, RL109 inconsistent-pin."""

from __future__ import annotations

from conftest import audit_cases, findings, lines


def test_unpinned_in_a_pinned_set_is_an_error():
    run = audit_cases("pins/unpinned_requirements.txt")
    unpinned = findings(run, "RL101")
    assert [(f["package"], f["location"]["line"]) for f in unpinned] == [
        ("click", 4),
        ("flask", 2),
        ("redis", 6),
        ("requests", 3),
        ("urllib3", 5),
    ]
    assert {f["severity"] for f in unpinned} == {"error"}
    assert run.code == 1
    redis = next(f for f in unpinned if f["package"] == "redis")
    assert redis["message"] == "redis is not pinned to an exact version (==4.*)"
    assert redis["detail"] == {"specifier": "==4.*"}


def test_exact_pins_are_not_unpinned():
    run = audit_cases("pins/unpinned_requirements.txt")
    assert not {"six", "attrs"} & {f["package"] for f in findings(run, "RL101")}


def test_unpinned_in_a_loose_input_is_info():
    run = audit_cases("pins/unpinned_loose.in")
    assert {(f["package"], f["severity"]) for f in findings(run, "RL101")} == {("flask", "info"), ("requests", "info")}
    assert run.code == 0


def test_unpinned_in_pyproject_is_info_with_its_line():
    run = audit_cases("pins/unpinned_pyproject/pyproject.toml")
    (flask,) = findings(run, "RL101")
    assert (flask["package"], flask["severity"], flask["location"]["line"]) == ("flask", "info", 5)
    assert "RL102" not in run.rules()  # pins in a loose input need no hash
    assert run.code == 0


def test_unhashed_pin_is_a_warning():
    run = audit_cases("pins/unhashed_plain.txt")
    assert [(f["package"], f["severity"]) for f in findings(run, "RL102")] == [("idna", "warning"), ("six", "warning")]
    assert run.code == 0


def test_unhashed_pin_is_an_error_in_hash_checking_mode():
    run = audit_cases("pins/unhashed_hash_mode.txt")
    (idna,) = findings(run, "RL102")
    assert (idna["package"], idna["severity"], idna["location"]["line"]) == ("idna", "error", 3)
    assert idna["detail"]["hash_mode"] is True
    assert run.code == 1


def test_url_hash_fragment_does_not_turn_on_hash_mode():
    run = audit_cases("pins/unhashed_url_fragment.txt")
    assert [(f["package"], f["severity"]) for f in findings(run, "RL102")] == [("idna", "warning")]


def test_inconsistent_pins_across_files():
    run = audit_cases("pins/inconsistent_a.txt", "pins/inconsistent_b.txt")
    (flask,) = findings(run, "RL109")
    assert flask["package"] == "flask"
    assert flask["severity"] == "error"
    assert flask["location"] == {"path": "fixtures/cases/pins/inconsistent_a.txt", "line": 1}
    assert flask["detail"]["pins"] == [
        {"path": "fixtures/cases/pins/inconsistent_a.txt", "line": 1, "version": "2.0.1"},
        {"path": "fixtures/cases/pins/inconsistent_b.txt", "line": 1, "version": "2.2.5"},
    ]
    # click 8.0 and 8.0.0 are the same version; ipython pins sit under different markers
    assert run.code == 1


def test_inconsistent_pins_in_one_file():
    run = audit_cases("pins/inconsistent_same_file.txt")
    (jinja,) = findings(run, "RL109")
    assert jinja["detail"]["versions"] == ["3.1.2", "3.0.0"]
    assert lines(run, "RL109") == [1]
