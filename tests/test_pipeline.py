"""The starter pipeline: a default render builds and tests itself with the two
documented commands (`make run`, `make test`) on a fresh venv, and a project
from the previous release takes it through an update without losing what the
team wrote in its model and contract documents, or later in the models and the
contract themselves.

The default end-to-end test installs requirements.txt (dbt-core + dbt-duckdb +
duckdb + pytest, about 200 MB; 20-25 s from PyPI, less from pip's cache) and
builds twice; about 1.5 minutes. Heavier checks are opt-in (`-m slow`): the real
Airflow DagBag import, datacontract-cli's lint and test on the built DuckDB file,
and the SQLMesh and plain-SQL starters.
"""

from __future__ import annotations

import ast
import csv
import json
import os
import re
import shutil
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest
import yaml

from testkit.helpers import files_of, git, leftover_jinja, render
from testkit.ladder import FIXED, commit_all, conflict_markers, renovate_update, start_project
from testkit.pipeline import clean_env, make, tail

TABLES = ("raw.orders_events", "analytics.stg_orders", "analytics.fct_orders")
NOTE = "Team note: {} was reviewed with finance in March; keep this line."


def row_counts(project: Path, database: str = "data/warehouse/warehouse.duckdb") -> dict[str, int]:
    """Row counts read with the project's own venv (duckdb is not a dev dependency here)."""
    code = (
        "import duckdb, json, sys\n"
        "con = duckdb.connect(sys.argv[1], read_only=True)\n"
        f"print(json.dumps({{t: con.execute(f'select count(*) from {{t}}').fetchone()[0] for t in {list(TABLES)!r}}}))\n"
    )
    out = subprocess.run([str(project / ".venv/bin/python"), "-c", code, str(project / database)],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def previous_release(info: dict) -> str:
    earlier = [tag for tag in info["releases"] if tag != info["head"]]
    assert earlier, "no release before HEAD to update from"
    return earlier[-1]


# ---------------------------------------------------------------------------
#  The default repository runs its pipeline
# ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def default_repo(template_repo, tmp_path_factory) -> Path:
    src, info = template_repo
    return render(src, tmp_path_factory.mktemp("starter") / "orders-data", dict(FIXED), vcs_ref=info["head"])


def test_default_render_holds_the_starter_pipeline(default_repo):
    answers = yaml.safe_load((default_repo / ".copier-answers.yml").read_text())
    assert answers["starter_pipeline"] is True and answers["warehouse"] == "duckdb"
    assert leftover_jinja(default_repo) == []
    makefile = (default_repo / "Makefile").read_text()
    assert "\nrun: install\n" in makefile and "\ntest: install\n" in makefile
    # Orchestrator packages stay out of the default install.
    requirements = (default_repo / "requirements.txt").read_text()
    assert "dbt-duckdb==" in requirements and "airflow" not in requirements
    assert "apache-airflow==" in (default_repo / "requirements-orchestrator.txt").read_text()
    # The DuckDB file goes to a gitignored folder.
    assert "data/warehouse/" in (default_repo / ".gitignore").read_text().splitlines()


def test_default_repo_runs_and_tests_its_pipeline_with_the_two_documented_commands(default_repo):
    run = make(default_repo, "run")
    assert run.returncode == 0, tail(run)
    counts = row_counts(default_repo)
    assert counts["raw.orders_events"] == 40  # 36 events and 4 redeliveries
    assert counts["analytics.stg_orders"] == 36
    assert 0 < counts["analytics.fct_orders"] < 36

    test = make(default_repo, "test")
    assert test.returncode == 0, tail(test)
    summary = test.stdout.strip().splitlines()[-1]
    assert " passed" in summary and "failed" not in summary and "error" not in summary, summary

    # (Running it twice changes nothing: the generated tests/pipelines/test_load.py proves the
    # loader idempotent, and every model is rebuilt whole.)

    # The build never writes a file git would pick up.
    git(default_repo, "init", "-q")
    untracked_build = [line for line in git(default_repo, "status", "--porcelain", "--ignored").splitlines()
                       if line.startswith("??") and line[3:].startswith(("data/warehouse", ".venv", "transform/target"))]
    assert untracked_build == []


def test_make_refuses_a_python_below_the_floor_before_making_a_venv(default_repo, tmp_path):
    project = shutil.copytree(default_repo, tmp_path / "copy", ignore=shutil.ignore_patterns(".venv*"))
    assert make(project, "python-floor").returncode == 0  # this interpreter is 3.11 or newer
    # Raising the floor past any Python plays the part of an old interpreter.
    run = make(project, "run", "PYTHON_FLOOR=3.99")
    assert run.returncode != 0
    assert "this repository needs 3.99 or newer" in run.stderr
    assert not (project / ".venv").exists()


def test_dbt_project_requires_the_dbt_core_it_pins(default_repo):
    from packaging.specifiers import SpecifierSet

    pinned = re.search(r"^dbt-core==(\S+)$", (default_repo / "requirements.txt").read_text(), re.M).group(1)
    required = yaml.safe_load((default_repo / "transform/dbt_project.yml").read_text())["require-dbt-version"]
    assert pinned in SpecifierSet(",".join(required))
    assert "1.12.0" not in SpecifierSet(",".join(required))  # its parser comes from outside PyPI


ORCHESTRATOR_FILES = {"airflow": "dags/orders_daily.py", "prefect": "flows/orders_daily.py",
                      "dagster": "pipelines/orders/definitions.py"}


@pytest.mark.parametrize("orchestrator", sorted(ORCHESTRATOR_FILES))
def test_orchestrator_runs_daily_when_the_documents_say(template_repo, tmp_path, orchestrator):
    src, info = template_repo
    project = render(src, tmp_path / "repo", {**FIXED, "orchestrator": orchestrator}, vcs_ref=info["head"])
    code = (project / ORCHESTRATOR_FILES[orchestrator]).read_text()
    minute, hour = re.search(r'"(\d+) (\d+) \* \* \*"', code).groups()
    freshness = (project / "05_Pipelines/freshness-strategy.md").read_text()
    assert f"starts at {int(hour):02d}:{int(minute):02d} UTC" in freshness
    calls = {node.func.attr: {k.arg for k in node.keywords} for node in ast.walk(ast.parse(code))
             if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)}
    if orchestrator == "prefect":  # served on that cron when run as a script
        assert "cron" in calls["serve"]
    if orchestrator == "airflow":  # the load task takes its data interval
        load = next(node for node in ast.walk(ast.parse(code))
                    if isinstance(node, ast.FunctionDef) and node.name == "load_raw_orders")
        assert "data_interval_start" in {arg.arg for arg in load.args.args}


