"""migrations/helpers.py record_earlier_updates_in_index: what the root's update
left in the working tree becomes visible to a product update's index snapshot."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from migrations import helpers as migration_helpers
from testkit.helpers import git
from testkit.ladder import tree_bytes
from testkit.tree import git_repo

ODD = "09_Docs/we*ird [name] ü.md"  # glob characters and non-ASCII: taken literally


def blob(repo: Path, text: str) -> str:
    return subprocess.run(["git", "hash-object", "-w", "--stdin"], cwd=repo, input=text,
                          capture_output=True, text=True, check=True).stdout.strip()


def leave_unmerged(repo: Path, rel: str, worktree_text: str) -> None:
    """What Copier's inline conflict leaves: stages 1-3 in the index, markers in the file."""
    info = "".join(f"100644 {blob(repo, side + chr(10))} {stage}\t{rel}\n"
                   for stage, side in ((1, "base"), (2, "ours"), (3, "theirs")))
    subprocess.run(["git", "update-index", "--index-info"], cwd=repo, input=f"0 {'0' * 40}\t{rel}\n" + info,
                   text=True, check=True)
    (repo / rel).write_text(worktree_text)


@pytest.fixture
def repo(tmp_path) -> Path:
    return git_repo(tmp_path, {"README.md": "root\n", "gone.md": "moved away\n", ODD: "odd\n",
                               "01_Data_Products/p/spec.md": "spec\n", "01_Data_Products/p/mine.md": "mine\n",
                               "01_Data_Products/p/.copier-answers.yml": "_commit: v1\n"})


def test_product_update_sees_what_the_root_update_left(repo):
    # The root's update: a file moved away, one with an odd name removed, README.md conflicted.
    (repo / "gone.md").unlink()
    (repo / ODD).unlink()
    markers = "<<<<<<< before updating\nours\n=======\ntheirs\n>>>>>>> after updating\n"
    leave_unmerged(repo, "README.md", markers)
    # Inside the product: a deletion that is this update's own business.
    (repo / "01_Data_Products/p/mine.md").unlink()
    before = tree_bytes(repo)
    assert subprocess.run(["git", "write-tree"], cwd=repo, capture_output=True).returncode != 0

    done = migration_helpers.record_earlier_updates_in_index(repo / "01_Data_Products/p")

    assert done == {"deletions": [ODD, "gone.md"], "unmerged": ["README.md"]}
    assert tree_bytes(repo) == before  # only the index changed
    assert git(repo, "ls-files", "-u") == ""
    assert git(repo, "show", ":README.md") == markers
    staged = git(repo, "-c", "core.quotepath=off", "diff", "--cached", "--name-status", "--no-renames").splitlines()
    assert sorted(staged) == sorted(["D\tgone.md", f"D\t{ODD}", "M\tREADME.md"])
    assert "01_Data_Products/p/mine.md" in git(repo, "ls-files")
    git(repo, "write-tree")


def test_nothing_to_record_at_the_root_or_in_a_clean_tree(repo):
    (repo / "gone.md").unlink()
    assert migration_helpers.record_earlier_updates_in_index(repo) == {"deletions": [], "unmerged": []}
    assert "gone.md" in git(repo, "ls-files")
    (repo / "gone.md").write_text("moved away\n")
    assert migration_helpers.record_earlier_updates_in_index(repo / "01_Data_Products/p") == {
        "deletions": [], "unmerged": []}
    assert git(repo, "status", "--porcelain") == ""
