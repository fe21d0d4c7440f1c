"""Print each command's median and min from a hyperfine ``--export-json`` file, and the ratio of medians to a reference.

hyperfine's summary compares means, and a single slow run (a stalled name lookup
can take any tool 4-5 s here) moves a mean a lot and a median hardly at all.
Usage: python benchmarks/medians.py RESULTS.json REFERENCE_NAME_PREFIX
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def main(path: str, reference: str) -> int:
    results = json.loads(Path(path).read_text(encoding="utf-8"))["results"]
    by_name = {row["command"]: row for row in results}
    base = next((row for name, row in by_name.items() if name.startswith(reference)), None)
    for name, row in by_name.items():
        line = f"{name}: median {1000 * row['median']:.0f} ms, min {1000 * row['min']:.0f} ms"
        if base is not None and row is not base:
            line += f" -> {row['median'] / base['median']:.2f}x the median of {base['command']}"
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
