"""The one METADATA / PKG-INFO parser: packaging's parse_email, tolerant of the broken files found in the wild."""

from __future__ import annotations

import importlib.metadata

import pytest

from reprolock.sources.coremetadata import MetadataFields, parse_fields, read_fields


def test_the_fields_reprolock_reads():
    data = (
        b"Metadata-Version: 2.4\nName: Demo.Pkg\nVersion: 1.0\nSummary: s\nClassifier: A :: B\nRequires-Python: >=3.9\n"
        b"Dynamic: license\nRequires-Dist: a>=1\nRequires-Dist: b; extra == 'x'\nProvides-Extra: x\n\nRequires-Dist: body\n"
    )
    assert parse_fields(data) == MetadataFields(
        name="Demo.Pkg",
        version="1.0",
        requires_dist=("a>=1", "b; extra == 'x'"),
        provides_extra=("x",),
        requires_python=">=3.9",
        metadata_version="2.4",
        dynamic=("license",),
    )


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        pytest.param(b"Name: demo\nVersion: 1\nRequires-Dist: a>=1;\n  extra == 'x'\n\n", {"requires_dist": ("a>=1; extra == 'x'",)}, id="folded"),
        pytest.param(b"Name: demo\r\nVersion: 1\r\nRequires-Dist: b\r\n\r\nRequires-Dist: no\r\n", {"requires_dist": ("b",)}, id="crlf"),
        pytest.param(b"Name: demo\rVersion: 1\r\rRequires-Dist: no\r", {}, id="cr"),
        pytest.param(b"name: demo\nVERSION: 1\nrequires-dist: b\n\n", {"requires_dist": ("b",)}, id="any-case"),
        pytest.param(b"Name:  demo  \nVersion:\t1\nRequires-Python:\n\n", {}, id="blanks"),
        pytest.param(b"Name: demo\nName: other\nVersion: 1\nVersion: 2\nRequires-Python: >=3\nRequires-Python: >=4\n\n", {"requires_python": ">=3"}, id="repeated"),
        pytest.param(
            b"Name: demo\nVersion: 1\nLicense: MIT\nPermission is hereby granted\nTHE SOFTWARE: AS IS\nRequires-Dist: b\n\n",
            {"requires_dist": ("b",)},
            id="unindented-license",
        ),
        pytest.param(b"Name: demo\nVersion: 1\nAuthor: J\xf6rg\nRequires-Dist: b\n\n", {"requires_dist": ("b",)}, id="latin-1"),
        pytest.param(b"Name: demo\nVersion: 1\nProject-URL: no comma\nKeywords: a\nKeywords: b\n\n", {}, id="invalid-others"),
        pytest.param(b"  indented\nFrom nobody\nName: demo\nVersion: 1\n   \n", {}, id="stray-lines"),
    ],
)
def test_broken_files_keep_what_can_be_read(data, expected):
    assert parse_fields(data) == MetadataFields(name="demo", version="1", **expected)


@pytest.mark.parametrize("data", [b"", b"\x00\x01\xff\xfe garbage\n\x89PNG\n", b"Version: 1\nRequires-Dist: b\n", b"Name : demo\n"])
def test_a_file_without_a_name_says_so_and_never_raises(data):
    assert parse_fields(data).name == ""


def test_a_missing_file_has_no_fields(tmp_path):
    assert read_fields(str(tmp_path / "METADATA")) == MetadataFields()


def test_a_file_is_read_as_its_content_is_parsed(tmp_path):
    path = tmp_path / "METADATA"
    path.write_bytes(b"Name: demo\r\nVersion: 1\r\nRequires-Dist: a;\r\n  extra == 'x'\r\n\r\n" + b"A long description.\n" * 1000)
    assert read_fields(str(path)) == parse_fields(path.read_bytes()) == MetadataFields("demo", "1", ("a; extra == 'x'",))


def test_installed_distributions_read_as_importlib_metadata_reads_them():
    dists = [dist for dist in importlib.metadata.distributions() if dist.read_text("METADATA") is not None]
    assert len(dists) > 10
    for dist in dists:
        fields = parse_fields(dist.read_text("METADATA") or "")
        message = dist.metadata
        assert (fields.name, fields.version) == (message["Name"], message["Version"])
        assert list(fields.requires_dist) == (dist.requires or [])
        assert list(fields.provides_extra) == (message.get_all("Provides-Extra") or [])
        assert fields.requires_python == (message["Requires-Python"] or None)
