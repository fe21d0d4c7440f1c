"""Peak memory of whole commands, run one after another: peak-mem.py OUT.json [--runs N] [--prepare CMD] -n NAME CMD ...

Each command (a shell command line, run by ``sh -c``) runs N times (default 3), its
--prepare (if given; one for all commands, or one per command as in hyperfine)
right before each run, under ``/usr/bin/time -v``. Two measures per run:

- ``NAME (max RSS)``: GNU time's "Maximum resident set size", the peak of the
  largest single process of the command's tree (a forked helper is not added to
  its parent: the kernel reports the largest);
- ``NAME (tree PSS)``: the peak over time of the summed proportional set size
  (``/proc/PID/smaps_rollup``) of every process of the tree, sampled every 5 ms:
  what the whole tree holds at once, pages shared by a fork counted once.

OUT.json has hyperfine's shape (``results``: ``command``, ``values``, ``median``,
``min``) with ``"unit": "MB"``, for medians.py.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

_MAX_RSS = re.compile(r"Maximum resident set size \(kbytes\): (\d+)")


def _parents() -> dict[int, int]:
    """Every process's parent, from ``/proc/PID/stat`` (the field after the parenthesised name)."""
    found = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text(encoding="utf-8", errors="replace")
            except OSError:
                continue
            found[int(entry.name)] = int(stat[stat.rindex(")") + 2 :].split()[1])
    return found


def _pss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text(encoding="ascii").splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def _tree_pss_kb(root: int) -> int:
    parents = _parents()
    total, todo = 0, [pid for pid, parent in parents.items() if parent == root]  # the tree below /usr/bin/time
    while todo:
        pid = todo.pop()
        total += _pss_kb(pid)
        todo.extend(child for child, parent in parents.items() if parent == pid)
    return total


def measure(command: str, prepare: str | None) -> tuple[float, float]:
    """One run: (max RSS, peak tree PSS) in MB."""
    if prepare:
        subprocess.run(prepare, shell=True, check=True, stdout=subprocess.DEVNULL)  # noqa: S602 - the user's command line
    with tempfile.NamedTemporaryFile(suffix=".time") as report:
        process = subprocess.Popen(["/usr/bin/time", "-v", "-o", report.name, "sh", "-c", f"exec {command}"], stdout=subprocess.DEVNULL)
        peak = 0
        while process.poll() is None:
            peak = max(peak, _tree_pss_kb(process.pid))
            time.sleep(0.005)
        found = _MAX_RSS.search(Path(report.name).read_text(encoding="utf-8"))
        if found is None:
            raise SystemExit(f"peak-mem.py: no maximum resident set size from /usr/bin/time for {command!r}")
        return int(found.group(1)) / 1024, peak / 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--prepare", action="append", default=[])
    parser.add_argument("-n", "--name", action="append", required=True)
    parser.add_argument("commands", nargs="+")
    args = parser.parse_intermixed_args()
    if len(args.name) != len(args.commands) or len(args.prepare) not in {0, 1, len(args.commands)}:
        parser.error("give one -n NAME per command, and no --prepare, one, or one per command")
    results = []
    for number, (name, command) in enumerate(zip(args.name, args.commands, strict=True)):
        prepare = args.prepare[number if len(args.prepare) > 1 else 0] if args.prepare else None
        runs = [measure(command, prepare) for _ in range(args.runs)]
        for label, values in ((f"{name} (max RSS)", [run[0] for run in runs]), (f"{name} (tree PSS)", [run[1] for run in runs])):
            median = statistics.median(values)
            results.append({"command": label, "values": values, "median": median, "min": min(values)})
            print(f"{label}: median {median:.0f} MB, min {min(values):.0f} MB, max {max(values):.0f} MB ({args.runs} runs)", file=sys.stderr)
    Path(args.out).write_text(json.dumps({"unit": "MB", "results": results}, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
