"""scripts/adopt.py: the framework adopted in a repository that already exists,
then kept current with `copier update` like any generated repository, without
ever writing a file the team had before."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import copier
import pytest
import yaml

from testkit.helpers import ROOT, files_of, git
from testkit.ladder import FIXED, conflict_markers, recorded_commit, renovate_update
from testkit.tree import git_repo

ADOPT = ROOT / "scripts" / "adopt.py"
ANSWERS = ".copier-answers.yml"

# The team's repository: a README and a doc where the framework has files of its
# own, code, and a docs site of their own in a nested docs/ folder.
THEIRS = {
    "README.md": "# Orders data\n\nOur pipelines for the orders domain. Ask #data-orders.\n",
    "02_Architecture/system-overview.md": "# How orders flow\n\nKafka -> S3 -> warehouse, drawn on the wall.\n",
    "src/etl.py": "def run():\n    return 'extract, transform, load'\n",
    "docs/index.md": "# Orders docs\n\nSee the [guide](guide.md).\n",
    "docs/guide.md": "# Guide\n\nRun `make etl`.\n",
    "mkdocs.yml": "site_name: Orders data\nnav:\n  - index.md\n  - guide.md\n",
}
# Clash in every release; later releases may add more (mkdocs.yml with the docs site).
MUST_CLASH = {"README.md", "02_Architecture/system-overview.md"}
ADOPTED = sorted(THEIRS)  # every file they had is recorded, clashing or not
NEWER_LINE = "Line added by the newer release of the template."
NEWER_FILE = "src/etl.py"  # the newer release adds a file where they already have one
# What adopting THEIRS answers besides the defaults: the README's title, no starter pipeline.
READ_FROM_THEIRS = {"project_name": "Orders data", "starter_pipeline": False}


# ----------------------------------------------------------------------------
#  helpers
# ----------------------------------------------------------------------------
def their_repo(path: Path, files: dict[str, str] = THEIRS) -> Path:
    return git_repo(path, files, "Our own repository")


def adopt(target: Path, src: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    data = [a for key, value in FIXED.items() for a in ("--data", f"{key}={value}")]
    return subprocess.run(
        [sys.executable, str(ADOPT), str(target), "--src", str(src), *data, *args],
        capture_output=True, text=True, env={**os.environ, **(env or {})},
    )


def entries(root: Path) -> dict[str, tuple[str, bytes | str]]:
    """Every file and symlink below root (.git excluded, symlinked folders not
    entered): rel -> ("file", bytes) or ("link", target)."""
    found = {}
    for folder, dirs, files in os.walk(root):
        here = Path(folder)
        dirs[:] = [d for d in dirs if d != ".git" or here != root]
        for name in [*files, *(d for d in dirs if (here / d).is_symlink())]:
            path = here / name
            rel = path.relative_to(root).as_posix()
            found[rel] = ("link", os.readlink(path)) if path.is_symlink() else ("file", path.read_bytes())
    return found


def snapshot(repo: Path) -> tuple:
    """Every byte and link outside .git, git's view of the tree, and HEAD."""
    return (
        entries(repo),
        git(repo, "status", "--porcelain", "--untracked-files=all", "--ignored"),
        git(repo, "rev-parse", "HEAD"),
    )


def answers_of(repo: Path) -> dict:
    return yaml.safe_load((repo / ANSWERS).read_text())


def offered(rel: str) -> str:
    path = Path(rel)
    return str(path.with_name(f"{path.stem}.framework{path.suffix}"))


_FRESH: dict[tuple[str, str], dict] = {}


@pytest.fixture(scope="module")
def fresh(tmp_path_factory):
    """What a plain `copier copy` of a release gives with the answers the adoption
    reads from THEIRS (cached)."""
    def render_once(src: Path, tag: str) -> dict:
        if (str(src), tag) not in _FRESH:
            dst = tmp_path_factory.mktemp("fresh") / tag
            copier.run_copy(str(src), str(dst), data={**FIXED, **READ_FROM_THEIRS}, defaults=True,
                            vcs_ref=tag, quiet=True)
            _FRESH[str(src), tag] = entries(dst)
        return _FRESH[str(src), tag]
    return render_once


def assert_theirs_untouched(repo: Path) -> None:
    for rel, text in THEIRS.items():
        assert (repo / rel).read_text() == text, f"{rel} of theirs was changed"


