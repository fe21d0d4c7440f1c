#!/usr/bin/env bash
# Install one git revision of reprolock, non-editable, into its own venv, and print the venv's path:
#   benchmarks/install-rev.sh [REV [DIR]]      REV: default HEAD; DIR: default benchmarks/.work/rl-<short hash of
#   the last commit at or before REV that changed src/ or pyproject.toml>
# For measuring a fixed revision while src/ changes under the editable .venv-test, and for BASELINE=...
# (non-editable installs also get their .pyc files written, as a user's install does).
# Reuses DIR when it already holds that revision.
set -euo pipefail
cd "$(dirname "$0")/.."
# The last commit at or before REV that changed what gets installed: benchmark-only commits reuse the venv.
rev=$(git log -1 --format=%h "${1:-HEAD}" -- src pyproject.toml)
dir=${2:-benchmarks/.work/rl-$rev}
if [[ ! -e $dir/.complete ]]; then
  rm -rf "$dir" "$dir.src"
  mkdir -p "$dir.src"
  git archive "$rev" | tar -x -C "$dir.src"
  "${PYTHON:-python3}" -m venv "$dir"
  "$dir/bin/python" -m pip install --quiet "./$dir.src" > "$dir.log" 2>&1 || { cat "$dir.log" >&2; exit 1; }
  rm -rf "$dir.src"
  echo "$rev" > "$dir/.complete"
fi
cd "$dir" && pwd
