"""The index client's network behaviour from the command line: proxies, TLS, credentials, limits, retries, revalidation.

Everything is real and on 127.0.0.1 (tests/netservers.py): a forwarding
proxy, the test index over HTTPS with a CA made here (trustme), origins that
redirect, stall or stream a 300 MB page. The first tests check those servers
with the standard library alone; the rest run ``reprolock`` in-process
through ``reprolock.cli.main``, or in a fresh process (``main`` as
``python -m reprolock`` runs it, see :func:`run_process`) where the
environment of a new process or its own peak memory matters.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import http.client
import json
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import pytest

from conftest import Run, findings, run_cli
from netservers import (
    MB,
    ForwardProxy,
    HugePageServer,
    RecordingServer,
    RedirectServer,
    StallServer,
    TlsIndexServer,
    closed_port,
    make_certificates,
)
from wheelfactory import Dist

if TYPE_CHECKING:
    from pathlib import Path

JSON_ACCEPT = {"Accept": "application/vnd.pypi.simple.v1+json"}
PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")
NETWORK_VARIABLES = (
    *PROXY_VARIABLES,
    *(name.lower() for name in PROXY_VARIABLES),
    "PIP_PROXY",
    "PIP_CERT",
    "PIP_CLIENT_CERT",
    "PIP_TRUSTED_HOST",
    "PIP_TIMEOUT",
    "PIP_DEFAULT_TIMEOUT",
    "PIP_RETRIES",
    "REQUESTS_CA_BUNDLE",
    "CURL_CA_BUNDLE",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
)
SECRET = "s3cret-pa55"  # noqa: S105 - a made-up credential the tests look for in every output
FAST_FAIL = 15.0
"""Seconds within which a run with ``--timeout 2`` must have given up (generous: retries included)."""


@pytest.fixture(autouse=True)
def _network_environment(monkeypatch, tmp_path):
    """No proxy, CA, timeout or credential setting of the machine reaches a test; each test sets its own."""
    for name in NETWORK_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PIP_CONFIG_FILE", "/dev/null")
    monkeypatch.setenv("NETRC", str(tmp_path / "no-netrc"))


@pytest.fixture(scope="session")
def certs(tmp_path_factory):
    return make_certificates(tmp_path_factory.mktemp("certs"))


def fill(server):
    """Two releases of ``a``: a pin of 1.0 drifts (RL501, latest 2.0)."""
    server.add_wheel(Dist("a", "1.0"))
    server.add_wheel(Dist("a", "2.0"))
    return server


@pytest.fixture
def index(index_server):
    return fill(index_server)


@pytest.fixture
def tls_index(tmp_path_factory, certs):
    with TlsIndexServer(tmp_path_factory.mktemp("tls-index"), certs.server_context()) as server:
        yield fill(server)


@pytest.fixture
def mtls_index(tmp_path_factory, certs):
    """The TLS index, requiring a client certificate signed by the test CA."""
    with TlsIndexServer(tmp_path_factory.mktemp("mtls-index"), certs.server_context(require_client_cert=True)) as server:
        yield fill(server)


@pytest.fixture
def proxy():
    with ForwardProxy() as server:
        yield server


@pytest.fixture
def project(tmp_path):
    folder = tmp_path / "project"
    folder.mkdir()
    (folder / "requirements.txt").write_text("a==1.0\n", encoding="utf-8")
    (folder / "requirements.in").write_text("a\n", encoding="utf-8")
    return folder


# -- helpers --------------------------------------------------------------------


def audit(project, url, *extra) -> Run:
    return run_cli("audit", "requirements.txt", "--format", "json", "--index-url", url, "--no-cache", *extra, cwd=project)


def lock(project, url, *extra) -> Run:
    return run_cli("lock", "requirements.in", "-o", "requirements.lock.txt", "--index-url", url, "--no-cache", *extra, cwd=project)


def assert_drift(run: Run) -> None:
    """The index was read: the pin a==1.0 drifts to 2.0."""
    assert run.code in {0, 1}, run.err
    assert [(item["package"], item["detail"]["latest"]) for item in findings(run, "RL501")] == [("a", "2.0")]


def assert_unreachable(run: Run | ProcessRun) -> None:
    """Exit 4 with one line on stderr and no traceback."""
    assert run.code == 4, (run.code, run.out, run.err)
    assert "Traceback" not in run.err
    assert len(run.err.strip().splitlines()) == 1, run.err


def assert_locked(project, server) -> None:
    text = (project / "requirements.lock.txt").read_text(encoding="utf-8")
    digest = hashlib.sha256(server.blobs["a-2.0-py3-none-any.whl"]).hexdigest()
    assert "a==2.0" in text
    assert f"--hash=sha256:{digest}" in text


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def pip_conf(folder: Path, **settings: str) -> Path:
    path = folder / "pip.conf"
    path.write_text("[global]\n" + "".join(f"{key.replace('_', '-')} = {value}\n" for key, value in settings.items()), encoding="utf-8")
    return path


@dataclass
class ProcessRun:
    code: int
    out: str
    err: str
    seconds: float
    max_rss_mb: float
    """The peak resident memory of the run's own process (``VmHWM``: not the parent's, which a fresh process inherits in ``ru_maxrss``)."""

    @property
    def json(self):
        return json.loads(self.out)


_MEASURED_MAIN = """
import os, sys
from reprolock.cli import main
code = main(sys.argv[2:])
for stream in (sys.stdout, sys.stderr):
    stream.flush()
