# Sourced by the other scripts: creates .venv once and installs the pinned
# dev requirements whenever requirements-dev.txt changes.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$root/.venv"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
stamp="$venv/.requirements-dev.txt"
if ! cmp -s "$root/requirements-dev.txt" "$stamp"; then
  "$venv/bin/python" -m pip install -q --disable-pip-version-check -r "$root/requirements-dev.txt"
  cp "$root/requirements-dev.txt" "$stamp"
fi
export PATH="$venv/bin:$PATH"
