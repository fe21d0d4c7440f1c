#!/usr/bin/env bash
# `reprolock lock --universal` of lock-requirements.in (24 top-level packages, hashes on, every CPython minor
# from 3.9 to 3.14 on linux, macos and windows) against `uv pip compile --universal` in ONE hyperfine run;
# no earlier output file for either (each would take its pins as preferences):
#   reprolock lock --universal (cold)         a fresh --cache-dir for every run
#   reprolock lock --universal (warm cache)   its --cache-dir filled right before every run (for scale)
#   uv pip compile --universal --generate-hashes --no-cache
# then the table of targets (medians, see medians.py):
#   universal lock cold <= 2.0x uv --universal cold
# and the difference between the two package sets ("name==version ; marker", markers written by
# packaging.markers.Marker, so that uv's 'single' and reprolock's "double" quotes compare equal).
# The index is the default of the reprolock venv's pip (PyPI), given to both tools; the machine's pip
# configuration is turned off. UV_PYTHON_DOWNLOADS=never: with no Python 3.9 on the machine, uv would otherwise
# try to download one for --python-version 3.9 (about 9 s of failed attempts without access to its host)
# before resolving without it.
# Usage: benchmarks/universal.sh [REPROLOCK_VENV]      (default .venv-test; RUNS=5 by default)
# Writes benchmarks/results-universal.md (hyperfine) and benchmarks/.work/results/universal.json (the table's rows).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
benchmarks/setup.sh -q
venv=$(cd "${1:-.venv-test}" && pwd)
tools=$root/benchmarks/.work/tools/bin
runs=${RUNS:-5}
work=$root/benchmarks/.work/universal
results=$root/benchmarks/.work/results
rm -rf "$work"
mkdir -p "$work" "$results"
cp benchmarks/lock-requirements.in "$work/requirements.in"
export NO_COLOR=1 PIP_CONFIG_FILE=/dev/null UV_NO_CONFIG=1 UV_PYTHON_DOWNLOADS=never
unset PIP_FIND_LINKS PIP_INDEX_URL PIP_EXTRA_INDEX_URL UV_INDEX_URL UV_EXTRA_INDEX_URL UV_DEFAULT_INDEX UV_INDEX UV_CACHE_DIR UV_NO_CACHE VIRTUAL_ENV
index=$("$venv/bin/python" -c 'from pip._internal.models.index import PyPI; print(PyPI.simple_url)')
cd "$work"

lock() {  # lock OUTPUT CACHE: the command line measured (no shell: hyperfine -N)
  echo "$venv/bin/reprolock lock requirements.in --universal --python-version 3.9 -o $1 --cache-dir $2 --index-url $index"
}
uvcompile="$tools/uv pip compile -q --universal --python-version 3.9 --generate-hashes --no-cache requirements.in -o uv.txt --index-url $index"

hyperfine -N -i --runs "$runs" --export-json "$work/hyperfine.json" --export-markdown "$root/benchmarks/results-universal.md" \
  --prepare "rm -rf $work/cold $work/reprolock.txt" \
  -n "reprolock lock --universal (cold)" "$(lock reprolock.txt "$work/cold")" \
  --prepare "bash -c 'rm -rf $work/warm $work/warm.txt && $(lock warm.txt "$work/warm") > /dev/null; rm -f $work/warm.txt'" \
  -n "reprolock lock --universal (warm cache)" "$(lock warm.txt "$work/warm")" \
  --prepare "rm -f $work/uv.txt" \
  -n "uv pip compile --universal --generate-hashes --no-cache" "$uvcompile"
"$venv/bin/python" "$root/benchmarks/medians.py" "$work/hyperfine.json" "uv pip compile"
echo

# The package sets: one "name==version ; marker" per entry, markers as packaging writes them.
"$venv/bin/python" - reprolock.txt uv.txt << 'EOF'
import sys
from pathlib import Path

from packaging.requirements import Requirement


def entries(path):
    if not Path(path).exists():
        return None
    found = set()
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if line[:1].isalnum():
            req = Requirement(line.rstrip("\\ "))
            found.add(f"{req.name}{req.specifier}" + (f" ; {req.marker}" if req.marker else ""))
    return found


ours, theirs = entries(sys.argv[1]), entries(sys.argv[2])
if ours is None or theirs is None:
    print(f"package sets: no output from {'reprolock' if ours is None else 'uv'} (failed)")
    sys.exit(0)
print(f"package sets: reprolock {len(ours)} entries, uv {len(theirs)}, {len(ours & theirs)} the same")
for line in sorted(ours - theirs):
    print(f"  only reprolock: {line}")
for line in sorted(theirs - ours):
    print(f"  only uv:        {line}")
EOF
echo

rm -f "$results/universal.json"
"$venv/bin/python" "$root/benchmarks/medians.py" table "$work/hyperfine.json" --save "$results/universal.json" \
  "universal lock cold vs uv --universal cold|reprolock lock --universal (cold)|uv pip compile|2.0" \
  "universal lock warm vs uv --universal cold|reprolock lock --universal (warm|uv pip compile|-"