with open("/proc/self/status", encoding="ascii") as status, open(sys.argv[1], "w", encoding="ascii") as peak:
    peak.write(next(line.split()[1] for line in status if line.startswith("VmHWM:")))
os._exit(code)
"""
"""``python -m reprolock`` as its ``entry()`` runs it, then the process's own peak RSS (kB) written to a file."""


def run_process(*argv: str, cwd: Path, limit: float = 120.0) -> ProcessRun:
    """Run reprolock in a fresh process (this process's environment) and measure its time and peak memory."""
    peak = cwd.parent / "peak-rss"
    start = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", _MEASURED_MAIN, str(peak), *argv],
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=limit,
        check=False,
    )
    seconds = time.monotonic() - start
    max_rss_mb = int(peak.read_text(encoding="ascii")) / 1024 if peak.exists() else float("nan")
    return ProcessRun(done.returncode, done.stdout, done.stderr, seconds, max_rss_mb)


def fetch(url: str, *, context: ssl.SSLContext | None = None, proxy: str | None = None, timeout: float = 10.0) -> tuple[int, bytes]:
    handlers: list[urllib.request.BaseHandler] = [urllib.request.ProxyHandler({"http": proxy, "https": proxy} if proxy else {})]
    if context is not None:
        handlers.append(urllib.request.HTTPSHandler(context=context))
    opener = urllib.request.build_opener(*handlers)
    with opener.open(urllib.request.Request(url, headers=JSON_ACCEPT), timeout=timeout) as response:  # noqa: S310 - http(s) URLs of local test servers
        return response.status, response.read()


# == the servers themselves (standard library clients only) ====================================


def test_forward_proxy_forwards_absolute_form_requests(index, proxy):
    status, body = fetch(f"{index.url}a/", proxy=proxy.url)
    assert status == 200
    assert json.loads(body)["name"] == "a"
    assert proxy.log == [f"GET {index.url}a/"]
    assert [path for path, _ in index.requests] == ["/simple/a/"]


def test_forward_proxy_relays_an_answer_without_length_chunked():
    with HugePageServer(2 * MB, framing="chunked") as page, ForwardProxy() as proxy:
        status, body = fetch(f"{page.url}big/", proxy=proxy.url)
    assert status == 200
    assert len(body) == 2 * MB
    assert len(json.loads(body)["files"]) > 1000


def test_forward_proxy_tunnels_connect_to_the_tls_index(tls_index, proxy, certs):
    connection = http.client.HTTPSConnection("127.0.0.1", proxy.port, context=certs.client_context(), timeout=10)
    connection.set_tunnel("localhost", tls_index.port)
    connection.request("GET", "/simple/a/", headers=JSON_ACCEPT)
    response = connection.getresponse()
    assert response.status == 200
    assert json.loads(response.read())["name"] == "a"
    connection.close()
    assert proxy.log == [f"CONNECT localhost:{tls_index.port}"]


