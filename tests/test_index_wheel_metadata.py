"""METADATA out of a wheel: read straight from the central directory, checked against ``zipfile``."""

from __future__ import annotations

import io
import zipfile

import pytest

from reprolock.index.metadata import MetadataError, RangeReader, _direct_metadata, tail_metadata, wheel_metadata
from reprolock.index.models import Answer
from wheelfactory import Dist, build_wheel

METADATA = b"Metadata-Version: 2.1\nName: alpha\nVersion: 1.0\nRequires-Dist: beta>=2\n\n" + b"A long description. " * 200


def archive(members: dict[str, bytes], *, compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=compression) as made:
        for name, data in members.items():
            made.writestr(name, data)
    return buffer.getvalue()


def by_zipfile(data: bytes, filename: str) -> bytes:
    with zipfile.ZipFile(io.BytesIO(data)) as wheel:
        names = [name for name in wheel.namelist() if name.count("/") == 1 and name.endswith(".dist-info/METADATA")]
        stem = "-".join(filename.split("-", 2)[:2]).lower()
        return wheel.read(next((name for name in names if name.lower().startswith(stem)), names[0]))


CASES = {
    "deflated": archive({"alpha/__init__.py": b"", "alpha-1.0.dist-info/METADATA": METADATA}),
    "stored": archive({"alpha/__init__.py": b"", "alpha-1.0.dist-info/METADATA": METADATA}, compression=zipfile.ZIP_STORED),
    "thousands of members": archive({**{f"alpha/m{number}.py": b"x = 1\n" for number in range(3000)}, "alpha-1.0.dist-info/METADATA": METADATA}),
    "two dist-info folders": archive({"other-2.0.dist-info/METADATA": b"Name: other\n", "Alpha-1.0.dist-info/METADATA": METADATA}),
    "a nested METADATA first": archive({"alpha/vendored/x-1.dist-info/METADATA": b"Name: x\n", "alpha-1.0.dist-info/METADATA": METADATA}),
}


@pytest.mark.parametrize("case", list(CASES))
def test_the_direct_read_gives_what_zipfile_gives(case):
    data = CASES[case]
    found = _direct_metadata(io.BytesIO(data), "alpha-1.0-py3-none-any.whl")
    assert found is not None
    assert found == by_zipfile(data, "alpha-1.0-py3-none-any.whl") == METADATA


def test_a_built_wheel(tmp_path):
    path = build_wheel(Dist("gamma", "2.0", requires=("delta<3",)), tmp_path)
    data = path.read_bytes()
    assert _direct_metadata(io.BytesIO(data), path.name) == by_zipfile(data, path.name)
    assert b"Requires-Dist: delta<3" in wheel_metadata(io.BytesIO(data), path.name)


@pytest.mark.parametrize(
    "data",
    [
        b"#!/bin/sh\nexit 0\n" + archive({"alpha-1.0.dist-info/METADATA": METADATA}),  # data before the archive (offsets relative)
        archive({"alpha-1.0.dist-info/METADATA": METADATA}, compression=zipfile.ZIP_BZIP2),
        archive({"alpha/__init__.py": b""}),  # no METADATA at all
    ],
    ids=["prefixed", "bzip2", "no-metadata"],
)
def test_what_the_direct_read_does_not_handle_is_left_to_zipfile(data):
    assert _direct_metadata(io.BytesIO(data), "alpha-1.0-py3-none-any.whl") is None
    if b"METADATA" in data:
        assert wheel_metadata(io.BytesIO(data), "alpha-1.0-py3-none-any.whl") == METADATA
    else:
        with pytest.raises(MetadataError, match=r"has no \.dist-info/METADATA"):
            wheel_metadata(io.BytesIO(data), "alpha-1.0-py3-none-any.whl")


def test_a_damaged_member_fails_its_checksum_and_is_not_returned():
    data = bytearray(archive({"alpha-1.0.dist-info/METADATA": METADATA}, compression=zipfile.ZIP_STORED))
    at = data.find(b"Requires-Dist")
    data[at] ^= 0x20  # "requires-Dist": the CRC-32 no longer matches
    assert _direct_metadata(io.BytesIO(bytes(data)), "alpha-1.0-py3-none-any.whl") is None
    with pytest.raises(MetadataError, match="not a readable wheel"):
        wheel_metadata(io.BytesIO(bytes(data)), "alpha-1.0-py3-none-any.whl")


def tail_answer(data: bytes, size: int = 65536) -> Answer:
    tail = data[-size:]
    return Answer(206, {"content-range": f"bytes {len(data) - len(tail)}-{len(data) - 1}/{len(data)}"}, tail, "http://127.0.0.1/alpha.whl")


def test_the_tail_alone_gives_metadata_when_it_holds_the_directory_and_the_member():
    data = CASES["deflated"]
    assert tail_metadata(tail_answer(data), "alpha-1.0-py3-none-any.whl") == METADATA


def test_the_tail_alone_gives_none_when_the_directory_reaches_further():
    data = CASES["thousands of members"]
    assert len(data) > 65536
    assert tail_metadata(tail_answer(data), "alpha-1.0-py3-none-any.whl") is None
    fetched: list[tuple[int, int]] = []

    def fetch(start: int, end: int) -> bytes:
        fetched.append((start, end))
        return data[start:end]

    reader = RangeReader(len(data), fetch, tail=data[-65536:])
    assert wheel_metadata(reader, "alpha-1.0-py3-none-any.whl") == METADATA
    assert len(fetched) == 2  # the rest of the central directory, then the member before it
    assert fetched[0][1] == len(data) - 65536  # up to the tail already there, no further
