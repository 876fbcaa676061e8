"""Reliability 3: update safety. Corpora of user edits x every release hop x two stacks,
with Renovate's command line: user lines lost = 0, nothing the team deleted comes back, and
a team document's links break only where the team deleted the target."""

from __future__ import annotations

import posixpath

import pytest

from testkit.figures import say
from testkit.helpers import files_of, render
from testkit.ladder import (
    ANSWER_SETS, EARLIER, EDIT_CORPORA, FIXED, STACKS, conflict_markers, lost_lines, own_doc_links_broken,
    recorded_commit, renovate_update, start_project, user_edits,
)


CORPORA = [name for name in EDIT_CORPORA if name != "ladder"]  # "ladder" runs in tests/test_update_ladder.py


def _update_safety(template_repo, tmp_path, corpus, hop, stack) -> None:
    src, info = template_repo
    old, new = hop
    answers = ANSWER_SETS[stack]
    project = start_project(src, tmp_path / "project", old, answers)
    fresh = render(src, tmp_path / "new", {**FIXED, **answers}, vcs_ref=new)
    going_away = files_of(project) - files_of(fresh)
    edits = user_edits(project, going_away, corpus, tag=corpus)
    run = renovate_update(project, new, trust=True)
    lost = lost_lines(project, edits) if run.returncode == 0 else edits.lines
    conflicts = conflict_markers(project)
    say(f"update safety {corpus} {old}->{new} {stack}: {len(edits.lines)} user lines, {len(lost)} lost, "
        f"{len(conflicts)} conflict markers, {len(going_away)} files moved or removed by the release",
        "3 update safety: user edits x release hops", hops=1, user_lines=len(edits.lines), lost=len(lost))
    assert run.returncode == 0, run.stderr
    assert lost == []
    assert recorded_commit(project) == new
    assert not [f for f in files_of(project) if f.endswith((".rej", ".orig", ".dpf-tmp"))]
    for rel in edits.deleted:
        assert not (project / rel).exists(), f"{rel} came back"
    # A link may only break where the team itself deleted the target (or the
    # file a release moved it to, which the migration then leaves deleted).
    deleted_by_team = set(edits.deleted) | (files_of(fresh) - files_of(project))
    unexplained = [
        b for b in own_doc_links_broken(project, edits)
        if posixpath.normpath(posixpath.join(posixpath.dirname(b.split(":")[0]), b.split(": ", 1)[1].split("#")[0]))
        not in deleted_by_team
    ]
    assert unexplained == []


FAST_UPDATE = [("random-1", "dagster-sqlmesh-snowflake")]


@pytest.mark.parametrize("corpus,stack", FAST_UPDATE)
def test_update_keeps_every_user_line_fast(template_repo, tmp_path, corpus, stack):
    _, info = template_repo
    oldest_to_head = (info["releases"][0], info["head"])
    _update_safety(template_repo, tmp_path, corpus, oldest_to_head, stack)


# Every hop between two releases, or a release and HEAD, from main's history by the
# CHANGELOG rule ("HEAD" is what the template repo fixture tags above the last release).
_TAGS = EARLIER + ["HEAD"]
HOPS = [(old, new) for i, old in enumerate(_TAGS) for new in _TAGS[i + 1:]]


# Every corpus x stack x hop, less the one case the fast slice already runs.
EVERY_HOP = [(corpus, stack, hop) for corpus in CORPORA for stack in STACKS for hop in HOPS
             if not ((corpus, stack) in FAST_UPDATE and hop == (_TAGS[0], "HEAD"))]


@pytest.mark.slow
@pytest.mark.parametrize("corpus,stack,hop", EVERY_HOP, ids=lambda v: v if isinstance(v, str) else f"{v[0]}-{v[1]}")
def test_update_keeps_every_user_line_every_hop(template_repo, tmp_path, corpus, stack, hop):
    _, info = template_repo
    hop = tuple(info["head"] if tag == "HEAD" else tag for tag in hop)
    _update_safety(template_repo, tmp_path, corpus, hop, stack)