def test_forward_proxy_asks_for_its_credentials(index):
    with ForwardProxy(auth=("proxyuser", SECRET)) as proxy:
        with pytest.raises(urllib.error.HTTPError) as refused:
            fetch(f"{index.url}a/", proxy=proxy.url)
        assert refused.value.code == 407
        status, _ = fetch(f"{index.url}a/", proxy=proxy.url_with_auth())
        assert status == 200
        assert [item.authorized for item in proxy.requests] == [False, True]
        assert proxy.requests[1].headers["proxy-authorization"] == basic("proxyuser", SECRET)
    assert "proxy-authorization" not in index.requests[0][1]  # never forwarded to the origin


def test_forward_proxy_refuses_hosts_off_the_loopback(proxy):
    connection = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=10)
    connection.request("GET", "http://192.0.2.1/simple/")  # TEST-NET-1: never connected to
    assert connection.getresponse().status == 403
    connection.close()
    connection = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=10)
    connection.request("CONNECT", "192.0.2.1:443")
    assert connection.getresponse().status == 403
    connection.close()


def test_tls_index_is_trusted_with_the_test_ca_only(tls_index, certs):
    status, body = fetch(f"{tls_index.url}a/", context=certs.client_context())
    assert status == 200
    assert len(json.loads(body)["files"]) == 2
    with pytest.raises(urllib.error.URLError) as refused:
        fetch(f"{tls_index.url}a/", context=ssl.create_default_context())
    assert isinstance(refused.value.reason, ssl.SSLCertVerificationError)


def test_tls_index_requiring_a_client_certificate(mtls_index, certs):
    with pytest.raises((OSError, http.client.HTTPException)):  # TLS 1.3: the refusal comes with the first read
        fetch(f"{mtls_index.url}a/", context=certs.client_context())
    with pytest.raises((OSError, http.client.HTTPException)):
        fetch(f"{mtls_index.url}a/", context=certs.client_context(client_cert=certs.stranger_pem))
    status, _ = fetch(f"{mtls_index.url}a/", context=certs.client_context(client_cert=certs.client_pem))
    assert status == 200
    assert len(mtls_index.tls_errors) == 2


def test_redirect_server_and_recording_server_record_headers():
    with RecordingServer() as origin, RedirectServer(origin.root, status=307) as redirect:
        connection = http.client.HTTPConnection("127.0.0.1", redirect.port, timeout=10)
        connection.request("GET", "/simple/a/", headers={"Authorization": "Basic eA=="})
        response = connection.getresponse()
        response.read()
        assert (response.status, response.getheader("Location")) == (307, f"{origin.root}/simple/a/")
        connection.close()
        with pytest.raises(urllib.error.HTTPError) as missing:
            fetch(response.getheader("Location"))
    assert missing.value.code == 404
    assert redirect.seen[0].headers["authorization"] == "Basic eA=="
    assert [(item.scheme, item.path, "authorization" in item.headers) for item in origin.seen] == [("http", "/simple/a/", False)]


def test_recording_server_relays_scripts_and_serves_both_schemes_on_one_port(index, certs):
    with RecordingServer(upstream=index.root, tls=certs.server_context(), plain_too=True) as origin:
        origin.script("/simple/", 503, {"Retry-After": "1"})
        with pytest.raises(urllib.error.HTTPError) as failed:
            fetch(f"{origin.url}a/", context=certs.client_context())
        assert failed.value.code == 503
        status, body = fetch(f"{origin.url}a/", context=certs.client_context())
        assert (status, json.loads(body)["name"]) == (200, "a")
        status, _ = fetch(f"http://localhost:{origin.port}/simple/a/")
        assert status == 200
    assert [(item.scheme, item.path) for item in origin.seen] == [("https", "/simple/a/")] * 2 + [("http", "/simple/a/")]
    assert [item.status for item in origin.answered] == [503, 200, 200]
    assert "etag" in {key.lower() for key in origin.answered[1].headers}


