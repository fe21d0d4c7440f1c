#!/usr/bin/env bash
# Warm-cache audit of an environment, whole process (target: under 0.25 s), run from an empty
# folder so that no project file is discovered, beside BASELINE (e.g. main) in ONE hyperfine run:
#   reprolock audit --python VENV --cache-dir WARM      (WARM filled right before: pages stay fresh 5 minutes)
#   reprolock audit --python VENV --no-index            (the environment rules alone, for scale)
# Measure non-editable installs (editable ones get no .pyc here): benchmarks/install-rev.sh REV installs one.
# Usage: BASELINE=VENV benchmarks/warm.sh [REPROLOCK_VENV [TARGET_VENV]]
#   REPROLOCK_VENV: default .venv-test; TARGET_VENV: default benchmarks/.work/venv90 (setup.sh); RUNS=20 by default.
set -euo pipefail
cd "$(dirname "$0")/.."
benchmarks/setup.sh -q
bin=$(cd "${1:-.venv-test}" && pwd)/bin
target=$(cd "${2:-benchmarks/.work/venv90}" && pwd)
runs=${RUNS:-20}
work=$PWD/benchmarks/.work/warm
rm -rf "$work"
mkdir -p "$work/empty"
cd "$work/empty"
export NO_COLOR=1
# Every tool asks the same index: the machine's pip.conf (file:// mirrors, find-links) is turned off,
# so reprolock and pip use the target pip's default index, as uv does.
export PIP_CONFIG_FILE=/dev/null
unset PIP_FIND_LINKS PIP_INDEX_URL PIP_EXTRA_INDEX_URL UV_INDEX_URL UV_EXTRA_INDEX_URL

commands=(-n "reprolock (warm cache)" "$bin/reprolock audit --python $target --cache-dir $work/warm")
"$bin/reprolock" audit --python "$target" --cache-dir "$work/warm" > /dev/null || true
if [[ -n "${BASELINE:-}" ]]; then
  commands+=(-n "baseline (warm cache)" "$BASELINE/bin/reprolock audit --python $target --cache-dir $work/warm-baseline")
  "$BASELINE/bin/reprolock" audit --python "$target" --cache-dir "$work/warm-baseline" > /dev/null || true
  commands+=(-n "baseline --no-index" "$BASELINE/bin/reprolock audit --python $target --no-index")
fi
commands+=(-n "reprolock --no-index" "$bin/reprolock audit --python $target --no-index")
hyperfine -N -i --warmup 3 --runs "$runs" "${commands[@]}"
