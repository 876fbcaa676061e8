#!/usr/bin/env bash
# Install the pinned dev tools into .venv and run the whole test suite.
# Extra arguments go to pytest (e.g. -m slow, -k ladder).
source "$(dirname "$0")/venv.sh"
cd "$root"
exec python -m pytest -n 2 "$@"
