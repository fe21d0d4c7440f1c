#!/usr/bin/env bash
# Warm-cache audit of an environment, whole process (target: under 0.25 s), run from an empty
# folder so that no project file is discovered, beside BASELINE (e.g. main) in ONE hyperfine run:
#   reprolock audit --python VENV --cache-dir WARM      (WARM filled right before: pages stay fresh 5 minutes)
#   reprolock audit --python VENV --no-index            (the environment rules alone, for scale)
# Measure non-editable installs (editable ones get no .pyc here):
#   python3 -m venv /tmp/rl && /tmp/rl/bin/pip install -q .
# Usage: BASELINE=/tmp/rl-main benchmarks/warm.sh REPROLOCK_VENV [TARGET_VENV]   (RUNS=20 by default)
set -euo pipefail
bin=$(cd "${1:?give the venv reprolock is installed in}" && pwd)/bin
target=${2:-/work/bench/venv90}
runs=${RUNS:-20}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/empty"
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