def assert_framework_matches(repo: Path, framework: dict, offered_copies: dict) -> None:
    """Framework files are the release's own; theirs win every shared path."""
    have = entries(repo)
    assert set(have) == set(framework) | set(THEIRS) | set(offered_copies.values())
    for rel, entry in framework.items():
        if rel not in THEIRS and rel != ANSWERS:
            assert have[rel] == entry, f"{rel} differs from the release's own file"


def assert_adopted(repo: Path, run: subprocess.CompletedProcess, tag: str, framework: dict) -> dict:
    """Checks right after adoption; returns {clashing path: offered copy}."""
    assert run.returncode == 0, run.stderr + run.stdout
    assert_theirs_untouched(repo)
    clashes = sorted(set(THEIRS) & set(framework))
    assert MUST_CLASH <= set(clashes)
    copies = {rel: offered(rel) for rel in clashes}
    for rel in clashes:
        assert f"kept yours: {rel}; framework version offered at {copies[rel]}" in run.stdout
        assert entries(repo)[copies[rel]] == framework[rel]
    kept = [line for line in run.stdout.splitlines() if "kept yours:" in line]
    assert len(kept) == len(clashes), kept
    recorded = answers_of(repo)
    assert recorded["adopted_paths"] == ADOPTED
    assert recorded["_commit"] == tag
    assert_framework_matches(repo, framework, copies)
    # Committed, on top of their history, and nothing left over.
    assert git(repo, "status", "--porcelain", "--untracked-files=all") == ""
    assert git(repo, "log", "-1", "--format=%s").strip() == f"Adopt data-product-framework {tag}"
    assert git(repo, "log", "-1", "--format=%s", "HEAD~1").strip() == "Our own repository"
    return copies


@pytest.fixture(scope="module")
def newer_release(template_repo, tmp_path_factory) -> tuple[Path, str, str]:
    """The template repo with one more release above HEAD that edits the docs the
    team kept and one they did not, and adds a file where they have one:
    (path, adopting tag, newer tag)."""
    src, info = template_repo
    path = tmp_path_factory.mktemp("newer") / "data-product-framework"
    git(src.parent, "clone", "-q", "--no-local", str(src), str(path))
    for rel in ("README.md.jinja", "02_Architecture/system-overview.md.jinja",
                "02_Architecture/ingestion-pipeline.md.jinja"):
        with open(path / "template" / rel, "a") as out:
            out.write(f"\n{NEWER_LINE}\n")
    (path / "template" / NEWER_FILE).parent.mkdir(parents=True, exist_ok=True)
    (path / "template" / NEWER_FILE).write_text("print('the framework would like this path')\n")
    git(path, "add", "-A")
    git(path, "commit", "-q", "-m", "A newer release")
    major, minor, micro = (int(p) for p in info["head"][1:].split("."))
    newer = f"v{major}.{minor}.{micro + 1}"
    git(path, "tag", "-a", newer, "-m", "newer")
    return path, info["head"], newer


# ----------------------------------------------------------------------------
#  adoption
# ----------------------------------------------------------------------------
def test_adopt_keeps_their_files_and_adds_the_framework(template_repo, fresh, tmp_path):
    src, info = template_repo
    repo = their_repo(tmp_path / "orders-data")
    run = adopt(repo, src)  # default --vcs-ref: the newest release tag
    assert_adopted(repo, run, info["head"], fresh(src, info["head"]))
    assert "nothing of yours was changed" in run.stdout


def test_adopted_repo_takes_a_later_release_through_copier_update(newer_release, fresh, tmp_path):
    src, tag, newer = newer_release
    repo = their_repo(tmp_path / "orders-data")
    copies = assert_adopted(repo, adopt(repo, src, "--vcs-ref", tag), tag, fresh(src, tag))
    offered_before = {rel: entries(repo)[rel] for rel in copies.values()}

    run = renovate_update(repo, newer, trust=False)  # no migration in this hop
    assert run.returncode == 0, run.stderr
    assert_theirs_untouched(repo)  # src/etl.py too, though the release now ships one
    recorded = answers_of(repo)
    assert recorded["_commit"] == newer
    assert recorded["adopted_paths"] == ADOPTED
    # The release's changes arrived wherever the framework owns the file ...
    assert NEWER_LINE in (repo / "02_Architecture/ingestion-pipeline.md").read_text()
    assert_framework_matches(repo, fresh(src, newer), copies)
    # ... the offered copies are not refreshed (documented), nothing is in conflict.
    assert {rel: entries(repo)[rel] for rel in copies.values()} == offered_before
    assert conflict_markers(repo) == []
    assert not [f for f in files_of(repo) if f.endswith((".rej", ".orig"))]


