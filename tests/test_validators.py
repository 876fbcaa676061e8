"""Bad answers get a clear message and nothing is written."""

from __future__ import annotations

import subprocess
import sys

import copier
import pytest
import yaml

from testkit.helpers import ROOT

BAD = [
    # question, value, part of the message the user must see
    ("project_name", "", "must not be empty"),
    ("project_name", "x" * 61, "keep it to 60 or fewer"),
    ("project_name", "{{ 7 * 7 }}", "must start with a letter or digit"),
    ("project_name", "Acme\nAnalytics", "control or invisible"),
    ("project_name", " Acme", "must not start or end with a space"),
    ("project_slug", "../escape", "one safe folder name"),
    ("project_slug", "/etc", "one safe folder name"),
    ("product_name", "Orders\u202e", "control or invisible"),
    ("product_slug", "..", "one safe folder name"),
    ("product_slug", ".hidden", "one safe folder name"),
    ("product_slug", "Orders", "one safe folder name"),
    ("product_slug", "a/b", "one safe folder name"),
    ("product_slug", "has space", "one safe folder name"),
    ("product_slug", "a" * 41, "keep it to 40 or fewer"),
    ("product_purpose", "short", "too short"),
    ("product_purpose", "Uses {% raw %} to break things in templates", "plain prose"),
    ("product_purpose", "two\nlines of purpose text here", "single line"),
    ("product_purpose", "y" * 201, "at most 200 characters"),
    ("team_name", "x\x00y", "control or invisible"),
    ("team_email", "not-an-email", "one e-mail address"),
    ("team_email", "a@b", "one e-mail address"),
    ("team_email", "data@@example.com", "one e-mail address"),
    ("roadmap_start_quarter", "2026-Q5", "must look like 2026-Q3"),
    ("roadmap_start_quarter", "Q1 2026", "must look like 2026-Q3"),
    ("created_on", "26/11/2026", "YYYY-MM-DD"),
    ("created_on", "2026-13-01", "YYYY-MM-DD"),
]


@pytest.mark.parametrize("question,value,message", BAD, ids=[f"{q}-{i}" for i, (q, _, _) in enumerate(BAD)])
def test_bad_answer_is_rejected_and_nothing_is_written(tmp_path, question, value, message):
    dst = tmp_path / "project"
    with pytest.raises(ValueError) as error:
        copier.run_copy(str(ROOT), str(dst), data={question: value}, defaults=True, vcs_ref="HEAD", quiet=True)
    assert f"question '{question}'" in str(error.value)
    assert message in str(error.value)
    assert not dst.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_every_default_passes_its_validator(tmp_path):
    copier.run_copy(str(ROOT), str(tmp_path / "p"), defaults=True, vcs_ref="HEAD", quiet=True)
    assert (tmp_path / "p" / ".copier-answers.yml").is_file()


def test_cli_shows_the_validator_message(tmp_path):
    dst = tmp_path / "project"
    run = subprocess.run(
        [sys.executable, "-m", "copier", "copy", "--defaults", "--vcs-ref", "HEAD",
         "--data", "product_slug=../../outside", str(ROOT), str(dst)],
        capture_output=True, text=True,
    )
    assert run.returncode != 0
    assert "product_slug must be one safe folder name" in run.stderr
    assert not dst.exists() and not (tmp_path / "outside").exists()


def test_help_texts_state_the_limits_their_validators_enforce():
    questions = yaml.safe_load((ROOT / "copier.yml").read_text())
    limits = {
        "project_name": ["1-60 characters", "letter or digit"],
        "product_name": ["1-60 characters", "letter or digit"],
        "team_name": ["1-60 characters", "letter or digit"],
        "project_slug": ["at most 40 characters", "lowercase", "single hyphens"],
        "product_slug": ["at most 40 characters", "lowercase", "single hyphens"],
        "product_purpose": ["10-200 characters", "one line", "Markdown links"],
        "team_email": ["data-team@example.com"],
        "roadmap_start_quarter": ["YYYY-QN", "2000 to 2099"],
        "created_on": ["YYYY-MM-DD", "not in the future"],
    }
    for question, phrases in limits.items():
        help_text = " ".join(questions[question]["help"].split())
        assert [p for p in phrases if p not in help_text] == [], question
