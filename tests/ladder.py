"""The update ladder's building blocks: render a project at a release, apply a
scripted set of user edits, update it the way Renovate does, and check that
nothing the user wrote was lost."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from helpers import broken_links, files_of, git, render

COPIER = [sys.executable, "-m", "copier"]
FIXED = {"created_on": "2026-01-15", "roadmap_start_quarter": "2026-Q1"}

ANSWER_SETS = {
    "defaults": {},
    "dagster-sqlmesh-snowflake": {
        "orchestrator": "dagster", "transformation_tool": "sqlmesh", "warehouse": "snowflake",
        "product_name": "Customer 360", "ci_provider": "gitlab", "ci_platform": "gitlab",
    },
    "prefect-none-bigquery": {
        "orchestrator": "prefect", "transformation_tool": "none", "warehouse": "bigquery",
        "product_audience": "both", "ci_provider": "none", "ci_platform": "none",
    },
    "none-dbt-postgres": {"orchestrator": "none", "transformation_tool": "dbt", "warehouse": "postgres"},
}


def copier_cli(cwd: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([*COPIER, *args], cwd=cwd, capture_output=True, text=True, env=env)


def renovate_update(project: Path, tag: str, trust: bool, answers_file: str = ".copier-answers.yml"):
    """Exactly what Renovate 44's copier manager runs, from the answers file's folder."""
    args = ["update", "--skip-answered", "--defaults", "--answers-file", answers_file, "--vcs-ref", tag]
    if trust:
        args.append("--trust")
    return copier_cli(project, *args)


def start_project(src: Path, dst: Path, tag: str, answers: dict) -> Path:
    render(src, dst, {**FIXED, **answers}, vcs_ref=tag)
    git(dst, "init", "-q", "-b", "main")
    commit_all(dst, f"Render {tag}")
    return dst


def commit_all(project: Path, message: str) -> None:
    git(project, "add", "-A")
    git(project, "commit", "-q", "--allow-empty", "-m", message)


@dataclass
class UserEdits:
    """What the scripted team wrote, to look for after the update."""

    lines: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    own_doc: str = "02_Architecture/decisions/0001-team-notes.md"


def apply_user_edits(project: Path, going_away: set[str]) -> UserEdits:
    """A team's month of work: edits, an own doc with links, a deleted doc, and
    edits to every doc the newer release moves or removes (`going_away`)."""
    edits = UserEdits()
    n = 0

    def note(about: str) -> str:
        nonlocal n
        n += 1
        line = f"Team note {n}: we decided this about {about} after the March review."
        edits.lines.append(line)
        return line

    # Edit a staying doc in the middle (after its title) and at the end.
    for rel in ("02_Architecture/system-overview.md", "09_Docs_Internal/onboarding.md"):
        path = project / rel
        text = path.read_text().split("\n")
        title = next(i for i, line in enumerate(text) if line.startswith("# "))
        text[title + 1 : title + 1] = ["", note(rel)]
        path.write_text("\n".join(text) + f"\n{note(rel + ' (end)')}\n")

    # Edit every doc that a later release moves or deletes.
    for rel in sorted(going_away):
        if rel.endswith(".md"):
            path = project / rel
            path.write_text(path.read_text() + f"\n{note(rel)}\n")

    # An own doc that links to everything that moves.
    own = project / edits.own_doc
    own.parent.mkdir(parents=True, exist_ok=True)
    links = "\n".join(
        f"- [{Path(rel).stem}](../../{rel})"
        for rel in sorted(going_away) if rel.endswith(".md")
    )
    own.write_text(f"# Team notes\n\n{note('our own decisions')}\n\nRead with:\n\n{links}\n")

    # Delete a doc the team does not want.
    gone = "11_Learning/papers/event-driven-architectures.md"
    (project / gone).unlink()
    edits.deleted.append(gone)
    commit_all(project, "Team edits")
    return edits


def all_text(project: Path) -> str:
    return "\n".join(
        (project / rel).read_text(errors="replace") for rel in sorted(files_of(project))
    )


def lost_lines(project: Path, edits: UserEdits) -> list[str]:
    text = all_text(project)
    return [line for line in edits.lines if line not in text]


def conflict_markers(project: Path) -> list[str]:
    found = []
    for rel in sorted(files_of(project)):
        for n, line in enumerate((project / rel).read_text(errors="replace").splitlines(), 1):
            if line.startswith(("<<<<<<< ", ">>>>>>> ")) or line == "=======":
                found.append(f"{rel}:{n}")
    return found


def recorded_commit(project: Path, answers_file: str = ".copier-answers.yml") -> str:
    return yaml.safe_load((project / answers_file).read_text())["_commit"]


def own_doc_links_broken(project: Path, edits: UserEdits) -> list[str]:
    return [b for b in broken_links(project) if b.startswith(edits.own_doc)]
