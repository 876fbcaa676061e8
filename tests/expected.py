"""What a render must contain, written out independently of the template.

SEED_TREE is the framework's tree exactly as the seed lists it; the template's
default answers (airflow, dbt) must reproduce it. `expected_files` tailors it to
other answers the way the docs promise: tool folders follow the chosen tool and
disappear with `none`.
"""

from __future__ import annotations

SEED_TREE = """
01_Data_Products/<product>/spec.md
01_Data_Products/<product>/api-contracts.md
01_Data_Products/<product>/architecture.md
01_Data_Products/<product>/changelog.md
02_Architecture/system-overview.md
02_Architecture/ingestion-pipeline.md
02_Architecture/transformation-layer.md
02_Architecture/output-serving.md
03_Code_Patterns/python/decorators.md
03_Code_Patterns/python/data-validation.md
03_Code_Patterns/sql/joins-window-functions.md
03_Code_Patterns/sql/modeling-patterns.md
03_Code_Patterns/utils/logging-patterns.md
04_Data_Modeling/dbt/model-layer.md
04_Data_Modeling/dbt/tests.md
04_Data_Modeling/schemas/events_table.md
04_Data_Modeling/naming-conventions.md
05_Pipelines/airflow/dag-structure.md
05_Pipelines/airflow/failures-retries.md
05_Pipelines/orchestration-patterns.md
05_Pipelines/freshness-strategy.md
06_DevOps/docker-setup.md
06_DevOps/deployment-process.md
06_DevOps/secrets-management.md
06_DevOps/ci-cd.md
07_Testing_Quality/data-contracts.md
07_Testing_Quality/unit-integration-tests.md
07_Testing_Quality/regression-testing.md
07_Testing_Quality/test-strategy.md
08_Observability/logging.md
08_Observability/monitoring-metrics.md
08_Observability/latency-dashboard.md
08_Observability/cost-monitoring.md
09_Docs_Internal/onboarding.md
09_Docs_Internal/local-dev-setup.md
09_Docs_Internal/style-guides.md
09_Docs_Internal/how-tos/backfill-data.md
09_Docs_Internal/how-tos/debug-airflow-dag.md
10_Strategy_Roadmap/quarterly-roadmap.md
10_Strategy_Roadmap/priorities.md
10_Strategy_Roadmap/stakeholder-alignment.md
11_Learning/books/designing-data-intensive-apps.md
11_Learning/papers/event-driven-architectures.md
11_Learning/concepts/change-data-capture.md
11_Learning/concepts/data-catalog.md
11_Learning/concepts/data-lineage.md
11_Learning/concepts/data-versioning.md
11_Learning/concepts/event-driven-architecture.md
11_Learning/concepts/feature-stores.md
11_Learning/concepts/reverse-etl.md
11_Learning/tutorials/async-python-patterns.md
11_Learning/tutorials/data-strategy-for-startups.md
11_Learning/tutorials/dbt-macros-guide.md
11_Learning/tutorials/etl-to-ml.md
11_Learning/tutorials/incremental-models-with-watermarks.md
11_Learning/tutorials/partitioned-backfills.md
""".split()

# What the template adds to the seed's tree in every repository render.
ADDED = """
README.md
.copier-answers.yml
.gitignore
renovate.json5
01_Data_Products/README.md
11_Learning/glossary.md
tools/dpf.py
tools/dpf_lib/__init__.py
tools/dpf_lib/cli.py
tools/dpf_lib/copier_run.py
tools/dpf_lib/gitrepo.py
tools/dpf_lib/health.py
tools/dpf_lib/markdown.py
tools/dpf_lib/markers.py
tools/dpf_lib/products.py
tools/dpf_lib/settings.py
tools/dpf_lib/update.py
tools/dpf_lib/versions.py
dpf.toml
mkdocs.yml
requirements-docs.txt
requirements-docs.lock
.pre-commit-config.yaml
.pymarkdown.yml
.yamllint.yml
docs/README.md
""".split()
# docs/ also holds one symlink per area folder (docs/01_Data_Products -> ../01_Data_Products);
# files_of() does not list them (they are folders); tests/test_site.py checks them.

