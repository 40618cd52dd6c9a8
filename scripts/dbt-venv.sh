#!/usr/bin/env bash
# Create .cache/dbt-venv with the dbt pinned in tests/requirements-dbt.txt, only when missing or stale.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
venv="$root/.cache/dbt-venv"
req="$root/tests/requirements-dbt.txt"
if [ -f "$venv/.installed" ] && [ "$venv/.installed" -nt "$req" ]; then
  exit 0
fi
echo "installing dbt into $venv" >&2
"${PYTHON:-python3}" -m venv "$venv"
"$venv/bin/python" -m pip install -q -r "$req"
touch "$venv/.installed"
