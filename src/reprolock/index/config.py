"""Which indexes to ask, and with which credentials (no network here).

Order of precedence, as the contract says:

1. ``--index-url`` / ``--extra-index-url`` on the command line (they replace
   pip's configuration entirely, so a run is reproducible from its flags);
2. ``--index-url`` / ``--extra-index-url`` lines in the requirement files
   read, as pip and pip-compile take them (the last ``--index-url`` wins;
   extra indexes add to those of the configuration; ``${VAR}`` is expanded);
3. the user's pip configuration: ``PIP_INDEX_URL`` / ``PIP_EXTRA_INDEX_URL``,
   then the pip.conf files in pip's own order (``PIP_CONFIG_FILE``, global,
   user, site; a later file wins; ``PIP_CONFIG_FILE=/dev/null`` turns the
   files off);
4. the default index of the target interpreter's own pip, asked in a
   subprocess of that interpreter.

With none of these the run stops with a usage error asking for ``--index-url``.

``file://`` indexes (local PEP 503 trees, as pip mirrors often are) are read
from disk by the client. pip's ``find-links`` are flat folders, not indexes:
they are not consulted, and the selection says so in its notes.
"""

from __future__ import annotations

import base64
import configparser
import netrc
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit, urlunsplit

from reprolock.errors import UsageError
from reprolock.redaction import ENV_VAR, MASK, redacted

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

PIP_DEFAULT_QUERY = "from pip._internal.models.index import PyPI; print(PyPI.simple_url)"
"""The one line run inside the target interpreter (never in reprolock's own process)."""


@dataclass(frozen=True, slots=True)
class IndexSource:
    """One index: its URL without credentials, and the credentials kept apart."""

    url: str
    """Normalised to end with ``/``; never holds a user or password."""
    auth: str | None = field(default=None, repr=False)
    """A ready ``Authorization`` header value, or ``None``."""

    @property
    def is_local(self) -> bool:
        return self.url.startswith("file:")

    @property
    def origin(self) -> tuple[str, str, int | None]:
        """Scheme, host and port: the only place its credentials are sent."""
        return origin_of(self.url)


_DEFAULT_PORTS = {"http": 80, "https": 443}


def origin_of(url: str) -> tuple[str, str, int | None]:
    """``(scheme, host, port)`` of ``url``, the port made explicit for http and https."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:
        port = None
    return scheme, (parts.hostname or "").lower(), port if port is not None else _DEFAULT_PORTS.get(scheme)


@dataclass(frozen=True, slots=True)
class IndexSelection:
    """The indexes of one run, primary first, and where they came from."""

    indexes: tuple[IndexSource, ...]
    origin: str
    """``command line``, ``pip configuration`` or ``pip default of PYTHON``."""
    notes: tuple[str, ...] = ()


def split_credentials(url: str, *, netrc_path: Path | None = None) -> IndexSource:
    """Take the credentials out of ``url`` (or find them in ``~/.netrc``)."""
    url = url.strip()
    if not url.endswith("/"):
        url += "/"
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:  # an unclosed "[" (IPv6), a port that is not a number
        raise UsageError(f"index URL {redacted(url)!r} is not a valid URL ({exc})", hint="give an http(s):// or file:// simple index") from None
    host = parts.hostname or ""
    netloc = host if port is None else f"{host}:{port}"
    clean = urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))
    user, password = parts.username, parts.password
    if user is None and host and parts.scheme in {"http", "https"}:
        user, password = _netrc_login(host, netrc_path)
    if user is None:
        return IndexSource(clean)
    token = base64.b64encode(f"{unquote(user)}:{unquote(password or '')}".encode()).decode()
    return IndexSource(clean, auth=f"Basic {token}")


def _netrc_login(host: str, path: Path | None) -> tuple[str | None, str | None]:
    path = path or Path(os.environ.get("NETRC") or Path.home() / ".netrc")
    try:
        entry = netrc.netrc(str(path)).authenticators(host)
    except (OSError, netrc.NetrcParseError):
        return None, None
    if entry is None:
        return None, None
    login, _account, password = entry
    return login, password


def pip_config_files(env: Mapping[str, str], python: str | None = None) -> list[Path]:
    """pip's configuration files in the order pip reads them (later wins)."""
    configured = env.get("PIP_CONFIG_FILE")
    if configured == os.devnull:
        return []
    files: list[Path] = []
    xdg_dirs = env.get("XDG_CONFIG_DIRS", "/etc/xdg").split(os.pathsep)
    files += [Path(folder) / "pip" / "pip.conf" for folder in xdg_dirs if folder]
    files.append(Path("/etc/pip.conf"))
    if not (configured and Path(configured).exists()):  # as pip: an existing PIP_CONFIG_FILE replaces the user's files
        home = Path(env.get("HOME") or Path.home())
        files.append(home / ".pip" / "pip.conf")
        files.append(Path(env.get("XDG_CONFIG_HOME") or home / ".config") / "pip" / "pip.conf")
    prefix = _venv_prefix(env, python)
    if prefix is not None:
        files.append(prefix / "pip.conf")
    if configured:
        files.append(Path(configured))
    return files


