#!/usr/bin/env bash
# Time `reprolock lock` against its peers in ONE hyperfine run, cold caches on every side:
#   - reprolock lock (hashes on, --no-cache)
#   - uv pip compile --generate-hashes --no-cache
#   - pip-compile (no hashes; its pip cache emptied before every run)
# then reprolock with a warm cache (target: under 0.5 s whole process).
# The index is the default of the benchmark venv's pip (PyPI); the machine's pip.conf is
# turned off so every tool asks the same index.
# Usage: benchmarks/lock.sh [VENV] [TOOLS_BIN]   (VENV has reprolock installed; default .venv-test)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
venv=$(cd "${1:-.venv-test}" && pwd)
tools=${2:-/work/bench/tools/bin}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp benchmarks/lock-requirements.in "$work/requirements.in"
export PIP_CONFIG_FILE=/dev/null NO_COLOR=1
unset PIP_FIND_LINKS PIP_INDEX_URL PIP_EXTRA_INDEX_URL UV_INDEX_URL UV_EXTRA_INDEX_URL
index=$("$venv/bin/python" -c 'from pip._internal.models.index import PyPI; print(PyPI.simple_url)')
cd "$work"

hyperfine --runs "${RUNS:-3}" --export-markdown "$root/benchmarks/results-lock.md" --export-json "$work/cold.json" \
  --prepare "rm -rf $work/pip-cache" \
  -n "reprolock lock (hashes, cold)" "$venv/bin/reprolock lock requirements.in -o reprolock.txt --no-cache --index-url $index" \
  -n "uv pip compile --generate-hashes --no-cache" "$tools/uv pip compile -q --generate-hashes --no-cache requirements.in -o uv.txt --index-url $index" \
  -n "pip-compile (no hashes, cold)" "$tools/pip-compile -q --rebuild --cache-dir $work/pip-cache requirements.in -o pip-compile.txt --index-url $index"

"$venv/bin/python" "$root/benchmarks/medians.py" "$work/cold.json" "uv pip compile"
echo "pins: reprolock $(grep -c '^[a-z0-9]' reprolock.txt), uv $(grep -c '^[a-z0-9]' uv.txt), pip-compile $(grep -c '^[a-z0-9]' pip-compile.txt)"

"$venv/bin/reprolock" lock requirements.in -o warm.txt --cache-dir "$work/cache" --index-url "$index"
hyperfine --warmup 1 --runs 10 --export-markdown "$root/benchmarks/results-lock-warm.md" \
  -n "reprolock lock (warm cache)" "$venv/bin/reprolock lock requirements.in -o warm.txt --cache-dir $work/cache --index-url $index"
