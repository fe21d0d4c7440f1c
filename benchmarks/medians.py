"""Medians from hyperfine ``--export-json`` files (or peak-mem.py's), and the table of targets.

hyperfine's summary compares means, and a single slow run (a stalled name lookup
can take any tool 4-5 s here) moves a mean a lot and a median hardly at all.

    python benchmarks/medians.py RESULTS.json REFERENCE_NAME_PREFIX
        each command's median and min, and its median over the reference's
    python benchmarks/medians.py table RESULTS.json [--save ROWS.json] "MEASUREMENT|COMMAND|PEER|TARGET" ...
        one row per spec: COMMAND's median, PEER's median, their ratio, the target ratio
        (COMMAND / PEER <= TARGET; "-": none, for information) and whether it is met; COMMAND and PEER are prefixes of
        hyperfine's command names (-n); --save appends the rows to ROWS.json
    python benchmarks/medians.py show ROWS.json ...
        the saved rows of one or more runs as one Markdown table
"""

from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path
from typing import Any

HEADER = ("measurement", "reprolock median", "peer", "peer median", "ratio", "target", "met?")


def _results(path: str) -> tuple[dict[str, dict[str, Any]], str]:
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    return {row["command"]: row for row in data["results"]}, data.get("unit", "s")


def _median(row: dict[str, Any]) -> float:
    values = row.get("times") or row.get("values")
    return statistics.median(values) if values else float(row["median"])


def _find(by_name: dict[str, dict[str, Any]], prefix: str) -> dict[str, Any]:
    found = [row for name, row in by_name.items() if name.startswith(prefix)]
    if len(found) != 1:
        raise SystemExit(f"medians.py: {len(found)} commands start with {prefix!r}; names: {', '.join(by_name)}")
    return found[0]


def _show_value(value: float, unit: str) -> str:
    return f"{1000 * value:.0f} ms" if unit == "s" else f"{value:.0f} {unit}"


def medians(path: str, reference: str) -> int:
    by_name, unit = _results(path)
    base = next((row for name, row in by_name.items() if name.startswith(reference)), None)
    for name, row in by_name.items():
        values = row.get("times") or row.get("values") or [row["min"]]
        line = f"{name}: median {_show_value(_median(row), unit)}, min {_show_value(min(values), unit)}"
        if base is not None and row is not base:
            line += f" -> {_median(row) / _median(base):.2f}x the median of {base['command']}"
        print(line)
    return 0


def table(args: list[str]) -> int:
    save = None
    if "--save" in args:
        at = args.index("--save")
        save = args[at + 1]
        del args[at : at + 2]
    path, specs = args[0], args[1:]
    by_name, unit = _results(path)
    rows = []
    for spec in specs:
        measurement, command, peer, target = spec.split("|")
        ours, theirs = _median(_find(by_name, command)), _median(_find(by_name, peer))
        ratio = ours / theirs
        rows.append(
            {
                "measurement": measurement,
                "median": _show_value(ours, unit),
                "peer": _find(by_name, peer)["command"],
                "peer_median": _show_value(theirs, unit),
                "ratio": round(ratio, 2),
                "target": float(target) if target != "-" else None,
                "met": ratio <= float(target) if target != "-" else None,
                "runs": len(_find(by_name, command).get("times") or _find(by_name, command).get("values") or []),
            }
        )
    print_rows(rows)
    if save:
        saved = json.loads(Path(save).read_text(encoding="utf-8")) if Path(save).exists() else []
        Path(save).write_text(json.dumps(saved + rows, indent=1) + "\n", encoding="utf-8")
    return 0


def print_rows(rows: list[dict[str, Any]]) -> None:
    lines = [HEADER]
    for row in rows:
        met = {True: "yes", False: "NO", None: "-"}[row["met"]]
        target = f"<= {row['target']:g}x" if row["target"] is not None else "-"
        lines.append((row["measurement"], row["median"], row["peer"], row["peer_median"], f"{row['ratio']:.2f}x", target, met))
    widths = [max(len(line[i]) for line in lines) for i in range(len(HEADER))]
    for number, line in enumerate(lines):
        print("| " + " | ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)) + " |")
        if number == 0:
            print("| " + " | ".join("-" * width for width in widths) + " |")


def show(paths: list[str]) -> int:
    rows = [row for path in paths for row in json.loads(Path(path).read_text(encoding="utf-8"))]
    print_rows(rows)
    return 1 if any(row["met"] is False for row in rows) else 0


def main(argv: list[str]) -> int:
    if argv and argv[0] == "table":
        return table(argv[1:])
    if argv and argv[0] == "show":
        return show(argv[1:])
    return medians(argv[0], argv[1])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
