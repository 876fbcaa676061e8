# Sourced by the other scripts: creates .venv once and installs the pinned
# dev requirements whenever requirements-dev.txt changes.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$root/.venv"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
stamp="$venv/.requirements-dev.txt"
# requirements-dev.txt includes template/requirements-docs.txt: watch both.
wanted() { cat "$root/requirements-dev.txt" "$root/template/requirements-docs.txt"; }
if ! wanted | cmp -s - "$stamp"; then
  (cd "$root" && "$venv/bin/python" -m pip install -q --disable-pip-version-check -r requirements-dev.txt)
  wanted > "$stamp"
fi
export PATH="$venv/bin:$PATH"
