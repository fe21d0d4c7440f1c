#!/usr/bin/env bash
# Index rules speed, side by side with the peers in ONE hyperfine run, cold caches on every side:
#   reprolock audit --python VENV      fresh --cache-dir for every run (--prepare)   target: <= 1.5x uv, <= 1/8 of pip
#   uv pip list --outdated --no-cache --python VENV
#   pip list --outdated --no-cache-dir  (the venv's own pip)
# then reprolock with a warm cache (target: < 0.25 s whole process), and a check that
# reprolock's `latest` agrees with uv's on that venv.
# BASELINE=/path/to/other/venv adds that reprolock install to both runs (e.g. the main branch before a change).
# Usage: benchmarks/index.sh [REPROLOCK_VENV] [TARGET_VENV]     (RUNS=10 by default; the machine is shared)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
bin=${1:-.venv}/bin
target=${2:-/work/bench/venv90}
uv=${UV:-/work/bench/tools/bin/uv}
runs=${RUNS:-10}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
bin=$(cd "$(dirname "$bin")" && pwd)/bin
mkdir "$work/empty"
cd "$work/empty"  # no project file is discovered: the environment alone is audited
export NO_COLOR=1
# Every tool asks the same index: the machine's pip.conf (file:// mirrors, find-links) is turned off,
# so reprolock and pip use the target pip's default index, as uv does.
export PIP_CONFIG_FILE=/dev/null
unset PIP_FIND_LINKS PIP_INDEX_URL PIP_EXTRA_INDEX_URL UV_INDEX_URL UV_EXTRA_INDEX_URL

cold=(-n "reprolock audit --python (cold)" "$bin/reprolock audit --python $target --cache-dir $work/cache")
warm=(-n "reprolock audit --python (warm cache)" "$bin/reprolock audit --python $target --cache-dir $work/warm")
if [[ -n "${BASELINE:-}" ]]; then
  cold+=(-n "baseline audit --python (cold)" "$BASELINE/bin/reprolock audit --python $target --cache-dir $work/cache")
  warm+=(-n "baseline audit --python (warm cache)" "$BASELINE/bin/reprolock audit --python $target --cache-dir $work/warm-baseline")
fi

hyperfine --runs "$runs" -N -i --export-json "$work/cold.json" \
  --prepare "rm -rf $work/cache" \
  "${cold[@]}" \
  -n "uv pip list --outdated --no-cache" "$uv pip list --outdated --no-cache --python $target/bin/python" \
  -n "pip list --outdated" "$target/bin/pip list --outdated --no-cache-dir"
"$bin/python" "$root/benchmarks/medians.py" "$work/cold.json" "uv pip list"

# Warm: the cache is fresh for five minutes, so it is filled right before.
"$bin/reprolock" audit --python "$target" --cache-dir "$work/warm" > /dev/null || true
if [[ -n "${BASELINE:-}" ]]; then "$BASELINE/bin/reprolock" audit --python "$target" --cache-dir "$work/warm-baseline" > /dev/null || true; fi
hyperfine --warmup 2 --runs $((runs * 2)) -N -i \
  "${warm[@]}" \
  -n "reprolock audit --python --no-index" "$bin/reprolock audit --python $target --no-index"

# `latest` must agree with uv's list of outdated packages.
"$bin/reprolock" audit --python "$target" --cache-dir "$work/warm" --format json > "$work/report.json" || true
"$uv" pip list --outdated --no-cache --python "$target/bin/python" --format json > "$work/uv.json"
"$bin/python" - "$work/report.json" "$work/uv.json" <<'PY'
import json, sys
from packaging.utils import canonicalize_name
report = json.load(open(sys.argv[1]))
ours = {row["name"]: row["latest"] for row in report["packages"] if row.get("latest") and row["latest"] != (row.get("installed") or row.get("pinned"))}
theirs = {canonicalize_name(row["name"]): row["latest_version"] for row in json.load(open(sys.argv[2]))}
differ = {name: (ours.get(name), theirs.get(name)) for name in set(ours) | set(theirs) if ours.get(name) != theirs.get(name)}
print(f"outdated: reprolock {len(ours)}, uv {len(theirs)}; disagreements: {differ or 'none'}")
sys.exit(1 if differ else 0)
PY
