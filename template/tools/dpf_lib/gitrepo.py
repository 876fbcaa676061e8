"""Git plumbing the tools share: the index, HEAD's tree, blobs, the answers files git knows."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from pathlib import Path

from .markdown import read_flat_yaml
from .settings import ANSWERS_FILE, DpfError


def posix_dirname(rel: str) -> str:
    return rel.rsplit("/", 1)[0] if "/" in rel else ""


def parents(path: str) -> list[str]:
    parts = path.split("/")
    return ["/".join(parts[:n]) for n in range(1, len(parts))]


def git_bytes(root: Path, *args: str, input: bytes | None = None, check: bool = True) -> bytes:
    result = subprocess.run(["git", *args], cwd=root, input=input, capture_output=True)
    if check and result.returncode != 0:
        raise DpfError(f"`git {' '.join(args[:3])}` failed: "
                       f"{result.stderr.decode('utf-8', 'replace').strip()[:300]}")
    return result.stdout


def git_dir(root: Path) -> Path | None:
    result = subprocess.run(["git", "rev-parse", "--absolute-git-dir"], cwd=root, capture_output=True)
    return Path(os.fsdecode(result.stdout.strip())) if result.returncode == 0 else None


def porcelain(root: Path) -> list[tuple[str, str]]:
    """(XY, path) of every change `git status` shows, untracked files one by one."""
    raw = git_bytes(root, "status", "--porcelain", "-z", "--untracked-files=all", "--no-renames")
    return [(item[:2].decode(), os.fsdecode(item[3:])) for item in raw.split(b"\0") if item]


def index_entries(root: Path, *paths: str) -> dict[str, list[tuple[str, str, str]]]:
    """path -> [(mode, sha, stage)] of git's index (several stages for an unmerged file)."""
    raw = git_bytes(root, "ls-files", "-s", "-z", "--", *paths) if paths else git_bytes(root, "ls-files", "-s", "-z")
    out: dict[str, list[tuple[str, str, str]]] = {}
    for item in raw.split(b"\0"):
        if item:
            meta, _, path = item.partition(b"\t")
            mode, sha, stage = meta.decode().split()
            out.setdefault(os.fsdecode(path), []).append((mode, sha, stage))
    return out


def unmerged(root: Path) -> list[str]:
    raw = git_bytes(root, "ls-files", "-u", "-z", check=False)
    return sorted({os.fsdecode(item.partition(b"\t")[2]) for item in raw.split(b"\0") if item})


def head_tree(root: Path) -> dict[str, str]:
    """path -> git mode of every file HEAD holds (100644, 100755, 120000 symlink, 160000 submodule)."""
    raw = git_bytes(root, "ls-tree", "-r", "-z", "--full-tree", "HEAD")
    out = {}
    for item in raw.split(b"\0"):
        if item:
            meta, _, path = item.partition(b"\t")
            out[os.fsdecode(path)] = meta.split()[0].decode()
    return out


def head_blob(root: Path, rel: str) -> bytes | None:
    result = subprocess.run(["git", "cat-file", "blob", f"HEAD:{rel}"], cwd=root, capture_output=True)
    return result.stdout if result.returncode == 0 else None


def blob_sha(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def answers_at(root: Path, rev: str, rel: str) -> dict[str, str | None] | None:
    result = subprocess.run(["git", "show", f"{rev}:{rel}"], cwd=root, capture_output=True)
    if result.returncode != 0:
        return None
    try:
        return read_flat_yaml(result.stdout.decode("utf-8"))[0]
    except (ValueError, UnicodeDecodeError):
        return None


def read_json(path: Path) -> dict | None:
    try:
        return json.loads(path.read_bytes().decode("utf-8"))
    except (OSError, ValueError):
        return None


def answers_files(root: Path) -> list[str]:
    """Every answers file git knows in this repository, sorted by path (Renovate's order)."""
    raw = git_bytes(root, "ls-files", "-z", "--", ANSWERS_FILE, f"*/{ANSWERS_FILE}", check=False)
    found = {os.fsdecode(item) for item in raw.split(b"\0") if item}
    return sorted(found)


def last_commits(root: Path, files: list[str]) -> dict[str, str]:
    """The last commit that touched each of `files`, from one `git log`."""
    if not files:
        return {}
    log = subprocess.run(["git", "log", "--format=%x01%H", "--name-only", "-z", "--", *files], cwd=root,
                         capture_output=True)
    last: dict[str, str] = {}
    sha = ""
    for item in log.stdout.split(b"\0"):
        for part in item.split(b"\n"):
            if part.startswith(b"\x01"):
                sha = part[1:].decode()
            elif part and sha:
                last.setdefault(os.fsdecode(part), sha)
    return last


def touched_files(root: Path, sha: str) -> set[str]:
    raw = git_bytes(root, "show", "--name-only", "-z", "--format=", sha, check=False)
    return {os.fsdecode(n).strip("\n") for n in raw.split(b"\0") if n.strip(b"\n")}


