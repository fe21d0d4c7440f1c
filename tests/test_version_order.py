"""reprolock.versions.sort_key orders and groups versions exactly as packaging's Version does."""

from __future__ import annotations

import itertools

import pytest
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from reprolock.versions import admits, sort_key

TEXTS = [
    "0", "0.0", "1", "1.0", "1.0.0", "1.0.0.0", "1.0.1", "1.0.10", "1.1", "1.10", "2", "10.0",
    "1.0a1", "1.0a2", "1.0a10", "1.0b1", "1.0rc1", "1.0rc2", "1.0c3", "1.0.dev0", "1.0.dev1", "1.0a1.dev1",
    "1.0a1.post1", "1.0a1.post1.dev2", "1.0.post0", "1.0.post1", "1.0.post1.dev3", "1.0-1", "1.0.post1.dev0",
    "1!0.1", "1!1.0", "2!0.0.1", "1.0+local", "1.0+local.1", "1.0+local.2", "1.0+2", "1.0+10", "1.0+abc.5",
    "1.0+ABC-5", "1.0+1.abc", "1.0.0+local", "1.0a1+x", "v1.0", "1.0-alpha1", "1.0.RC1", "01.02", "1.0.0-dev7",
    "2024.1.15", "0.0.1a0", "1.0.dev",
]  # fmt: skip


def test_texts_said_to_be_normal_are_and_prereleases_are_known():
    for text in TEXTS:
        parsed = sort_key(text)
        assert parsed is not None, text
        if parsed[1]:  # known to be in normal form: the text is used as it is
            assert str(Version(text)) == text, text
        assert parsed[2] == Version(text).is_prerelease, text


@pytest.mark.parametrize("invalid", ["", "abc", "1.0-", "1..0", "1.0.dev.x", "latest"])
def test_invalid_versions_have_no_key(invalid):
    assert sort_key(invalid) is None


def test_keys_compare_exactly_as_versions_do():
    for left, right in itertools.product(TEXTS, repeat=2):
        ours, theirs = sort_key(left), sort_key(right)
        assert ours is not None
        assert theirs is not None
        assert (ours[0] < theirs[0]) == (Version(left) < Version(right)), (left, right)
        assert (ours[0] == theirs[0]) == (Version(left) == Version(right)), (left, right)


def test_most_index_versions_are_read_without_packaging():
    assert all(sort_key(text)[1] for text in ("1.0", "2.31.0", "1.0rc1", "3.0.0a4.dev2", "1.0.post2"))  # type: ignore[index]


SPECIFIERS = [
    ">=1.0", "<2", "<=1.0", ">1.0", "==1.0", "!=1.0", ">=1.0,<2", ">1.0a1,<1.0.post1", "<1.0", ">1.0.post0",
    "==1.0.*", "~=1.0", "===1.0", ">=1!0", "<1.0rc1", ">=1.0.dev0,!=1.0.1", "==1.0+local", "!=1.0+local", ">0.0.1a0",
]  # fmt: skip


def test_admits_answers_as_packaging_does():
    for text in SPECIFIERS:
        specifiers = SpecifierSet(text)
        for version in TEXTS:
            assert admits(specifiers, version) == specifiers.contains(version, prereleases=True), (text, version)
