"""The pins of the lockfile being replaced are kept in the cache by the digest of its text: a file is parsed once."""

from __future__ import annotations

from pathlib import Path

import pytest

from reprolock.index.cache import Cache
from reprolock.lock import existing
from reprolock.lock.existing import existing_pins, pins_of, preferred_pins

PYLOCK = 'lock-version = "1.0"\ncreated-by = "x"\n\n[[packages]]\nname = "demo"\nversion = "1.0"\n\n[[packages]]\nname = "tool"\nversion = "2.1"\n'
REQUIREMENTS = "demo==1.0 \\\n    --hash=sha256:" + "ab" * 32 + "\ntool==2.1\n"


def _no_parsing(monkeypatch):
    def refused(*_args):
        raise AssertionError("parsed again")

    monkeypatch.setattr(existing, "pins_from_pylock_text", refused)
    monkeypatch.setattr(existing, "pins_from_text", refused)


@pytest.mark.parametrize(("name", "text"), [("pylock.toml", PYLOCK), ("requirements.txt", REQUIREMENTS)])
def test_a_lockfile_read_once_is_answered_from_the_cache(tmp_path, monkeypatch, name, text):
    cache = Cache(tmp_path / "cache")
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    expected = {"demo": "1.0", "tool": "2.1"}
    assert pins_of(text, path) == expected
    assert existing_pins(path, cache) == expected
    _no_parsing(monkeypatch)
    assert existing_pins(path, cache) == expected
    assert preferred_pins(path, ["tool"], cache) == {"demo": "1.0"}


def test_another_text_or_format_is_read_afresh(tmp_path):
    cache = Cache(tmp_path / "cache")
    assert pins_of(PYLOCK, Path("pylock.toml"), cache) == {"demo": "1.0", "tool": "2.1"}
    assert pins_of(PYLOCK.replace("2.1", "2.2"), Path("pylock.toml"), cache) == {"demo": "1.0", "tool": "2.2"}
    assert pins_of(PYLOCK, Path("requirements.txt"), cache) == {}  # the same text read as another format


@pytest.mark.parametrize("kept", [b"not json", b"[1, 2]", b'{"demo": 1}'])
def test_a_kept_answer_this_version_did_not_write_is_ignored(tmp_path, monkeypatch, kept):
    cache = Cache(tmp_path / "cache")
    pins_of(PYLOCK, Path("pylock.toml"), cache)
    put = []
    monkeypatch.setattr(cache, "get_blob", lambda kind, key: put.append((kind, key)) or kept)
    assert pins_of(PYLOCK, Path("pylock.toml"), cache) == {"demo": "1.0", "tool": "2.1"}
    assert put