# ---------------------------------------------------------------------------
#  Publishing keeps its promise: a day whose tests fail publishes nothing
# ---------------------------------------------------------------------------
REFUSED = "nothing published: analytics.fct_orders still holds the last data that passed its tests"


def published_rows(project: Path, venv: Path) -> list[list[str]]:
    """Every row of the table consumers read, in key order, read with the project's own duckdb."""
    code = ("import duckdb, json, sys\n"
            "con = duckdb.connect(sys.argv[1], read_only=True)\n"
            "rows = con.execute('select columns(*)::varchar from analytics.fct_orders order by all').fetchall()\n"
            "print(json.dumps(rows))\n")  # as text: a timestamptz value would need pytz in Python
    out = subprocess.run([str(venv / "bin/python"), "-c", code, str(project / "data/warehouse/warehouse.duckdb")],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def add_a_day(project: Path, occurred_on: str) -> None:
    """A new received day in the sample: one order created on `occurred_on`."""
    sample = project / "data/sample/orders_events.csv"
    with sample.open() as rows:
        last = max(row["received_at"][:10] for row in csv.DictReader(rows))
    received = (date.fromisoformat(last) + timedelta(days=1)).isoformat()
    with sample.open("a") as out:
        out.write(f"orders-e999,created,1,orders-1999,c-001,{occurred_on}T08:00:00Z,{received}T08:01:00Z,web,10.00,EUR\n")


def assert_a_failed_day_publishes_nothing(project: Path, venv: Path) -> None:
    """Run on the sample, add a day a test of fct_orders rejects, run again: the run fails
    saying so and consumers read exactly the rows of the first run; corrected, the day is published."""
    at_venv = f"VENV={venv}"
    sample = project / "data/sample/orders_events.csv"
    good = sample.read_text()
    first = make(project, "run", at_venv, timeout=900)
    assert first.returncode == 0, tail(first)
    before = published_rows(project, venv)

    add_a_day(project, "2099-01-01")  # a producer's clock off by decades
    second = make(project, "run", at_venv, timeout=900)
    assert second.returncode != 0, tail(second)
    assert REFUSED in second.stdout + second.stderr, tail(second)
    assert published_rows(project, venv) == before

    sample.write_text(good)
    add_a_day(project, "2026-01-11")
    third = make(project, "run", at_venv, timeout=900)
    assert third.returncode == 0, tail(third)
    after = published_rows(project, venv)
    assert len(after) == len(before) + 1
    assert [row[:2] for row in after if row[0] == "orders-1999"] == [["orders-1999", "2026-01-11"]]


def test_dbt_publishes_a_day_only_after_dbt_build_passed(default_repo, tmp_path):
    """Write-audit-publish with dbt: built and tested in analytics_audit, copied over
    analytics.fct_orders by `dbt run-operation publish` only when `dbt build` passed."""
    install = make(default_repo, "install")
    assert install.returncode == 0, tail(install)
    project = shutil.copytree(default_repo, tmp_path / "copy", ignore=shutil.ignore_patterns(".venv*", "warehouse"))
    assert_a_failed_day_publishes_nothing(project, default_repo / ".venv")  # its venv, not a second install


@pytest.mark.slow
@pytest.mark.parametrize("tool", ["sqlmesh", "none"])
def test_other_starters_publish_a_day_only_after_its_tests_passed(template_repo, tmp_path, tool):
    """SQLMesh: blocking audits on analytics_audit.fct_orders, then the copy; plain SQL:
    transform/tests/*.sql on analytics_audit.fct_orders, then the copy."""
    src, info = template_repo
    project = render(src, tmp_path / "repo", {**FIXED, "transformation_tool": tool, "orchestrator": "none"},
                     vcs_ref=info["head"])
    assert_a_failed_day_publishes_nothing(project, project / ".venv")


# ---------------------------------------------------------------------------
#  Updates keep what the team wrote
# ---------------------------------------------------------------------------
def edit(project: Path, rel: str) -> str:
    """A team's edit: a line right after the title and one at the end."""
    path = project / rel
    lines = path.read_text().split("\n")
    title = next((i for i, line in enumerate(lines) if line.startswith("# ")), 0)
    line = NOTE.format(rel)
    lines[title + 1:title + 1] = ["", line]
    path.write_text("\n".join(lines).rstrip("\n") + f"\n{line} (end)\n")
    return line


def test_update_from_the_previous_release_keeps_edits_to_model_and_contract_docs(template_repo, tmp_path):
    src, info = template_repo
    project = start_project(src, tmp_path / "project", previous_release(info), {})
    edited = {rel: edit(project, rel) for rel in (
        "07_Testing_Quality/data-contracts.md",
        "01_Data_Products/orders/api-contracts.md",
        "01_Data_Products/orders/spec.md",
        "04_Data_Modeling/dbt/model-layer.md",
        "04_Data_Modeling/dbt/tests.md",
    )}
    commit_all(project, "Team edits")

    run = renovate_update(project, info["head"], trust=False)  # no migration in this hop
    assert run.returncode == 0, run.stderr

    for rel, line in edited.items():
        text = (project / rel).read_text()
        assert line in text and f"{line} (end)" in text, f"the team's edit of {rel} was lost"
    assert conflict_markers(project) == []
    assert not [f for f in files_of(project) if f.endswith((".rej", ".orig"))]
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text())
    assert answers["starter_pipeline"] is True and answers["_commit"] == info["head"]
    for rel in ("Makefile", "01_Data_Products/orders/data-contract.odcs.yaml",
                "01_Data_Products/orders/data-product.odps.yaml", "transform/models/marts/orders/fct_orders.sql"):
        assert (project / rel).is_file(), f"{rel} did not arrive with the update"


