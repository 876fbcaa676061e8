"""The update ladder: a project rendered at any earlier release, edited by its
team, reaches HEAD with every line the team wrote."""

from __future__ import annotations

import pytest

from testkit.helpers import files_of, git, release, render
from testkit.ladder import (
    ANSWER_SETS, EARLIER, FIXED, apply_user_edits, conflict_markers, lost_lines, own_doc_links_broken,
    migration_versions, recorded_commit, renovate_update, start_project,
)



def test_there_is_history_to_climb():
    assert EARLIER, "no release before HEAD: the ladder would test nothing"


def going_away(src, tmp_path, tag, head, answers) -> set[str]:
    """Files a render at `tag` has and a render at HEAD no longer has."""
    old = render(src, tmp_path / "probe-old", {**FIXED, **answers}, vcs_ref=tag)
    new = render(src, tmp_path / "probe-new", {**FIXED, **answers}, vcs_ref=head)
    return files_of(old) - files_of(new)


@pytest.mark.parametrize("answer_set", ANSWER_SETS)
@pytest.mark.parametrize("tag", EARLIER)
def test_update_to_head_keeps_every_user_line(template_repo, tmp_path, tag, answer_set):
    src, info = template_repo
    answers = ANSWER_SETS[answer_set]
    moving = going_away(src, tmp_path, tag, info["head"], answers)
    project = start_project(src, tmp_path / "project", tag, answers)
    edits = apply_user_edits(project, moving)

    run = renovate_update(project, info["head"], trust=True)
    assert run.returncode == 0, run.stderr

    assert lost_lines(project, edits) == []
    assert conflict_markers(project) == []
    assert not [f for f in files_of(project) if f.endswith((".rej", ".orig"))]
    assert own_doc_links_broken(project, edits) == []
    assert recorded_commit(project) == info["head"]
    for rel in edits.deleted:
        assert not (project / rel).exists(), f"{rel} came back after the team deleted it"
    # The template's side arrived: every file of a fresh HEAD render is there,
    # except what the team deleted before.
    fresh = render(src, tmp_path / "fresh", {**FIXED, **answers}, vcs_ref=info["head"])
    missing = files_of(fresh) - files_of(project) - set(edits.deleted)
    assert missing == set()


@pytest.mark.parametrize("answer_set", ["defaults", "dagster-sqlmesh-snowflake"])
@pytest.mark.parametrize("tag", EARLIER)
def test_update_without_edits_equals_fresh_copy(template_repo, tmp_path, tag, answer_set):
    src, info = template_repo
    answers = ANSWER_SETS[answer_set]
    project = start_project(src, tmp_path / "project", tag, answers)
    run = renovate_update(project, info["head"], trust=True)
    assert run.returncode == 0, run.stderr
    fresh = render(src, tmp_path / "fresh", {**FIXED, **answers}, vcs_ref=info["head"])
    assert files_of(project) == files_of(fresh)
    for rel in files_of(fresh):
        assert (project / rel).read_text() == (fresh / rel).read_text(), rel


def _snapshot(project):
    return {rel: (project / rel).read_bytes() for rel in files_of(project)}, git(project, "status", "--porcelain")


def test_dirty_repo_is_refused_and_left_untouched(template_repo, tmp_path):
    src, info = template_repo
    project = start_project(src, tmp_path / "project", EARLIER[0], {})
    (project / "02_Architecture/system-overview.md").write_text("work in progress\n")
    before = _snapshot(project)
    run = renovate_update(project, info["head"], trust=True)
    assert run.returncode != 0
    assert "dirty" in (run.stderr + run.stdout).lower()
    assert _snapshot(project) == before


def _hops_without_migration(tags: list[str]) -> list[tuple[str, str]]:
    migrations = [release.version_key(v) for v in migration_versions()]
    hops = []
    for old, new in zip(tags, tags[1:]):
        lo, hi = release.version_key(old[1:]), release.version_key(new[1:])
        if not any(lo < m <= hi for m in migrations):
            hops.append((old, new))
    return hops


def test_every_release_that_drops_files_carries_a_migration(template_repo, tmp_path):
    """Copier deletes edited files a release drops; only a migration can save them."""
    src, info = template_repo
    tags = info["releases"] + ([info["head"]] if info["head"] not in info["releases"] else [])
    for answer_set in ("defaults", "dagster-sqlmesh-snowflake"):
        answers = ANSWER_SETS[answer_set]
        for old, new in _hops_without_migration(tags):
            dropped = going_away(src, tmp_path / f"{answer_set}-{old}-{new}", old, new, answers)
            assert dropped == set(), f"{old} -> {new} drops {sorted(dropped)} without a migration"


def test_update_between_releases_without_migration_needs_no_trust(template_repo, tmp_path):
    src, info = template_repo
    tags = info["releases"] + ([info["head"]] if info["head"] not in info["releases"] else [])
    hops = _hops_without_migration(tags)
    assert hops, "no hop without a migration in history"
    old, new = hops[-1]
    project = start_project(src, tmp_path / "project", old, {})
    edits = apply_user_edits(project, set())
    run = renovate_update(project, new, trust=False)
    assert run.returncode == 0, run.stderr
    assert recorded_commit(project) == new
    assert lost_lines(project, edits) == []
