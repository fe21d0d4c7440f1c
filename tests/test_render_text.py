"""``--format text`` piped or redirected: no column hidden, no finding cut, one width for every table."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys

import pytest
from rich.console import Console

from reportkit import at, finding, make_report
from reprolock.render.text import PIPED_MAX_WIDTH, render_text

DEEP = "services/payments/backend/requirements/production/locked-for-python-3.12/linux-x86_64"
INPUT_HEADERS = ("File", "Kind", "Reqs", "Err", "Warn", "Info")
FINDING_HEADERS = ("Line", "Severity", "Rule", "Package", "Message")


def _long_path_report():
    return make_report(
        finding("RL101", "flask is not pinned to an exact version (>=2.0)", package="flask", location=at(f"{DEEP}/requirements.txt", 3)),
        finding("RL102", "six==1.16.0 has no --hash", package="six", location=at(f"{DEEP}/requirements.txt", 4)),
        finding("RL203", "wsgiref is in the standard library since Python 2.5; the PyPI release is an obsolete copy", package="wsgiref", location=at(f"{DEEP}/constraints.txt", 1)),
        finding("RL403", "dependency cycle: celery -> kombu -> celery"),
    )


def _piped(report, width=80, *, verbose=False) -> str:
    buffer = io.StringIO()  # not a terminal, as a pipe or a file is
    render_text(report, Console(file=buffer, width=width, no_color=True, highlight=False), verbose=verbose)
    return buffer.getvalue()


def _header_line(text: str, headers: tuple[str, ...]) -> str:
    lines = [line for line in text.splitlines() if line.lstrip().startswith(headers[0]) and headers[1] in line]
    assert len(lines) >= 1, text
    return lines[0]


def _rules(text: str) -> list[int]:
    """The widths of the tables: the length of each horizontal rule under a header."""
    return [len(line.rstrip()) for line in text.splitlines() if set(line.strip()) == {"─"}]


def test_piped_report_with_long_paths_shows_every_column_and_every_finding():
    report = _long_path_report()
    text = _piped(report)
    assert re.search(r"\s+".join(INPUT_HEADERS), _header_line(text, INPUT_HEADERS))
    assert re.search(r"\s+".join(FINDING_HEADERS), _header_line(text, FINDING_HEADERS))
    for item in report.findings:
        assert item.message in text  # on one line, whole
        assert item.rule in text
    for source in report.inputs:
        assert re.search(rf"^{re.escape(source.path)}\s+requirements\s+\d+\s+\d+\s+\d+\s+\d+\s*$", text, flags=re.MULTILINE), text


def test_all_tables_of_one_report_share_one_width():
    text = _piped(_long_path_report())
    widths = _rules(text)
    assert len(widths) == 4  # the files, two files' findings, the findings not tied to a file
    assert len(set(widths)) == 1, widths
    assert widths[0] > 80  # wider than the default, to fit the long paths


def test_short_report_keeps_the_console_width():
    report = make_report(finding("RL102", "six==1.16.0 has no --hash", package="six", location=at("requirements.txt", 1)))
    widths = _rules(_piped(report, width=100))
    assert widths == [100, 100]


def test_a_message_too_long_for_one_line_wraps_without_losing_text_or_columns():
    message = "a very long message " * 30 + "the end"
    report = make_report(finding("RL111", message, location=at(f"{DEEP}/requirements.txt", 7)))
    text = _piped(report)
    assert re.search(r"\s+".join(FINDING_HEADERS), _header_line(text, FINDING_HEADERS))
    assert "".join(message.split()) in "".join(text.split())  # folded over several lines, never cut
    assert "the end" in text
    assert max(_rules(text)) <= PIPED_MAX_WIDTH
    assert len(set(_rules(text))) == 1


def test_an_unbreakable_word_longer_than_the_cap_is_never_cut():
    url = "https://files.example.com/" + "x" * (PIPED_MAX_WIDTH + 20) + ".whl"
    report = make_report(finding("RL104", f"pkg is downloaded from {url} without a hash", package="pkg", location=at("requirements.txt", 2)))
    text = _piped(report)
    assert "".join(url.split()) in "".join(text.split())
    assert re.search(r"\s+".join(INPUT_HEADERS), _header_line(text, INPUT_HEADERS))


@pytest.fixture
def deep_project(tmp_path):
    folder = tmp_path / DEEP
    folder.mkdir(parents=True)
    (folder / "requirements.txt").write_text("flask>=2.0\nsix==1.16.0\nrequests\n", encoding="utf-8")
    (folder / "constraints.txt").write_text("wsgiref==0.1.2\n", encoding="utf-8")
    return tmp_path


def _run(cwd, *argv):
    env = {key: value for key, value in os.environ.items() if key not in {"COLUMNS", "LINES"}}
    return subprocess.run([sys.executable, "-m", "reprolock", *argv], cwd=cwd, env=env, capture_output=True, text=True, check=False)


def test_the_real_program_piped_shows_every_column(deep_project):
    done = _run(deep_project, "audit", DEEP, "--files-only", "--no-index", "--format", "json")
    expected = [item["message"] for item in json.loads(done.stdout)["findings"]]
    done = _run(deep_project, "audit", DEEP, "--files-only", "--no-index")
    assert done.returncode == 1, done.stderr
    assert re.search(r"\s+".join(INPUT_HEADERS), _header_line(done.stdout, INPUT_HEADERS))
    for message in expected:
        assert message in done.stdout
    assert len(set(_rules(done.stdout))) == 1


def test_a_report_file_shows_every_column(deep_project):
    done = _run(deep_project, "audit", DEEP, "--files-only", "--no-index", "-o", "report.txt")
    assert done.returncode == 1, done.stderr
    text = (deep_project / "report.txt").read_text(encoding="utf-8")
    assert re.search(r"\s+".join(INPUT_HEADERS), _header_line(text, INPUT_HEADERS))
    assert f"{DEEP}/requirements.txt" in text
    assert len(set(_rules(text))) == 1