@pytest.fixture(scope="module")
def newer_release(template_repo, tmp_path_factory) -> tuple[Path, str, str]:
    """The template repo with one more release above HEAD that changes the fact model and
    the contract (a line at their end): (path, HEAD tag, newer tag)."""
    src, info = template_repo
    path = tmp_path_factory.mktemp("newer") / "data-product-framework"
    git(src.parent, "clone", "-q", "--no-local", str(src), str(path))
    for rel, line in (("includes/pipeline/dbt/fct.sql.jinja", "-- reviewed for the newer release\n"),
                      ("includes/pipeline/odcs.yaml.jinja", "# reviewed for the newer release\n")):
        with open(path / rel, "a") as out:
            out.write(line)
    git(path, "commit", "-q", "-am", "A newer release")
    major, minor, micro = (int(p) for p in info["head"][1:].split("."))
    newer = f"v{major}.{minor}.{micro + 1}"
    git(path, "tag", "-a", newer, "-m", "newer")
    return path, info["head"], newer


def test_update_keeps_edits_to_the_models_and_the_contract(newer_release, tmp_path):
    src, head, newer = newer_release
    project = start_project(src, tmp_path / "project", head, {})
    fct = project / "transform/models/marts/orders/fct_orders.sql"
    contract = project / "01_Data_Products/orders/data-contract.odcs.yaml"
    fct.write_text(fct.read_text().replace("    loaded_at\n", "    loaded_at,\n    'web' as channel\n"))
    contract.write_text(contract.read_text().replace("version: 0.1.0", "version: 0.2.0", 1))
    commit_all(project, "Team edits to the model and the contract")

    run = renovate_update(project, newer, trust=False)
    assert run.returncode == 0, run.stderr
    assert "'web' as channel" in fct.read_text() and "-- reviewed for the newer release" in fct.read_text()
    assert "version: 0.2.0" in contract.read_text() and "# reviewed for the newer release" in contract.read_text()
    assert conflict_markers(project) == []


