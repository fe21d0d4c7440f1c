"""Render the HTML report of the bundled example and screenshot it with headless Chromium.

    python scripts/screenshot.py [--out docs/images/report.png] [--html report.html]

The report is the audit of ``examples/webapp`` (its files and its pip freeze),
with the dependency graph of ``examples/webapp/graph.json`` (the contract's
graph JSON for the packages of the freeze). Needs ``chromium`` on PATH.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from reprolock.checks import Target, run_file_checks  # noqa: E402 - after the path setup
from reprolock.policy import build_policy, read_config  # noqa: E402
from reprolock.render.html import render_html  # noqa: E402
from reprolock.render.views import GraphView  # noqa: E402
from reprolock.report import build_report  # noqa: E402
from reprolock.sources.loader import load  # noqa: E402

EXAMPLE = ROOT / "examples" / "webapp"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--force-device-scale-factor=1",
]


def example_html() -> str:
    files = load(["examples/webapp"], cwd=ROOT, kind=None, freeze=["examples/webapp/pip-freeze.txt"], stdin=sys.stdin)
    policy = build_policy(read_config(ROOT / "pyproject.toml"), fail_on=[], ignore=[])
    report = build_report(files, run_file_checks(files, Target.running()), policy)
    graph = GraphView.from_contract(json.loads((EXAMPLE / "graph.json").read_text(encoding="utf-8")))
    return render_html(dataclasses.replace(report, graph=graph))


def screenshot(html: Path, png: Path, size: str) -> None:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if chromium is None:
        sys.exit("screenshot.py: chromium is not installed (apt-get install chromium)")
    with tempfile.TemporaryDirectory(prefix="reprolock-chromium-") as profile:
        subprocess.run(
            [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", f"--window-size={size}", f"--screenshot={png}", html.as_uri()],
            check=True,
            capture_output=True,
            timeout=120,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "docs" / "images" / "report.png"), help="the PNG to write")
    parser.add_argument("--html", help="also keep the HTML report here")
    parser.add_argument("--size", default="1280,1500", help="window size WIDTH,HEIGHT (default 1280,1500)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="reprolock-report-") as folder:
        html = Path(args.html).resolve() if args.html else Path(folder) / "report.html"
        html.write_text(example_html(), encoding="utf-8")
        out = Path(args.out).resolve()
        out.parent.mkdir(parents=True, exist_ok=True)
        screenshot(html, out, args.size)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
