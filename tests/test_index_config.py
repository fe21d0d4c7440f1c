"""Which index a run uses: flags, pip's environment and files, the target pip's default."""

from __future__ import annotations

import subprocess
import sys

import pytest

from reprolock.errors import UsageError
from reprolock.index.config import pip_config_files, pip_default_index, read_pip_config, select_indexes


def conf(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_command_line_replaces_pip_configuration(tmp_path):
    env = {"PIP_INDEX_URL": "https://env.invalid/simple", "HOME": str(tmp_path)}
    selection = select_indexes("https://flag.invalid/simple", ["https://extra.invalid/simple/"], env=env, pip_default="https://default.invalid/simple")
    assert [item.url for item in selection.indexes] == ["https://flag.invalid/simple/", "https://extra.invalid/simple/"]
    assert selection.origin == "command line"


def test_environment_wins_over_files_and_later_files_win(tmp_path):
    user = conf(tmp_path / ".config" / "pip" / "pip.conf", "[global]\nindex-url = https://user.invalid/simple\nextra-index-url = https://a.invalid/simple https://b.invalid/simple\n")
    conf(tmp_path / "legacy" / "pip.conf", "[global]\nindex-url = https://legacy.invalid/simple\n")
    env = {"HOME": str(tmp_path), "XDG_CONFIG_DIRS": str(tmp_path / "none")}
    assert user in pip_config_files(env)
    selection = select_indexes(None, [], env=env, pip_default="https://default.invalid/simple")
    assert [item.url for item in selection.indexes] == ["https://user.invalid/simple/", "https://a.invalid/simple/", "https://b.invalid/simple/"]
    env["PIP_INDEX_URL"] = "https://env.invalid/simple"
    assert select_indexes(None, [], env=env).indexes[0].url == "https://env.invalid/simple/"
    env["PIP_CONFIG_FILE"] = str(tmp_path / "legacy" / "pip.conf")
    del env["PIP_INDEX_URL"]
    assert read_pip_config(env)["index-url"] == "https://legacy.invalid/simple"


def test_pip_config_file_devnull_turns_files_off(tmp_path):
    conf(tmp_path / ".config" / "pip" / "pip.conf", "[global]\nindex-url = https://user.invalid/simple\n")
    env = {"HOME": str(tmp_path), "PIP_CONFIG_FILE": "/dev/null"}
    assert pip_config_files(env) == []
    selection = select_indexes(None, [], env=env, pip_default="https://default.invalid/simple")
    assert [item.url for item in selection.indexes] == ["https://default.invalid/simple/"]
    assert selection.origin == "the target's pip default"


def test_file_extra_indexes_and_find_links_from_pip_conf(tmp_path):
    conf(tmp_path / ".config" / "pip" / "pip.conf", "[global]\nfind-links = /opt/wheels\nextra-index-url = file:///srv/mirror/simple\n")
    selection = select_indexes(None, [], env={"HOME": str(tmp_path)}, pip_default="https://default.invalid/simple")
    assert [item.url for item in selection.indexes] == ["https://default.invalid/simple/", "file:///srv/mirror/simple/"]
    assert selection.indexes[1].is_local
    assert any("find-links" in note for note in selection.notes)


def test_the_target_pip_default_is_asked_in_a_subprocess():
    url = pip_default_index(sys.executable)
    assert url is not None
    assert url.endswith("/simple")


def test_no_pip_and_no_configuration_is_a_usage_error(tmp_path):
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(tmp_path / "bare")], check=True)
    python = str(tmp_path / "bare" / "bin" / "python")
    assert pip_default_index(python) is None
    with pytest.raises(UsageError, match="--index-url"):
        select_indexes(None, [], env={"HOME": str(tmp_path), "PIP_CONFIG_FILE": "/dev/null"}, python=python)


def test_bad_index_url_is_a_usage_error_without_the_secret():
    with pytest.raises(UsageError) as caught:
        select_indexes("user:secret@nowhere", [], env={})
    assert "secret" not in str(caught.value)


@pytest.mark.parametrize("url", ["http://user:secret@[::1/simple", "http://user:secret@127.0.0.1:port/simple"])
def test_an_unparsable_index_url_is_a_usage_error_without_the_secret(url):
    with pytest.raises(UsageError, match="is not a valid URL") as caught:
        select_indexes(url, [], env={})
    assert "secret" not in str(caught.value)


def test_an_index_url_of_another_scheme_is_a_usage_error():
    with pytest.raises(UsageError, match="a URL of ftp://"):
        select_indexes("ftp://127.0.0.1/simple", [], env={})
    assert [source.url for source in select_indexes("HTTP://127.0.0.1/simple", [], env={}).indexes] == ["http://127.0.0.1/simple/"]


def test_an_existing_pip_config_file_replaces_the_user_files(tmp_path):
    user = conf(tmp_path / ".config" / "pip" / "pip.conf", "[global]\nextra-index-url = http://127.0.0.1:9/simple\n")
    chosen = conf(tmp_path / "project" / "pip.conf", "[global]\nindex-url = https://chosen.invalid/simple\n")
    env = {"HOME": str(tmp_path), "XDG_CONFIG_DIRS": str(tmp_path / "none"), "PIP_CONFIG_FILE": str(chosen)}
    assert user not in pip_config_files(env)  # as pip: user files are skipped when PIP_CONFIG_FILE exists
    assert [item.url for item in select_indexes(None, [], env=env).indexes] == ["https://chosen.invalid/simple/"]
    env["PIP_CONFIG_FILE"] = str(tmp_path / "missing.conf")
    assert user in pip_config_files(env)
