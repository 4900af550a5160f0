#!/usr/bin/env bash
# Print the path of a working Python of the first version given that this machine has, e.g.
# `find_python.sh 3.10` (Rasa 3.6 needs it) or `find_python.sh 3.11 3.12 3.10` (the gateway).
# PATH first, then pyenv's versions; a pyenv shim on PATH may exist without its version being
# selected, so every candidate is run once.
root="${PYENV_ROOT:-$HOME/.pyenv}"
for version in "$@"; do
  candidates=()
  command -v "python$version" >/dev/null 2>&1 && candidates+=("$(command -v "python$version")")
  for dir in $(ls -d "$root"/versions/"$version".* 2>/dev/null | sort -Vr); do
    candidates+=("$dir/bin/python$version")
  done
  for python in "${candidates[@]}"; do
    if "$python" -c "import sys; sys.exit(0 if '%d.%d' % sys.version_info[:2] == '$version' else 1)" >/dev/null 2>&1; then
      echo "$python"
      exit 0
    fi
  done
done
exit 1
