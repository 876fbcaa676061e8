#!/usr/bin/env bash
# Render a demo project with every default answer into ./demo (or $1).
source "$(dirname "$0")/venv.sh"
dest="${1:-$root/demo}"
rm -rf "$dest"
copier copy --defaults --quiet --vcs-ref HEAD "$root" "$dest"
echo "Rendered $(find "$dest" -type f -name '*.md' | wc -l) Markdown documents into $dest"
