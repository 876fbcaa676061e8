"""Renovate's exact command line, non-interactively: routine bumps need no
trust; a bump that carries a migration fails cleanly without it."""

from __future__ import annotations

import yaml

from testkit.helpers import files_of, git
from testkit.ladder import (
    EARLIER, apply_user_edits, lost_lines, migration_versions, recorded_commit, renovate_update, start_project,
)


def _first_release_before_a_migration() -> str:
    first_migration = min(migration_versions(), key=lambda v: tuple(map(int, v.split("."))))
    return next(t for t in reversed(EARLIER) if tuple(map(int, t[1:].split("."))) < tuple(map(int, first_migration.split("."))))


def _snapshot(project):
    return {rel: (project / rel).read_bytes() for rel in files_of(project)}, git(project, "log", "--oneline")


def test_migration_bump_without_trust_fails_and_changes_nothing(template_repo, tmp_path):
    src, info = template_repo
    project = start_project(src, tmp_path / "project", _first_release_before_a_migration(), {})
    before = _snapshot(project)
    run = renovate_update(project, info["head"], trust=False)
    assert run.returncode == 4, run.stderr
    assert "Template uses potentially unsafe feature: migrations" in run.stderr
    assert "--trust" in run.stderr
    assert _snapshot(project) == before
    assert git(project, "status", "--porcelain") == ""


def test_migration_bump_with_trust_succeeds(template_repo, tmp_path):
    src, info = template_repo
    project = start_project(src, tmp_path / "project", _first_release_before_a_migration(), {})
    edits = apply_user_edits(project, set())
    run = renovate_update(project, info["head"], trust=True)
    assert run.returncode == 0, run.stderr
    assert recorded_commit(project) == info["head"]
    assert lost_lines(project, edits) == []
    assert "[data-product-framework" in run.stdout + run.stderr  # the migration's summary


def test_generated_repo_ships_renovate_config_and_conflict_check(copie):
    result = copie.copy()
    config = (result.project_dir / "renovate.json5").read_text()
    assert "copier" in config and "--trust" in config
    # One branch per answers file (tests/test_renovate_real.py runs it with the real client).
    assert "additionalBranchPrefix: '{{#if packageFileDir}}{{{packageFileDir}}}/{{/if}}'" in config
    hooks = yaml.safe_load((result.project_dir / ".pre-commit-config.yaml").read_text())["repos"][0]["hooks"]
    assert "copier-update-not-applied" in {hook["id"] for hook in hooks}
    workflow = yaml.safe_load((result.project_dir / ".github/workflows/checks.yml").read_text())
    steps = [s.get("run", "") for job in workflow["jobs"].values() for s in job["steps"]]
    assert any("<<<<<<<" in run for run in steps)