# ---------------------------------------------------------------------------
#  Opt-in: the heavy tools, for real
# ---------------------------------------------------------------------------
@pytest.mark.slow
def test_airflow_dagbag_imports_the_dag(default_repo):
    """`make orchestrator` installs Airflow; the repo's own import test then loads the DAG."""
    if not (default_repo / ".venv/.installed").exists():
        assert make(default_repo, "install").returncode == 0
    run = make(default_repo, "orchestrator", timeout=900)
    assert run.returncode == 0, tail(run)
    test = subprocess.run([str(default_repo / ".venv/bin/python"), "-m", "pytest", "-rs",
                           "tests/pipelines/test_orchestration.py"], cwd=default_repo,
                          env=clean_env(), capture_output=True, text=True, timeout=600)
    assert test.returncode == 0, tail(test)
    assert "skipped" not in test.stdout.splitlines()[-1], tail(test)


DAG_TEST = """
import json, os, sys
import duckdb, pendulum
from airflow.dag_processing.dagbag import DagBag

dag = DagBag(dag_folder="dags").dags["orders_daily"]
states = [str(dag.test(logical_date=pendulum.parse(when)).state) for when in sys.argv[1:]]
with duckdb.connect(os.environ["DUCKDB_PATH"], read_only=True) as con:
    con.execute("set TimeZone = 'UTC'")
    loaded = dict(con.execute("select strftime(cast(received_at as date), '%Y-%m-%d'), count(*) "
                              "from raw.orders_events group by 1").fetchall())
print(json.dumps({"states": states, "loaded": loaded}))
"""


