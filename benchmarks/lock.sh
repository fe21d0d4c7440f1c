#!/usr/bin/env bash
# `reprolock lock` of lock-requirements.in (24 top-level packages, about 95 pins, hashes on) against its
# peers in ONE hyperfine run; no earlier output file for any of them (each would take its pins as preferences):
#   reprolock lock (cold)           a fresh --cache-dir for every run
#   reprolock lock (stale cache)    a cache filled once by an earlier lock, restored before every run and aged
#                                   by an hour (age-cache.py), so every entry is past its freshness window
#   reprolock lock (warm cache)     its --cache-dir filled right before every run (for scale; target < 0.5 s)
#   uv pip compile --generate-hashes --no-cache
#   pip-compile (no hashes)         its pip cache emptied before every run
# then peak memory of the cold lock and uv's (peak-mem.py, MEM_RUNS=3 runs each, medians):
# GNU time's maximum resident set size, and the summed PSS of the whole process tree (reprolock forks helpers,
# which GNU time does not add up), and the table of targets (medians, see medians.py):
#   cold <= 1.6x uv;   stale <= 1.0x reprolock's own cold;   peak memory <= 1.3x uv's
# The index is the default of the reprolock venv's pip (PyPI), given to every tool; the machine's pip
# configuration is turned off.
# Usage: benchmarks/lock.sh [REPROLOCK_VENV]      (default .venv-test; RUNS=5, MEM_RUNS=3 by default)
# Writes benchmarks/results-lock.md (hyperfine) and benchmarks/.work/results/lock.json (the table's rows).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
benchmarks/setup.sh -q
venv=$(cd "${1:-.venv-test}" && pwd)
tools=$root/benchmarks/.work/tools/bin
runs=${RUNS:-5}
work=$root/benchmarks/.work/lock
results=$root/benchmarks/.work/results
rm -rf "$work"
mkdir -p "$work" "$results"
cp benchmarks/lock-requirements.in "$work/requirements.in"
export NO_COLOR=1 PIP_CONFIG_FILE=/dev/null UV_NO_CONFIG=1
unset PIP_FIND_LINKS PIP_INDEX_URL PIP_EXTRA_INDEX_URL UV_INDEX_URL UV_EXTRA_INDEX_URL UV_DEFAULT_INDEX UV_INDEX UV_CACHE_DIR UV_NO_CACHE VIRTUAL_ENV
index=$("$venv/bin/python" -c 'from pip._internal.models.index import PyPI; print(PyPI.simple_url)')
cd "$work"

lock() {  # lock OUTPUT CACHE: the command line measured (no shell: hyperfine -N)
  echo "$venv/bin/reprolock lock requirements.in -o $1 --cache-dir $2 --index-url $index"
}
uvcompile="$tools/uv pip compile -q --generate-hashes --no-cache requirements.in -o uv.txt --index-url $index"
age="$venv/bin/python $root/benchmarks/age-cache.py"

# The stale cache: filled once now, restored and aged before every run.
$(lock seed.txt "$work/stale-seed") > /dev/null || true
hyperfine -N -i --runs "$runs" --export-json "$work/hyperfine.json" --export-markdown "$root/benchmarks/results-lock.md" \
  --prepare "rm -rf $work/cold $work/reprolock.txt" \
  -n "reprolock lock (cold)" "$(lock reprolock.txt "$work/cold")" \
  --prepare "bash -c 'rm -rf $work/stale $work/stale.txt && cp -a $work/stale-seed $work/stale && $age $work/stale'" \
  -n "reprolock lock (stale cache)" "$(lock stale.txt "$work/stale")" \
  --prepare "bash -c 'rm -rf $work/warm $work/warm.txt && $(lock warm.txt "$work/warm") > /dev/null; rm -f $work/warm.txt'" \
  -n "reprolock lock (warm cache)" "$(lock warm.txt "$work/warm")" \
  --prepare "rm -f $work/uv.txt" \
  -n "uv pip compile --generate-hashes --no-cache" "$uvcompile" \
  --prepare "rm -rf $work/pip-cache $work/pip-compile.txt" \
  -n "pip-compile (no hashes, cold)" \
  "$tools/pip-compile -q --rebuild --cache-dir $work/pip-cache requirements.in -o pip-compile.txt --index-url $index"
"$venv/bin/python" "$root/benchmarks/medians.py" "$work/hyperfine.json" "uv pip compile"
pins() { if [[ -e $1 ]]; then grep -c '^[A-Za-z0-9]' "$1"; else echo "none (failed)"; fi; }
echo "pins: reprolock $(pins reprolock.txt), stale $(pins stale.txt), uv $(pins uv.txt), pip-compile $(pins pip-compile.txt)"
echo

"$venv/bin/python" "$root/benchmarks/peak-mem.py" "$work/memory.json" --runs "${MEM_RUNS:-3}" \
  --prepare "rm -rf $work/mem-cold $work/mem.txt" \
  -n "reprolock lock (cold)" "$(lock mem.txt "$work/mem-cold")" \
  --prepare "rm -f $work/uv.txt" \
  -n "uv pip compile" "$uvcompile"
echo

rm -f "$results/lock.json"
"$venv/bin/python" "$root/benchmarks/medians.py" table "$work/hyperfine.json" --save "$results/lock.json" \
  "lock cold vs uv cold|reprolock lock (cold)|uv pip compile|1.6" \
  "lock cold vs pip-compile cold|reprolock lock (cold)|pip-compile|-" \
  "lock stale vs own cold|reprolock lock (stale|reprolock lock (cold)|1.0"
"$venv/bin/python" "$root/benchmarks/medians.py" table "$work/memory.json" --save "$results/lock.json" \
  "lock peak memory, max RSS (GNU time)|reprolock lock (cold) (max RSS|uv pip compile (max RSS|1.3" \
  "lock peak memory, process tree PSS|reprolock lock (cold) (tree PSS|uv pip compile (tree PSS|1.3"
