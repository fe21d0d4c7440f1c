"""How to reach the index: one frozen record, built from the flags, pip's configuration and the environment.

:class:`IndexFlags` holds what the command line said (the commands make it from
their arguments); :func:`index_options` adds pip's configuration (``pip.conf``,
``PIP_*`` variables) and the environment (proxies, certificate bundles) and
returns the :class:`IndexOptions` the client is built from
(:func:`reprolock.index.http.open_http`). A flag wins over pip's setting, which
wins over the environment. No network here.
"""

from __future__ import annotations

import os
import urllib.parse
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from reprolock.errors import InputError, UsageError
from reprolock.index.config import IndexSource, read_pip_config, select_indexes
from reprolock.redaction import redacted

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from pathlib import Path

DEFAULT_TIMEOUT = 30.0
"""Seconds one request may take, retries included, unless pip's ``timeout`` says otherwise."""
DEFAULT_RETRIES = 5
"""pip's default number of retries."""
DEFAULT_MAX_BYTES = 256 * 2**20
"""The largest answer read (decoded): well above the largest real project page."""


@dataclass(frozen=True, slots=True)
class IndexFlags:
    """The index options given on the command line (``None`` / empty: not given)."""

    index_url: str | None = None
    extra_index_urls: tuple[str, ...] = ()
    offline: bool = False
    cache_dir: Path | None = None
    """The cache folder, absolute (the user cache folder unless ``--cache-dir``); ``None``: ``--no-cache``."""
    proxy: str | None = None
    cert: str | None = None
    client_cert: str | None = None
    trusted_hosts: tuple[str, ...] = ()
    timeout: float | None = None
    retries: int | None = None
    max_response_mb: int | None = None


@dataclass(frozen=True, slots=True)
class IndexOptions:
    """Everything the index client needs: which indexes, how to reach them, what to cache."""

    indexes: tuple[IndexSource, ...]
    origin: str = "command line"
    """Where the index choice came from (``command line``, ``pip configuration``, ...)."""
    notes: tuple[str, ...] = ()
    offline: bool = False
    cache_dir: Path | None = None
    """``None``: no cache."""
    proxy: str | None = field(default=None, repr=False)
    """An explicit proxy for every request (``--proxy``, pip's ``proxy``); may hold credentials."""
    env_proxies: tuple[tuple[str, str], ...] = field(default=(), repr=False)
    """``HTTP(S)_PROXY``, ``ALL_PROXY`` and ``NO_PROXY`` as ``(scheme, value)`` pairs (``no`` for the bypass list)."""
    cert: str | None = None
    """A CA bundle file or folder replacing the default trust store."""
    client_cert: str | None = None
    """A PEM file holding the client's key and certificate."""
    trusted_hosts: tuple[str, ...] = ()
    """``host`` or ``host:port`` whose TLS certificate is not verified (pip's ``trusted-host``)."""
    timeout: float = DEFAULT_TIMEOUT
    retries: int = DEFAULT_RETRIES
    max_bytes: int = DEFAULT_MAX_BYTES
    concurrency: int = 16

    def proxy_for(self, url: str) -> str | None:
        """The proxy a request to ``url`` goes through (``None``: straight to the server)."""
        proxies = dict(self.env_proxies)
        if _bypassed(url, proxies):
            return None
        if self.proxy:
            return self.proxy
        scheme = url.partition("://")[0].lower()
        return proxies.get(scheme) or proxies.get("all")

    def is_trusted(self, url: str) -> bool:
        """Whether ``url``'s host is a ``trusted-host`` (its certificate is not verified)."""
        parts = urllib.parse.urlsplit(url)
        host = (parts.hostname or "").lower()
        return any(item.lower() in {host, f"{host}:{parts.port}"} for item in self.trusted_hosts)


def _bypassed(url: str, proxies: Mapping[str, str]) -> bool:
    """Whether ``NO_PROXY`` names ``url``'s host: ``*``, the host itself (with or without its port) or a parent domain."""
    parts = urllib.parse.urlsplit(url)
    host = (parts.hostname or "").lower()
    for entry in proxies.get("no", "").replace(" ", "").lower().split(","):
        name = entry.lstrip(".")
        if entry == "*" or (name and (host == name or host.endswith("." + name) or f"{host}:{parts.port}" == entry)):
            return True
    return False


def index_options(
    flags: IndexFlags,
    *,
    env: Mapping[str, str],
    python: str | None = None,
    pip_default: str | None = None,
    written: tuple[str | None, Sequence[str]] = (None, ()),
    netrc_path: Path | None = None,
) -> IndexOptions:
    """The run's :class:`IndexOptions`: the indexes (see :func:`~reprolock.index.config.select_indexes`) and
    how to reach them, from ``flags``, pip's configuration for ``python`` and the environment ``env``."""
    selection = select_indexes(
        flags.index_url,
        flags.extra_index_urls,
        env=env,
        python=python,
        pip_default=pip_default,
        written=written,
        netrc_path=netrc_path,
    )
    pip = read_pip_config(env, python)
    return IndexOptions(
        indexes=selection.indexes,
        origin=selection.origin,
        notes=selection.notes,
        offline=flags.offline,
        cache_dir=flags.cache_dir,
        proxy=flags.proxy or pip.get("proxy") or None,
        env_proxies=environment_proxies(env),
        cert=_existing(flags.cert or pip.get("cert") or env.get("REQUESTS_CA_BUNDLE") or env.get("CURL_CA_BUNDLE"), "certificate bundle"),
        client_cert=_existing(flags.client_cert or pip.get("client-cert"), "client certificate"),
        trusted_hosts=(*flags.trusted_hosts, *pip.get("trusted-host", "").split()),
        timeout=flags.timeout if flags.timeout is not None else _number(pip.get("timeout"), "timeout", DEFAULT_TIMEOUT),
        retries=flags.retries if flags.retries is not None else int(_number(pip.get("retries"), "retries", DEFAULT_RETRIES)),
        max_bytes=flags.max_response_mb * 2**20 if flags.max_response_mb else DEFAULT_MAX_BYTES,
    )


def environment_proxies(env: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    """The proxy variables of ``env`` as urllib reads them (a lower-case name wins over its upper-case twin)."""
    found: dict[str, str] = {}
    for upper in (True, False):
        for name, value in env.items():
            if value and name.endswith(("_proxy", "_PROXY")) and (name.isupper() == upper):
                found[name[: -len("_proxy")].lower()] = value
    return tuple(sorted((scheme, value) for scheme, value in found.items() if scheme in {"http", "https", "all", "no"}))


def _existing(path: str | None, what: str) -> str | None:
    if not path:
        return None
    if not os.path.exists(path):  # noqa: PTH110 - a str path, checked once
        raise InputError(f"{what} {path} does not exist", hint="give an existing PEM file (or a folder of them for a CA bundle)")
    return path


def _number(value: str | None, name: str, default: float) -> float:
    if value is None or not value.strip():
        return default
    try:
        number = float(value)
    except ValueError:
        raise UsageError(f"pip's {name} setting {redacted(value)!r} is not a number", hint=f"fix {name} in pip.conf or PIP_{name.upper()}") from None
    if number < 0:
        raise UsageError(f"pip's {name} setting must not be negative", hint=f"fix {name} in pip.conf or PIP_{name.upper()}")
    return number