@pytest.mark.slow
def test_airflow_runs_load_the_day_of_their_data_interval_once(default_repo, tmp_path):
    """`dag.test()` for two logical dates, then the first again (a backfill): each run loads
    the received day its interval starts on, and that day only once."""
    if not (default_repo / ".venv/.installed").exists():
        assert make(default_repo, "install").returncode == 0
    assert make(default_repo, "orchestrator", timeout=900).returncode == 0
    env = {**clean_env(), "AIRFLOW_HOME": str(tmp_path / "airflow"), "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
           "AIRFLOW__CORE__DAGS_FOLDER": str(default_repo / "dags"), "PYTHONPATH": str(default_repo),
           "DUCKDB_PATH": str(tmp_path / "warehouse.duckdb")}
    venv = default_repo / ".venv/bin"
    migrate = subprocess.run([str(venv / "airflow"), "db", "migrate"], env=env, capture_output=True, text=True)
    assert migrate.returncode == 0, migrate.stderr[-2000:]
    runs = ["2026-01-06T05:00:00+00:00", "2026-01-07T05:00:00+00:00", "2026-01-06T05:00:00+00:00"]
    run = subprocess.run([str(venv / "python"), "-c", DAG_TEST, *runs], cwd=default_repo, env=env,
                         capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, tail(run)
    result = json.loads(run.stdout.strip().splitlines()[-1])
    assert result["states"] == ["success"] * 3
    with (default_repo / "data/sample/orders_events.csv").open() as sample:
        received = [row["received_at"][:10] for row in csv.DictReader(sample)]
    assert result["loaded"] == {day: received.count(day) for day in ("2026-01-05", "2026-01-06")}


@pytest.mark.slow
def test_datacontract_cli_lints_and_tests_the_built_contract(default_repo):
    """`make contract-tools`: datacontract-cli's lint and test on the DuckDB file, dataproduct lint."""
    run = make(default_repo, "contract-tools", timeout=900)
    assert run.returncode == 0, tail(run, 120)


@pytest.mark.slow
@pytest.mark.parametrize("answers", [
    {"transformation_tool": "sqlmesh", "orchestrator": "dagster"},
    {"transformation_tool": "none", "orchestrator": "prefect", "product_name": "Customer 360"},
], ids=lambda a: a["transformation_tool"])
def test_other_starters_run_and_test(template_repo, tmp_path, answers):
    src, info = template_repo
    project = render(src, tmp_path / "repo", {**FIXED, **answers}, vcs_ref=info["head"])
    run = make(project, "run", timeout=900)
    assert run.returncode == 0, tail(run)
    test = make(project, "test", timeout=900)
    assert test.returncode == 0, tail(test)
    orchestrator = make(project, "orchestrator", "test", timeout=900)
    assert orchestrator.returncode == 0, tail(orchestrator)
    assert "skipped" not in orchestrator.stdout.strip().splitlines()[-1], tail(orchestrator)


@pytest.mark.slow
def test_docs_tools_and_pipeline_tools_each_pass_pip_check(template_repo, tmp_path):
    """The two environments the Makefile names: .venv (make install) and .venv-docs
    (make docs, which also runs the docs checks). In one venv their pins clash
    (yamllint: pathspec >= 1; dbt-core: pathspec < 0.13)."""
    src, info = template_repo
    project = render(src, tmp_path / "repo", dict(FIXED), vcs_ref=info["head"])
    git(project, "init", "-q", "-b", "main")
    commit_all(project, "Render")  # pre-commit needs a git repository
    install = make(project, "install", timeout=900)
    assert install.returncode == 0, tail(install)
    docs = make(project, "docs", timeout=1200)
    assert docs.returncode == 0, tail(docs)
    for venv in (".venv", ".venv-docs"):
        check = subprocess.run([str(project / venv / "bin/python"), "-m", "pip", "check"],
                               capture_output=True, text=True)
        assert check.returncode == 0, f"{venv}: {check.stdout}"