def test_adopt_at_the_oldest_release_then_update_to_head(template_repo, fresh, tmp_path):
    src, info = template_repo
    oldest = info["releases"][0]
    repo = their_repo(tmp_path / "orders-data")
    run = adopt(repo, src, "--vcs-ref", oldest)
    copies = assert_adopted(repo, run, oldest, fresh(src, oldest))

    # Renovate's command line; --trust only because the hop carries a migration.
    update = renovate_update(repo, info["head"], trust=True)
    assert update.returncode == 0, update.stderr
    assert_theirs_untouched(repo)
    recorded = answers_of(repo)
    assert recorded_commit(repo) == info["head"]
    assert recorded["adopted_paths"] == ADOPTED
    assert conflict_markers(repo) == []
    assert_framework_matches(repo, fresh(src, info["head"]), copies)


# ----------------------------------------------------------------------------
#  refusals and roll-back: the repository is left exactly as it was
# ----------------------------------------------------------------------------
@pytest.mark.parametrize("dirt", ["modified", "untracked"])
def test_dirty_repo_is_refused_and_left_untouched(template_repo, tmp_path, dirt):
    src, _ = template_repo
    repo = their_repo(tmp_path / "orders-data")
    if dirt == "modified":
        (repo / "README.md").write_text("work in progress\n")
    else:
        (repo / "notes.txt").write_text("not committed yet\n")
    before = snapshot(repo)
    run = adopt(repo, src)
    assert run.returncode == 2
    assert "dirty" in run.stderr and "nothing was changed" in run.stderr
    assert snapshot(repo) == before


def test_already_generated_repo_is_refused(template_repo, tmp_path):
    src, _ = template_repo
    repo = their_repo(tmp_path / "orders-data", {**THEIRS, ANSWERS: "_commit: v1.0.0\n"})
    before = snapshot(repo)
    run = adopt(repo, src)
    assert run.returncode == 2 and "copier update" in run.stderr
    assert snapshot(repo) == before


@pytest.mark.parametrize("layout", ["file-where-a-folder-goes", "folder-where-a-file-goes"])
def test_file_folder_clash_is_refused_and_left_untouched(template_repo, tmp_path, layout):
    src, _ = template_repo
    files = dict(THEIRS)
    if layout == "file-where-a-folder-goes":
        files["06_DevOps"] = "our devops notes in one file\n"
        expected = "needs a folder 06_DevOps/"
    else:
        files["renovate.json5/README.md"] = "a folder of ours\n"
        expected = "writes a file (or link) renovate.json5, but yours is a folder"
    repo = their_repo(tmp_path / "orders-data", files)
    before = snapshot(repo)
    run = adopt(repo, src)
    assert run.returncode == 2, run.stdout
    assert expected in run.stderr and "nothing was changed" in run.stderr
    assert snapshot(repo) == before


@pytest.mark.parametrize("fail_after", [7, 10_000], ids=["while-writing", "before-commit"])
def test_failure_after_writing_began_rolls_back_byte_for_byte(template_repo, tmp_path, fail_after):
    src, _ = template_repo
    repo = their_repo(tmp_path / "orders-data")
    before = snapshot(repo)
    run = adopt(repo, src, env={"DPF_ADOPT_FAIL_AFTER": str(fail_after)})
    assert run.returncode == 1, run.stdout
    assert "rolled back" in run.stderr
    assert snapshot(repo) == before
    # No folder the adoption created is left behind, empty or not.
    assert sorted(p.name for p in repo.iterdir()) == sorted(
        {".git", *(Path(rel).parts[0] for rel in THEIRS)}
    )
    assert git(repo, "ls-files") == git(repo, "ls-tree", "-r", "--name-only", "HEAD")


# ----------------------------------------------------------------------------
#  the question behind it
# ----------------------------------------------------------------------------
def answers_only(src: Path, dst: Path, tag: str, data: dict) -> dict:
    copier.run_copy(str(src), str(dst), data={**FIXED, **data}, defaults=True, vcs_ref=tag,
                    quiet=True, exclude=["*", f"!/{ANSWERS}"])
    return answers_of(dst)


