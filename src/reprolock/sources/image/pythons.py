"""The Python interpreters of an image and their ``sys.path``, from the files alone.

Interpreters are ``python3`` and ``python3.X`` in ``/usr/local/bin``,
``/usr/bin`` and ``/bin`` (links followed, each real one once) whose standard
library is in the image, and every virtualenv (a ``pyvenv.cfg``). ``sys.path``
is built as ``site.py`` builds it: ``PYTHONPATH`` from the image
configuration, the standard library (zip, folder, ``lib-dynload``), the user
site when it exists, then each site folder that exists, in the order of the
interpreter's own ``site.py`` (Debian's ``dist-packages`` layout when its
``site.py`` says so), each followed by the folders its ``.pth`` files add.
Lines of a ``.pth`` file that run code are not run.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from reprolock.records import Interpreter
from reprolock.sources.image.pythonfacts import fallback_modules, full_version, machine, markers, stdlib_modules
from reprolock.sources.image.tree import join, parent

if TYPE_CHECKING:
    from reprolock.sources.image.model import ImageConfig
    from reprolock.sources.image.owners import Packages
    from reprolock.sources.image.tree import Tree

BIN_FOLDERS = ("/usr/local/bin", "/usr/bin", "/bin")
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
_NAME = re.compile(r"python3(?:\.(\d+))?")
_LIB_VERSION = re.compile(r"python(3\.\d+)")


@dataclass(frozen=True, slots=True)
class Base:
    """An installed (not virtual) Python: its executable, prefix, ``X.Y`` and standard library folder."""

    executable: str
    prefix: str
    xy: str
    stdlib: str
    libdir: str
    debian: bool
    """Its ``site.py`` is Debian's (``dist-packages``)."""
    local_prefix: bool
    """Its ``site.py`` also searches ``/usr/local`` (Fedora's)."""

    @property
    def prefixes(self) -> list[str]:
        return ["/usr/local", self.prefix] if self.local_prefix and self.prefix == "/usr" else [self.prefix]


@dataclass(frozen=True, slots=True)
class Context:
    """What every interpreter of one image shares."""

    tree: Tree
    config: ImageConfig
    packages: Packages


def _base(tree: Tree, real: str) -> Base | None:
    prefix = parent(parent(real))
    named = _NAME.fullmatch(real.rsplit("/", 1)[1])
    if named is not None and named.group(1):
        versions = [f"3.{named.group(1)}"]
    else:
        found = {match.group(1) for name in tree.listdir(join(prefix, "lib")) if (match := _LIB_VERSION.fullmatch(name))}
        versions = sorted(found, key=lambda xy: int(xy.split(".")[1]), reverse=True)
    for xy in versions:
        for libdir in ("lib", "lib64"):
            stdlib = join(prefix, f"{libdir}/python{xy}")
            if tree.is_file(join(stdlib, "os.py")):
                site = tree.read_text(join(stdlib, "site.py")) or ""
                sysconfig = tree.read_text(join(stdlib, "sysconfig.py")) or ""
                local = "rpm_prefix" in sysconfig or "/usr/local" in site
                return Base(real, prefix, xy, stdlib, libdir, debian="dist-packages" in site, local_prefix=local)
    return None


def find_bases(tree: Tree) -> list[Base]:
    """Every installed Python of the image, each real executable once, ``/usr/local`` first."""
    found: dict[str, Base] = {}
    for folder in BIN_FOLDERS:
        for name in tree.listdir(folder):
            if not _NAME.fullmatch(name):
                continue
            real = tree.resolve(join(folder, name))
            if real is None or real in found or not tree.is_file(real):
                continue
            base = _base(tree, real)
            if base is not None:
                found[real] = base
    return list(found.values())


def site_folders(prefix: str, xy: str, libdir: str, *, debian: bool, venv: bool) -> list[str]:
    """The site folders ``site.getsitepackages`` lists for one prefix (existing or not)."""
    libdirs = [libdir] if libdir == "lib" else [libdir, "lib"]
    if not debian:
        return [join(prefix, f"{name}/python{xy}/site-packages") for name in libdirs]
    found = [join(prefix, f"lib/python{xy}/site-packages")] if venv else []
    found += [join(prefix, f"local/lib/python{xy}/dist-packages"), join(prefix, "lib/python3/dist-packages")]
    return found + [join(prefix, f"{name}/python{xy}/dist-packages") for name in libdirs]


