#!/usr/bin/env python3
"""Release points of this template, recovered from main's history.

Only branch main is published, not tags, so releases follow one rule:

    The commit that first adds a line "## [X.Y.Z]" to CHANGELOG.md is
    release X.Y.Z, tagged vX.Y.Z.

Usage (from a clone of this repository):
    python3 scripts/release.py list          # version and commit of every release
    python3 scripts/release.py tag           # create the missing vX.Y.Z tags locally
    git push origin --tags                   # then publish them

Tests build their temporary template repository with the same functions.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

HEADING = re.compile(r"^\+## \[(\d+\.\d+\.\d+)\]")


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), *args], check=True, capture_output=True, text=True
    ).stdout


def release_points(repo: Path | str = ".") -> list[tuple[str, str]]:
    """Return [(version, commit sha)] oldest first, by the CHANGELOG rule."""
    log = _git(
        Path(repo), "log", "--reverse", "--first-parent", "--format=@@commit %H",
        "-p", "--unified=0", "--", "CHANGELOG.md",
    )
    found: dict[str, str] = {}
    sha = ""
    for line in log.splitlines():
        if line.startswith("@@commit "):
            sha = line.split()[1]
        elif (match := HEADING.match(line)) and match.group(1) not in found:
            found[match.group(1)] = sha
    return sorted(found.items(), key=lambda item: version_key(item[0]))


def version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


def create_tags(repo: Path | str = ".") -> list[str]:
    """Create missing vX.Y.Z tags; refuse to move an existing tag."""
    made = []
    for version, sha in release_points(repo):
        tag = f"v{version}"
        existing = subprocess.run(
            ["git", "-C", str(repo), "rev-parse", "-q", "--verify", f"refs/tags/{tag}^{{commit}}"],
            capture_output=True, text=True,
        ).stdout.strip()
        if existing and existing != sha:
            raise SystemExit(f"tag {tag} exists at {existing[:12]} but the rule says {sha[:12]}")
        if not existing:
            _git(Path(repo), "tag", "-a", tag, sha, "-m", f"Release {version}")
            made.append(tag)
    return made


def main(argv: list[str]) -> int:
    command = argv[1] if len(argv) > 1 else "list"
    if command == "list":
        for version, sha in release_points():
            print(f"v{version}\t{sha}")
    elif command == "tag":
        made = create_tags()
        print("created: " + (", ".join(made) if made else "nothing, all tags exist"))
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