# Release 1.0.0 added these instead (1.1.0 moved the glossary, folded the how-to index).
ADDED_1_0_0 = """
README.md
.copier-answers.yml
.gitignore
renovate.json5
01_Data_Products/README.md
09_Docs_Internal/glossary.md
09_Docs_Internal/how-tos/README.md
""".split()

# Since 1.1.0, files named after a scheduled unit use the orchestrator's own word.
UNIT_WORD = {"airflow": "dag", "dagster": "job", "prefect": "flow"}

CI_FILES = {
    "github": [".github/workflows/checks.yml"],
    "gitlab": [".gitlab-ci.yml"],
    "none": [],
}

DEFAULTS = {
    "product_slug": "orders",
    "orchestrator": "airflow",
    "transformation_tool": "dbt",
    "ci_platform": "github",
}

# Since the release after 1.1.0: every product folder holds its machine-readable
# descriptor and contract (and, since the release after 1.3.1, its input's contract),
# and every repository the tool that validates them.
PRODUCT_FILES = """
01_Data_Products/<product>/data-product.odps.yaml
01_Data_Products/<product>/data-contract.odcs.yaml
01_Data_Products/<product>/raw-events.odcs.yaml
""".split()
CONTRACT_TOOLS = """
tools/contracts.py
tools/requirements.txt
tools/schemas/README.txt
tools/schemas/odcs-3.1.0.schema.json
tools/schemas/odps-1.0.0.schema.json
""".split()
# Since the release after 1.4.0: the check that runs the documents' examples.
DOCS_CHECK = ["tools/check_docs.py", "tools/requirements-check-docs.txt"]
# Since the release after 1.5.0: the starter pipeline's image.
DOCKER_FILES = ["Dockerfile", ".dockerignore"]

# The starter pipeline (question starter_pipeline, on by default for DuckDB);
# <id> is the product slug as an identifier (customer-360 -> customer_360).
PIPELINE_FILES = """
Makefile
pyproject.toml
pytest.ini
requirements.txt
requirements.lock
requirements-contract-tools.txt
requirements-contract-tools.lock
data/sample/<id>_events.csv
pipelines/__init__.py
pipelines/run.py
pipelines/<id>/__init__.py
pipelines/<id>/load.py
pipelines/<id>/transform.py
tests/pipelines/conftest.py
tests/pipelines/test_contracts.py
tests/pipelines/test_load.py
tests/pipelines/test_orchestration.py
tests/pipelines/test_pipeline.py
""".split()
PIPELINE_TRANSFORM = {
    "dbt": """
transform/dbt_project.yml
transform/profiles.yml
transform/models/staging/<id>/_<id>__sources.yml
transform/models/staging/<id>/_<id>__models.yml
transform/models/staging/<id>/stg_<id>.sql
transform/models/intermediate/<id>/int_<id>_daily.sql
transform/models/marts/<id>/_<id>__models.yml
transform/models/marts/<id>/fct_<id>.sql
transform/tests/assert_fct_<id>_reconciles.sql
transform/tests/assert_fct_<id>_dated_by_load.sql
transform/tests/generic/unique_combination_of_columns.sql
transform/macros/publish.sql
""".split(),
    "sqlmesh": """
transform/config.py
transform/external_models.yaml
transform/models/staging/stg_<id>.sql
transform/models/intermediate/int_<id>_daily.sql
transform/models/marts/fct_<id>.sql
transform/audits/dated_by_load.sql
transform/tests/test_stg_<id>.yaml
""".split(),
    "none": """
transform/10_staging/stg_<id>.sql
transform/20_intermediate/int_<id>_daily.sql
transform/30_marts/fct_<id>.sql
transform/tests/assert_fct_<id>_reconciles.sql
transform/tests/assert_fct_<id>_dated_by_load.sql
""".split(),
}
PIPELINE_ORCHESTRATOR = {
    "airflow": ["dags/<id>_daily.py", "requirements-orchestrator.txt", "requirements-orchestrator.lock"],
    "dagster": ["pipelines/<id>/definitions.py", "requirements-orchestrator.txt", "requirements-orchestrator.lock"],
    "prefect": ["flows/<id>_daily.py", "requirements-orchestrator.txt", "requirements-orchestrator.lock"],
    "none": [],
}


