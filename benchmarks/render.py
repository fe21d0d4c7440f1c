"""How much each report format adds to a run, for a report of ~95 packages.

    python benchmarks/render.py [VENV] [--hyperfine]

The report: the `pip freeze` of VENV (default benchmarks/.work/venv90, 74
real distributions, built by setup.sh), plus pins from the Airflow constraints
of the corpus up to 95 packages, audited as reprolock audit does; the graph is
VENV's own dependency metadata (read by VENV's python, markers evaluated), the
graph the environment inspection will attach to the report.

Prints the median in-process time of each renderer (the cost a format adds to
a run; the target is < 0.1 s each) and, with --hyperfine, times whole
`reprolock audit` processes in one hyperfine run, json (no extra work) beside
the other formats.
"""

from __future__ import annotations

import argparse
import dataclasses
import io
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
AIRFLOW = ROOT / "fixtures" / "corpus" / "apache__airflow" / "constraints" / "constraints.txt"
TARGET_PACKAGES = 95
RUNS = 15

GRAPH_PROBE = r"""
import json, importlib.metadata as md
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name as norm
dists = {norm(d.metadata["Name"]): d for d in md.distributions()}
edges, required = [], set()
for name, dist in sorted(dists.items()):
    for text in dist.requires or []:
        req = Requirement(text)
        if req.marker is not None and not req.marker.evaluate({"extra": ""}):
            continue
        target = norm(req.name)
        if target in dists:
            edges.append({"from": name, "to": target, "specifier": str(req.specifier) or None, "extra": None})
            required.add(target)
nodes = [{"name": n, "version": d.version, "root": n not in required} for n, d in sorted(dists.items())]
print(json.dumps({"schema_version": 1, "nodes": nodes, "edges": edges}))
"""


def build_inputs(venv: Path, folder: Path) -> tuple[list[str], dict[str, object]]:
    python = venv / "bin" / "python"
    freeze = subprocess.run([python, "-m", "pip", "list", "--format", "freeze"], capture_output=True, text=True, check=True).stdout
    (folder / "pip-freeze.txt").write_text(freeze, encoding="utf-8")
    names = {line.split("==")[0].lower() for line in freeze.splitlines() if "==" in line}
    extra = []
    for line in AIRFLOW.read_text(encoding="utf-8").splitlines():
        if "==" in line and not line.startswith("#") and line.split("==")[0].lower() not in names and len(names) + len(extra) < TARGET_PACKAGES:
            extra.append(line)
    (folder / "requirements.txt").write_text("\n".join(extra) + "\n", encoding="utf-8")
    graph = json.loads(subprocess.run([python, "-c", GRAPH_PROBE], capture_output=True, text=True, check=True).stdout)
    return ["requirements.txt", "--freeze", "pip-freeze.txt"], graph


def median_seconds(work, runs: int = RUNS) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("venv", nargs="?", default=str(ROOT / "benchmarks" / ".work" / "venv90"))
    parser.add_argument("--hyperfine", action="store_true", help="also time whole processes with hyperfine")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT / "src"))
    # Imported here, after the path is set, so the script runs from a clone without installing.
    from rich.console import Console  # noqa: PLC0415

    from reprolock.checks import Target, run_file_checks  # noqa: PLC0415
    from reprolock.policy import build_policy  # noqa: PLC0415
    from reprolock.render.html import render_html  # noqa: PLC0415
    from reprolock.render.json_report import render_json  # noqa: PLC0415
    from reprolock.render.markdown import render_markdown  # noqa: PLC0415
    from reprolock.render.sarif import render_sarif  # noqa: PLC0415
    from reprolock.render.text import render_text  # noqa: PLC0415
    from reprolock.render.views import GraphView  # noqa: PLC0415
    from reprolock.report import build_report  # noqa: PLC0415
    from reprolock.sources.loader import load  # noqa: PLC0415

    with tempfile.TemporaryDirectory(prefix="reprolock-bench-") as tmp:
        folder = Path(tmp)
        argv, graph_json = build_inputs(Path(args.venv), folder)
        files = load([argv[0]], cwd=folder, kind=None, freeze=[argv[2]], stdin=sys.stdin)
        report = build_report(files, run_file_checks(files, Target.running()), build_policy({}, fail_on=[], ignore=[]))
        report = dataclasses.replace(report, graph=GraphView.from_contract(graph_json))
        print(f"report: {len(report.packages)} packages, {len(report.findings)} findings; graph {len(report.graph.nodes)} nodes, {len(report.graph.edges)} edges")

        def text() -> None:
            render_text(report, Console(file=io.StringIO(), width=100, no_color=True))

        renderers = {
            "text": text,
            "json": lambda: render_json(report),
            "markdown": lambda: render_markdown(report),
            "sarif": lambda: render_sarif(report),
            "html (with graph layout)": lambda: render_html(report),
        }
        for name, work in renderers.items():
            work()  # warm up imports
            seconds = median_seconds(work)
            verdict = "ok" if seconds < 0.1 else "OVER the 0.1 s target"
            print(f"{name:26s} {seconds * 1000:7.1f} ms  ({verdict})")
        if args.hyperfine:
            reprolock = Path(sys.executable).parent / "reprolock"
            base = f"{reprolock} audit {' '.join(argv)} --fail-on never"
            commands = []
            for fmt in ("json", "text", "markdown", "sarif", "html"):
                commands += ["-n", fmt, f"{base} --format {fmt} -o out.{fmt}"]
            subprocess.run(["hyperfine", "--warmup", "3", "--runs", "20", "-N", *commands], cwd=folder, check=True)


if __name__ == "__main__":
    main()
