"""METADATA out of a wheel through ``zipfile``, over the whole file or over HTTP byte ranges."""

from __future__ import annotations

import io
import zipfile

import pytest

from reprolock.index.metadata import MetadataError, tail_archive, wheel_metadata
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
def test_the_wheels_own_metadata_is_read(case):
    data = CASES[case]
    assert wheel_metadata(io.BytesIO(data), "alpha-1.0-py3-none-any.whl") == by_zipfile(data, "alpha-1.0-py3-none-any.whl") == METADATA


def test_a_built_wheel(tmp_path):
    path = build_wheel(Dist("gamma", "2.0", requires=("delta<3",)), tmp_path)
    assert b"Requires-Dist: delta<3" in wheel_metadata(io.BytesIO(path.read_bytes()), path.name)


def test_a_wheel_without_metadata_or_damaged_is_a_metadata_error():
    with pytest.raises(MetadataError, match=r"has no \.dist-info/METADATA"):
        wheel_metadata(io.BytesIO(archive({"alpha/__init__.py": b""})), "alpha-1.0-py3-none-any.whl")
    data = bytearray(archive({"alpha-1.0.dist-info/METADATA": METADATA}, compression=zipfile.ZIP_STORED))
    at = data.find(b"Requires-Dist")
    data[at] ^= 0x20  # the CRC-32 no longer matches
    with pytest.raises(MetadataError, match="not a readable wheel"):
        wheel_metadata(io.BytesIO(bytes(data)), "alpha-1.0-py3-none-any.whl")


def tail_answer(data: bytes, size: int = 65536) -> Answer:
    tail = data[-size:]
    return Answer(206, {"content-range": f"bytes {len(data) - len(tail)}-{len(data) - 1}/{len(data)}"}, tail, "http://127.0.0.1/alpha.whl")


def refuse(start: int, end: int) -> bytes:
    raise AssertionError(f"asked for {start}-{end}")


def test_the_tail_alone_gives_metadata_when_it_holds_the_directory_and_the_member():
    data = CASES["deflated"]
    archive_read = tail_archive(tail_answer(data), refuse)
    assert archive_read is not None
    assert wheel_metadata(archive_read, "alpha-1.0-py3-none-any.whl") == METADATA


def test_more_ranges_are_asked_when_the_directory_reaches_beyond_the_tail():
    data = CASES["thousands of members"]
    assert len(data) > 65536
    fetched: list[tuple[int, int]] = []

    def fetch(start: int, end: int) -> bytes:
        fetched.append((start, end))
        return data[start:end]

    archive_read = tail_archive(tail_answer(data), fetch)
    assert archive_read is not None
    assert wheel_metadata(archive_read, "alpha-1.0-py3-none-any.whl") == METADATA
    assert fetched
    assert all(end <= len(data) - 65536 for _, end in fetched)  # what the tail holds is never asked again
    assert sum(end - start for start, end in fetched) < len(data) // 2


def test_a_server_without_ranges_gives_no_archive_and_a_whole_answer_is_the_wheel():
    data = CASES["deflated"]
    assert tail_archive(Answer(416, {}, b"", "http://127.0.0.1/alpha.whl"), refuse) is None
    whole = tail_archive(Answer(200, {}, data, "http://127.0.0.1/alpha.whl"), refuse)
    assert whole is not None
    assert wheel_metadata(whole, "alpha-1.0-py3-none-any.whl") == METADATA
