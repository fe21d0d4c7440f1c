"""``lock --exclude-newer DATE`` (issue 18): resolution as of a date, from the index's PEP 700 upload times."""

from __future__ import annotations

import tomllib

import pytest

from test_lock_targets import pins
from wheelfactory import Dist

EARLY, LATE = "2024-01-10T08:00:00.000000Z", "2024-06-01T12:00:00.000000Z"


@pytest.fixture
def world(index_server):
    index_server.add_wheel(Dist("app", "1.0", requires=("lib",)), upload_time=EARLY)
    index_server.add_wheel(Dist("lib", "1.0"), upload_time=EARLY)
    index_server.add_wheel(Dist("lib", "2.0"), upload_time=LATE)
    # a wheel added to lib 1.0 later: a lock as of before it does not hash it
    index_server.add_wheel(Dist("lib", "1.0", tag="cp311-cp311-win_amd64"), upload_time=LATE)
    return index_server


def run(cli, folder, server, *options, output="requirements.txt"):
    (folder / "requirements.in").write_text("app\n", encoding="utf-8")
    return cli("lock", "requirements.in", "--index-url", server.url, "--no-cache", "-o", output, *options, cwd=folder)


def test_files_uploaded_after_the_date_are_ignored(cli, tmp_path, world):
    result = run(cli, tmp_path, world, "--exclude-newer", "2024-03-01")
    assert result.code == 0, result.err
    text = (tmp_path / "requirements.txt").read_text(encoding="utf-8")
    assert pins(text) == {"app": "1.0", "lib": "1.0"}
    lib = text[text.index("lib==1.0") :]
    assert lib.count("--hash=sha256:") == 1  # the wheel uploaded in June is not there
    assert "# Resolved as of 2024-03-01T00:00:00Z (--exclude-newer): files uploaded later were ignored." in text
    assert "#    reprolock lock requirements.in --exclude-newer 2024-03-01 " in text


def test_a_timestamp_keeps_files_uploaded_up_to_it(cli, tmp_path, world):
    result = run(cli, tmp_path, world, "--exclude-newer", "2024-06-01T14:00:00+02:00", "--upgrade")
    assert result.code == 0, result.err
    assert pins((tmp_path / "requirements.txt").read_text(encoding="utf-8")) == {"app": "1.0", "lib": "2.0"}  # 12:00Z is not after 12:00Z
    result = run(cli, tmp_path, world, "--exclude-newer", "2024-06-01T11:59:59Z", "--upgrade")
    assert result.code == 0, result.err
    assert pins((tmp_path / "requirements.txt").read_text(encoding="utf-8"))["lib"] == "1.0"


def test_pylock_records_the_date_and_check_uses_it(cli, tmp_path, world):
    assert run(cli, tmp_path, world, "--exclude-newer", "2024-03-01", output="pylock.toml").code == 0
    data = tomllib.loads((tmp_path / "pylock.toml").read_text(encoding="utf-8"))
    assert data["tool"]["reprolock"]["exclude-newer"] == "2024-03-01T00:00:00Z"
    assert "--exclude-newer 2024-03-01" in data["tool"]["reprolock"]["command"]
    current = run(cli, tmp_path, world, "--exclude-newer", "2024-03-01", "--check", output="pylock.toml")
    assert current.code == 0, current.out + current.err
    stale = run(cli, tmp_path, world, "--exclude-newer", "2024-07-01", "--check", "--upgrade", output="pylock.toml")  # later, lib 2.0 is there
    assert stale.code == 1
    assert "RL406" in stale.out + stale.err


@pytest.mark.parametrize("output", ["requirements.txt", "pylock.toml"])
def test_check_without_the_option_uses_the_date_the_lock_records(cli, tmp_path, world, output):
    """``lock --check`` regenerates the lock as of the date its header records: releases uploaded since do not make it stale."""
    assert run(cli, tmp_path, world, "--exclude-newer", "2024-03-01", output=output).code == 0
    world.add_wheel(Dist("app", "2.0", requires=("lib",)), upload_time=LATE)  # after the date: not in a lock as of March
    current = run(cli, tmp_path, world, "--check", output=output)
    assert current.code == 0, current.out + current.err
    assert "is up to date" in current.err
    stale = run(cli, tmp_path, world, output="other.txt")  # the same inputs without the date pick the new release
    assert stale.code == 0, stale.err
    assert pins((tmp_path / "other.txt").read_text(encoding="utf-8"))["app"] == "2.0"


def test_an_index_without_upload_times_is_a_one_line_error(cli, tmp_path, world):
    world.add_wheel(Dist("app", "1.1", requires=("lib",)))
    world.projects["app"].files[-1]["upload-time"] = None
    result = run(cli, tmp_path, world, "--exclude-newer", "2024-03-01")
    assert result.code == 3
    assert "--exclude-newer: the index gives no upload time for app-1.1-py3-none-any.whl (app)" in result.err
    assert len(result.err.strip().splitlines()) == 1
    assert not (tmp_path / "requirements.txt").exists()
    assert run(cli, tmp_path, world).code == 0  # without the option, upload times are not needed


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (("--exclude-newer", "last week"), "--exclude-newer last week: give an RFC 3339 timestamp"),
        (("--exclude-newer", "2024-03-01T10:00:00"), "the timestamp needs a time zone"),
        (("--exclude-newer", "2024-03-01", "--from-freeze", "freeze.txt"), "--exclude-newer cannot be combined with --from-env or --from-freeze"),
    ],
)
def test_a_bad_date_is_a_usage_error(cli, tmp_path, options, message):
    (tmp_path / "requirements.in").write_text("app\n", encoding="utf-8")
    result = cli("lock", "requirements.in", "--index-url", "http://127.0.0.1:9/simple/", *options, cwd=tmp_path)
    assert result.code == 2
    assert message in result.err
    assert len(result.err.strip().splitlines()) == 1
