#!/usr/bin/env bash
# Drift of an environment of ~90 distributions (`reprolock audit --python TARGET`, the index rules on),
# side by side with its peers in ONE hyperfine run, from an empty folder (no project file is discovered):
#   reprolock audit (cold)          a fresh --cache-dir for every run
#   reprolock audit (warm cache)    its --cache-dir filled right before every run (--prepare)
#   reprolock audit (stale cache)   a cache filled once by an earlier run, restored before every run and
#                                   aged by an hour (age-cache.py: "fetched" and mtimes), so every entry
#                                   is past its freshness window
#   uv pip list --outdated (cold)   --no-cache
#   uv pip list --outdated (warm)   its own --cache-dir, filled right before every run
#   pip list --outdated             --no-cache-dir (the target's own pip)
# then the table of targets (medians, see medians.py):
#   cold  <= 2.0x uv cold;   cold <= 0.2x pip;   warm <= 0.5x uv warm;   stale <= 1.0x reprolock's own cold
# and a check that reprolock's `latest` agrees with uv's list of outdated packages.
# Every tool asks the same index: the machine's pip configuration is turned off, so reprolock and pip
# use the target pip's default index (PyPI), as uv does.
# Usage: benchmarks/index.sh [REPROLOCK_VENV [TARGET_VENV]]
#   REPROLOCK_VENV: default .venv-test; TARGET_VENV: default benchmarks/.work/venv90 (setup.sh builds it).
#   RUNS=5 by default. BASELINE=VENV adds another reprolock install (e.g. main before a change) to the run.
# Writes benchmarks/results-index.md (hyperfine) and benchmarks/.work/results/index.json (the table's rows).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
benchmarks/setup.sh -q
bin=$(cd "${1:-.venv-test}" && pwd)/bin
target=$(cd "${2:-benchmarks/.work/venv90}" && pwd)
tools=$root/benchmarks/.work/tools/bin
uv=$tools/uv
runs=${RUNS:-5}
work=$root/benchmarks/.work/index
results=$root/benchmarks/.work/results
rm -rf "$work"
mkdir -p "$work/empty" "$results"
cd "$work/empty"
export NO_COLOR=1 PIP_CONFIG_FILE=/dev/null UV_NO_CONFIG=1
unset PIP_FIND_LINKS PIP_INDEX_URL PIP_EXTRA_INDEX_URL UV_INDEX_URL UV_EXTRA_INDEX_URL UV_DEFAULT_INDEX UV_INDEX UV_CACHE_DIR UV_NO_CACHE VIRTUAL_ENV

audit() {  # audit BIN CACHE: the command line measured (no shell: hyperfine -N)
  echo "$1/reprolock audit --python $target --cache-dir $2"
}
uvlist="$uv pip list --outdated --python $target/bin/python"

# The stale cache: filled once now, restored and aged before every run.
$(audit "$bin" "$work/stale-seed") > /dev/null || true
commands=(
  --prepare "rm -rf $work/cold" -n "reprolock audit (cold)" "$(audit "$bin" "$work/cold")"
  --prepare "bash -c 'rm -rf $work/warm && $(audit "$bin" "$work/warm") > /dev/null; true'"
  -n "reprolock audit (warm cache)" "$(audit "$bin" "$work/warm")"
  --prepare "bash -c 'rm -rf $work/stale && cp -a $work/stale-seed $work/stale && $bin/python $root/benchmarks/age-cache.py $work/stale'"
  -n "reprolock audit (stale cache)" "$(audit "$bin" "$work/stale")"
)
specs=(
  "audit cold vs uv cold|reprolock audit (cold)|uv pip list --outdated (cold|2.0"
  "audit cold vs pip cold|reprolock audit (cold)|pip list --outdated|0.2"
  "audit warm vs uv warm|reprolock audit (warm|uv pip list --outdated (warm|0.5"
  "audit stale vs own cold|reprolock audit (stale|reprolock audit (cold)|1.0"
)
if [[ -n "${BASELINE:-}" ]]; then
  base=$(cd "$BASELINE" && pwd)/bin
  $(audit "$base" "$work/base-stale-seed") > /dev/null || true
  commands+=(
    --prepare "rm -rf $work/base-cold" -n "baseline audit (cold)" "$(audit "$base" "$work/base-cold")"
    --prepare "bash -c 'rm -rf $work/base-warm && $(audit "$base" "$work/base-warm") > /dev/null; true'"
    -n "baseline audit (warm cache)" "$(audit "$base" "$work/base-warm")"
    --prepare "bash -c 'rm -rf $work/base-stale && cp -a $work/base-stale-seed $work/base-stale && $bin/python $root/benchmarks/age-cache.py $work/base-stale'"
    -n "baseline audit (stale cache)" "$(audit "$base" "$work/base-stale")"
  )
  specs+=(
    "baseline: audit cold vs uv cold|baseline audit (cold)|uv pip list --outdated (cold|2.0"
    "baseline: audit cold vs pip cold|baseline audit (cold)|pip list --outdated|0.2"
    "baseline: audit warm vs uv warm|baseline audit (warm|uv pip list --outdated (warm|0.5"
    "baseline: audit stale vs own cold|baseline audit (stale|baseline audit (cold)|1.0"
  )
fi
commands+=(
  --prepare "true" -n "uv pip list --outdated (cold)" "$uvlist --no-cache"
  --prepare "bash -c 'rm -rf $work/uv-warm && $uvlist --cache-dir $work/uv-warm > /dev/null 2>&1'"
  -n "uv pip list --outdated (warm cache)" "$uvlist --cache-dir $work/uv-warm"
  --prepare "true" -n "pip list --outdated" "$target/bin/pip list --outdated --no-cache-dir"
)

hyperfine -N -i --runs "$runs" --export-json "$work/hyperfine.json" --export-markdown "$root/benchmarks/results-index.md" "${commands[@]}"
"$bin/python" "$root/benchmarks/medians.py" "$work/hyperfine.json" "uv pip list --outdated (cold"
echo
rm -f "$results/index.json"
"$bin/python" "$root/benchmarks/medians.py" table "$work/hyperfine.json" --save "$results/index.json" "${specs[@]}"
echo

# `latest` must agree with uv's list of outdated packages.
$(audit "$bin" "$work/warm") --format json > "$work/report.json" || true
$uvlist --no-cache --format json > "$work/uv.json" 2> /dev/null
"$bin/python" - "$work/report.json" "$work/uv.json" <<'PY'
import json, sys
from packaging.utils import canonicalize_name
report = json.load(open(sys.argv[1]))
ours = {row["name"]: row["latest"] for row in report["packages"] if row.get("latest") and row["latest"] != (row.get("installed") or row.get("pinned"))}
theirs = {canonicalize_name(row["name"]): row["latest_version"] for row in json.load(open(sys.argv[2]))}
differ = {name: (ours.get(name), theirs.get(name)) for name in set(ours) | set(theirs) if ours.get(name) != theirs.get(name)}
print(f"outdated: reprolock {len(ours)}, uv {len(theirs)}; disagreements (reprolock, uv): {differ or 'none'}")
sys.exit(1 if differ else 0)
PY
