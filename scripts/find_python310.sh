#!/usr/bin/env bash
# Print the path of a working Python 3.10 (Rasa 3.6 needs it): PATH first, then pyenv's versions.
# A pyenv shim on PATH may exist without 3.10 being selected, so every candidate is run once.
candidates=()
command -v python3.10 >/dev/null 2>&1 && candidates+=("$(command -v python3.10)")
root="${PYENV_ROOT:-$HOME/.pyenv}"
for dir in $(ls -d "$root"/versions/3.10* 2>/dev/null | sort -Vr); do
  candidates+=("$dir/bin/python3.10")
done
for python in "${candidates[@]}"; do
  if "$python" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 10) else 1)' >/dev/null 2>&1; then
    echo "$python"
    exit 0
  fi
done
exit 1
