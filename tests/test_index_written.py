"""``--index-url`` / ``--extra-index-url`` lines written in requirement files, as pip and pip-compile take them."""

from __future__ import annotations

import base64

import pytest

from reprolock.index.config import select_indexes
from reprolock.sources.loader import load
from reprolock.sources.requirements import written_indexes_in
from wheelfactory import Dist


def written(tmp_path, text):
    (tmp_path / "requirements.txt").write_text(text, encoding="utf-8")
    return written_indexes_in(load(["requirements.txt"], cwd=tmp_path))


def test_the_last_index_url_wins_and_extra_indexes_add_up(tmp_path):
    text = (
        "-i https://first.example/simple\n"
        "# --index-url https://commented.example/simple\n"
        "--extra-index-url https://extra-one.example/simple\n"
        "--index-url=https://user:${TOKEN}@second.example/simple  # a comment\n"
        "flask==3.0.0\n"
        "--extra-index-url ${MIRROR}\n"
    )
    assert written(tmp_path, text) == (
        "https://user:${TOKEN}@second.example/simple",  # as written: the value is expanded when the index is chosen
        ("https://extra-one.example/simple", "${MIRROR}"),
    )
    assert written(tmp_path, "flask\n") == (None, ())


def test_the_written_value_is_kept_apart_from_what_records_show(tmp_path):
    (tmp_path / "requirements.txt").write_text("--index-url https://user:s3cret@host.example/simple\nflask\n", encoding="utf-8")
    (source,) = load(["requirements.txt"], cwd=tmp_path)
    (option,) = source.options
    assert "s3cret" not in option.value
    assert "s3cret" not in repr(source)
    assert option.written == "https://user:s3cret@host.example/simple"


def test_flags_then_written_lines_then_pip_configuration():
    env = {"PIP_INDEX_URL": "https://configured.example/simple", "PIP_CONFIG_FILE": "/dev/null", "TOKEN": "t0ken"}
    written = ("https://user:${TOKEN}@written.example/simple", ("https://extra.example/simple",))
    by_flag = select_indexes("https://flag.example/simple", [], env=env, written=written)
    assert [source.url for source in by_flag.indexes] == ["https://flag.example/simple/"]
    by_file = select_indexes(None, [], env=env, written=written)
    assert [source.url for source in by_file.indexes] == ["https://written.example/simple/", "https://extra.example/simple/"]
    assert by_file.indexes[0].auth == "Basic " + base64.b64encode(b"user:t0ken").decode()  # ${TOKEN} expanded, then split off
    assert by_file.origin == "requirement files"
    extras_only = select_indexes(None, [], env=env, written=(None, ("https://extra.example/simple",)))
    assert [source.url for source in extras_only.indexes] == ["https://configured.example/simple/", "https://extra.example/simple/"]


def test_a_written_index_that_is_not_a_url_is_left_out_with_a_note():
    env = {"PIP_INDEX_URL": "https://configured.example/simple", "PIP_CONFIG_FILE": "/dev/null"}
    selection = select_indexes(None, [], env=env, written=("./mirror/simple", ()))
    assert [source.url for source in selection.indexes] == ["https://configured.example/simple/"]
    assert any("not a URL" in note for note in selection.notes)


@pytest.fixture
def world(index_server):
    index_server.add_wheel(Dist("web", "1.0", requires=("core>=1",)))
    index_server.add_wheel(Dist("core", "1.5"))
    return index_server


def test_lock_uses_the_index_its_input_names(cli, world, tmp_path, monkeypatch):
    monkeypatch.setenv("INDEX_TOKEN", "s3cret-value")
    host = world.url.split("://", 1)[1]
    (tmp_path / "requirements.in").write_text(f"--index-url http://reprolock:${{INDEX_TOKEN}}@{host}\nweb\n", encoding="utf-8")
    result = cli("lock", "requirements.in", "-o", "requirements.txt", "--no-cache", cwd=tmp_path)  # PIP_INDEX_URL: a closed port
    assert result.code == 0, result.err
    text = (tmp_path / "requirements.txt").read_text(encoding="utf-8")
    assert "web==1.0" in text
    assert "core==1.5" in text
    expected = "Basic " + base64.b64encode(b"reprolock:s3cret-value").decode()
    assert {headers.get("authorization") for path, headers in world.requests if path.startswith("/simple/")} == {expected}
    assert "s3cret" not in text + result.out + result.err


def test_a_flag_overrides_the_index_the_input_names(cli, world, tmp_path):
    (tmp_path / "requirements.in").write_text("--index-url http://127.0.0.1:9/simple/\nweb\n", encoding="utf-8")
    result = cli("lock", "requirements.in", "--index-url", world.url, "--no-cache", cwd=tmp_path)
    assert result.code == 0, result.err
    assert "web==1.0" in result.out


def test_audit_with_index_uses_the_index_the_file_names(cli, world, tmp_path):
    (tmp_path / "requirements.txt").write_text(f"-i {world.url}\nweb==1.0\ncore==1.0\n", encoding="utf-8")
    run = cli("audit", "requirements.txt", "--index", "--format", "json", "--cache-dir", str(tmp_path / "cache"), cwd=tmp_path)
    drift = {item["package"]: item["detail"] for item in run.json["findings"] if item["rule"] == "RL501"}
    assert drift["core"]["latest"] == "1.5"
    assert world.hits("/simple/core/") == 1