def _pth_entries(tree: Tree, site: str) -> list[str]:
    """The folders a site folder's ``.pth`` files add (those that exist), in file-name order."""
    found: list[str] = []
    for name in tree.listdir(site):
        if not name.endswith(".pth") or name.startswith("."):
            continue
        for raw in (tree.read_text(join(site, name)) or "").splitlines():
            line = raw.rstrip()
            if not line or line.startswith(("#", "import ", "import\t")):
                continue
            entry = posixpath.normpath(line if line.startswith("/") else join(site, line))
            if tree.kind(entry) is not None:
                found.append(entry)
    return found


def _home(tree: Tree, user: str | None) -> str:
    """The home folder of the image's user (``/etc/passwd``), ``/root`` for root."""
    name = (user or "root").split(":")[0]
    for line in (tree.read_text("/etc/passwd") or "").splitlines():
        fields = line.split(":")
        if len(fields) >= 6 and name in {fields[0], fields[2]}:
            return fields[5] or "/"
    return "/root" if name in {"root", "0", ""} else f"/home/{name}"


def _python_path(context: Context) -> list[str]:
    value = context.config.variable("PYTHONPATH") or ""
    where = context.config.working_dir or "/"
    return [posixpath.normpath(item if item.startswith("/") else join(where, item)) for item in value.split(":") if item]


def _assemble(context: Context, head: list[str], sites: list[str], user_site: str | None) -> list[str]:
    """``sys.path``: ``head`` (PYTHONPATH, the standard library), then each existing site folder and its ``.pth`` folders."""
    path = list(head)
    for site in ([user_site] if user_site else []) + sites:
        if site in path or not context.tree.is_dir(site):
            continue
        path.append(site)
        path.extend(entry for entry in _pth_entries(context.tree, site) if entry not in path)
    return path


def _stdlib_head(base: Base) -> list[str]:
    nodot = base.xy.replace(".", "")
    return [join(base.prefix, f"{base.libdir}/python{nodot}.zip"), base.stdlib, join(base.stdlib, "lib-dynload")]


def _user_site(context: Context, xy: str) -> str | None:
    if context.config.variable("PYTHONNOUSERSITE"):
        return None
    return join(_home(context.tree, context.config.user), f".local/lib/python{xy}/site-packages")


@dataclass(frozen=True, slots=True)
class _Shared:
    """What an interpreter's standard library tells, the same for a base and its virtualenvs."""

    markers: tuple[tuple[str, str], ...]
    stdlib: frozenset[str]
    built_in: frozenset[str]
    own_stdlib: bool
    """The standard library is in the image (else the running Python's names stand in)."""


def _shared(context: Context, base: Base, version: str) -> _Shared:
    own = stdlib_modules(context.tree, base.stdlib, base.xy)
    names, built_in = own or fallback_modules(base.xy)
    platform_machine = machine(context.tree, base.stdlib, context.config, context.packages)
    return _Shared(markers(version, platform_machine), names, built_in, own_stdlib=own is not None)


def base_interpreter(context: Context, base: Base, shown: str) -> Interpreter:
    """The record of an installed Python, as the probe would answer for it; ``shown`` names the image."""
    user_site = _user_site(context, base.xy)
    sites = [site for prefix in base.prefixes for site in site_folders(prefix, base.xy, base.libdir, debian=base.debian, venv=False)]
    own = sites[0] if not base.debian else join(base.prefix, f"local/lib/python{base.xy}/dist-packages")
    marker = join(base.stdlib, "EXTERNALLY-MANAGED")
    version = full_version(context.tree, base.xy, base.prefix, context.packages, context.config)
    return _interpreter(
        context,
        base,
        f"{shown}:{base.executable}",
        version=version,
        sites=sites,
        user_site=user_site,
        executable=base.executable,
        prefix=base.prefix,
        externally_managed=marker if context.tree.is_file(marker) else None,
        site_packages=(own,),
    )


def _interpreter(context: Context, base: Base, python: str, *, version: str, sites: list[str], user_site: str | None, **specific: Any) -> Interpreter:  # noqa: ANN401 - Interpreter fields of several types
    """The record the probe would give for an interpreter of ``base``'s kind; ``specific``: the fields that differ."""
    shared = _shared(context, base, version)
    return Interpreter(
        python=python,
        version=version,
        base_prefix=base.prefix,
        sys_path=tuple(_assemble(context, [*_python_path(context), *_stdlib_head(base)], sites, user_site)),
        markers=shared.markers,
        stdlib=shared.stdlib,
        builtin_modules=shared.built_in,
        stdlib_paths=(base.stdlib,),
        user_site=user_site,
        user_site_enabled=user_site is not None,
        **specific,
    )


