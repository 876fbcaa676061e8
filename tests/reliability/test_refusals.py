"""Reliability 5: refusals. A dirty repository, a missing or corrupted answers file, an
unknown _commit, a downgrade: Renovate's command line and the generated repository's
`tools/dpf.py update` both refuse and leave the repository byte-for-byte unchanged; dpf says
what is wrong and how to fix it where Copier 9 prints a traceback."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from testkit.figures import say
from testkit.helpers import git
from testkit.ladder import renovate_update, start_project, tree_bytes

ANSWERS = ".copier-answers.yml"
TRACEBACK = "Traceback (most recent call last)"


def _snapshot(project: Path) -> tuple:
    return (tree_bytes(project), git(project, "rev-parse", "HEAD"), git(project, "status", "--porcelain"),
            git(project, "stash", "list"))


def _rewrite_answers(edit):
    def apply(project: Path, info: dict) -> None:
        path = project / ANSWERS
        path.write_bytes(edit(path.read_bytes()))
        git(project, "commit", "-q", "-am", "Hand-edited answers")
    return apply


def _dirty(project: Path, info: dict) -> None:
    path = project / "02_Architecture/system-overview.md"
    path.write_text(path.read_text() + "\nwork in progress\n")


def _untracked(project: Path, info: dict) -> None:
    (project / "notes.md").write_text("a new file nobody committed\n")


def _missing(project: Path, info: dict) -> None:
    git(project, "rm", "-q", ANSWERS)
    git(project, "commit", "-q", "-m", "Lost the answers file")


def _at_head(project: Path, info: dict) -> None:
    shutil.rmtree(project)
    start_project(info["src"], project, info["head"], {})


def _drop_key(key: str):
    return _rewrite_answers(lambda b: b"".join(l for l in b.splitlines(True) if not l.startswith(key.encode())))


REFUSALS = {
    # name: (set-up, target, what Copier's own message says or None where Copier 9 prints a
    #        traceback, what `tools/dpf.py update` says)
    "dirty-tracked": (_dirty, "head", "dirty", "uncommitted changes"),
    "dirty-untracked": (_untracked, "head", "dirty", "uncommitted changes"),
    "answers-missing": (_missing, "head", "cannot obtain old template references", "is missing"),
    "answers-without-_commit": (_drop_key("_commit"), "head", "cannot obtain old template references",
                                "has no _commit"),
    "answers-without-_src_path": (_drop_key("_src_path"), "head", "cannot obtain old template references",
                                  "has no _src_path"),
    "answers-invalid-yaml": (_rewrite_answers(lambda b: b + b"broken: [unclosed\n  : :\n"), "head",
                             None, "is not valid YAML"),
    "answers-empty": (_rewrite_answers(lambda b: b"# nothing but a comment\n"), "head", None, "holds no answers"),
    "answers-binary": (_rewrite_answers(lambda b: b"\x00\xff\xfe garbage"), "head", None, "is not text"),
    "unknown-_commit": (_rewrite_answers(lambda b: re.sub(rb"_commit: \S+", b"_commit: v0.9.0", b)), "head",
                        None, "has no such release"),
    "unknown-_commit-sha": (_rewrite_answers(lambda b: re.sub(rb"_commit: \S+", b"_commit: " + b"deadbeef" * 5, b)),
                            "head", None, "could not find the template revision"),
    "downgrade": (_at_head, "oldest", "Downgrades are not supported", "older than"),
}


@pytest.fixture(scope="module")
def refusal_base(template_repo, tmp_path_factory):
    src, info = template_repo
    return start_project(src, tmp_path_factory.mktemp("refusal") / "base", info["releases"][0], {})


@pytest.mark.parametrize("case", REFUSALS)
def test_refusal_is_clear_and_changes_nothing(template_repo, refusal_base, tmp_path, case):
    """Renovate's command and the repository's own `dpf.py update` both refuse and change no
    byte; dpf always says what is wrong and how to fix it, Copier does where it can."""
    src, info = template_repo
    setup, target, copier_says, dpf_says = REFUSALS[case]
    project = tmp_path / "project"
    shutil.copytree(refusal_base, project, symlinks=True)
    setup(project, {**info, "src": src})
    tag = info["head"] if target == "head" else info["releases"][0]
    before = _snapshot(project)

    run = renovate_update(project, tag, trust=True)
    assert run.returncode != 0
    assert _snapshot(project) == before, "Copier's refused update changed the repository"
    output = run.stdout + run.stderr
    if copier_says:
        assert TRACEBACK not in output and copier_says.lower() in output.lower(), output[-800:]
    else:
        assert TRACEBACK in output, f"Copier now explains {case} itself; record its message:\n{output[-800:]}"

    # The tool as this release ships it, run against the team's repository.
    dpf = subprocess.run([sys.executable, str(src / "template/tools/dpf.py"), "--root", str(project),
                          "update", "--to", tag, "--trust"], capture_output=True, text=True)
    assert dpf.returncode != 0
    assert _snapshot(project) == before, "dpf's refused update changed the repository"
    said = dpf.stdout + dpf.stderr
    assert TRACEBACK not in said and dpf_says.lower() in said.lower(), said[-800:]
    assert "nothing was changed" in said or copier_says, said[-800:]
    say(f"refusal {case}: repository unchanged; Copier: "
        f"{'clear message' if copier_says else 'traceback'}; dpf.py update: {said.strip().splitlines()[-1][:140]}",
        "5 refusals", cases=1, unchanged=1, clear_from_copier=int(bool(copier_says)), clear_from_dpf=1)
