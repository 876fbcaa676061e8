"""Reliability 4: the migration run twice equals once, and killed after any of its writes
then re-run equals the uninterrupted update, byte for byte."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from testkit.figures import say
from testkit.helpers import ROOT, files_of, git, render
from testkit.ladder import (
    ANSWER_SETS, FIXED, copier_cli, lost_lines, renovate_update, start_project, tree_bytes, user_edits,
)

ANSWERS = ".copier-answers.yml"


# A sitecustomize that stops the migration after its n-th write in one stage only
# (DPF_TEST_STOP=after:3: the third write of `v1_1_0.py after ...`).
CRASH_SHIM = ROOT / "testkit" / "crash_shim"


@pytest.fixture(scope="module")
def migration_hop(template_repo, tmp_path_factory):
    """A project at the oldest release with edits to everything the next release moves,
    and the same project updated to HEAD without interruption (the reference)."""
    src, info = template_repo
    base = tmp_path_factory.mktemp("migration")
    answers = ANSWER_SETS["dagster-sqlmesh-snowflake"]  # moves three files, renames an answer
    project = start_project(src, base / "before", info["releases"][0], answers)
    fresh = render(src, base / "new", {**FIXED, **answers}, vcs_ref=info["head"])
    edits = user_edits(project, files_of(project) - files_of(fresh), "ladder")
    reference = base / "reference"
    shutil.copytree(project, reference, symlinks=True)
    run = renovate_update(reference, info["head"], trust=True)
    assert run.returncode == 0, run.stderr
    assert lost_lines(reference, edits) == []
    return {"src": src, "head": info["head"], "project": project, "reference": reference,
            "edits": edits, "base": base}


def _migration(src: Path, project: Path, stage: str, env: dict | None = None):
    return subprocess.run([sys.executable, str(src / "migrations" / "v1_1_0.py"), stage, ANSWERS],
                          cwd=project, capture_output=True, text=True, env=env)


def _clean_env() -> dict:
    return {k: v for k, v in os.environ.items() if k != "DPF_TEST_STOP"}


def test_migration_twice_equals_once(migration_hop, tmp_path):
    hop = migration_hop
    want = tree_bytes(hop["reference"])
    project = tmp_path / "project"
    shutil.copytree(hop["reference"], project, symlinks=True)
    for attempt in range(2):
        for stage in ("before", "after"):
            run = _migration(hop["src"], project, stage, _clean_env())
            assert run.returncode == 0, run.stderr
            assert tree_bytes(project) == want, f"{stage} stage run {attempt + 2} changed the tree"
    # The before stage alone, twice, on the old project: same answers file as once.
    once, twice = tmp_path / "once", tmp_path / "twice"
    for path, times in ((once, 1), (twice, 2)):
        shutil.copytree(hop["project"], path, symlinks=True)
        for _ in range(times):
            assert _migration(hop["src"], path, "before", _clean_env()).returncode == 0
    assert tree_bytes(once) == tree_bytes(twice)
    assert tree_bytes(once) != tree_bytes(hop["project"]), "the before stage did nothing to compare"
    say("migration idempotence: after x3 and before x3 on an updated project, before x2 on the old one: "
        "byte-for-byte equal to one run", "4 migrations", repeated_runs=4, differences=0)


def _kill_and_rerun(hop: dict, workdir: Path, stage: str, n: int) -> str:
    """Update with the migration killed after its n-th write in `stage`, then recover.

    Returns "killed" or "finished" (n was past the stage's last write)."""
    project = workdir / f"{stage}-{n}"
    shutil.copytree(hop["project"], project, symlinks=True)
    env = {**_clean_env(), "DPF_TEST_STOP": f"{stage}:{n}",
           "PYTHONPATH": os.pathsep.join(filter(None, [str(CRASH_SHIM), os.environ.get("PYTHONPATH")]))}
    run = copier_cli(project, "update", "--skip-answered", "--defaults", "--answers-file", ANSWERS,
                     "--vcs-ref", hop["head"], "--trust", env=env)
    if run.returncode == 0:
        outcome = "finished"
    else:
        outcome = "killed"
        assert "returned non-zero exit status 99" in run.stderr, run.stderr[-500:]
        if stage == "after":
            # Copier's update is done; finish the migration by hand, as its docstring says.
            rerun = _migration(hop["src"], project, "after", _clean_env())
            assert rerun.returncode == 0, rerun.stderr
        else:
            # Killed before Copier rendered anything: only the answers file was touched.
            changed = git(project, "status", "--porcelain").splitlines()
            assert [line[3:] for line in changed] == [ANSWERS], changed
            git(project, "checkout", "--", ANSWERS)
            again = renovate_update(project, hop["head"], trust=True)
            assert again.returncode == 0, again.stderr
    assert lost_lines(project, hop["edits"]) == []
    got, want = tree_bytes(project), tree_bytes(hop["reference"])
    assert sorted(got) == sorted(want)
    assert [rel for rel in want if got[rel] != want[rel]] == []
    shutil.rmtree(project)
    return outcome


@pytest.mark.parametrize("stop", ["before:1", "after:1", "after:3"])
def test_migration_killed_then_rerun_fast(migration_hop, tmp_path, stop):
    stage, n = stop.split(":")
    outcome = _kill_and_rerun(migration_hop, tmp_path, stage, int(n))
    assert outcome == "killed"
    say(f"migration killed after write {n} of the {stage} stage, re-run: equal to the uninterrupted "
        f"update, 0 lines lost", "4 migrations", killed_and_rerun=1, lost=0)


@pytest.mark.slow
@pytest.mark.parametrize("stage", ["before", "after"])
def test_migration_killed_at_every_write(migration_hop, tmp_path, stage):
    kills = 0
    for n in range(1, 60):
        if _kill_and_rerun(migration_hop, tmp_path, stage, n) == "finished":
            break
        kills += 1
    else:
        pytest.fail("the migration never finished")
    assert kills >= 1
    say(f"migration {stage} stage: killed at each of its {kills} writes and re-run; all {kills} trees "
        f"equal to the uninterrupted update, 0 lines lost", "4 migrations", killed_and_rerun=kills, lost=0)
