# Sourced by the other scripts: creates .venv once and installs the pinned
# dev requirements whenever requirements-dev.txt changes. Says what it is doing:
# the first install takes minutes, and pip alone would be silent for most of them.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$root/.venv"
say() { echo "==> $*" >&2; }
if [ ! -x "$venv/bin/python" ]; then
  say "creating $venv"
  python3 -m venv "$venv"
fi
stamp="$venv/.requirements-dev.txt"
# requirements-dev.txt includes template/requirements-docs.txt: watch both.
wanted() { cat "$root/requirements-dev.txt" "$root/template/requirements-docs.txt"; }
if ! wanted | cmp -s - "$stamp"; then
  say "installing requirements-dev.txt into .venv (a few minutes the first time; one line per package)"
  # Only pip's "Collecting" and "Successfully installed" lines; its exit status decides.
  set +e
  (cd "$root" && "$venv/bin/python" -m pip install --disable-pip-version-check --progress-bar off \
    -r requirements-dev.txt) 2>&1 | grep --line-buffered -E '^(Collecting|Successfully installed|ERROR)' >&2
  status=${PIPESTATUS[0]}
  set -e
  if [ "$status" -ne 0 ]; then
    say "pip failed; to see all its output: $venv/bin/python -m pip install -r requirements-dev.txt"
    exit "$status"
  fi
  wanted > "$stamp"
fi
export PATH="$venv/bin:$PATH"
