#!/usr/bin/env bash
# Install what the benchmarks need, once; later calls only check (a few ms). Run by index.sh,
# lock.sh and run-index-targets.sh; can be run by hand.
#   - hyperfine, and GNU time (/usr/bin/time -v: peak memory), from Debian's packages when missing
#     (apt-get: run as root, as on the project's machines);
#   - a tools venv with uv 0.13.x, pip-tools (pip-compile) and pipdeptree, from PyPI: benchmarks/.work/tools
#   - the target venv of ~90 real distributions (make-venv.sh env90.txt): benchmarks/.work/venv90
# Everything goes into benchmarks/.work (git-ignored); delete it to start over.
# PYTHON picks the interpreter of the venvs (default: python3 on PATH).
# Usage: benchmarks/setup.sh [-q]      (-q: no summary line)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
work=$here/.work
python=${PYTHON:-python3}
mkdir -p "$work"

apt_updated=
apt_install() {  # apt_install PACKAGE...
  if [[ -z $apt_updated ]]; then apt-get update -qq; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" > /dev/null
}
command -v hyperfine > /dev/null || { echo "setup: installing hyperfine" >&2; apt_install hyperfine; }
/usr/bin/time -v true > /dev/null 2>&1 || { echo "setup: installing GNU time" >&2; apt_install time; }

# Tools: uv 0.13.x (the peer of the targets), pip-tools and pipdeptree (env.sh), in their own venv;
# rebuilt when this list changes.
tools=('uv>=0.13,<0.14' pip-tools pipdeptree)
if [[ "$(cat "$work/tools/.complete" 2> /dev/null)" != "${tools[*]}" ]]; then
  echo "setup: tools venv (${tools[*]}) in $work/tools" >&2
  rm -rf "$work/tools"
  "$python" -m venv "$work/tools"
  "$work/tools/bin/python" -m pip install --quiet "${tools[@]}" > "$work/tools.log" 2>&1 || { cat "$work/tools.log" >&2; exit 1; }
  echo "${tools[*]}" > "$work/tools/.complete"
fi

# The target environment: ~90 distributions at older versions (drift for the index rules).
if [[ ! -e $work/venv90/.complete ]]; then
  echo "setup: target venv (env90.txt) in $work/venv90" >&2
  rm -rf "$work/venv90"
  PYTHON=$python "$here/make-venv.sh" "$here/env90.txt" "$work/venv90" > "$work/venv90.log" 2>&1 || { cat "$work/venv90.log" >&2; exit 1; }
  touch "$work/venv90/.complete"
fi

if [[ ${1:-} != -q ]]; then
  echo "setup: $(hyperfine --version), $("$work/tools/bin/uv" --version), pip-compile $("$work/tools/bin/pip-compile" --version 2>&1 | awk '{print $NF}')," \
    "venv90: $("$work/venv90/bin/python" -m pip list --format freeze 2> /dev/null | wc -l) distributions, pip $("$work/venv90/bin/python" -m pip --version | awk '{print $2}')" >&2
fi
