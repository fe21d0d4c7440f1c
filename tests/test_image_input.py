"""Container images that are not what they should be, and one too big to hold: every archive is read as a stream.

Bad input is one line naming the file (and the layer), exit 3, never a traceback or a hang; a 1 GB layer
is read with bounded memory (peak RSS of a subprocess, from /proc's VmHWM).
"""

from __future__ import annotations

import subprocess
import sys
from typing import TYPE_CHECKING

import pytest

from conftest import run_cli
from imagefactory import (
    SITE,
    VENV_CFG,
    Image,
    Layer,
    docker_archive,
    installed,
    oci_layout,
    one_line_error,
    zeros_docker_archive,
    zeros_oci_layout,
)

if TYPE_CHECKING:
    from pathlib import Path

# -- bad input: one line naming the file (and the layer), exit 3 -------------------------------------------


def _small_image(tmp_path: Path) -> Image:
    return Image([Layer("RUN pip install a").file("/opt/venv/pyvenv.cfg", VENV_CFG).tree(SITE, installed(tmp_path, "a"))])


def _cut(path: Path, keep: float) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])


def _blob(layout: Path) -> Path:
    """The one layer blob of a one-layer layout (the largest blob)."""
    return max((layout / "blobs" / "sha256").iterdir(), key=lambda path: path.stat().st_size)


def test_a_truncated_docker_archive_is_one_line(tmp_path):
    image = docker_archive(_small_image(tmp_path), tmp_path / "cut.tar")
    _cut(image, 0.5)
    message = one_line_error(run_cli("audit", "--image", str(image), cwd=tmp_path), str(image))
    assert "truncated" in message


@pytest.mark.parametrize("compress", [True, False])
def test_a_truncated_layer_names_the_layer(tmp_path, compress):
    layout = oci_layout(_small_image(tmp_path), tmp_path / "layout", compress=compress)
    blob = _blob(layout)
    _cut(blob, 0.6)
    message = one_line_error(run_cli("audit", "--image", str(layout), cwd=tmp_path), str(layout), "layer 1", f"sha256:{blob.name}")
    assert "truncated" in message


def test_a_damaged_layer_does_not_match_its_digest(tmp_path):
    layout = oci_layout(_small_image(tmp_path), tmp_path / "layout", compress=False)
    blob = _blob(layout)
    data = bytearray(blob.read_bytes())
    where = data.index(b"Metadata-Version")  # inside a file's data: the tar itself still reads
    data[where] ^= 0x20
    blob.write_bytes(bytes(data))
    message = one_line_error(run_cli("audit", "--image", str(layout), cwd=tmp_path), str(layout), "layer 1")
    assert "does not match its digest" in message


def test_a_damaged_tar_header_is_named(tmp_path):
    layout = oci_layout(_small_image(tmp_path), tmp_path / "layout", compress=False)
    blob = _blob(layout)
    data = bytearray(blob.read_bytes())
    data[len(data) // 2 // 512 * 512 : len(data) // 2 // 512 * 512 + 512] = b"\x07" * 512
    blob.write_bytes(bytes(data))
    one_line_error(run_cli("audit", "--image", str(layout), cwd=tmp_path), str(layout), "layer 1")


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("bad-json", "index.json is not valid JSON"),
        ("missing-blob", "is missing"),
        ("zstd", "zstd"),
        ("text-file", "not a readable image archive"),
        ("nothing", "no such file or folder"),
        ("no-python", "no Python in this image"),
    ],
)
def test_bad_images_are_one_line(tmp_path, case, expected):
    path = tmp_path / "image"
    if case == "text-file":
        path.write_text("not an image\n")
    elif case == "no-python":
        docker_archive(Image([Layer("ADD hostname").file("/etc/hostname", "box\n")]), path)
    elif case != "nothing":
        oci_layout(_small_image(tmp_path), path)
        if case == "bad-json":
            (path / "index.json").write_text("{")
        elif case == "missing-blob":
            _blob(path).unlink()
        else:
            blob = _blob(path)
            blob.write_bytes(b"\x28\xb5\x2f\xfd" + blob.read_bytes()[4:])
    message = one_line_error(run_cli("audit", "--image", str(path), cwd=tmp_path), str(path))
    assert expected in message


def test_image_and_files_only_are_a_usage_error(tmp_path):
    run = run_cli("audit", "--image", "x.tar", "--files-only", cwd=tmp_path)
    assert run.code == 2
    assert "--image and --files-only cannot be combined" in run.err


# -- a 1 GB layer: memory stays bounded --------------------------------------------------------------------

PEAK_BOUND_KB = 150 * 1024
"""Far above what reprolock needs (about 35 MB) and far below the 1 GB layer it reads."""


@pytest.mark.parametrize("form", ["docker-archive", "oci-gzip"])
def test_a_one_gigabyte_layer_is_read_with_bounded_memory(tmp_path, form):
    """A docker save archive of 1 GB (its layer read at random, its digest checked on a thread), and a gzip layer
    that inflates to 1 GB (read by tarfile in stream mode): the peak RSS stays far below the layer's size."""
    if form == "docker-archive":
        image = zeros_docker_archive(tmp_path / "big.tar", 1 << 30, _small_image(tmp_path))
        assert image.stat().st_size > 1 << 30
    else:
        image = zeros_oci_layout(tmp_path / "layout", 1 << 30, _small_image(tmp_path))
    script = (
        "import sys\nfrom reprolock.cli import main\n"
        "code = main(sys.argv[1:])\n"
        "peak = next(line for line in open('/proc/self/status') if line.startswith('VmHWM:'))\n"
        "sys.stderr.write(peak)\nsys.exit(code)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, "graph", "--image", str(image), "--format", "json"],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
        timeout=600,  # not a hang: a generous bound
    )
    assert done.returncode == 0, done.stderr
    assert '"name": "a"' in done.stdout
    peak_kb = int(done.stderr.strip().splitlines()[-1].split()[1])
    assert peak_kb < PEAK_BOUND_KB, f"peak RSS {peak_kb} kB"
