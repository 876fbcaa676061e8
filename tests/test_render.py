"""`copier copy` renders the whole framework, tailored to the answers."""

from __future__ import annotations

import itertools

import pytest
import yaml

from expected import SEED_TREE, expected_files, expected_product_files
from testkit.helpers import (
    broken_links, files_of, front_matter, leftover_jinja, python_floors, readme_ci_mismatches, readme_tree_problems,
    render, thin_documents,
)
from testkit.questions import CHOICES, SLICE


FULL = [dict(zip(CHOICES, combo)) for combo in itertools.product(*CHOICES.values())]


def _id(answers: dict) -> str:
    return "-".join(str(answers[k]) for k in CHOICES)


def test_default_render_is_exactly_the_seed_tree_plus_additions(copie):
    result = copie.copy()
    assert result.exception is None, result.exception
    assert files_of(result.project_dir) == expected_files()


def test_release_1_0_0_reproduces_the_seed_tree_exactly(template_repo, tmp_path):
    """The first release is the framework's published tree, path for path."""
    src, _ = template_repo
    project = render(src, tmp_path / "v1", vcs_ref="v1.0.0")
    assert files_of(project) == expected_files(release="1.0.0")
    assert {p.replace("orders", "<product>") for p in files_of(project)} >= set(SEED_TREE)


def test_default_render_records_where_it_came_from(copie):
    result = copie.copy()
    answers = yaml.safe_load((result.project_dir / ".copier-answers.yml").read_text())
    assert answers["_src_path"] and answers["_commit"]
    # A repository is the default scope: never asked, so not recorded either.
    assert answers["product_slug"] == "orders" and "scope" not in answers


def check_render(project_dir, answers: dict) -> None:
    """The properties every render must have, whatever the answers."""
    recorded = yaml.safe_load((project_dir / ".copier-answers.yml").read_text())
    assert {k: recorded[k] for k in answers if k in recorded} == {k: v for k, v in answers.items() if k in recorded}
    assert files_of(project_dir) == expected_files(recorded)
    assert leftover_jinja(project_dir) == []
    assert thin_documents(project_dir) == []
    assert broken_links(project_dir) == []
    # The README draws the whole tree as rendered and lists every CI job's commands.
    assert readme_tree_problems(project_dir) == []
    assert readme_ci_mismatches(project_dir) == []
    # One Python floor wherever the render states or enforces one.
    assert set(python_floors(project_dir)) == {"3.11"}, python_floors(project_dir)
    for rel in sorted(files_of(project_dir)):
        if rel.endswith(".md") and rel not in {"README.md", "docs/README.md"}:
            meta = front_matter((project_dir / rel).read_text())
            assert meta.get("owner") == recorded["team_name"], rel
            assert meta.get("status") in {"draft", "active", "deprecated"}, rel
            assert str(meta.get("last_reviewed")) == recorded["created_on"], rel
            assert meta.get("title"), rel


@pytest.mark.parametrize("answers", SLICE, ids=_id)
def test_option_slice_renders_complete_documents(copie, answers):
    result = copie.copy(extra_answers=answers)
    assert result.exception is None, result.exception
    check_render(result.project_dir, answers)


@pytest.mark.slow
@pytest.mark.parametrize("answers", FULL, ids=_id)
def test_full_option_matrix_renders_complete_documents(copie, answers):
    result = copie.copy(extra_answers=answers)
    assert result.exception is None, result.exception
    check_render(result.project_dir, answers)


def test_answers_appear_where_they_belong(copie):
    answers = {
        "project_name": "Northwind Insights",
        "product_name": "Shipments",
        "team_name": "Logistics Data",
        "team_email": "logistics-data@northwind.example",
        "orchestrator": "dagster",
        "transformation_tool": "sqlmesh",
        "warehouse": "snowflake",
    }
    result = copie.copy(extra_answers=answers)
    root = result.project_dir
    assert (root / "01_Data_Products/shipments/spec.md").is_file()
    readme = (root / "README.md").read_text()
    assert readme.startswith("# Northwind Insights")
    for word in ("Shipments", "Dagster", "SQLMesh", "Snowflake", "logistics-data@northwind.example"):
        assert word in readme, word
    assert front_matter((root / "02_Architecture/system-overview.md").read_text())["owner"] == "Logistics Data"
    overview = (root / "02_Architecture/system-overview.md").read_text()
    assert "```mermaid" in overview and "Snowflake" in overview and "SQLMesh" in overview
    assert "Dagster" in (root / "05_Pipelines/dagster/job-structure.md").read_text()


def test_rendering_is_deterministic(copie):
    first, second = copie.copy(), copie.copy()
    for rel in files_of(first.project_dir) - {".copier-answers.yml"}:
        assert (first.project_dir / rel).read_bytes() == (second.project_dir / rel).read_bytes(), rel
    # _commit differs only because each copy of a dirty tree gets its own WIP commit.
    answers = [yaml.safe_load((r.project_dir / ".copier-answers.yml").read_text()) for r in (first, second)]
    assert {k: v for k, v in answers[0].items() if k != "_commit"} == {k: v for k, v in answers[1].items() if k != "_commit"}


def test_product_scope_renders_only_the_product_folder(copie):
    result = copie.copy(extra_answers={"scope": "product", "product_name": "Customers"})
    assert result.exception is None, result.exception
    assert files_of(result.project_dir) == expected_product_files("customers")
    recorded = yaml.safe_load((result.project_dir / ".copier-answers.yml").read_text())
    assert recorded["scope"] == "product" and recorded["product_slug"] == "customers"
    assert leftover_jinja(result.project_dir) == []