def read_answer(connection: http.client.HTTPConnection, path: str) -> bytes:
    connection.request("GET", path)
    return connection.getresponse().read()


@pytest.mark.parametrize("mode", ["silent", "headers", "accept"])
def test_stall_server_never_finishes_an_answer(mode):
    with StallServer(mode) as stall:
        connection = http.client.HTTPConnection("127.0.0.1", stall.port, timeout=0.5)
        start = time.monotonic()
        with pytest.raises(TimeoutError):
            read_answer(connection, "/simple/a/")
        assert time.monotonic() - start < 5
        connection.close()
        assert stall.connections == 1
        assert stall.paths() == ([] if mode == "accept" else ["/simple/a/"])


@pytest.mark.parametrize("framing", ["length", "chunked", "gzip"])
def test_huge_page_server_serves_a_valid_page_of_the_exact_size(framing):
    with HugePageServer(3 * MB + 17, framing=framing) as page:
        connection = http.client.HTTPConnection("127.0.0.1", page.port, timeout=10)
        connection.request("GET", "/simple/big/")
        response = connection.getresponse()
        body = response.read()
        connection.close()
    assert response.status == 200
    assert (response.getheader("Content-Length") is not None) is (framing == "length")
    if framing == "gzip":
        assert len(body) < MB
        body = gzip.decompress(body)
    assert len(body) == 3 * MB + 17
    page_data = json.loads(body)
    assert page_data["name"] == "big"
    assert len(page_data["files"]) > 10000


def test_huge_page_server_streams_and_stops_when_the_client_goes():
    with HugePageServer(300 * MB) as page:
        with socket.create_connection(("127.0.0.1", page.port), timeout=10) as sock:
            sock.sendall(b"GET /simple/big/ HTTP/1.1\r\nHost: x\r\n\r\n")
            received = 0
            while received < MB:
                received += len(sock.recv(65536))
        deadline = time.monotonic() + 10
        while page.aborted == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert page.aborted == 1
        assert page.sent < 100 * MB


# == proxies ============================================================================


@pytest.mark.parametrize("variable", ["HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"])
def test_every_index_request_goes_through_the_proxy_of_the_environment(monkeypatch, project, index, proxy, variable):
    monkeypatch.setenv(variable, proxy.url)
    run = audit(project, index.url)
    assert_drift(run)
    assert f"{index.url}a/" in proxy.targets()
    assert sorted(urlsplit(target).path for target in proxy.targets()) == sorted(path for path, _ in index.requests)


@pytest.mark.parametrize(("variable", "value"), [("NO_PROXY", "127.0.0.1"), ("no_proxy", "127.0.0.1"), ("NO_PROXY", "localhost,127.0.0.1")])
def test_no_proxy_sends_the_index_requests_directly(monkeypatch, project, index, proxy, variable, value):  # noqa: PLR0917 - fixtures
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    monkeypatch.setenv(variable, value)
    run = audit(project, index.url)
    assert_drift(run)
    assert proxy.log == []
    assert index.hits("/simple/a/") == 1


@pytest.mark.parametrize("variable", ["HTTPS_PROXY", "https_proxy", "ALL_PROXY"])
def test_an_https_index_is_reached_through_a_connect_tunnel(monkeypatch, project, tls_index, proxy, certs, variable):  # noqa: PLR0917 - fixtures
    monkeypatch.setenv(variable, proxy.url)
    run = audit(project, tls_index.url, "--cert", str(certs.ca_pem))
    assert_drift(run)
    assert proxy.log
    assert set(proxy.log) == {f"CONNECT localhost:{tls_index.port}"}
    assert tls_index.hits("/simple/a/") == 1


def test_http_proxy_alone_is_not_used_for_an_https_index(monkeypatch, project, tls_index, proxy, certs):
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    run = audit(project, tls_index.url, "--cert", str(certs.ca_pem))
    assert_drift(run)
    assert proxy.log == []


