#!/usr/bin/env bash
# Index rules speed, side by side with the peers in ONE hyperfine run, cold caches on every side:
#   reprolock audit of the venv's freeze   (target: <= 1.5x uv, <= 1/8 of pip)
#   uv pip list --outdated --no-cache
#   pip list --outdated --no-cache-dir       (the venv's own pip)
# then reprolock with a warm cache (target: < 0.25 s whole process), and a check that
# reprolock's `latest` agrees with uv's on that venv.
# Until `audit --python` lands, reprolock audits `pip freeze` of the venv (same package set).
# Usage: benchmarks/index.sh [REPROLOCK_VENV] [TARGET_VENV]
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-.venv}/bin
target=${2:-/work/bench/venv90}
uv=${UV:-/work/bench/tools/bin/uv}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export NO_COLOR=1
"$target/bin/pip" freeze > "$work/freeze.txt"

hyperfine --runs "${RUNS:-3}" -i \
  --prepare "rm -rf $work/cache" \
  -n "reprolock audit (cold)" "$bin/reprolock audit $work/freeze.txt --cache-dir $work/cache" \
  -n "uv pip list --outdated --no-cache" "$uv pip list --outdated --no-cache --python $target/bin/python" \
  -n "pip list --outdated" "$target/bin/pip list --outdated --no-cache-dir"

"$bin/reprolock" audit "$work/freeze.txt" --cache-dir "$work/warm" > /dev/null || true
hyperfine --warmup 2 --runs 20 -i \
  -n "reprolock audit (warm cache)" "$bin/reprolock audit $work/freeze.txt --cache-dir $work/warm" \
  -n "reprolock audit --no-index" "$bin/reprolock audit $work/freeze.txt --no-index"

# `latest` must agree with uv's list of outdated packages.
"$bin/reprolock" audit "$work/freeze.txt" --cache-dir "$work/warm" --format json > "$work/report.json" || true
"$uv" pip list --outdated --no-cache --python "$target/bin/python" --format json > "$work/uv.json"
"$bin/python" - "$work/report.json" "$work/uv.json" <<'PY'
import json, sys
from packaging.utils import canonicalize_name
report = json.load(open(sys.argv[1]))
ours = {row["name"]: row["latest"] for row in report["packages"] if row["latest"] and row["latest"] != row["pinned"]}
theirs = {canonicalize_name(row["name"]): row["latest_version"] for row in json.load(open(sys.argv[2]))}
differ = {name: (ours.get(name), theirs.get(name)) for name in set(ours) | set(theirs) if ours.get(name) != theirs.get(name)}
print(f"outdated: reprolock {len(ours)}, uv {len(theirs)}; disagreements: {differ or 'none'}")
sys.exit(1 if differ else 0)
PY
