"""Several products in one repository: adding one the way teams did before tools/dpf.py,
and the edits and conflict handling the multi-product tests script."""

from __future__ import annotations

from pathlib import Path

import copier
import yaml

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
    """Rewrite, in the project's README.md, a line that release `new` really changes: a line of
    the project's README (rendered from `old`) that a render of `new` with the same answers no
    longer has. A true conflict for the root's update. Returns the team's line.
    (A line whose template source changed may still render the same, e.g. a word moved into a
    macro, so the template's diff alone is not enough.)"""
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text())
    data = {key: value for key, value in answers.items() if not key.startswith("_")}
    fresh = project.parent / f"{project.name}-render-of-{new}"
    if not fresh.exists():
        copier.run_copy(str(src), fresh, vcs_ref=new, data=data, defaults=True, quiet=True, unsafe=False)
    later = set((fresh / "README.md").read_text().split("\n"))
    readme = project / "README.md"
    text = readme.read_text()
    line = next(l for l in text.split("\n")
                if len(l) > 20 and l not in later and text.count(l + "\n") == 1 and not l.startswith(("#", "|", "```")))
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