@pytest.mark.parametrize("how", ["--proxy", "PIP_PROXY", "pip.conf"])
def test_the_proxy_option_sends_requests_through_the_proxy_without_variables(monkeypatch, project, index, proxy, how):
    extra: tuple[str, ...] = ()
    if how == "--proxy":
        extra = ("--proxy", proxy.url)
    elif how == "PIP_PROXY":
        monkeypatch.setenv("PIP_PROXY", proxy.url)
    else:
        monkeypatch.setenv("PIP_CONFIG_FILE", str(pip_conf(project.parent, proxy=proxy.url)))
    run = audit(project, index.url, *extra)
    assert_drift(run)
    assert f"{index.url}a/" in proxy.targets()
    assert sorted(urlsplit(target).path for target in proxy.targets()) == sorted(path for path, _ in index.requests)


def test_the_proxy_option_tunnels_to_an_https_index(project, tls_index, proxy, certs):
    run = audit(project, tls_index.url, "--proxy", proxy.url, "--cert", str(certs.ca_pem))
    assert_drift(run)
    assert set(proxy.log) == {f"CONNECT localhost:{tls_index.port}"}


def test_the_proxy_option_wins_over_the_variables(monkeypatch, project, index, proxy):
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{closed_port()}")
    run = audit(project, index.url, "--proxy", proxy.url)
    assert_drift(run)
    assert f"{index.url}a/" in proxy.targets()


@pytest.mark.parametrize("how", ["HTTP_PROXY", "--proxy"])
def test_proxy_credentials_in_the_proxy_url(monkeypatch, project, index, how):
    with ForwardProxy(auth=("proxyuser", SECRET)) as proxy:
        if how == "--proxy":
            run = audit(project, index.url, "--proxy", proxy.url_with_auth())
        else:
            monkeypatch.setenv(how, proxy.url_with_auth())
            run = audit(project, index.url)
    assert_drift(run)
    assert proxy.requests
    assert all(item.authorized for item in proxy.requests)
    assert SECRET not in run.out + run.err


def test_a_proxy_refusing_the_credentials_is_exit_4(monkeypatch, project, index):
    with ForwardProxy(auth=("proxyuser", SECRET)) as proxy:
        monkeypatch.setenv("HTTP_PROXY", f"http://proxyuser:wrong-{SECRET}@127.0.0.1:{proxy.port}")
        run = audit(project, index.url, "--retries", "0")
    assert_unreachable(run)
    assert proxy.requests
    assert not any(item.authorized for item in proxy.requests)
    assert index.requests == []
    assert SECRET not in run.out + run.err


@pytest.mark.parametrize("how", ["HTTP_PROXY", "ALL_PROXY", "--proxy"])
def test_a_proxy_that_is_down_is_exit_4_in_one_line(monkeypatch, project, index, how):
    down = f"http://proxyuser:{SECRET}@127.0.0.1:{closed_port()}"
    if how == "--proxy":
        run = audit(project, index.url, "--proxy", down, "--retries", "0")
    else:
        monkeypatch.setenv(how, down)
        run = audit(project, index.url, *(("--retries", "0") if how == "ALL_PROXY" else ()))  # HTTP_PROXY: with pip's retries
    assert_unreachable(run)
    assert index.requests == []  # the proxy was not bypassed
    assert SECRET not in run.out + run.err


def test_lock_through_a_proxy_writes_the_hashes(monkeypatch, project, index, proxy):
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    run = lock(project, index.url)
    assert run.code == 0, run.err
    assert_locked(project, index)
    assert f"{index.url}a/" in proxy.targets()
    assert any("/files/" in target for target in proxy.targets())
    assert sorted(urlsplit(target).path for target in proxy.targets()) == sorted(path for path, _ in index.requests)


# == certificates ======================================================================


@pytest.mark.parametrize("how", ["PIP_CERT", "--cert", "REQUESTS_CA_BUNDLE", "SSL_CERT_FILE", "pip.conf"])
def test_the_ca_of_a_tls_index_from_pip_settings(monkeypatch, project, tls_index, certs, how):
    extra: tuple[str, ...] = ()
    if how == "--cert":
        extra = ("--cert", str(certs.ca_pem))
    elif how == "pip.conf":
        monkeypatch.setenv("PIP_CONFIG_FILE", str(pip_conf(project.parent, cert=str(certs.ca_pem))))
    else:
        monkeypatch.setenv(how, str(certs.ca_pem))
    run = audit(project, tls_index.url, *extra)
    assert_drift(run)
    assert tls_index.hits("/simple/a/") == 1


