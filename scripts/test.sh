#!/usr/bin/env bash
# Install the pinned dev tools into .venv and run the default test suite (what CI runs).
# Extra arguments go to pytest (e.g. -m slow, -k ladder).
source "$(dirname "$0")/venv.sh"
cd "$root"
echo "==> running the tests with pytest -n 2 (the default suite takes about 10 minutes on 2 cores;" \
  "each dot is one test done)" >&2
exec python -m pytest -n 2 "$@"
