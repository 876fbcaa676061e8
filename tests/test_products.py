"""Several data products in one repository, each with its own answers file,
bumped together in Renovate's order in one working tree."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from helpers import files_of, git
from ladder import (
    FIXED, commit_all, conflict_markers, copier_cli, recorded_commit, renovate_update, start_project,
)
from test_update_ladder import EARLIER

ORDERS_SPEC = "01_Data_Products/orders/spec.md"


def add_product_with_copier(project: Path, tag: str, src: Path, name: str, slug: str) -> Path:
    """What a team did before tools/dpf.py existed: the raw command from the index doc."""
    run = copier_cli(
        project, "copy", "--defaults", "--vcs-ref", tag, "--data", "scope=product",
        "--data", f"product_name={name}", "--data", f"product_slug={slug}",
        "--data", f"created_on={FIXED['created_on']}", str(src), f"01_Data_Products/{slug}",
    )
    assert run.returncode == 0, run.stderr
    return project / "01_Data_Products" / slug


def renovate_order(project: Path) -> list[Path]:
    """Answers files the way Renovate processes them: sorted by path."""
    return sorted(project.rglob(".copier-answers.yml"), key=lambda p: p.relative_to(project).as_posix())


def bump_like_renovate(project: Path, tag: str, trust: bool) -> list[str]:
    """One working tree, no commit in between, root first: Renovate 44's sequence."""
    done = []
    for answers in renovate_order(project):
        run = renovate_update(answers.parent, tag, trust=trust, answers_file=answers.name)
        assert run.returncode == 0, f"{answers}: {run.stderr}"
        done.append(answers.relative_to(project).as_posix())
    return done


def edit(path: Path, line: str) -> str:
    path.write_text(path.read_text() + f"\n{line}\n")
    return line


def dpf(project: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "tools/dpf.py", *args], cwd=project, capture_output=True, text=True)


def test_three_products_bump_in_renovate_order_without_loss(template_repo, tmp_path):
    src, info = template_repo
    oldest = EARLIER[0]
    project = start_project(src, tmp_path / "repo", oldest, {})
    customers = add_product_with_copier(project, oldest, src, "Customers", "customers")
    forecasts = add_product_with_copier(project, oldest, src, "Demand Forecasts", "demand-forecasts")
    commit_all(project, "Two more products")

    written = [
        edit(project / ORDERS_SPEC, "Orders: finance signs off the refund logic."),
        edit(customers / "spec.md", "Customers: GDPR erasure runs within 30 days."),
        edit(forecasts / "architecture.md", "Forecasts: retrain weekly on Sunday night."),
        # A link of the team's own to a document a later release moves.
        edit(customers / "spec.md", "See [our glossary](../../09_Docs_Internal/glossary.md)."),
    ]
    commit_all(project, "Team edits in every product")

    order = bump_like_renovate(project, info["head"], trust=True)
    assert order == [
        ".copier-answers.yml",
        "01_Data_Products/customers/.copier-answers.yml",
        "01_Data_Products/demand-forecasts/.copier-answers.yml",
    ]
    text = "\n".join((project / f).read_text(errors="replace") for f in files_of(project))
    assert [line for line in written[:3] if line not in text] == []
    assert "(../../11_Learning/glossary.md)" in (customers / "spec.md").read_text()
    assert conflict_markers(project) == []
    for answers in renovate_order(project):
        assert recorded_commit(answers.parent) == info["head"]

    # Products added before the index tool existed join the index in one command.
    assert dpf(project, "index", "--check").returncode == 1
    assert dpf(project, "index").returncode == 0
    assert dpf(project, "index", "--check").returncode == 0
    index = (project / "01_Data_Products/README.md").read_text()
    for slug in ("orders", "customers", "demand-forecasts"):
        assert f"{slug}/spec.md" in index
    health = dpf(project, "health")
    assert health.returncode == 0, health.stdout


def test_product_added_with_the_tool_updates_on_its_own(template_repo, tmp_path):
    src, info = template_repo
    project = start_project(src, tmp_path / "repo", info["head"], {"orchestrator": "dagster", "warehouse": "snowflake"})
    run = dpf(project, "add-product", "Customer 360", "--purpose", "One view of every customer for support and sales.")
    assert run.returncode == 0, run.stderr
    product = project / "01_Data_Products/customer-360"
    answers = (product / ".copier-answers.yml").read_text()
    assert "scope: product" in answers and "orchestrator: dagster" in answers and "warehouse: snowflake" in answers
    assert "customer-360/spec.md" in (project / "01_Data_Products/README.md").read_text()
    assert dpf(project, "health").returncode == 0
    commit_all(project, "Add Customer 360")
    # A routine bump of every answers file to the same release needs no trust.
    bump_like_renovate(project, info["head"], trust=False)
    assert git(project, "status", "--porcelain") == ""


def test_retiring_a_product_deletes_nothing(template_repo, tmp_path):
    src, info = template_repo
    project = start_project(src, tmp_path / "repo", info["head"], {})
    assert dpf(project, "add-product", "Legacy Billing").returncode == 0
    spec = project / "01_Data_Products/legacy-billing/spec.md"
    spec.write_text(spec.read_text().replace("status: draft", "status: deprecated", 1))
    commit_all(project, "Retire Legacy Billing")
    before = files_of(project)
    bump_like_renovate(project, info["head"], trust=False)
    assert files_of(project) == before
    assert "status: deprecated" in spec.read_text()
    assert dpf(project, "health").returncode == 0