def test_the_ca_from_ssl_cert_file_in_a_fresh_process(monkeypatch, project, tls_index, certs):
    monkeypatch.setenv("SSL_CERT_FILE", str(certs.ca_pem))
    run = run_process("audit", "requirements.txt", "--format", "json", "--index-url", tls_index.url, "--no-cache", cwd=project)
    assert run.code in {0, 1}, run.err
    assert [item["detail"]["latest"] for item in run.json["findings"] if item["rule"] == "RL501"] == ["2.0"]


def test_an_unknown_ca_is_exit_4_naming_the_certificate(project, tls_index):
    run = audit(project, tls_index.url)
    assert_unreachable(run)
    assert "certificate" in run.err.lower()
    assert tls_index.requests == []


def test_a_ca_file_that_does_not_match_is_exit_4(project, tls_index, certs):
    run = audit(project, tls_index.url, "--cert", str(certs.stranger_ca_pem))  # a valid bundle: another CA
    assert_unreachable(run)
    assert tls_index.requests == []


@pytest.mark.parametrize("how", ["--trusted-host", "PIP_TRUSTED_HOST"])
@pytest.mark.parametrize("with_port", [True, False])
def test_trusted_host_reads_the_tls_index_without_its_ca(monkeypatch, project, tls_index, how, with_port):
    host = f"localhost:{tls_index.port}" if with_port else "localhost"
    extra: tuple[str, ...] = ()
    if how == "--trusted-host":
        extra = ("--trusted-host", host)
    else:
        monkeypatch.setenv(how, host)
    run = audit(project, tls_index.url, *extra)
    assert_drift(run)


def test_trusted_host_of_another_host_does_not_trust_this_one(project, tls_index):
    run = audit(project, tls_index.url, "--trusted-host", "127.0.0.2")
    assert_unreachable(run)


def test_a_client_certificate_is_required_and_none_is_given(project, mtls_index, certs):
    run = audit(project, mtls_index.url, "--cert", str(certs.ca_pem), "--retries", "0")
    assert_unreachable(run)
    assert mtls_index.requests == []


def test_a_client_certificate_of_another_ca_is_refused(project, mtls_index, certs):
    run = audit(project, mtls_index.url, "--cert", str(certs.ca_pem), "--client-cert", str(certs.stranger_pem), "--retries", "0")
    assert_unreachable(run)
    assert mtls_index.requests == []


@pytest.mark.parametrize("how", ["--client-cert", "PIP_CLIENT_CERT"])
def test_the_client_certificate_from_the_option_or_the_environment(monkeypatch, project, mtls_index, certs, how):
    extra: tuple[str, ...] = ("--cert", str(certs.ca_pem))
    if how == "--client-cert":
        extra = (*extra, "--client-cert", str(certs.client_pem))
    else:
        monkeypatch.setenv(how, str(certs.client_pem))
    run = audit(project, mtls_index.url, *extra)
    assert_drift(run)
    assert mtls_index.hits("/simple/a/") == 1


def test_cert_and_client_cert_from_a_pip_conf(monkeypatch, project, mtls_index, certs):
    conf = pip_conf(project.parent, cert=str(certs.ca_pem), client_cert=str(certs.client_pem))
    assert "client-cert = " in conf.read_text()
    monkeypatch.setenv("PIP_CONFIG_FILE", str(conf))
    run = audit(project, mtls_index.url)
    assert_drift(run)


def test_lock_over_tls_with_a_client_certificate(project, mtls_index, certs):
    run = lock(project, mtls_index.url, "--cert", str(certs.ca_pem), "--client-cert", str(certs.client_pem))
    assert run.code == 0, run.err
    assert_locked(project, mtls_index)


# == credentials ===========================================================================