def product_id(slug: str) -> str:
    """The product slug as a SQL and Python identifier, as macros.jinja's ID."""
    return ("p" if slug[:1].isdigit() else "") + slug.replace("-", "_")


def pipeline_files(answers: dict) -> set[str]:
    """Files of the starter pipeline for these answers (empty when it is off)."""
    warehouse = answers.get("warehouse", "duckdb")
    if not answers.get("starter_pipeline", warehouse == "duckdb"):
        return set()
    transformer = answers.get("transformation_tool", DEFAULTS["transformation_tool"])
    orchestrator = answers.get("orchestrator", DEFAULTS["orchestrator"])
    paths = PIPELINE_FILES + PIPELINE_TRANSFORM[transformer] + PIPELINE_ORCHESTRATOR[orchestrator]
    if warehouse != "duckdb" and transformer != "none":
        paths = paths + ["requirements-warehouse.txt", "requirements-warehouse.lock"]
    pid = product_id(answers.get("product_slug", DEFAULTS["product_slug"]))
    return {p.replace("<id>", pid) for p in paths}


def _tailor(path: str, answers: dict, release: str) -> str | None:
    """Map one seed path to the path these answers produce (None: left out)."""
    orchestrator = answers.get("orchestrator", DEFAULTS["orchestrator"])
    transformer = answers.get("transformation_tool", DEFAULTS["transformation_tool"])
    path = path.replace("<product>", answers.get("product_slug", DEFAULTS["product_slug"]))
    if path.startswith("05_Pipelines/airflow/") or path.endswith("debug-airflow-dag.md"):
        if orchestrator == "none":
            return None
        path = path.replace("airflow", orchestrator)
        if release != "1.0.0":
            word = UNIT_WORD[orchestrator]
            path = path.replace("dag-structure.md", f"{word}-structure.md").replace("-dag.md", f"-{word}.md")
        return path
    if path.startswith("04_Data_Modeling/dbt/") or path.endswith("dbt-macros-guide.md"):
        if transformer == "none":
            return None
        return path.replace("dbt", transformer)
    return path


def expected_files(answers: dict | None = None, release: str = "head") -> set[str]:
    """Every file a repository render with these answers must hold, no more."""
    answers = answers or {}
    paths = {p for p in (_tailor(p, answers, release) for p in SEED_TREE) if p}
    paths.update(ADDED_1_0_0 if release == "1.0.0" else ADDED)
    ci = answers.get("ci_platform", answers.get("ci_provider", DEFAULTS["ci_platform"]))
    paths.update(CI_FILES[ci])
    if release not in ("1.0.0", "1.1.0"):
        slug = answers.get("product_slug", DEFAULTS["product_slug"])
        paths.update(p.replace("<product>", slug) for p in PRODUCT_FILES)
        paths.update(CONTRACT_TOOLS)
        paths.update(pipeline_files(answers))
    if release == "head":
        paths.update(DOCS_CHECK)
        if pipeline_files(answers):
            paths.add("requirements-check-docs.lock")  # what make check-docs installs
            paths.update(DOCKER_FILES)
    return paths


def expected_product_files(slug: str) -> set[str]:
    """Files of a product rendered on its own (scope=product), relative to its folder."""
    prefix = f"01_Data_Products/{slug}/"
    return {p[len(prefix):] for p in expected_files({"product_slug": slug}) if p.startswith(prefix)} | {
        ".copier-answers.yml"
    }
