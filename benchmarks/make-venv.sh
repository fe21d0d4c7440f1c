#!/usr/bin/env bash
# Build a benchmark virtualenv from a requirements file: make-venv.sh REQS DIR.
# Installs from the configured index (PyPI); run once, outside CI (setup.sh runs it for
# benchmarks/.work/venv90). PYTHON picks the interpreter (default: python3 on PATH).
set -euo pipefail
reqs=$1
dir=$2
"${PYTHON:-python3}" -m venv "$dir"
"$dir/bin/python" -m pip install --quiet -r "$reqs"
"$dir/bin/python" -m pip list --format freeze | wc -l
