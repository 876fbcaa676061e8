"""Several data products in one repository, each with its own answers file,
bumped together in Renovate's order in one working tree."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from testkit.helpers import files_of, git
from testkit.ladder import (
    EARLIER, commit_all, recorded_commit, renovate_update, start_project, tree_bytes,
)
from testkit.products import (
    add_product_with_copier, conflicting_edit, edit, marked_files, resolve_keeping_both,
)

ORDERS_SPEC = "01_Data_Products/orders/spec.md"
# The root files the 1.1.0 migration moves or folds into another document.
MOVED_BY_1_1_0 = {"09_Docs_Internal/glossary.md", "09_Docs_Internal/how-tos/README.md"}


def renovate_order(project: Path) -> list[Path]:
    """Answers files the way Renovate processes them: sorted by path."""
    return sorted(project.rglob(".copier-answers.yml"), key=lambda p: p.relative_to(project).as_posix())


def bump_like_renovate(project: Path, tag: str, trust: bool) -> list[str]:
    """One working tree, no commit in between, root first: Renovate 44's sequence (the
    generated renovate.json5 up to release 1.3.1). A product's update must leave every file
    outside its folder as the updates before it left it: nothing resurrected, nothing lost."""
    done = []
    for answers in renovate_order(project):
        folder = answers.parent.relative_to(project).as_posix()
        outside = {rel: data for rel, data in tree_bytes(project).items() if not rel.startswith(f"{folder}/")}
        run = renovate_update(answers.parent, tag, trust=trust, answers_file=answers.name)
        assert run.returncode == 0, f"{answers}: {run.stderr}"
        if folder != ".":
            after = {rel: data for rel, data in tree_bytes(project).items() if not rel.startswith(f"{folder}/")}
            assert after == outside, f"{folder}'s update changed {sorted(set(after) ^ set(outside))[:5]}"
        done.append(answers.relative_to(project).as_posix())
    return done


def bump_one_branch_per_answers_file(project: Path, tag: str, trust: bool, work: Path) -> list:
    """The generated renovate.json5 since this change: each answers file updated on its own
    branch from a clean checkout of main (markers committed, as Renovate does), then the team
    merges every branch."""
    runs = []
    for n, answers in enumerate(renovate_order(project)):
        clone = work / f"branch-{n}"
        git(work, "clone", "-q", str(project), str(clone))
        runs.append(renovate_update(clone / answers.parent.relative_to(project), tag, trust=trust,
                                    answers_file=answers.name))
        commit_all(clone, f"Update {answers.relative_to(project)} to {tag}")
        git(project, "fetch", "-q", str(clone), f"HEAD:refs/heads/update-{n}")
    for n in range(len(runs)):
        git(project, "merge", "-q", "--no-edit", f"update-{n}")
    return runs


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
    # A conflict at the root: the products' updates run in the tree it leaves unmerged.
    written.insert(3, conflicting_edit(src, project, oldest, info["head"]))
    commit_all(project, "Team edits in every product")

    order = bump_like_renovate(project, info["head"], trust=True)
    assert order == [
        ".copier-answers.yml",
        "01_Data_Products/customers/.copier-answers.yml",
        "01_Data_Products/demand-forecasts/.copier-answers.yml",
    ]
    text = "\n".join((project / f).read_text(errors="replace") for f in files_of(project))
    assert [line for line in written[:4] if line not in text] == []
    # What the 1.1.0 migration moved away from the root stays moved (each product's update was
    # also checked to leave everything outside its folder alone).
    assert sorted(MOVED_BY_1_1_0 & files_of(project)) == []
    assert (project / "11_Learning/glossary.md").is_file()
    assert "(../../11_Learning/glossary.md)" in (customers / "spec.md").read_text()
    assert marked_files(project) == {"README.md"}
    for answers in renovate_order(project):
        assert recorded_commit(answers.parent) == info["head"]
    resolve_keeping_both(project)

    # Products added before the index tool existed join the index in one command.
    assert dpf(project, "index", "--check").returncode == 1
    assert dpf(project, "index").returncode == 0
    assert dpf(project, "index", "--check").returncode == 0
    index = (project / "01_Data_Products/README.md").read_text()
    for slug in ("orders", "customers", "demand-forecasts"):
        assert f"{slug}/spec.md" in index
    health = dpf(project, "health")
    assert health.returncode == 0, health.stdout


def test_one_branch_per_answers_file_keeps_a_root_conflict_at_the_root(template_repo, tmp_path):
    """The generated renovate.json5's sequence: a conflict in the root's update stays in the
    root's branch; the product's update, from a clean checkout, goes through."""
    src, info = template_repo
    start = "v1.2.0"
    project = start_project(src, tmp_path / "repo", start, {})
    customers = add_product_with_copier(project, start, src, "Customers", "customers")
    written = [edit(customers / "spec.md", "Customers: GDPR erasure runs within 30 days."),
               edit(project / "02_Architecture/system-overview.md", "Root: two regions since May."),
               conflicting_edit(src, project, start, info["head"])]
    commit_all(project, "Product, team edits and a README line the release also changes")
    base = git(project, "rev-parse", "HEAD").strip()

    runs = bump_one_branch_per_answers_file(project, info["head"], trust=False, work=tmp_path)

    assert [run.returncode for run in runs] == [0, 0], [run.stderr[-500:] for run in runs]
    assert marked_files(project) == {"README.md"}
    assert recorded_commit(project) == recorded_commit(customers) == info["head"]
    assert all(f.startswith("01_Data_Products/customers/")
               for f in git(project, "diff", "--name-only", base, "update-1").split())
    text = "\n".join((project / f).read_text(errors="replace") for f in files_of(project))
    assert [line for line in written if line not in text] == []
    assert git(project, "status", "--porcelain") == ""


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
