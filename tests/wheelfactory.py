"""Build real, tiny wheels (and sdists) for tests: valid METADATA, WHEEL and RECORD.

Shared by the environment, index and lock tests. A wheel built here installs
with real pip (``pip install --no-index --find-links DIR NAME``).
"""

from __future__ import annotations

import base64
import hashlib
import io
import tarfile
import zipfile
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from packaging.utils import canonicalize_name

if TYPE_CHECKING:
    from pathlib import Path

FIXED_DATE = (2024, 1, 1, 0, 0, 0)


@dataclass(frozen=True)
class Dist:
    """What a test distribution declares and contains."""

    name: str
    version: str
    requires: tuple[str, ...] = ()
    """``Requires-Dist`` lines, markers and extras included (``"b[x]>=1; extra == 'fast'"``)."""
    extras: tuple[str, ...] = ()
    requires_python: str | None = None
    modules: tuple[str, ...] | None = None
    """Top-level modules to ship; default: one package named after the distribution."""
    tag: str = "py3-none-any"
    files: dict[str, str] = field(default_factory=dict)
    """Extra files (path in the wheel -> text)."""
    top_level_txt: bool = True

    @property
    def stem(self) -> str:
        return f"{canonicalize_name(self.name).replace('-', '_')}-{self.version}"

    @property
    def wheel_name(self) -> str:
        return f"{self.stem}-{self.tag}.whl"

    @property
    def sdist_name(self) -> str:
        return f"{self.stem}.tar.gz"

    def module_names(self) -> tuple[str, ...]:
        if self.modules is not None:
            return self.modules
        return (canonicalize_name(self.name).replace("-", "_"),)

    def metadata(self) -> str:
        lines = ["Metadata-Version: 2.1", f"Name: {self.name}", f"Version: {self.version}"]
        if self.requires_python:
            lines.append(f"Requires-Python: {self.requires_python}")
        lines += [f"Provides-Extra: {extra}" for extra in self.extras]
        lines += [f"Requires-Dist: {req}" for req in self.requires]
        return "\n".join(lines) + "\n\n"


def _record_hash(data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"sha256={digest}"


def build_wheel(dist: Dist, folder: Path) -> Path:
    """Write ``dist`` as a wheel into ``folder``; return its path. Byte-identical for the same input."""
    folder.mkdir(parents=True, exist_ok=True)
    info = f"{dist.stem}.dist-info"
    members: dict[str, bytes] = {}
    for module in dist.module_names():
        if module.endswith(".py"):
            members[module] = f"NAME = {module[:-3]!r}\n".encode()
        else:
            members[f"{module}/__init__.py"] = f"NAME = {module!r}\nVERSION = {dist.version!r}\n".encode()
    for path, text in dist.files.items():
        members[path] = text.encode()
    members[f"{info}/METADATA"] = dist.metadata().encode()
    members[f"{info}/WHEEL"] = f"Wheel-Version: 1.0\nGenerator: reprolock-tests\nRoot-Is-Purelib: true\nTag: {dist.tag}\n".encode()
    if dist.top_level_txt:
        tops = sorted({m.removesuffix(".py").split("/")[0] for m in dist.module_names()})
        members[f"{info}/top_level.txt"] = ("\n".join(tops) + "\n").encode()
    record = [f"{path},{_record_hash(data)},{len(data)}" for path, data in members.items()]
    record.append(f"{info}/RECORD,,")
    members[f"{info}/RECORD"] = ("\n".join(record) + "\n").encode()
    target = folder / dist.wheel_name
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path, data in members.items():
            entry = zipfile.ZipInfo(path, date_time=FIXED_DATE)
            entry.external_attr = 0o644 << 16
            archive.writestr(entry, data)
    target.write_bytes(buffer.getvalue())
    return target


def build_sdist(dist: Dist, folder: Path) -> Path:
    """A minimal sdist (PKG-INFO and a pyproject.toml); enough to be listed and hashed, not built."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / dist.sdist_name
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz", format=tarfile.PAX_FORMAT) as archive:
        for path, text in (("PKG-INFO", dist.metadata()), ("pyproject.toml", '[build-system]\nrequires = ["flit_core"]\n')):
            data = text.encode()
            entry = tarfile.TarInfo(f"{dist.stem}/{path}")
            entry.size = len(data)
            entry.mtime = 1704067200
            archive.addfile(entry, io.BytesIO(data))
    target.write_bytes(buffer.getvalue())
    return target


def build_all(dists: list[Dist] | tuple[Dist, ...], folder: Path) -> list[Path]:
    return [build_wheel(dist, folder) for dist in dists]
