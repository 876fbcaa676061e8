"""The generated repository checks itself and shows itself: its own CI commands
(health check, lint, strict docs build) pass when run locally in a fresh render."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from testkit.helpers import files_of, git, render
from testkit.ladder import FIXED, commit_all

VENV_BIN = str(Path(sys.executable).parent)
RENDERS = {
    "defaults": {},
    "dagster-sqlmesh-snowflake-gitlab": {
        "orchestrator": "dagster", "transformation_tool": "sqlmesh", "warehouse": "snowflake",
        "ci_platform": "gitlab", "product_name": "Customer 360",
    },
}


@pytest.fixture(scope="session")
def pre_commit_home(tmp_path_factory) -> str:
    return str(tmp_path_factory.mktemp("pre-commit-home"))


def rendered_repo(template_repo, tmp_path: Path, answers: dict) -> Path:
    src, info = template_repo
    project = render(src, tmp_path / "repo", {**FIXED, **answers}, vcs_ref=info["head"])
    git(project, "init", "-q", "-b", "main")
    commit_all(project, "Render")
    return project


def ci_commands(project: Path) -> list[tuple[str, dict]]:
    """The shell commands the rendered CI runs, with their environment."""
    if (project / ".gitlab-ci.yml").exists():
        config = yaml.safe_load((project / ".gitlab-ci.yml").read_text())
        return [
            (line, {**config.get("variables", {}), **job.get("variables", {})})
            for name, job in config.items()
            if isinstance(job, dict) and "script" in job
            for line in job["script"]
        ]
    workflow = yaml.safe_load((project / ".github/workflows/checks.yml").read_text())
    return [
        (step["run"], step.get("env", {}))
        for job in workflow["jobs"].values()
        for step in job["steps"]
        if "run" in step
    ]


def run_here(project: Path, command: str, env: dict, pre_commit_home: str) -> subprocess.CompletedProcess:
    full_env = {**os.environ, **{k: str(v) for k, v in env.items()}, "PRE_COMMIT_HOME": pre_commit_home}
    full_env["PATH"] = VENV_BIN + os.pathsep + full_env["PATH"]
    return subprocess.run(["bash", "-ec", command], cwd=project, capture_output=True, text=True, env=full_env)


@pytest.mark.parametrize("name", RENDERS)
def test_ci_commands_pass_in_a_fresh_render(template_repo, tmp_path, pre_commit_home, name):
    project = rendered_repo(template_repo, tmp_path, RENDERS[name])
    commands = ci_commands(project)
    joined = "\n".join(c for c, _ in commands)
    for must in ("tools/dpf.py health", "pre-commit run --all-files", "mkdocs build --strict", "<<<<<<<"):
        assert must in joined, must
    for command, env in commands:
        if "pip install" in command:
            continue  # the test venv already holds requirements-docs.txt (see requirements-dev.txt)
        if command.startswith("make "):
            continue  # the starter pipeline's `make run` / `make test`: tests/test_pipeline.py runs them
        result = run_here(project, command, env, pre_commit_home)
        assert result.returncode == 0, f"{command}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    site = project / "site"
    assert (site / "index.html").is_file()
    assert (site / "02_Architecture/system-overview/index.html").is_file()
    assert 'class="mermaid"' in (site / "02_Architecture/system-overview/index.html").read_text()
    assert (site / "search/search_index.json").is_file()


def test_github_workflow_has_the_right_shape(template_repo, tmp_path):
    project = rendered_repo(template_repo, tmp_path, {})
    workflow = yaml.safe_load((project / ".github/workflows/checks.yml").read_text())
    triggers = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` as true
    assert "pull_request" in triggers and "push" in triggers
    for name, job in workflow["jobs"].items():
        assert job["runs-on"] == "ubuntu-latest", name
        assert job["steps"][0]["uses"].startswith("actions/checkout@"), name
    assert not (project / ".gitlab-ci.yml").exists()


def test_gitlab_ci_has_the_right_shape(template_repo, tmp_path):
    project = rendered_repo(template_repo, tmp_path, {"ci_platform": "gitlab"})
    config = yaml.safe_load((project / ".gitlab-ci.yml").read_text())
    jobs = {k: v for k, v in config.items() if isinstance(v, dict) and "script" in v}
    assert jobs and all(job["stage"] in config["stages"] for job in jobs.values())
    assert not (project / ".github").exists()


def test_no_ci_platform_renders_no_ci(template_repo, tmp_path):
    project = rendered_repo(template_repo, tmp_path, {"ci_platform": "none"})
    assert not (project / ".github").exists() and not (project / ".gitlab-ci.yml").exists()
    assert (project / ".pre-commit-config.yaml").is_file()


def test_conflict_marker_check_fails_on_committed_markers(template_repo, tmp_path, pre_commit_home):
    project = rendered_repo(template_repo, tmp_path, {})
    check = next(c for c, _ in ci_commands(project) if "<<<<<<<" in c)
    assert run_here(project, check, {}, pre_commit_home).returncode == 0
    doc = project / "02_Architecture/system-overview.md"
    doc.write_text(doc.read_text() + "<<<<<<< before updating\nours\n=======\ntheirs\n>>>>>>> after updating\n")
    commit_all(project, "A Renovate PR with a conflict")
    assert run_here(project, check, {}, pre_commit_home).returncode == 1


def test_renovate_update_that_did_not_apply_fails_the_pre_commit_hook(template_repo, tmp_path, pre_commit_home):
    project = rendered_repo(template_repo, tmp_path, {})
    hook = "pre-commit run copier-update-not-applied --all-files"
    assert run_here(project, hook, {}, pre_commit_home).returncode == 0
    # What Renovate leaves in an answers file when `copier update` failed there.
    answers = project / ".copier-answers.yml"
    answers.write_text(answers.read_text() + "\n#copier updated")
    commit_all(project, "A Renovate PR whose update did not apply")
    failed = run_here(project, hook, {}, pre_commit_home)
    assert failed.returncode == 1 and ".copier-answers.yml:" in failed.stdout, failed.stdout


def test_docs_folder_links_every_area(template_repo, tmp_path):
    project = rendered_repo(template_repo, tmp_path, {})
    areas = sorted(p.split("/")[0] for p in files_of(project) if p[:2].isdigit())
    for area in set(areas):
        link = project / "docs" / area
        assert link.is_symlink() and link.resolve() == (project / area).resolve(), area
    assert (project / "docs/README.md").resolve() == (project / "README.md").resolve()


def test_pre_commit_lints_the_pipelines_python_and_sql(template_repo, tmp_path, pre_commit_home):
    """ruff (with Airflow's rules) and sqlfluff, set in pyproject.toml, catch mistakes the
    starter's own files are free of."""
    project = rendered_repo(template_repo, tmp_path, {})
    dag = project / "dags/orders_daily.py"
    dag.write_text(dag.read_text().replace("import pendulum\n", "import pendulum\nimport json\n"))
    model = project / "transform/models/staging/orders/stg_orders.sql"
    model.write_text(model.read_text().replace("select", "selec", 1))
    commit_all(project, "Two mistakes")
    # check-docs judges the documents, not these files (tests/test_docs_check.py covers it).
    run = run_here(project, "pre-commit run --all-files", {"SKIP": "dpf-health,check-docs"}, pre_commit_home)
    assert run.returncode == 1
    failed = {line.split("...")[0].strip() for line in run.stdout.splitlines() if line.endswith("Failed")}
    assert failed == {"Python lint (ruff, rules in pyproject.toml)", "SQL lint (sqlfluff, rules in pyproject.toml)"}
    assert "F401" in run.stdout and "dags/orders_daily.py" in run.stdout
