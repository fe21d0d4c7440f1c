"""Read installed distributions from ``sys.path`` entries, in reprolock's own process.

Every ``.dist-info`` / ``.egg-info`` (folder or file), ``.egg-link`` and
``.egg`` on each entry becomes an
:class:`~reprolock.records.InstalledDistribution`, every copy kept, in
``sys.path`` order. Only what the rules need is read: the METADATA fields
(:mod:`reprolock.sources.coremetadata`), INSTALLER, REQUESTED, RECORD (for the top-level modules, else
``top_level.txt``), ``direct_url.json`` and an editable finder's mapping.
"""

from __future__ import annotations

import ast
import json
import os
import re
from typing import TYPE_CHECKING

from packaging.utils import canonicalize_name

from reprolock.records import InstalledDistribution
from reprolock.redaction import redact
from reprolock.sources.coremetadata import MetadataFields, read_fields
from reprolock.sources.integrity import owner_first

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

    from reprolock.sources.recordcache import RecordCache

_EXTENSION = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)\..*(?:so|pyd)$")
_FINDER_MAPPING = re.compile(r"^MAPPING\s*(?::[^=]*)?=\s*(\{.*?\})\s*$", re.MULTILINE | re.DOTALL)


def _read(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:  # noqa: PTH123 - hot path
            return handle.read()
    except OSError:
        return None


def egg_requires(text: str) -> tuple[str, ...]:
    """``requires.txt`` sections (``[extra]``, ``[:marker]``, ``[extra:marker]``) as Requires-Dist strings."""
    out: list[str] = []
    extra, marker = "", ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            extra, _, marker = line[1:-1].partition(":")
            extra, marker = extra.strip(), marker.strip()
            continue
        conditions = [f"({marker})"] if marker else []
        if extra:
            conditions.append(f'extra == "{extra}"')
        out.append(f"{line}; {' and '.join(conditions)}" if conditions else line)
    return tuple(out)


def _modules_from_record(text: str) -> tuple[tuple[str, ...], tuple[str, ...], list[str]]:
    """Top-level modules, namespace portions and editable finder files named in a RECORD."""
    packages: dict[str, bool] = {}
    """Top-level folders that can be packages: whether an ``__init__`` was seen in them."""
    others: set[str] = set()
    """Top-level folders that are no package (metadata, data, ``__pycache__``, not an identifier)."""
    modules: set[str] = set()
    finders: list[str] = []
    for row in text.splitlines():
        path = row.partition(",")[0].strip().strip('"')
        if not path or path.startswith(("..", "/")):
            continue
        head, sep, rest = path.partition("/")
        if sep:
            known = packages.get(head)
            if known or head in others:
                continue  # settled by an earlier row: most rows of a RECORD are files deep in one package
            if known is None and (head.endswith((".dist-info", ".data", ".egg-info")) or head == "__pycache__" or not head.isidentifier()):
                others.add(head)
                continue
            packages[head] = rest in {"__init__.py", "__init__.pyc"} or ("/" not in rest and rest.startswith("__init__.") and rest.endswith((".so", ".pyd")))
            continue
        if head.startswith("__editable__") and head.endswith("_finder.py"):
            finders.append(head)
            continue
        if head.endswith(".py"):
            name = head[:-3]
            if name.isidentifier():
                modules.add(name)
            continue
        match = _EXTENSION.match(head)
        if match:
            modules.add(match.group(1))
    regular = sorted(modules | {name for name, has_init in packages.items() if has_init})
    namespaces = sorted(name for name, has_init in packages.items() if not has_init and name not in modules)
    return tuple(regular), tuple(namespaces), finders


def _finder_modules(path: str) -> tuple[str, ...]:
    """The top-level names a setuptools editable finder maps (its ``MAPPING`` literal)."""
    text = _read(path)
    if not text:
        return ()
    match = _FINDER_MAPPING.search(text)
    if not match:
        return ()
    try:
        mapping = ast.literal_eval(match.group(1))
    except (ValueError, SyntaxError):
        return ()
    return tuple(sorted(str(key) for key in mapping)) if isinstance(mapping, dict) else ()


def _direct_url(path: str) -> tuple[str | None, bool]:
    text = _read(path)
    if text is None:
        return None, False
    try:
        data = json.loads(text)
    except ValueError:
        return None, False
    if not isinstance(data, dict):
        return None, False
    url = data.get("url")
    dir_info = data.get("dir_info")
    editable = isinstance(dir_info, dict) and bool(dir_info.get("editable"))
    return (redact(url)[0] if isinstance(url, str) else None), editable


def _top_level_txt(folder: str, entry: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """``top_level.txt`` names split into regular modules and namespace portions.

    A name is a namespace portion when ``namespace_packages.txt`` says so or
    its folder on ``entry`` has no ``__init__.py``.
    """
    join = os.path.join
    text = _read(join(folder, "top_level.txt"))
    if not text:
        return (), ()
    names = {line.strip().split("/")[0] for line in text.splitlines() if line.strip()}
    declared = {line.strip().split(".")[0] for line in (_read(join(folder, "namespace_packages.txt")) or "").splitlines() if line.strip()}
    namespaces = {
        name
        for name in names
        if name in declared or (os.path.isdir(join(entry, name)) and not os.path.exists(join(entry, name, "__init__.py")))  # noqa: PTH110, PTH112 - hot path
    }
    return tuple(sorted(names - namespaces)), tuple(sorted(namespaces))


def _record_modules(entry: str, folder: str, records: RecordCache | None) -> tuple[tuple[str, ...], tuple[str, ...], list[str]] | None:
    """What the RECORD of ``folder`` names (see :func:`_modules_from_record`), through ``records`` when given; ``None`` without a RECORD."""
    path = os.path.join(folder, "RECORD")  # noqa: PTH118 - hot path
    if records is not None:
        return records.outcome(entry, os.path.basename(folder), path, _modules_from_record)  # noqa: PTH119 - hot path
    record = _read(path)
    return _modules_from_record(record) if record is not None else None


def _metadata_fields(entry: str, folder: str, path: str, records: RecordCache | None) -> MetadataFields:
    """The fields of ``path``, the METADATA / PKG-INFO of the metadata ``folder`` (or file) directly in ``entry``, through ``records`` when given."""
    if records is None:
        return read_fields(path)
    return records.fields(entry, os.path.basename(folder), path)  # noqa: PTH119 - hot path


def _dist_info(entry: str, folder: str, index: int, *, modules: bool = True, records: RecordCache | None = None) -> InstalledDistribution | None:
    join = os.path.join
    fields = _metadata_fields(entry, folder, join(folder, "METADATA"), records)
    if not fields.name:
        return None
    installer = _read(join(folder, "INSTALLER"))
    top: tuple[str, ...] = ()
    namespaces: tuple[str, ...] = ()
    if not modules:  # the graph and verify need no module lists: skip reading RECORD
        has_record = os.path.exists(join(folder, "RECORD"))  # noqa: PTH110 - hot path
    else:
        named = _record_modules(entry, folder, records)
        has_record = named is not None
        if named is not None:
            top, namespaces, finders = named
            for finder in finders:
                top = tuple(sorted({*top, *_finder_modules(join(entry, finder))}))
        if not top and not namespaces:
            top, namespaces = _top_level_txt(folder, entry)
    url, editable = _direct_url(join(folder, "direct_url.json"))
    return InstalledDistribution(
        name=canonicalize_name(fields.name),
        raw_name=fields.name,
        version=fields.version,
        path_entry=entry,
        metadata_path=folder,
        requires=fields.requires_dist,
        provides_extras=fields.provides_extra,
        requires_python=fields.requires_python,
        installer=installer.strip() or None if installer is not None else None,
        requested=os.path.exists(join(folder, "REQUESTED")),  # noqa: PTH110 - hot path
        has_record=has_record,
        top_level=top,
        namespaces=namespaces,
        direct_url=url,
        editable=editable,
        path_index=index,
    )


def _egg_info(entry: str, path: str, index: int, *, editable: bool = False, records: RecordCache | None = None) -> InstalledDistribution | None:
    join = os.path.join
    is_dir = os.path.isdir(path)  # noqa: PTH112 - hot path
    fields = _metadata_fields(entry, path, join(path, "PKG-INFO") if is_dir else path, records)
    if not fields.name:
        return None
    requires = fields.requires_dist
    top: tuple[str, ...] = ()
    namespaces: tuple[str, ...] = ()
    installer = None
    if is_dir:
        requires_txt = _read(join(path, "requires.txt"))
        if requires_txt:
            requires = requires + egg_requires(requires_txt)
        top, namespaces = _top_level_txt(path, entry)
        installer = (_read(join(path, "INSTALLER")) or "").strip() or None
    return InstalledDistribution(
        name=canonicalize_name(fields.name),
        raw_name=fields.name,
        version=fields.version,
        path_entry=entry,
        metadata_path=path,
        requires=requires,
        provides_extras=fields.provides_extra,
        requires_python=fields.requires_python,
        installer=installer,
        requested=None,
        has_record=False,
        top_level=top,
        namespaces=namespaces,
        editable=editable,
        egg_info=True,
        path_index=index,
    )


def _egg_link(entry: str, path: str, index: int) -> InstalledDistribution | None:
    """A legacy ``setup.py develop`` install: the first line names the project folder."""
    text = _read(path) or ""
    target = text.splitlines()[0].strip() if text.strip() else ""
    if not target:
        return None
    project = os.path.normpath(os.path.join(entry, target))  # noqa: PTH118 - hot path
    try:
        names = sorted(name for name in os.listdir(project) if name.endswith(".egg-info"))  # noqa: PTH208 - hot path: plain names, no Path objects
    except OSError:
        return None
    for name in names:
        found = _egg_info(entry, os.path.join(project, name), index, editable=True)  # noqa: PTH118 - hot path
        if found is not None:
            return found
    return None


def _entry_order(name: str) -> tuple[int, str]:
    # Within one folder: dist-info before egg-info before egg-link, then by name (stable output).
    rank = 0 if name.endswith(".dist-info") else 1 if name.endswith(".egg-info") else 2
    return rank, name


def scan_entry(entry: str, index: int, *, modules: bool = True, records: RecordCache | None = None) -> Iterator[InstalledDistribution]:
    """Every distribution whose metadata sits directly in one ``sys.path`` entry (``modules``: read module lists).

    ``records`` remembers what each RECORD and METADATA say between runs (see
    :class:`~reprolock.sources.recordcache.RecordCache`).
    """
    join = os.path.join
    if entry.endswith(".egg") and os.path.isdir(join(entry, "EGG-INFO")):  # noqa: PTH112 - hot path
        found = _egg_info(entry, join(entry, "EGG-INFO"), index, records=records)
        if found is not None:
            yield found
        return
    try:
        names = [name for name in os.listdir(entry) if name.endswith((".dist-info", ".egg-info", ".egg-link"))]  # noqa: PTH208 - hot path: plain names
    except OSError:
        return
    for name in sorted(names, key=_entry_order):
        path = join(entry, name)
        if name.endswith(".dist-info"):
            dist = _dist_info(entry, path, index, modules=modules, records=records)
        elif name.endswith(".egg-info"):
            dist = _egg_info(entry, path, index, records=records)
        else:
            dist = _egg_link(entry, path, index)
        if dist is not None:
            yield dist


def listed_distributions(sys_path: Sequence[str]) -> list[tuple[str, str]]:
    """``(name, version)`` of every ``.dist-info`` folder on ``sys_path``, from the folder names alone (no file read).

    A quick first list, for work that can start before :func:`scan_path` has read
    the metadata; names are normalised, and the list may hold a name twice.
    """
    found: list[tuple[str, str]] = []
    for entry in sys_path:
        try:
            names = os.listdir(entry) if entry else []  # noqa: PTH208 - plain names
        except OSError:
            continue
        for name in names:
            if name.endswith(".dist-info"):
                project, _, version = name[: -len(".dist-info")].rpartition("-")
                if project and version:
                    found.append((canonicalize_name(project), version))
    return found


def scan_path(sys_path: Sequence[str], *, modules: bool = True, records: RecordCache | None = None) -> tuple[InstalledDistribution, ...]:
    """All distributions on ``sys_path``, in import order, every copy.

    An entry seen before (the same folder by another name, such as a ``lib64``
    symlink to ``lib``) is read once. Within one entry, a second metadata
    folder with the same name and version (Debian ships some packages with
    both a ``.dist-info`` and an ``.egg-info``) is the same install and is
    dropped; with another version it is a stale leftover and is kept, after the
    copy whose files are on disk when RECORD tells
    (see :func:`~reprolock.sources.integrity.owner_first`).
    ``records`` (see :func:`scan_entry`) is saved at the end.
    """
    seen_entries: set[str] = set()
    seen_metadata: set[str] = set()
    found: list[InstalledDistribution] = []
    for index, entry in enumerate(sys_path):
        if not entry:
            continue
        real = os.path.realpath(entry)
        if real in seen_entries:
            continue
        seen_entries.add(real)
        here: set[tuple[str, str]] = set()
        kept: list[InstalledDistribution] = []
        for dist in scan_entry(entry, index, modules=modules, records=records):
            key = (dist.name, dist.version)
            metadata = os.path.realpath(dist.metadata_path)
            if key in here or metadata in seen_metadata:
                continue  # the same install seen again (an egg-link's project folder is also on sys.path)
            here.add(key)
            seen_metadata.add(metadata)
            kept.append(dist)
        found.extend(owner_first(kept) if len({name for name, _ in here}) < len(here) else kept)
    if records is not None:
        records.save()
    return tuple(found)
