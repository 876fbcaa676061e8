"""Reliability 1: random valid answer sets over the whole answer space. Each renders,
round-trips through the answers file, leaves no Jinja or thin document behind, keeps the
team's name as every document's owner and passes the generated repository's own health
check. The default run tries 10 sets; `-m slow` 4 shards of 50."""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from testkit.figures import say
from testkit.helpers import files_of, front_matter, health, leftover_jinja, outside, render, thin_documents

# Hypothesis keeps a cache folder; keep it out of the working tree.
os.environ.setdefault("HYPOTHESIS_STORAGE_DIRECTORY", os.path.join(tempfile.gettempdir(), "dpf-hypothesis"))

ANSWERS = ".copier-answers.yml"


WORD_CHARS = st.characters(categories=("L", "N"))
NAME = st.builds(
    lambda first, middle, last: (first + middle + last)[:60].rstrip(" "),
    WORD_CHARS, st.text(st.one_of(WORD_CHARS, st.sampled_from(list(" .,&'()+/:-_"))), max_size=58),
    st.one_of(st.just(""), WORD_CHARS),
).filter(lambda s: re.fullmatch(r"[^\W_][\w .,&'()+/:-]*", s) is not None)
SLUG = st.from_regex(r"[a-z0-9]{1,12}(-[a-z0-9]{1,8}){0,3}", fullmatch=True)
PURPOSE_FRAGMENTS = ["# ", "---", "*", "_", "[x]", "(y)", "'", '"', ": ", " - ", "&", "%", "#", "TBD",
                     "!!python/object", "~~", "...", "✓", "—", "ü", "日本", "עברית", " "]
PURPOSE = st.lists(
    st.one_of(
        st.text(st.characters(categories=("L", "N", "P", "S", "Zs"), exclude_characters="{}<>`|\\"),
                min_size=1, max_size=30),
        st.sampled_from(PURPOSE_FRAGMENTS),
    ),
    min_size=1, max_size=12,
).map(" ".join).filter(
    lambda s: 10 <= len(s.strip()) and len(s) <= 200 and "](" not in s and "]:" not in s
)
EMAIL = st.from_regex(
    r"[A-Za-z0-9._%+-]{1,20}@[A-Za-z0-9]([A-Za-z0-9-]{0,8}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,8}[A-Za-z0-9])?){1,3}",
    fullmatch=True,
)
DATE = st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date.today()).map(dt.date.isoformat)
QUARTER = st.builds(lambda y, q: f"{y}-Q{q}", st.integers(2000, 2099), st.integers(1, 4))


