"""What someone creating a repository sees: only the questions that concern them,
and the commands that matter next after a copy and after an update."""

from __future__ import annotations

import subprocess

import yaml

from testkit.helpers import git, readme_tree_problems
from testkit.ladder import COPIER, FIXED, commit_all, copier_cli, start_project

EVERY_ANSWER_BUT_SCOPE = {
    "project_name": "Northwind", "project_slug": "northwind", "product_name": "Orders",
    "product_slug": "orders", "product_purpose": "One daily view of orders for the sales team.",
    "product_audience": "internal", "team_name": "Data", "team_email": "data@example.com",
    "orchestrator": "prefect", "transformation_tool": "dbt", "warehouse": "duckdb",
    "starter_pipeline": "true", "ci_platform": "github", **FIXED,
}


def test_creating_a_repository_never_asks_the_scope_and_says_what_to_run(template_repo, tmp_path):
    src, info = template_repo
    data = [arg for key, value in EVERY_ANSWER_BUT_SCOPE.items() for arg in ("--data", f"{key}={value}")]
    # No --defaults and no terminal: any question still asked fails the copy.
    run = subprocess.run(
        [*COPIER, "copy", "--vcs-ref", info["head"], *data, str(src), "northwind"],
        cwd=tmp_path, capture_output=True, text=True, stdin=subprocess.DEVNULL,
    )
    assert run.returncode == 0, run.stderr
    project = tmp_path / "northwind"
    assert "scope" not in yaml.safe_load((project / ".copier-answers.yml").read_text())
    after_copy = run.stderr.split("Northwind is ready. Next:", 1)[1]
    for command in ("cd northwind", "git init", "make run", "make test", "python tools/dpf.py health"):
        assert command in after_copy, command
    assert readme_tree_problems(project) == []
    assert (project / "flows/orders_daily.py").is_file()


def test_an_update_says_how_to_finish_it(template_repo, tmp_path):
    src, info = template_repo
    project = start_project(src, tmp_path / "repo", info["previous"], {})
    run = copier_cli(project, "update", "--skip-answered", "--defaults", "--vcs-ref", info["head"])
    assert run.returncode == 0, run.stderr
    after_update = run.stderr.split("Template updated. Next:", 1)[1]
    for command in ("git status", "git grep -nE '^(<<<<<<<|>>>>>>>)( |$)'", "python tools/dpf.py health", "git commit"):
        assert command in after_update, command
    commit_all(project, "Update")
    assert git(project, "status", "--porcelain") == ""
