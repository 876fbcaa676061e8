"""Bad answers get a clear message and nothing is written."""

from __future__ import annotations

import subprocess
import sys

import copier
import pytest
import yaml

from testkit.bad_answers import one_per_message
from testkit.helpers import ROOT

# One value per validator message, from the corpus the reliability suite tries in full.
# Choices are Copier's own check, not a validator of copier.yml.
BAD = [(question, value, expected.removeprefix("reject:")) for kind, question, value, expected in one_per_message()
       if kind != "choice"]


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