def venv_settings(text: str) -> dict[str, str]:
    """``pyvenv.cfg`` as ``key -> value`` (keys lower-cased)."""
    found = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            found[key.strip().lower()] = value.strip()
    return found


def _venv_base(tree: Tree, home: str, xy: str, bases: list[Base]) -> Base:
    """The installed Python a virtualenv was made from (``home``), else a stand-in at ``home`` (not in the image)."""
    real_home = tree.resolve(home) if home else None
    for base in bases:
        if base.xy == xy and real_home is not None and (parent(base.executable) == real_home or base.prefix == parent(real_home)):
            return base
    prefix = parent(home) if home.endswith("/bin") else home or "/usr"
    return Base(join(home or "/usr/bin", f"python{xy}"), prefix, xy, join(prefix, f"lib/python{xy}"), "lib", debian=False, local_prefix=False)


def venv_interpreter(context: Context, config_path: str, bases: list[Base], shown: str) -> Interpreter | None:
    """The record of the virtualenv whose ``pyvenv.cfg`` is at ``config_path``; ``None`` when it holds no Python folder."""
    root = parent(config_path)
    settings = venv_settings(context.tree.read_text(config_path) or "")
    declared = settings.get("version") or settings.get("version_info")
    folders = sorted(match.group(1) for name in context.tree.listdir(join(root, "lib")) if (match := _LIB_VERSION.fullmatch(name)))
    xy = ".".join(declared.split(".")[:2]) if declared else (folders[-1] if folders else None)
    if xy is None or not (folders or context.tree.is_dir(join(root, "bin"))):
        return None
    base = _venv_base(context.tree, settings.get("home", "").rstrip("/"), xy, bases)
    system = settings.get("include-system-site-packages", "").lower() == "true"
    sites = site_folders(root, xy, base.libdir, debian=base.debian, venv=True)
    if system:
        sites += [site for prefix in base.prefixes for site in site_folders(prefix, xy, base.libdir, debian=base.debian, venv=True)]
    user_site = _user_site(context, xy) if system else None
    version = declared or full_version(context.tree, xy, base.prefix, context.packages, context.config)
    executable = next((join(root, f"bin/{name}") for name in ("python", "python3", f"python{xy}") if context.tree.kind(join(root, f"bin/{name}"))), join(root, "bin/python"))
    return _interpreter(
        context,
        base,
        f"{shown}:{executable}",
        version=version,
        sites=sites,
        user_site=user_site,
        executable=executable,
        prefix=root,
        is_venv=True,
        system_site_packages=system,
        site_packages=(join(root, f"lib/python{xy}/site-packages"),),
    )


def _rank(context: Context, interpreter: Interpreter, path: list[str]) -> tuple[int, int]:
    """Where ``python3`` on the image's ``PATH`` (or its ``VIRTUAL_ENV``) finds this interpreter: lower runs first."""
    active = (context.config.variable("VIRTUAL_ENV") or "").rstrip("/")
    if interpreter.is_venv:
        if active and interpreter.prefix == active:
            return 0, 0
        folder = join(interpreter.prefix, "bin")
        return (1, path.index(folder)) if folder in path else (3, 0)
    for position, folder in enumerate(path):
        for name in ("python3", "python"):
            if context.tree.resolve(join(folder, name)) == interpreter.executable:
                return 1, position
    return 2, 0


def find_interpreters(context: Context, shown: str) -> tuple[list[Interpreter], list[str]]:
    """Every interpreter of the image, the one ``python3`` runs first; and notes on what was guessed."""
    bases = find_bases(context.tree)
    found = [base_interpreter(context, base, shown) for base in bases]
    notes = []
    for config_path in context.tree.venv_configs():
        venv = venv_interpreter(context, config_path, bases, shown)
        if venv is not None:
            found.append(venv)
            if not context.tree.is_file(join(venv.stdlib_paths[0], "os.py")):
                notes.append(f"{venv.prefix}: its base Python ({venv.base_prefix}) is not in the image; the standard library names are this machine's")
    path = [folder.rstrip("/") for folder in (context.config.variable("PATH") or DEFAULT_PATH).split(":") if folder]
    return sorted(found, key=lambda interpreter: _rank(context, interpreter, path)), notes
