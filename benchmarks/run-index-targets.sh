#!/usr/bin/env bash
# The index and lock targets in one go: setup.sh, index.sh, lock.sh, universal.sh, then one combined table of
# every measured ratio (medians) against its target, also written to benchmarks/results-targets.md (not committed).
# Usage: benchmarks/run-index-targets.sh [REPROLOCK_VENV | --rev REV]
#   REPROLOCK_VENV: default .venv-test (editable: it measures src/ as it is now, edits in progress included);
#   --rev REV: measure that git revision, installed non-editable by install-rev.sh (e.g. --rev HEAD).
#   RUNS (default 5) and MEM_RUNS (default 3) are passed on (RUNS to universal.sh too); BASELINE=VENV to index.sh.
# Exit status: 1 when a target is missed or a script failed, else 0.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$PWD
benchmarks/setup.sh || exit 1
if [[ ${1:-} == --rev ]]; then
  venv=$(benchmarks/install-rev.sh "${2:?--rev needs a revision}") || exit 1
  what="revision $(git log -1 --format='%h (%s)' "$2" -- src pyproject.toml | cut -c1-90), non-editable"
else
  venv=$(cd "${1:-.venv-test}" && pwd) || exit 1
  state=$(git status --porcelain -- src pyproject.toml | wc -l)
  what="$venv at $(git rev-parse --short HEAD)$([[ $state -gt 0 ]] && echo " plus $state uncommitted changes in src/ or pyproject.toml")"
fi
results=$root/benchmarks/.work/results
status=0
rm -f "$results/index.json" "$results/lock.json" "$results/universal.json"
benchmarks/index.sh "$venv" || { echo "run-index-targets: index.sh failed" >&2; status=1; }
benchmarks/lock.sh "$venv" || { echo "run-index-targets: lock.sh failed" >&2; status=1; }
benchmarks/universal.sh "$venv" || { echo "run-index-targets: universal.sh failed" >&2; status=1; }
tools=$root/benchmarks/.work/tools/bin
{
  echo "$(date -u +%Y-%m-%d): reprolock $("$venv/bin/reprolock" --version | awk '{print $NF}'), $what;"
  echo "$("$tools/uv" --version | cut -d' ' -f1-2), pip-compile $("$tools/pip-compile" --version 2>&1 | awk '{print $NF}'), $(hyperfine --version);" \
    "RUNS=${RUNS:-5}, MEM_RUNS=${MEM_RUNS:-3}; medians; $(nproc) cores."
  echo
  "$venv/bin/python" benchmarks/medians.py show "$results"/*.json || status=1  # index, lock, universal
} > benchmarks/results-targets.md
echo
cat benchmarks/results-targets.md
[[ -s $results/index.json && -s $results/lock.json && -s $results/universal.json ]] || status=1
exit $status
