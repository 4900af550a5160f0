#!/usr/bin/env bash
# Regenerate the gateway's pinned requirements from requirements/gateway*.in (`make gateway-lock`):
# each file is resolved in a fresh virtualenv of the gateway's Python at the newest releases, then
# frozen, so the pins are what pip really installed together. gateway-dev.txt is resolved under
# the runtime pins, so both files agree on every package they share.
set -euo pipefail
cd "$(dirname "$0")/.."
python=${1:?usage: scripts/lock_gateway.sh PYTHON}
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

lock() {  # lock NAME PIP-INSTALL-ARGS…  →  requirements/NAME.txt
  local name=$1; shift
  "$python" -m venv "$scratch/$name"
  "$scratch/$name/bin/python" -m pip install --quiet --upgrade pip
  "$scratch/$name/bin/python" -m pip install --quiet "$@"
  {
    echo "# Pinned by \`make gateway-lock\` (scripts/lock_gateway.sh) from requirements/$name.in"
    echo "# with Python $("$python" -c 'import platform; print(platform.python_version())'). Do not edit: change the .in file and re-lock."
    "$scratch/$name/bin/python" -m pip freeze --all --exclude pip --exclude setuptools --exclude wheel
  } > "requirements/$name.txt"
  echo "requirements/$name.txt: $(grep -vc '^#' "requirements/$name.txt") packages"
}

lock gateway -r requirements/gateway.in
lock gateway-dev -c requirements/gateway.txt -r requirements/gateway-dev.in
