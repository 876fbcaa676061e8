"""Small file trees for unit tests, written from a dict as Copier's own tests do."""

from __future__ import annotations

from pathlib import Path
from typing import Mapping

from testkit.helpers import git


class Symlink(str):
    """A tree entry that is a symbolic link to this target."""


def build_file_tree(root: Path, files: Mapping[str, str | bytes | Symlink]) -> Path:
    """Write `files` below root: text as UTF-8, bytes exactly, Symlink entries as links."""
    root.mkdir(parents=True, exist_ok=True)
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, Symlink):
            path.symlink_to(str(content))
        else:
            path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return root


def git_repo(root: Path, files: Mapping[str, str | bytes | Symlink] = {}, message: str = "start") -> Path:
    """A git repository on branch main with `files` committed (no commit when there are none)."""
    build_file_tree(root, files)
    git(root, "init", "-q", "-b", "main")
    if files:
        git(root, "add", "-A")
        git(root, "commit", "-q", "-m", message)
    return root
