#!/usr/bin/env bash
# Container image benchmark (issue 17 part 2), in ONE hyperfine run:
#   - `reprolock audit --image image.tar --no-index`: venv90 (its 74 distributions) packed by make-image.py
#     as a `docker save` archive (uncompressed layers, ~530 MB), its base interpreter in the image too;
#   - `reprolock audit --image rootfs --no-index`: the same image unpacked as a root filesystem folder;
#   - `reprolock audit --python VENV90 --no-index`: the same environment unpacked, the interpreter probed.
# Target: the image audits (median) under 1 s. Medians by medians.py (one slow run moves a mean, not a median).
# Usage: benchmarks/image.sh [VENV [VENV90]]
#   VENV: where reprolock is installed (default .venv-test); VENV90: default benchmarks/.work/venv90 (setup.sh).
# The image is cached in benchmarks/.work/image (rebuilt when VENV90 changes). RUNS sets hyperfine's runs (default 15).
set -euo pipefail
cd "$(dirname "$0")/.."
benchmarks/setup.sh -q
venv=${1:-.venv-test}
venv90=$(cd "${2:-benchmarks/.work/venv90}" && pwd)
bin="$(cd "$venv" && pwd)/bin"  # absolute: the runs happen in the image folder
work=benchmarks/.work/image
"$bin/python" benchmarks/make-image.py "$venv90" "$work"
export NO_COLOR=1
cd "$work"  # no requirement files here: audit inspects the image only

hyperfine --warmup 2 --runs "${RUNS:-15}" -i --export-json image.json --export-markdown ../../results-image.md \
  -n "audit --image image.tar (docker save)" "$bin/reprolock audit --image image.tar --no-index" \
  -n "audit --image rootfs (folder)" "$bin/reprolock audit --image rootfs --no-index" \
  -n "audit --python venv90" "$bin/reprolock audit --python $venv90 --no-index"

"$bin/python" ../../medians.py image.json "audit --python venv90"
"$bin/python" - image.json <<'EOF'
import json, statistics, sys
results = json.load(open(sys.argv[1]))["results"]
missed = [row["command"] for row in results if row["command"].startswith("audit --image") and statistics.median(row["times"]) >= 1.0]
print("image target (median < 1 s):", "missed by " + ", ".join(missed) if missed else "met")
sys.exit(1 if missed else 0)
EOF