@pytest.mark.parametrize("status", [302, 307])
def test_index_credentials_are_not_sent_to_the_origin_a_redirect_leads_to(project, index, status):
    with RedirectServer(index.root, status=status) as redirect:
        url = redirect.url.replace("http://", f"http://alice:{SECRET}@")
        run = audit(project, url)
    assert_drift(run)  # the page came from the other origin
    assert redirect.requests_to("/simple/a/")[0].headers["authorization"] == basic("alice", SECRET)
    assert index.hits("/simple/a/") == 1
    assert [path for path, headers in index.requests if "authorization" in headers] == []
    assert SECRET not in run.out + run.err


def test_a_redirect_from_https_to_plain_http_drops_the_credentials(project, index, certs):
    """Same host and port, other scheme: another origin (the server speaks TLS and plain HTTP on one port)."""
    with RecordingServer(upstream=index.root, tls=certs.server_context(), plain_too=True) as origin:
        downgrade = f"http://localhost:{origin.port}"
        origin.respond = lambda seen: (302, {"Location": downgrade + seen.path}, b"") if seen.scheme == "https" else None
        url = origin.url.replace("https://", f"https://alice:{SECRET}@")
        run = audit(project, url, "--cert", str(certs.ca_pem), "--retries", "0")
    assert run.code in {0, 1, 4}, run.err  # following the downgrade, or refusing it, are both fine
    https = [item for item in origin.seen if item.scheme == "https"]
    assert https
    assert https[0].headers["authorization"] == basic("alice", SECRET)
    assert [item.path for item in origin.seen if item.scheme == "http" and "authorization" in item.headers] == []
    assert SECRET not in run.out + run.err


def test_index_credentials_are_never_shown(project, index):
    url = index.url.replace("http://", f"http://alice:{SECRET}@")
    run = audit(project, url)
    assert_drift(run)
    assert index.requests[0][1]["authorization"] == basic("alice", SECRET)
    assert SECRET not in run.out + run.err
    failed = audit(
        project, f"http://alice:{SECRET}@127.0.0.1:{closed_port()}/simple/", "--retries", "0"
    )  # unreachable: not in the error either
    assert_unreachable(failed)
    assert SECRET not in failed.out + failed.err


@pytest.mark.parametrize("machine", ["127.0.0.1", "127.0.0.2"], ids=["its-origin", "another-host"])
def test_netrc_credentials_go_to_their_origin_only(monkeypatch, project, index, machine):
    sent = machine == "127.0.0.1"  # the index's own host
    netrc = project.parent / "netrc"
    netrc.write_text(f"machine {machine}\nlogin alice\npassword {SECRET}\n", encoding="utf-8")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    run = audit(project, index.url)
    assert_drift(run)
    authorized = [headers.get("authorization") for path, headers in index.requests if "authorization" in headers]
    if sent:
        assert [headers.get("authorization") for path, headers in index.requests if path == "/simple/a/"] == [basic("alice", SECRET)]
    else:
        assert authorized == []
    assert SECRET not in run.out + run.err


# == limits ==============================================================================


@pytest.mark.parametrize("framing", ["length", "chunked", "gzip"])
def test_a_page_over_the_size_cap_fails_fast_without_holding_it(project, framing):
    with HugePageServer(300 * MB, framing=framing) as page:
        run = run_process(
            "audit", "requirements.txt", "--format", "json", "--index-url", page.url, "--no-cache", "--max-response-mb", "5", cwd=project
        )
        sent = page.sent
    assert_unreachable(run)
    assert run.seconds < 30
    assert run.max_rss_mb < 200, f"peak RSS {run.max_rss_mb:.0f} MB"
    assert "/simple/a/" in page.requests
    if framing != "gzip":
        assert sent < 150 * MB  # the client stopped reading instead of draining the page


def test_a_page_over_the_size_cap_in_process(project):
    with HugePageServer(300 * MB, framing="chunked") as page:
        start = time.monotonic()
        run = audit(project, page.url, "--max-response-mb", "5")
        seconds = time.monotonic() - start
    assert_unreachable(run)
    assert seconds < 30
    assert page.aborted + page.completed >= 1
    assert page.completed == 0  # never read to the end