def test_plain_copy_neither_asks_nor_records_adopted_paths(template_repo, tmp_path):
    src, info = template_repo
    assert "adopted_paths" not in answers_only(src, tmp_path / "p", info["head"], {})


@pytest.mark.parametrize(
    "value, message",
    [
        ('"README.md"', "must be a list"),
        ('["/etc/passwd"]', "not absolute"),
        ('["../outside.md"]', 'no ".."'),
        ('["docs/*.md"]', "* ? [ ] !"),
        ('["a\\\\b.md"]', "backslashes"),
        ('["two\\nlines.md"]', "one line"),
        ('["docs/"]', "trailing"),
    ],
)
def test_adopted_paths_accepts_only_plain_relative_paths(template_repo, tmp_path, value, message):
    src, info = template_repo
    with pytest.raises(ValueError, match="adopted_paths") as error:
        answers_only(src, tmp_path / "p", info["head"], {"adopted_paths": value})
    assert message in str(error.value)
    assert not (tmp_path / "p").exists() or not any((tmp_path / "p").iterdir())


def load_module(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _dpf_module():
    return load_module("dpf_under_test", ROOT / "template/tools/dpf.py")


def test_dpf_reads_an_adopted_answers_file(template_repo, tmp_path):
    """The generated tools/dpf.py parses the answers file, list answer included."""
    src, info = template_repo
    answers_only(src, tmp_path / "p", info["head"], {"adopted_paths": sorted(MUST_CLASH)})
    values = _dpf_module().read_answers(tmp_path / "p" / ANSWERS)
    assert values["product_slug"] == "orders"


# ----------------------------------------------------------------------------
#  reading the repository it joins
# ----------------------------------------------------------------------------
def tracked_bytes(repo: Path, rels) -> dict[str, bytes]:
    return {rel: (repo / rel).read_bytes() for rel in rels}


def inferred(repo: Path) -> dict[str, object]:
    found, _ = load_module("adopt_under_test", ADOPT).infer_answers(repo)
    return {key: f.value for key, f in found.items()}


# A dbt-on-DuckDB project in the shape of dbt-labs' jaffle-shop example.
JAFFLE_SHOP = {
    "README.md": "# Jaffle Shop\n\n`jaffle_shop` is a fictional ecommerce store for testing dbt.\n\n"
                 "```bash\n# Build it\ndbt build\n```\n",
    "dbt_project.yml": "name: 'jaffle_shop'\nversion: '1.0.0'\nconfig-version: 2\nprofile: 'jaffle_shop'\n"
                       "model-paths: [\"models\"]\nseed-paths: [\"seeds\"]\ntarget-path: \"target\"\n"
                       "clean-targets: [\"target\", \"dbt_packages\"]\n"
                       "models:\n  jaffle_shop:\n    staging:\n      +materialized: view\n",
    "profiles.yml": "jaffle_shop:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n"
                    "      path: 'jaffle_shop.duckdb'\n      threads: 24\n",
    "models/staging/stg_customers.sql": "select id as customer_id, first_name, last_name\n"
                                        "from {{ ref('raw_customers') }}\n",
    "models/staging/stg_orders.sql": "select id as order_id, user_id as customer_id, order_date, status\n"
                                     "from {{ ref('raw_orders') }}\n",
    "models/staging/schema.yml": "version: 2\nmodels:\n  - name: stg_customers\n    columns:\n"
                                 "      - name: customer_id\n        tests: [unique, not_null]\n",
    "models/customers.sql": "select * from {{ ref('stg_customers') }}\n",
    # Seeds as exported from a spreadsheet: CRLF endings and a Latin-1 byte, kept as bytes.
    "seeds/raw_customers.csv": b"id,first_name,last_name\r\n1,Michael,P.\r\n2,Jos\xe9,G.\r\n",
    "seeds/raw_orders.csv": "id,user_id,order_date,status\n1,1,2018-01-01,returned\n",
    "Makefile": "build:\n\tdbt build --profiles-dir .\n",
    "requirements.txt": "dbt-duckdb==1.9.1\n",
    ".gitignore": "target/\ndbt_packages/\n*.duckdb\n",
}

# A dbt + Airflow + Snowflake warehouse with its own docs site, Makefile and CI.
SNOWFLAKE_WAREHOUSE = {
    "README.md": "# Acme Warehouse\n\nELT for Acme: Airflow loads, dbt transforms, Snowflake serves.\n",
    "Makefile": "docs:\n\tmkdocs build --strict\n\ndbt:\n\tcd transform && dbt build --target prod\n",
    "mkdocs.yml": "site_name: Acme Warehouse\nnav:\n  - index.md\n  - runbook.md\n",
    "docs/index.md": "# Acme Warehouse\n\nStart with the [runbook](runbook.md).\n",
    "docs/runbook.md": "# Runbook\n\nA failed load: clear the task in Airflow.\n",
    "requirements.txt": "apache-airflow==2.10.5\napache-airflow-providers-snowflake==6.1.0\n"
                        "dbt-core==1.9.4\ndbt-snowflake==1.9.2\n",
    ".github/workflows/ci.yml": "name: ci\non: [pull_request]\njobs:\n  dbt:\n    runs-on: ubuntu-latest\n"
                                "    steps:\n      - uses: actions/checkout@v4\n",
    "dags/load_salesforce.py": "from datetime import datetime\n\nfrom airflow import DAG\n"
                               "from airflow.operators.bash import BashOperator\n\n"
                               "with DAG('load_salesforce', start_date=datetime(2024, 1, 1), schedule='@daily'):\n"
                               "    BashOperator(task_id='load', bash_command='python -m loaders.salesforce')\n",
    "dags/dbt_build.py": "import pendulum\nfrom airflow.decorators import dag, task\n\n\n"
                         "@dag(start_date=pendulum.datetime(2024, 1, 1), schedule='@daily')\n"
                         "def dbt_build():\n    @task.bash\n    def build():\n"
                         "        return 'cd transform && dbt build --target prod'\n    build()\n\n\ndbt_build()\n",
    "transform/dbt_project.yml": "name: acme\nversion: '1.0.0'\nprofile: acme_snowflake\n"
                                 "model-paths: [models]\n",
    "transform/profiles.yml": "acme_snowflake:\n  target: dev\n  outputs:\n"
                              "    dev:\n      type: snowflake\n      account: \"{{ env_var('SNOWFLAKE_ACCOUNT') }}\"\n"
                              "      schema: dbt_dev\n"
                              "    prod:\n      type: snowflake\n      account: \"{{ env_var('SNOWFLAKE_ACCOUNT') }}\"\n"
                              "      schema: analytics\n",
    "transform/models/staging/stg_accounts.sql": "select * from {{ source('salesforce', 'account') }}\n",
    "transform/models/marts/dim_accounts.sql": "select * from {{ ref('stg_accounts') }}\n",
}

# name: (their files, answers the adoption must record, lines it must print)
REAL_SHAPES = {
    "jaffle-shop-duckdb": (JAFFLE_SHOP, {
        "project_name": "Jaffle Shop", "project_slug": "jaffle-shop", "transformation_tool": "dbt",
        "warehouse": "duckdb", "starter_pipeline": False,
    }, [
        "project_name = Jaffle Shop (from README.md: first '# ' title)",
        "transformation_tool = dbt (from dbt_project.yml)",
        "warehouse = duckdb (from profiles.yml: outputs.dev.type)",
        "orchestrator = airflow (template default: no Airflow DAG",
        "ci_platform = github (template default: no .github/workflows/ or .gitlab-ci.yml)",
        "starter_pipeline = false (left out when adopting; --data starter_pipeline=true adds it)",
    ]),
    "dbt-airflow-snowflake": (SNOWFLAKE_WAREHOUSE, {
        "project_name": "Acme Warehouse", "transformation_tool": "dbt", "warehouse": "snowflake",
        "orchestrator": "airflow", "ci_platform": "github", "starter_pipeline": False,
    }, [
        "warehouse = snowflake (from transform/profiles.yml: outputs.prod.type)",
        "orchestrator = airflow (from dags/dbt_build.py: imports airflow)",
        "ci_platform = github (from .github/workflows/ci.yml)",
        "transformation_tool = dbt (from transform/dbt_project.yml)",
    ]),
}
# What only the starter pipeline renders: none of it may reach an adopted repository.
STARTER_PATHS = ("data/", "pipelines/", "dags/", "flows/", "transform/", "tests/", "Makefile",
                 "requirements.txt", "requirements-orchestrator.txt", "requirements-warehouse.txt",
                 "pytest.ini", "Dockerfile", ".dockerignore")


def health(repo: Path) -> dict:
    run = subprocess.run([sys.executable, "tools/dpf.py", "health", "--json"], cwd=repo,
                         capture_output=True, text=True)
    assert run.returncode in (0, 1), run.stderr  # 0 clean, 1 findings; anything else is a crash
    return json.loads(run.stdout)


def assert_only_offered_copies_flagged(report: dict) -> None:
    """The health check runs over the adopted repository; the only errors it may
    raise are on the offered *.framework* copies (a README without front-matter)."""
    errors = [f for f in report["findings"] if f["severity"] == "error"]
    assert all(".framework" in f["path"] for f in errors), errors


@pytest.mark.parametrize("shape", sorted(REAL_SHAPES))
def test_adopt_reads_a_real_shaped_repository_and_updates_it(template_repo, tmp_path, shape):
    """Adopt at the previous release, the answers read from their files and their
    files untouched to the byte, no starter pipeline; then Renovate's update to
    the newest release leaves them untouched too."""
    src, info = template_repo
    files, expected, lines = REAL_SHAPES[shape]
    repo = git_repo(tmp_path / shape, files)
    theirs = tracked_bytes(repo, files)
    before = set(files_of(repo))

    run = adopt(repo, src, "--vcs-ref", info["previous"])
    assert run.returncode == 0, run.stderr + run.stdout
    report, _, rest = run.stdout.partition("Adopted ")
    for line in lines:  # printed before anything was written
        assert f"  {line}" in report, report
    recorded = answers_of(repo)
    assert {key: recorded[key] for key in expected} == expected
    assert recorded["adopted_paths"] == sorted(files)
    assert tracked_bytes(repo, files) == theirs
    added = set(files_of(repo)) - before
    assert not [rel for rel in added if rel.startswith(STARTER_PATHS)], "starter pipeline added"
    assert not [rel for rel in added if rel.endswith(("dbt_project.yml", ".csv"))]
    assert_only_offered_copies_flagged(health(repo))

    update = renovate_update(repo, info["head"], trust=False)  # no migration in this hop
    assert update.returncode == 0, update.stderr
    assert recorded_commit(repo) == info["head"]
    assert tracked_bytes(repo, files) == theirs
    updated = answers_of(repo)
    assert {key: updated[key] for key in expected} == expected
    assert updated["adopted_paths"] == sorted(files)
    assert not [rel for rel in set(files_of(repo)) - before if rel.startswith(STARTER_PATHS)]
    assert conflict_markers(repo) == []
    assert_only_offered_copies_flagged(health(repo))


def test_dry_run_prints_the_answers_and_writes_nothing(template_repo, tmp_path):
    src, info = template_repo
    repo = git_repo(tmp_path / "warehouse", SNOWFLAKE_WAREHOUSE)
    before = snapshot(repo)
    run = adopt(repo, src, "--dry-run", "--data", "warehouse=postgres", "--data", "starter_pipeline=true")
    assert run.returncode == 0, run.stderr
    assert "  warehouse = postgres (from --data)" in run.stdout
    assert "  starter_pipeline = true (from --data)" in run.stdout
    assert "  orchestrator = airflow (from dags/dbt_build.py: imports airflow)" in run.stdout
    assert "nothing was written" in run.stdout
    assert snapshot(repo) == before


def test_a_title_the_template_refuses_keeps_the_default_and_says_why(template_repo, tmp_path):
    src, _ = template_repo
    repo = git_repo(tmp_path / "shop", {**JAFFLE_SHOP, "README.md": "# Jaffle <Shop> | v2\n"})
    run = adopt(repo, src, "--print-answers")
    assert run.returncode == 0, run.stderr
    assert "  project_name = Acme Analytics (template default)" in run.stdout
    assert "'Jaffle <Shop> | v2' from README.md: first '# ' title refused by the template" in run.stdout


@pytest.mark.parametrize("files, expected", [
    pytest.param({"config.yaml": "gateways:\n  local:\n    connection:\n      type: duckdb\n"
                                 "  cloud:\n    connection:\n      type: bigquery\n"
                                 "default_gateway: cloud\nmodel_defaults:\n  dialect: bigquery\n"},
                 {"transformation_tool": "sqlmesh", "warehouse": "bigquery"}, id="sqlmesh-yaml-gateway"),
    pytest.param({"config.py": "from sqlmesh.core.config import Config, GatewayConfig, PostgresConnectionConfig\n"},
                 {"transformation_tool": "sqlmesh", "warehouse": "postgres"}, id="sqlmesh-config-py"),
    pytest.param({"dbt/dbt_project.yml": "name: x\nprofile: x\n",
                  "dbt/profiles.yml": "x:\n  target: dev\n  outputs:\n    dev:\n      type: redshift\n"},
                 {"transformation_tool": "dbt", "warehouse": None}, id="dbt-unsupported-warehouse"),
    pytest.param({"dbt_packages/dbt_utils/dbt_project.yml": "name: dbt_utils\nprofile: integration_tests\n",
                  "warehouse/dbt/dbt_project.yml": "name: x\nprofile: x\n",
                  "warehouse/dbt/profiles.yml": "x:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n"
                                                "    prod:\n      type: postgres\n"},
                 {"transformation_tool": "dbt", "warehouse": "postgres"}, id="dbt-prod-output-not-a-package"),
    pytest.param({"dbt_project.yml": "name: x\nprofile: x\n", "requirements.txt": "dbt-databricks>=1.8  # ours\n"},
                 {"transformation_tool": "dbt", "warehouse": "databricks"}, id="dbt-profile-untracked-adapter"),
    pytest.param({"dbt_project.yml": "name: x\nprofile: x\n", "profiles.yml": "x: [unclosed\n",
                  "requirements.txt": "dbt-core==1.9.4 \\\n    --hash=sha256:00\ndbt-postgres==1.9.0\n"},
                 {"transformation_tool": "dbt", "warehouse": "postgres"}, id="profiles-not-yaml-adapter-instead"),
    pytest.param({"orchestration/definitions.py": "from dagster import Definitions\n", "workspace.yaml":
                  "load_from:\n  - python_module: orchestration\n", ".gitlab-ci.yml": "test:\n  script: [make]\n"},
                 {"orchestrator": "dagster", "ci_platform": "gitlab"}, id="dagster-gitlab"),
    pytest.param({"prefect.yaml": "name: flows\n", "flows/daily.py": "from prefect import flow\n\n@flow\ndef daily(): ...\n"},
                 {"orchestrator": "prefect"}, id="prefect"),
    pytest.param({"pyproject.toml": "[project]\nname = 'x'\ndependencies = ['apache-airflow>=2.9', 'sqlmesh[snowflake]']\n"},
                 {"orchestrator": "airflow", "transformation_tool": "sqlmesh", "warehouse": "snowflake"},
                 id="pyproject-dependencies"),
    pytest.param({"README.md": "```\n# not a title\n```\n# 📦 **Orders** Lake #\n"},
                 {"project_name": "Orders Lake"}, id="readme-title-outside-fences"),
    pytest.param({"notes/dags/old.py": "# from airflow import DAG (we moved off Airflow)\n",
                  "config.yaml": "logging: debug\n"}, {}, id="nothing-to-read"),
])
def test_answers_read_from_tracked_files(tmp_path, files, expected):
    repo = git_repo(tmp_path / "repo", files)
    assert inferred(repo) == expected


def test_untracked_and_ignored_files_are_not_read(tmp_path):
    repo = git_repo(tmp_path / "repo", {".gitignore": "local/\n"})
    (repo / "local").mkdir()
    (repo / "local/dbt_project.yml").write_text("name: x\nprofile: x\n")
    (repo / ".gitlab-ci.yml").write_text("test:\n  script: [make]\n")
    assert inferred(repo) == {}


@pytest.mark.slow
def test_starter_pipeline_only_when_asked(template_repo, tmp_path):
    """--data starter_pipeline=true brings the starter; their Makefile and
    requirements.txt still win their paths (the starter's are offered beside)."""
    src, info = template_repo
    repo = git_repo(tmp_path / "shop", JAFFLE_SHOP)
    theirs = tracked_bytes(repo, JAFFLE_SHOP)
    run = adopt(repo, src, "--data", "starter_pipeline=true")
    assert run.returncode == 0, run.stderr + run.stdout
    assert "  starter_pipeline = true (from --data)" in run.stdout
    assert answers_of(repo)["starter_pipeline"] is True
    assert (repo / "transform/dbt_project.yml").is_file() and (repo / "data/sample").is_dir()
    assert (repo / "Makefile.framework").is_file()
    assert tracked_bytes(repo, JAFFLE_SHOP) == theirs
