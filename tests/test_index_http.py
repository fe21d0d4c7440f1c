"""The index's HTTP client against real servers on 127.0.0.1: name lookups, concurrency, progress."""

from __future__ import annotations

import io
import socket
from concurrent.futures import ThreadPoolExecutor

import httpcore
import pytest
from rich.console import Console

from reprolock.errors import IndexUnreachableError
from reprolock.index.config import split_credentials
from reprolock.index.finder import IndexFinder
from reprolock.index.http import IndexHttp, ResolveOnce
from reprolock.index.options import IndexOptions
from reprolock.index.progress import progress_bar
from wheelfactory import Dist


def test_each_host_is_looked_up_once_however_many_connections(index_server, monkeypatch):
    looked_up: list[str] = []
    real = socket.getaddrinfo

    def counting(host, *args, **kwargs):
        looked_up.append(host)
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", counting)
    for number in range(12):
        index_server.add_wheel(Dist(f"pkg{number}", "1.0"))
    url = index_server.url.replace("127.0.0.1", "localhost")  # a name, so that there is something to look up
    client = IndexHttp(IndexOptions(indexes=(split_credentials(url),), retries=0, concurrency=8))
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda number: client.get(f"{url}pkg{number}/"), range(12)))
    client.close()
    assert [answer.status for answer in answers] == [200] * 12
    assert looked_up.count("localhost") == 1


def test_a_name_that_cannot_be_looked_up_is_a_connection_error_not_a_crash():
    resolver = ResolveOnce()
    with pytest.raises(httpcore.ConnectError, match=r"cannot look up name\.invalid"):
        resolver.connect_tcp("name.invalid", 80, timeout=2)
    assert resolver.lookups == 0  # failures are not remembered


def test_the_progress_bar_shows_on_a_terminal_only(index_server):
    for number in range(3):
        index_server.add_wheel(Dist(f"pkg{number}", "1.0"))
    options = IndexOptions(indexes=(split_credentials(index_server.url),), retries=0)
    terminal = io.StringIO()
    IndexFinder(options, console=Console(file=terminal, force_terminal=True, width=100)).prefetch(["pkg0", "pkg1", "pkg2"])
    assert "index pages" in terminal.getvalue()
    piped = io.StringIO()
    IndexFinder(options, console=Console(file=piped, width=100)).prefetch(["pkg0", "pkg1", "pkg2"])
    assert piped.getvalue() == ""
    with progress_bar(5, None) as advance:
        advance()  # no console: nothing to draw on, and nothing fails


def test_a_host_name_that_does_not_exist_fails_at_once_without_retries():
    client = IndexHttp(IndexOptions(indexes=(split_credentials("https://name.invalid/simple/"),), retries=5, timeout=30))
    with pytest.raises(IndexUnreachableError, match=r"cannot look up name\.invalid") as caught:
        client.get("https://name.invalid/simple/a/")
    assert caught.value.hint == "check the host name in the index URL"
    assert client.requests == 1  # with five retries allowed