@pytest.mark.parametrize("mode", ["silent", "headers"])
def test_a_server_that_stops_answering_fails_within_the_timeout(project, mode):
    with StallServer(mode) as stall:
        start = time.monotonic()
        run = audit(project, stall.url, "--timeout", "2")
        seconds = time.monotonic() - start
    assert_unreachable(run)
    assert seconds < FAST_FAIL
    assert "/simple/a/" in stall.paths()


@pytest.mark.parametrize("how", ["PIP_TIMEOUT", "PIP_DEFAULT_TIMEOUT", "pip.conf"])
def test_the_timeout_from_pip_settings(monkeypatch, project, how):
    if how == "pip.conf":
        monkeypatch.setenv("PIP_CONFIG_FILE", str(pip_conf(project.parent, timeout="2")))
    else:
        monkeypatch.setenv(how, "2")
    with StallServer("silent") as stall:
        start = time.monotonic()
        run = audit(project, stall.url)
        seconds = time.monotonic() - start
    assert_unreachable(run)
    assert seconds < FAST_FAIL
    assert stall.connections >= 1


def test_retries_0_is_one_attempt_at_a_stalled_server(project):
    with StallServer("silent") as stall:
        start = time.monotonic()
        run = audit(project, stall.url, "--timeout", "2", "--retries", "0")
        seconds = time.monotonic() - start
    assert_unreachable(run)
    assert seconds < FAST_FAIL
    paths = Counter(stall.paths())
    assert paths["/simple/a/"] == 1
    assert set(paths.values()) == {1}


@pytest.mark.parametrize(("how", "attempts"), [(("--retries", "0"), 1), (("--retries", "2"), 3), (("PIP_RETRIES", "1"), 2)])
def test_retries_count_the_attempts_after_the_first(monkeypatch, project, how, attempts):
    extra: tuple[str, ...] = how
    if how[0] == "PIP_RETRIES":
        monkeypatch.setenv(*how)
        extra = ()
    with RecordingServer() as origin:
        origin.script("/simple/", 503, times=None)
        run = audit(project, origin.url, *extra)
    assert_unreachable(run)
    assert len(origin.requests_to("/simple/a/")) == attempts


def test_retry_after_is_honoured(project, index):
    with RecordingServer(upstream=index.root) as origin:
        origin.script("/simple/a/", 503, {"Retry-After": "1"}, b"busy")
        run = audit(project, origin.url)
    assert_drift(run)
    first, second = origin.requests_to("/simple/a/")
    assert second.time - first.time >= 0.9
    assert [item.status for item in origin.answered if item.path == "/simple/a/"] == [503, 200]


# == revalidation ============================================================================


def make_stale(cache: Path, age: float = 3600.0) -> int:
    """Set every cache entry's ``fetched`` an hour back (and the run mark with it); returns how many entries."""
    stale = time.time() - age
    count = 0
    for path in (cache / "index-v1").rglob("*.json"):
        data = json.loads(path.read_bytes())
        if isinstance(data, dict) and "fetched" in data:
            data["fetched"] = stale
            path.write_text(json.dumps(data), encoding="utf-8")
            count += 1
    return count


def test_a_stale_page_is_revalidated_with_its_etag(project, index):
    cache = project.parent / "cache"
    with RecordingServer(upstream=index.root) as origin:

        def run():
            return run_cli(
                "audit", "requirements.txt", "--format", "json", "--index-url", origin.url, "--cache-dir", str(cache), cwd=project
            )

        first = run()
        assert_drift(first)
        (page,) = [item for item in origin.answered if item.path == "/simple/a/"]
        etag = {key.lower(): value for key, value in page.headers.items()}["etag"]
        assert make_stale(cache) >= 1
        seen_before = len(origin.seen)
        second = run()
    assert_drift(second)
    again = [item for item in origin.seen[seen_before:] if item.path == "/simple/a/"]
    assert len(again) == 1
    assert again[0].headers.get("if-none-match") == etag
    assert [item.status for item in origin.answered if item.path == "/simple/a/"] == [200, 304]
    assert second.json == first.json
    assert second.out == first.out
