"""Merge conflict markers, found the way the repository's pre-commit hook finds them."""

from __future__ import annotations

import re

# The conflict-markers hook in .pre-commit-config.yaml (and the CI job) greps for exactly
# this pattern; the template's tests check that both say the same.
CONFLICT_PATTERN = r"^(<<<<<<<|>>>>>>>)( |$)"
_CONFLICT = re.compile(CONFLICT_PATTERN, re.M)
# Once a file holds a conflict, its separators (=======, ||||||| of diff3) are markers too.
_SEPARATOR = re.compile(r"^(={7}$|\|{7}( |$))")


def conflict_markers(data: bytes) -> list[tuple[int, str]]:
    """(1-based line, marker) of every line of an unresolved merge conflict in data."""
    if b"<" * 7 not in data and b">" * 7 not in data:
        return []  # the common case, without decoding
    text = data.decode("utf-8", errors="surrogateescape")
    if not _CONFLICT.search(text):
        return []
    found = []
    for n, line in enumerate(text.split("\n")):
        line = line.rstrip("\r")
        if _CONFLICT.match(line) or _SEPARATOR.match(line):
            found.append((n + 1, line[:7]))
    return found
