#!/usr/bin/env bash
# Environment benchmarks (issue 3), each next to its peer in ONE hyperfine run:
#   - `reprolock audit --python VENV90 --no-index` vs `pip check` run by that venv's python
#     (target: no slower);
#   - `reprolock graph --python VENV90` vs `pipdeptree --python VENV90/bin/python` (target: <= 2.5x);
#   - audit of generated environments of 250, 500 and 1000 tiny distributions
#     (target: 500 under 1 s whole process; cost grows linearly).
# Usage: benchmarks/env.sh [VENV [VENV90 [TOOLS]]]
#   VENV: where reprolock is installed (default .venv-test); VENV90: default benchmarks/.work/venv90;
#   TOOLS: a bin folder with pipdeptree (default benchmarks/.work/tools/bin); setup.sh installs both.
# Generated environments are cached in benchmarks/.envs (not committed).
set -euo pipefail
cd "$(dirname "$0")/.."
benchmarks/setup.sh -q
venv=${1:-.venv-test}
venv90=$(cd "${2:-benchmarks/.work/venv90}" && pwd)
tools=$(cd "${3:-benchmarks/.work/tools/bin}" && pwd)
bin="$(cd "$venv" && pwd)/bin"  # absolute: the runs happen in the cache folder
cache=benchmarks/.envs
export NO_COLOR=1
mkdir -p "$cache"
cd "$cache"  # no requirement files here: audit inspects the environment only

hyperfine --warmup 2 --runs 15 -i --export-markdown ../results-env-audit.md \
  -n "reprolock audit --python venv90" "$bin/reprolock audit --python $venv90 --no-index" \
  -n "pip check (venv90)" "$venv90/bin/python -m pip check"

hyperfine --warmup 2 --runs 15 -i --export-markdown ../results-env-graph.md \
  -n "reprolock graph --python venv90" "$bin/reprolock graph --python $venv90" \
  -n "pipdeptree --python venv90" "$tools/pipdeptree --python $venv90/bin/python"

for n in 250 500 1000; do
  [ -d "big$n" ] || "$bin/python" ../make-bigenv.py "$n" "big$n"
done
hyperfine --warmup 2 --runs 15 -i --export-markdown ../results-env-scale.md \
  -n "audit 250" "$bin/reprolock audit --python big250 --no-index" \
  -n "audit 500" "$bin/reprolock audit --python big500 --no-index" \
  -n "audit 1000" "$bin/reprolock audit --python big1000 --no-index" \
  -n "pip check 500" "$bin/python -m pip --python big500/bin/python check"
