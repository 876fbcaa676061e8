"""The documents' wording follows the answers: the CI platform's word for a proposed change,
names that read right after an article or as a possessive, and no promise of the starter
pipeline's commands or files in a render that has none. Three renders, shared by module."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from testkit.helpers import files_of, render


@pytest.fixture(scope="module")
def gitlab_orders(template_repo, tmp_path_factory) -> Path:
    src, _ = template_repo
    return render(src, tmp_path_factory.mktemp("wording") / "gitlab",
                  {"ci_platform": "gitlab", "product_name": "Orders"})


@pytest.fixture(scope="module")
def github_analytics(template_repo, tmp_path_factory) -> Path:
    src, _ = template_repo
    return render(src, tmp_path_factory.mktemp("wording") / "github",
                  {"ci_platform": "github", "product_name": "Analytics"})


@pytest.fixture(scope="module")
def no_starter(template_repo, tmp_path_factory) -> Path:
    src, _ = template_repo
    return render(src, tmp_path_factory.mktemp("wording") / "no-starter",
                  {"ci_platform": "none", "product_name": "Orders", "warehouse": "postgres",
                   "starter_pipeline": False, "orchestrator": "prefect"})


def written_text(root: Path) -> dict[str, str]:
    """What the template writes for people to read: every rendered file except Renovate's own
    config (whose PR wording is Renovate's) and tools/, code copied as is."""
    return {
        rel: (root / rel).read_text(encoding="utf-8") for rel in sorted(files_of(root))
        if rel != "renovate.json5" and not rel.startswith(("tools/", "docs/"))
    }


def lines_matching(root: Path, pattern: re.Pattern) -> list[str]:
    return [f"{rel}: {line.strip()}" for rel, text in written_text(root).items()
            for line in text.splitlines() if pattern.search(line)]


def test_a_gitlab_render_speaks_of_merge_requests(gitlab_orders):
    github_words = re.compile(r"pull request|branch protection|status check|\bPRs?\b", re.I)
    assert lines_matching(gitlab_orders, github_words) == []
    assert lines_matching(gitlab_orders, re.compile(r"merge request", re.I))


def test_a_github_render_speaks_of_pull_requests(github_analytics):
    assert lines_matching(github_analytics, re.compile(r"merge request|\bMRs?\b", re.I)) == []
    assert lines_matching(github_analytics, re.compile(r"pull request", re.I))


# "Orders's outputs" and "a Orders record": names ending in s, names starting with a vowel.
GLITCHES = {
    "Orders": re.compile(r"\bOrders's\b|\b[Aa] Orders\b"),
    "Analytics": re.compile(r"\bAnalytics's\b|\b[Aa] Analytics\b"),
}


@pytest.mark.parametrize("fixture, name", [("gitlab_orders", "Orders"), ("github_analytics", "Analytics")])
def test_product_names_read_right_with_articles_and_possessives(request, fixture, name):
    assert lines_matching(request.getfixturevalue(fixture), GLITCHES[name]) == []


# What only the starter pipeline brings: its commands, its DuckDB file, its runner and loader.
# A paragraph that names them as something the starter would add ("answer starter_pipeline:
# true", "rendered with the starter pipeline") is an offer, not a promise.
STARTER_ONLY = re.compile(r"make run|make test|data/warehouse/|pipelines/run\.py|pipelines/orders/load\.py")
AN_OFFER = re.compile(r"starter_pipeline: true|with the starter pipeline")


def test_a_render_without_the_starter_promises_none_of_its_commands_or_files(no_starter):
    promised = []
    for rel, text in written_text(no_starter).items():
        if rel == ".gitignore":  # ignoring the starter's DuckDB folder promises nothing
            continue
        for paragraph in re.split(r"\n\s*\n", text):
            if STARTER_ONLY.search(paragraph) and not AN_OFFER.search(paragraph):
                promised += [f"{rel}: {line.strip()}" for line in paragraph.splitlines()
                             if STARTER_ONLY.search(line)]
    assert promised == []


# Airflow's words, in a render whose orchestrator is Prefect: checklists and how-tos written once
# for every stack must say flow (m.UNIT) and name the answer's orchestrator. The comparison table
# of the orchestrators and dbt's own graph ("in DAG order") are the exceptions.
AIRFLOW_WORDS = re.compile(r"\bDAGs?\b|Airflow|XCom|dag_id|task instance")
NOT_AIRFLOW = re.compile(r"in DAG order")


def test_a_render_for_another_orchestrator_does_not_speak_airflow(no_starter):
    airflow = [line for line in lines_matching(no_starter, AIRFLOW_WORDS)
               if not line.startswith("05_Pipelines/orchestration-patterns.md:")
               and not NOT_AIRFLOW.search(line.split(": ", 1)[1])]
    assert airflow == []
