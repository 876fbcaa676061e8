"""Several products in one repository: adding one the way teams did before tools/dpf.py,
and the edits and conflict handling the multi-product tests script."""

from __future__ import annotations

from pathlib import Path

from testkit.helpers import git
from testkit.ladder import FIXED, conflict_markers, copier_cli


def add_product_with_copier(project: Path, tag: str, src: Path, name: str, slug: str) -> Path:
    """What a team did before tools/dpf.py existed: the raw command from the index doc."""
    run = copier_cli(
        project, "copy", "--defaults", "--vcs-ref", tag, "--data", "scope=product",
        "--data", f"product_name={name}", "--data", f"product_slug={slug}",
        "--data", f"created_on={FIXED['created_on']}", str(src), f"01_Data_Products/{slug}",
    )
    assert run.returncode == 0, run.stderr
    return project / "01_Data_Products" / slug


def edit(path: Path, line: str) -> str:
    path.write_text(path.read_text() + f"\n{line}\n")
    return line


def conflicting_edit(src: Path, project: Path, old: str, new: str) -> str:
    """Rewrite, in the project's README.md, a line that release `new` changes too (read from
    the template's own diff: a line without Jinja renders as it is): a true conflict for the
    root's update. Returns the team's line."""
    diff = git(src, "diff", old, new, "--", "template/README.md.jinja").split("\n")
    readme = project / "README.md"
    text = readme.read_text()
    line = next(l[1:] for l in diff if l.startswith("-") and not l.startswith("---") and len(l) > 20
                and "{{" not in l and "{%" not in l and text.count(l[1:] + "\n") == 1)
    mine = f"Our wording, agreed with the board: {line}"
    readme.write_text(text.replace(line + "\n", mine + "\n"))
    return mine


def marked_files(tree: Path) -> set[str]:
    """Files with conflict markers (not the docs site's links to them)."""
    return {m.split(":")[0] for m in conflict_markers(tree) if not (tree / m.split(":")[0]).is_symlink()}


def resolve_keeping_both(project: Path) -> None:
    """What a team often does with a conflict: keep both sides, drop the markers."""
    for where in {m.split(":")[0] for m in conflict_markers(project)}:
        path = project / where
        lines = path.read_text().split("\n")
        kept = [l for l in lines if not (l.startswith(("<<<<<<< ", ">>>>>>> ")) or l == "=======")]
        path.write_text("\n".join(kept))
