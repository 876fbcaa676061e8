"""A note a team appends at the end of a file survives a release without a conflict.

Copier's update (Renovate runs the same) re-applies the team's edits to the new release as a
diff; a hunk that only appends applies only where its context still ends the file, and otherwise
Copier merges the file three ways (git merge-file). That merge is clean as long as the file's
last line is the same in both releases: the appended note and the release's changes are then
apart. A release that changes the last line, or adds lines after it, puts every appended note in
a conflict a human must resolve. Teams append all the time (a note under a runbook, a pattern at
the end of .gitignore, a target at the end of the Makefile), so a release keeps the last line of
every file it writes. A release that must change one lists it in ENDINGS_CHANGED, and its
CHANGELOG entry says so.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from testkit.helpers import git, render
from testkit.ladder import ANSWER_SETS, FIXED, commit_all, renovate_update, tree_bytes
from testkit.tree import git_repo

# Files whose last line changes between the previous release and HEAD, on purpose:
# {path in the render: why}. Empty it in the first commit after the release that changes them.
ENDINGS_CHANGED: dict[str, str] = {}


def last_line(data: bytes) -> bytes | None:
    lines = data.splitlines()
    return lines[-1] if lines else None


def written_files(root: Path) -> dict[str, bytes]:
    return {rel: data for rel, data in tree_bytes(root).items() if not rel.endswith(".copier-answers.yml")}


def compared_release(info: dict) -> str:
    """The release HEAD is held to: the newest one, or the one before when HEAD is a release.
    (Not info["previous"], which picks the newest release whose README differs from HEAD's.)"""
    releases = [tag for tag in info["releases"] if tag != info["head"]]
    return releases[-1]


# ----------------------------------------------------------------------------
#  The rule, on a template made here: what Copier does with an appended line
# ----------------------------------------------------------------------------
def tiny_template(root: Path, releases: list[str]) -> Path:
    """A template repository whose release i writes notes.md with the text releases[i]."""
    git_repo(root, {"copier.yml": "_subdirectory: t\n",
                    "t/{{ _copier_conf.answers_file }}.jinja": "{{ _copier_answers|to_nice_yaml -}}\n"})
    for number, text in enumerate(releases, start=1):
        (root / "t" / "notes.md").write_text(text)
        commit_all(root, f"release {number}")
        git(root, "tag", f"v{number}.0.0")
    return root


LINES = [f"line {n}\n" for n in range(1, 9)]


@pytest.mark.parametrize(("release", "conflicts"), [
    ({2: "line 2 (revised)\n"}, False),
    ({7: "line 7 (revised)\n"}, False),
    ({7: "line 7\nline 7b\n"}, False),
    ({8: "line 8 (revised)\n"}, True),
    ({8: "line 8\nline 9\n"}, True),
], ids=["middle-line-changed", "next-to-last-changed", "line-inserted-before-the-last", "last-line-changed",
        "line-added-at-the-end"])
def test_an_appended_note_conflicts_only_when_the_release_changes_the_last_line(tmp_path, release, conflicts):
    first = "".join(LINES)
    second = "".join(release.get(n, line) for n, line in enumerate(LINES, start=1))
    src = tiny_template(tmp_path / "template", [first, second])
    project = render(src, tmp_path / "project", vcs_ref="v1.0.0")
    git(project, "init", "-q", "-b", "main")
    notes = project / "notes.md"
    notes.write_text(first + "\nOur team's note.\n")
    commit_all(project, "Team note")
    result = renovate_update(project, "v2.0.0", trust=False)
    assert result.returncode == 0, result.stderr
    text = notes.read_text()
    assert "Our team's note." in text  # kept either way; the question is whether a human must step in
    assert ("<<<<<<<" in text) is conflicts, text
    if not conflicts:
        assert text == second + "\nOur team's note.\n"


# ----------------------------------------------------------------------------
#  The template's releases keep to it
# ----------------------------------------------------------------------------
STACKS = {**ANSWER_SETS, "databricks": {"warehouse": "databricks"}}


@pytest.mark.parametrize("stack", sorted(STACKS))
def test_every_file_keeps_its_last_line_since_the_previous_release(template_repo, tmp_path, stack):
    src, info = template_repo
    base = compared_release(info)
    answers = {**FIXED, **STACKS[stack]}
    answers.pop("ci_provider", None)  # the answer's name before 1.1.0; both releases here ask ci_platform
    before = written_files(render(src, tmp_path / "before", answers, vcs_ref=base))
    after = written_files(render(src, tmp_path / "after", answers, vcs_ref=info["head"]))
    common = sorted(set(before) & set(after))
    assert len(common) > 80, (base, common)
    changed = {rel for rel in common if last_line(before[rel]) != last_line(after[rel])}
    unexpected = sorted(changed - set(ENDINGS_CHANGED))
    assert not unexpected, (
        f"{base} -> HEAD changes the last line of {unexpected}: a note a team appended to "
        "one of them would come back as a conflict. Keep the ending (add text above it), or list "
        "the file in ENDINGS_CHANGED and say so in the CHANGELOG.")

