"""Every operational number a rendered document states (the daily run time, the time the
previous day is available, the freshness thresholds, the breaking-change notice, the
retention) is the one of the render's own service levels: dpf.toml [service_levels] and the
product's data contract. A release that writes a stray 06:00 or "two weeks of notice" fails.

Two renders: the default stack (internal audience) and another stack, provider and audience."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
import yaml

from testkit.helpers import files_of, render

STACKS = {
    "default": {"product_name": "Orders"},
    "snowflake-external": {"product_name": "Invoices", "warehouse": "snowflake", "ci_platform": "gitlab",
                           "transformation_tool": "sqlmesh", "orchestrator": "dagster",
                           "product_audience": "external"},
}

# A time of day: 07:00 but not the 05:00:00 of a timestamp, nor the +00:00 of an offset.
TIME_OF_DAY = re.compile(r"(?<![\d:T+\-.])(\d{2}:\d{2})(?![:\d])")
# A daily cron expression (minute hour * * *); an hourly one (0 * * * *) is not a schedule time.
DAILY_CRON = re.compile(r"(?<![\d*/])(\d{1,2} \d{1,2} \* \* \*)")
HOURS = re.compile(r"\b(\d+)(?:[ -]hours?\b| ?h\b)")
DAYS = re.compile(r"\b(\d+)[ -]days?\b")
WORDED_PERIOD = re.compile(r"\b(?:\d+|one|two|three|four|six|eight)[ -](?:weeks?|months?)\b", re.I)
# Freshness statements: a line about freshness, lag or staleness, or dbt's thresholds.
FRESHNESS = re.compile(r"fresh|stale|lag\b|warn_after|error_after", re.I)
NOTICE = re.compile(r"notice", re.I)
RETENTION = re.compile(r"retention|retained|kept for|promised the last", re.I)
# Retention and durations of other things than the product's data, stated on purpose.
OTHER_RETENTION = re.compile(r"time travel|edition|rejected rows|log|token|key pair|password|secret|vacuum", re.I)


@pytest.fixture(scope="module", params=sorted(STACKS))
def rendered(request, template_repo, tmp_path_factory) -> Path:
    src, _ = template_repo
    return render(src, tmp_path_factory.mktemp("numbers") / request.param, STACKS[request.param])


def service_levels(root: Path) -> dict:
    return tomllib.loads((root / "dpf.toml").read_text(encoding="utf-8"))["service_levels"]


def documents(root: Path) -> dict[str, str]:
    """Every rendered Markdown and YAML document (docs/ only links the areas)."""
    return {rel: (root / rel).read_text(encoding="utf-8") for rel in sorted(files_of(root))
            if rel.endswith((".md", ".yml", ".yaml")) and not rel.startswith("docs/")}


def lines(root: Path):
    for rel, text in documents(root).items():
        for number, line in enumerate(text.splitlines(), 1):
            yield f"{rel}:{number}: {line.strip()}", line


def test_the_contract_and_the_dbt_source_state_the_service_levels_of_dpf_toml(rendered):
    levels = service_levels(rendered)
    contract = next(rendered.glob("01_Data_Products/*/data-contract.odcs.yaml"))
    sla = {p["property"]: p for p in yaml.safe_load(contract.read_text(encoding="utf-8"))["slaProperties"]}
    assert sla["timeOfAvailability"]["value"] == levels["available_at"].replace(" UTC", "+00:00")
    assert (sla["latency"]["value"], sla["latency"]["unit"]) == (levels["freshness_error_hours"], "h")
    assert (sla["retention"]["value"], sla["retention"]["unit"]) == (levels["retention_days"], "d")
    assert levels["freshness_warn_hours"] < levels["freshness_error_hours"]
    # The dbt source's freshness rule, in the dbt render (SQLMesh has no source freshness).
    for sources in rendered.glob("transform/models/staging/*/_*__sources.yml"):
        freshness = yaml.safe_load(sources.read_text(encoding="utf-8"))["sources"][0]["tables"][0]["config"]["freshness"]
        assert freshness["warn_after"] == {"count": levels["freshness_warn_hours"], "period": "hour"}
        assert freshness["error_after"] == {"count": levels["freshness_error_hours"], "period": "hour"}
    assert levels["retention_days"] <= levels["raw_retention_days"]  # fct_ is rebuilt from raw
    # The warning fires when the day's load has not landed by the availability time.
    run_hour, available_hour = int(levels["run_at"][:2]), int(levels["available_at"][:2])
    assert levels["freshness_warn_hours"] == 24 + available_hour - run_hour


def test_every_time_of_day_is_the_run_time_or_the_availability_time(rendered):
    levels = service_levels(rendered)
    allowed_times = {levels["run_at"].split()[0], levels["available_at"].split()[0]}
    stray = [where for where, line in lines(rendered)
             for time in TIME_OF_DAY.findall(line) if time not in allowed_times]
    stray += [where for where, line in lines(rendered)
              for cron in DAILY_CRON.findall(line) if cron not in (levels["cron"], f"0 {int(levels['available_at'][:2])} * * *")]
    assert stray == []


def test_every_freshness_threshold_is_a_service_level(rendered):
    levels = service_levels(rendered)
    allowed = {levels["freshness_warn_hours"], levels["freshness_error_hours"]}
    stray = [where for where, line in lines(rendered) if FRESHNESS.search(line)
             for hours in HOURS.findall(line) if int(hours) not in allowed]
    assert stray == []


def test_every_notice_period_is_the_service_level(rendered):
    levels = service_levels(rendered)
    stray = [where for where, line in lines(rendered) if NOTICE.search(line)
             and (WORDED_PERIOD.search(line) or any(int(d) != levels["notice_days"] for d in DAYS.findall(line)))]
    assert stray == []


def test_every_retention_of_the_products_data_is_a_service_level(rendered):
    levels = service_levels(rendered)
    allowed = {levels["retention_days"], levels["raw_retention_days"]}
    stray = [where for where, line in lines(rendered)
             if RETENTION.search(line) and not OTHER_RETENTION.search(line)
             for days in DAYS.findall(line) if int(days) not in allowed]
    assert stray == []
