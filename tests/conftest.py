from __future__ import annotations

import os
from pathlib import Path

import pytest

from testkit.helpers import build_template_repo

# Tests commit in throwaway repos; give git an identity without touching ~/.gitconfig.
for key, value in {
    "GIT_AUTHOR_NAME": "Template Tests",
    "GIT_AUTHOR_EMAIL": "tests@example.com",
    "GIT_COMMITTER_NAME": "Template Tests",
    "GIT_COMMITTER_EMAIL": "tests@example.com",
}.items():
    os.environ.setdefault(key, value)



@pytest.fixture(scope="session")
def template_repo(tmp_path_factory) -> tuple[Path, dict]:
    """This repository in tmp, releases tagged by the CHANGELOG rule, HEAD tagged above."""
    path = tmp_path_factory.mktemp("template") / "data-product-framework"
    info = build_template_repo(path)
    return path, info


def pytest_terminal_summary(terminalreporter):
    """Totals of the figures tests/test_reliability.py reports, so they can be quoted."""
    areas: dict[str, dict[str, int]] = {}
    for outcome in ("passed", "failed", "xfailed"):
        for report in terminalreporter.stats.get(outcome, []):
            if getattr(report, "when", "call") != "call":
                continue
            figures = [f for key, f in getattr(report, "user_properties", ()) if key == "reliability"]
            for figure in figures:
                totals = areas.setdefault(figure["area"], {"tests": 0, "tests_failed": 0})
                for name, value in figure.items():
                    if name != "area":
                        totals[name] = totals.get(name, 0) + value
            if figures:
                totals = areas[figures[0]["area"]]
                totals["tests"] += 1
                totals["tests_failed"] += outcome == "failed"
    if not areas:
        return
    terminalreporter.write_sep("=", "reliability figures")
    for area in sorted(areas):
        totals = areas[area]
        terminalreporter.write_line(f"{area[2:]}: " + ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in totals.items()))