def derived_slug(name: str, fallback: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or fallback


@st.composite
def answer_sets(draw) -> dict:
    """Any valid answer set: every choice, unusual text, omitted answers (defaults)."""
    answers = {
        "orchestrator": draw(st.sampled_from(["airflow", "dagster", "prefect", "none"])),
        "transformation_tool": draw(st.sampled_from(["dbt", "sqlmesh", "none"])),
        "warehouse": draw(st.sampled_from(["duckdb", "postgres", "snowflake", "bigquery", "databricks"])),
        "ci_platform": draw(st.sampled_from(["github", "gitlab", "none"])),
        "product_audience": draw(st.sampled_from(["internal", "external", "both"])),
    }
    # adopted_paths is left to tests/test_adopt.py: it presumes files the team already had.
    if draw(st.booleans()):
        answers["starter_pipeline"] = draw(st.booleans())
    optional = {
        "project_name": NAME, "product_name": NAME, "team_name": NAME, "product_purpose": PURPOSE,
        "team_email": EMAIL, "project_slug": SLUG, "product_slug": SLUG,
        "created_on": DATE, "roadmap_start_quarter": QUARTER,
    }
    for key, strategy in optional.items():
        value = draw(st.none() | strategy)
        if value is not None:
            answers[key] = value
    # A name whose derived folder name would exceed 40 characters needs an explicit
    # slug (without one the copy is refused: test_long_name_without_slug below).
    for name, slug, fallback in (("project_name", "project_slug", "data-products"),
                                 ("product_name", "product_slug", "product")):
        if slug not in answers and len(derived_slug(answers.get(name, ""), fallback)) > 40:
            answers[slug] = draw(SLUG)
    if draw(st.booleans()):
        name = draw(NAME)
        first = answers.get("product_slug") or derived_slug(answers.get("product_name", "Orders"), "product")
        slug = derived_slug(name, "")
        if not slug or len(slug) > 40 or slug == first:
            slug = draw(SLUG.filter(lambda s: s != first))
        answers["+product"] = {"name": name, "slug": slug, "purpose": draw(PURPOSE),
                               "audience": draw(st.sampled_from(["internal", "external", "both"]))}
    return answers


TALLY = {"tried": 0, "passed": 0, "with_second_product": 0}


def check_answer_set(src: Path, answers: dict) -> None:
    TALLY["tried"] += 1
    answers = dict(answers)
    extra = answers.pop("+product", None)
    with tempfile.TemporaryDirectory(prefix="dpf-prop-") as tmp:
        tmp = Path(tmp)
        dst = tmp / "dst"
        render(src, dst, answers)
        assert outside(tmp, dst) == []
        recorded = yaml.safe_load((dst / ANSWERS).read_text())
        for key, value in answers.items():
            assert recorded[key] == value, f"{key} did not round-trip through {ANSWERS}"
        if extra:
            TALLY["with_second_product"] += 1
            run = subprocess.run(
                [sys.executable, "tools/dpf.py", "add-product", extra["name"], f"--slug={extra['slug']}",
                 f"--purpose={extra['purpose']}", f"--audience={extra['audience']}"],
                cwd=dst, capture_output=True, text=True)
            assert run.returncode == 0, run.stdout + run.stderr
            product = yaml.safe_load((dst / "01_Data_Products" / extra["slug"] / ANSWERS).read_text())
            assert (product["scope"], product["product_name"], product["product_purpose"]) == \
                ("product", extra["name"], extra["purpose"])
        assert leftover_jinja(dst) == []
        assert thin_documents(dst) == []
        text = "\n".join((dst / rel).read_text() for rel in sorted(files_of(dst)) if rel.endswith(".md"))
        for key in ("project_name", "product_name", "product_purpose", "team_email"):
            if key in answers:
                assert answers[key] in text, f"{key} is not rendered literally"
        team = answers.get("team_name", "Data Platform")
        owners = {rel: front_matter((dst / rel).read_text()).get("owner")
                  for rel in sorted(files_of(dst)) if rel.endswith(".md")}
        assert sum(owner is not None for owner in owners.values()) >= 50
        assert {rel: o for rel, o in owners.items() if o is not None and o != team} == {}, team
        report = health(dst)
        assert report["errors"] == 0, [f for f in report["findings"] if f["severity"] == "error"]
    TALLY["passed"] += 1


# No shrinking: one example costs seconds; a failure is reported as generated.
PROPERTY_SETTINGS = dict(deadline=None, database=None, phases=[Phase.explicit, Phase.generate],
                         suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                                HealthCheck.data_too_large])


def run_answer_sets(src: Path, examples: int, label: str) -> None:
    @settings(max_examples=examples, **PROPERTY_SETTINGS)
    @given(answer_sets())
    def run(answers):
        check_answer_set(src, answers)

    before = dict(TALLY)
    run()
    tried, passed = TALLY["tried"] - before["tried"], TALLY["passed"] - before["passed"]
    say(f"{label}: {tried} random answer sets tried, {passed} passed (render, no Jinja left, no thin "
        f"document, health 0 errors), {TALLY['with_second_product'] - before['with_second_product']} "
        "with a second product", "1 property: random valid answer sets", tried=tried, passed=passed)


def test_random_answer_sets_fast(template_repo):
    run_answer_sets(template_repo[0], 10, "property")


@pytest.mark.slow
@pytest.mark.parametrize("shard", range(4))
def test_random_answer_sets_full(template_repo, shard):
    """4 shards x 50 = 200 answer sets (spread over the xdist workers)."""
    run_answer_sets(template_repo[0], 50, f"property shard {shard}")


def test_long_name_without_slug_is_refused_clearly_or_rendered(template_repo, tmp_path):
    """A valid 50-character name derives a folder name longer than 40 characters."""
    src, _ = template_repo
    name = "The Very Long Name Of Our Analytics Platform Group"
    dst = tmp_path / "dst"
    try:
        render(src, dst, {"project_name": name})
    except ValueError as error:
        assert "question 'project_slug'" in str(error) and "40 or fewer" in str(error)
        assert not dst.exists()
        say("long name without slug: refused with a message naming project_slug", "2 hostile answers", refused=1)
    else:
        slug = yaml.safe_load((dst / ANSWERS).read_text())["project_slug"]
        assert len(slug) <= 40
        say(f"long name without slug: rendered as {slug!r}", "2 hostile answers", literal=1)
