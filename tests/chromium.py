"""A tiny DevTools-protocol client for headless Chromium (tests only).

Starts ``chromium`` with a fresh profile and no background networking, opens
one page over the DevTools websocket, and records console errors, exceptions
and network requests while the tests evaluate JavaScript in the page.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import subprocess
import time
import urllib.request
from typing import TYPE_CHECKING, Any

import pytest
import websocket

if TYPE_CHECKING:
    from pathlib import Path

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--remote-debugging-port=0",
)
START_TIMEOUT = 60.0
CALL_TIMEOUT = 30.0


MISSING = "chromium is not installed: apt-get install chromium (or run .ci/run), then re-run the browser tests"
_NOT_CI = {"", "0", "false", "no"}


def find_chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def in_ci() -> bool:
    """``CI`` is set (as CI services set it): the browser is installed there, so its absence is a failure."""
    return os.environ.get("CI", "").strip().lower() not in _NOT_CI


def require_chromium() -> str:
    """The Chromium executable; skip the calling test without one, unless in CI, where it fails."""
    executable = find_chromium()
    if executable is None:
        if in_ci():
            pytest.fail(f"{MISSING} (CI is set, so the browser tests must run)")
        pytest.skip(MISSING)
    return executable


class Page:
    """One browser tab driven over the DevTools protocol."""

    def __init__(self, executable: str, profile: Path) -> None:
        profile.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [executable, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        port = self._port(profile / "DevToolsActivePort")
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=CALL_TIMEOUT) as answer:
            targets = json.load(answer)
        page = next(target for target in targets if target["type"] == "page")
        self.socket = websocket.create_connection(page["webSocketDebuggerUrl"], timeout=CALL_TIMEOUT, suppress_origin=True)
        self.ids = itertools.count(1)
        self.events: list[dict[str, Any]] = []
        for domain in ("Runtime", "Log", "Page", "Network"):
            self.call(f"{domain}.enable")

    def _port(self, marker: Path) -> int:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"chromium exited with {self.process.returncode} before DevTools started")
            if marker.exists() and marker.read_text(encoding="utf-8").strip():
                return int(marker.read_text(encoding="utf-8").split()[0])
            time.sleep(0.05)
        raise RuntimeError("chromium did not open its DevTools port")

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        ident = next(self.ids)
        self.socket.send(json.dumps({"id": ident, "method": method, "params": params}))
        while True:
            message = json.loads(self.socket.recv())
            if message.get("id") == ident:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                result: dict[str, Any] = message.get("result", {})
                return result
            if "method" in message:
                self.events.append(message)

    def wait_for(self, event: str) -> dict[str, Any]:
        while True:
            for message in self.events:
                if message["method"] == event:
                    self.events.remove(message)
                    return message
            message = json.loads(self.socket.recv())
            if "method" in message:
                self.events.append(message)

    def open(self, url: str) -> None:
        """Load ``url`` afresh (via about:blank, so a new fragment is a real page load)."""
        for address in ("about:blank", url):
            self.events.clear()
            self.call("Page.navigate", url=address)
            self.wait_for("Page.loadEventFired")
        self.evaluate("1")  # drain what the load produced

    def evaluate(self, expression: str) -> Any:
        answer = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in answer:
            raise RuntimeError(f"page error: {answer['exceptionDetails']}")
        return answer["result"].get("value")

    def problems(self) -> list[str]:
        """Console errors and warnings, uncaught exceptions and log errors seen since the last ``open``."""
        found = []
        for message in self.events:
            params = message.get("params", {})
            if message["method"] == "Runtime.exceptionThrown":
                found.append(f"exception: {params['exceptionDetails'].get('text')}")
            elif message["method"] == "Runtime.consoleAPICalled" and params.get("type") in {"error", "warning", "assert"}:
                found.append(f"console.{params['type']}: {params.get('args')}")
            elif message["method"] == "Log.entryAdded" and params["entry"]["level"] in {"error", "warning"}:
                found.append(f"log: {params['entry'].get('text')}")
        return found

    def requests(self) -> list[str]:
        return [m["params"]["request"]["url"] for m in self.events if m["method"] == "Network.requestWillBeSent"]

    def close(self) -> None:
        try:
            self.socket.close()
        finally:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