def _venv_prefix(env: Mapping[str, str], python: str | None) -> Path | None:
    if python:
        folder = Path(python).parent.parent
        return folder if (folder / "pyvenv.cfg").is_file() else None
    if env.get("VIRTUAL_ENV"):
        return Path(env["VIRTUAL_ENV"])
    return None


def read_pip_config(env: Mapping[str, str], python: str | None = None) -> dict[str, str]:
    """pip's settings that reprolock honours (:data:`PIP_SETTINGS`), as pip would see them: the files in
    pip's order, ``[global]`` then ``[install]``, then the ``PIP_*`` variables (which win)."""
    found: dict[str, str] = {}
    for path in pip_config_files(env, python):
        parser = configparser.RawConfigParser()
        try:
            parser.read(path, encoding="utf-8")
        except (configparser.Error, UnicodeDecodeError):
            continue
        for section in ("global", "install"):
            if parser.has_section(section):
                for key in (*PIP_SETTINGS, *_ALIASES):
                    if parser.has_option(section, key):
                        found[_ALIASES.get(key, key)] = parser.get(section, key)
    for key in (*PIP_SETTINGS, *_ALIASES):
        value = env.get("PIP_" + key.upper().replace("-", "_"))
        if value is not None:
            found[_ALIASES.get(key, key)] = value
    return found


PIP_SETTINGS = ("index-url", "extra-index-url", "find-links", "no-index", "proxy", "cert", "client-cert", "trusted-host", "timeout", "retries")
"""The pip settings read (``[global]``/``[install]`` keys; ``PIP_`` + upper-case name as variables)."""
_ALIASES = {"default-timeout": "timeout"}


def pip_default_index(python: str) -> str | None:
    """The default index of ``python``'s own pip, asked in a subprocess; ``None`` without pip."""
    try:
        done = subprocess.run(  # noqa: S603 - the user's interpreter, a fixed one-line query
            [python, "-c", PIP_DEFAULT_QUERY], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    line = done.stdout.strip()
    return line if done.returncode == 0 and "://" in line else None


def select_indexes(
    index_url: str | None,
    extra_index_urls: Sequence[str],
    *,
    env: Mapping[str, str],
    python: str | None = None,
    pip_default: str | None = None,
    netrc_path: Path | None = None,
    written: tuple[str | None, Sequence[str]] = (None, ()),
) -> IndexSelection:
    """The indexes of this run (see the module docstring for the order).

    ``pip_default`` is the target's pip default when already known (the
    environment probe records it); otherwise it is asked for lazily.
    ``written``: the ``--index-url`` and ``--extra-index-url`` values of the
    requirement files, as written (see :func:`reprolock.sources.requirements.written_indexes_in`).
    """
    if index_url or extra_index_urls:
        urls = [index_url] if index_url else []
        return IndexSelection(_sources([*urls, *extra_index_urls], netrc_path), "command line")
    config = read_pip_config(env, python)
    notes: list[str] = []
    if config.get("find-links"):
        notes.append("pip's find-links folders are not consulted (they are not indexes)")
    written_urls = [_expanded(url, env) if url else None for url in (written[0], *written[1])]
    if any(url and "://" not in url for url in written_urls):
        notes.append("an --index-url or --extra-index-url line of a requirement file is not a URL: it is not consulted")
    written_primary, *written_extras = (url if url and "://" in url else None for url in written_urls)
    extras = [*config.get("extra-index-url", "").split(), *(url for url in written_extras if url)]
    primary = written_primary or config.get("index-url", "").strip() or None
    origin = "requirement files" if written_primary else "pip configuration"
    if primary is None:
        primary = pip_default or pip_default_index(python or sys.executable)
        origin = "pip configuration and the target's pip default" if extras else "the target's pip default"
    if primary is None:
        if not extras:
            raise UsageError(
                "no package index configured and the target interpreter has no pip to ask",
                hint="pass --index-url URL, set PIP_INDEX_URL, or use --no-index / --offline",
            )
        notes.append("no primary index configured: only pip's extra indexes are consulted")
    return IndexSelection(_sources([*(u for u in [primary] if u), *extras], netrc_path), origin, tuple(notes))


def _expanded(url: str, env: Mapping[str, str]) -> str:
    """``${VAR}`` references replaced by their values, as pip does in requirement files (unset ones are left)."""
    return ENV_VAR.sub(lambda match: env.get(match.group("name"), match.group(0)), url)


_SCHEMES = frozenset({"http", "https", "file"})


def _sources(urls: Sequence[str], netrc_path: Path | None) -> tuple[IndexSource, ...]:
    seen: dict[str, IndexSource] = {}
    for url in urls:
        scheme, separator, _ = url.partition("://")
        if not separator or scheme.lower() not in _SCHEMES:
            shown = redacted(url)
            shown = f"{MASK}@{shown.rpartition('@')[2]}" if "@" in shown else shown
            what = "not a URL" if not separator else f"a URL of {scheme}://, and indexes are read over http(s) or from files"
            raise UsageError(f"index URL {shown!r} is {what}", hint="give an http(s):// or file:// simple index")
        source = split_credentials(url, netrc_path=netrc_path)
        seen.setdefault(source.url, source)
    return tuple(seen.values())
