#!/usr/bin/env bash
# Time reprolock's whole-process targets with hyperfine, side by side with a
# baseline in the same run:
#   - `reprolock --version` (target < 0.12 s) next to `pip --version`;
#   - `reprolock audit` of the 702-line Airflow constraints file (target < 0.3 s)
#     next to pip-requirements-parser alone parsing the same file, and next to
#     `pip install --dry-run --no-deps --no-index` reading it.
# Usage: benchmarks/run.sh [VENV]   (VENV defaults to .venv-test, which must have reprolock installed)
set -euo pipefail
cd "$(dirname "$0")/.."
venv=${1:-.venv-test}
bin="$venv/bin"
airflow=fixtures/corpus/apache__airflow/constraints/constraints.txt
export NO_COLOR=1

hyperfine --warmup 3 --runs 30 --export-markdown benchmarks/results-startup.md \
  -n "reprolock --version" "$bin/reprolock --version" \
  -n "pip --version" "$bin/python -m pip --version"

hyperfine --warmup 3 --runs 30 -i --export-markdown benchmarks/results-audit.md \
  -n "reprolock audit (text)" "$bin/reprolock audit $airflow" \
  -n "reprolock audit (json)" "$bin/reprolock audit $airflow --format json" \
  -n "pip-requirements-parser parse only" \
     "$bin/python -c 'import pip_requirements_parser as p; p.RequirementsFile.from_file(\"$airflow\")'"
