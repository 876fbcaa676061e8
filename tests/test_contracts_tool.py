"""tools/contracts.py in a generated repository: formats are validated, every port names a
contract that exists, and a missing package is named as such (not blamed on a file)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from testkit.helpers import render
from testkit.ladder import FIXED

PRODUCT = "01_Data_Products/orders"


@pytest.fixture(scope="module")
def rendered(template_repo, tmp_path_factory) -> Path:
    src, info = template_repo
    return render(src, tmp_path_factory.mktemp("contracts") / "repo", dict(FIXED), vcs_ref=info["head"])


@pytest.fixture
def repo(rendered, tmp_path) -> Path:
    """A copy to break; the tool and the product files are all it needs."""
    copy = tmp_path / "repo"
    shutil.copytree(rendered / "tools", copy / "tools")
    shutil.copytree(rendered / PRODUCT, copy / PRODUCT)
    return copy


def lint(repo: Path, *python_flags: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *python_flags, "tools/contracts.py", "lint"], cwd=repo,
                          capture_output=True, text=True)


def test_every_port_of_a_fresh_render_names_an_existing_contract(repo):
    run = lint(repo)
    assert run.returncode == 0, run.stdout
    assert "0 problem(s) in 3 file(s)" in run.stderr  # descriptor, output and input contracts


def test_an_impossible_date_is_an_error(repo):
    descriptor = repo / PRODUCT / "data-product.odps.yaml"
    descriptor.write_text(descriptor.read_text().replace("      role: owner\n",
                                                         "      role: owner\n      dateIn: '2026-13-45'\n"))
    run = lint(repo)
    assert run.returncode == 1
    assert "team/members/0/dateIn: '2026-13-45' is not a 'date'" in run.stdout


def test_an_input_port_without_its_contract_is_an_error(repo):
    (repo / PRODUCT / "raw-events.odcs.yaml").unlink()
    run = lint(repo)
    assert run.returncode == 1
    assert "input port 'raw.orders_events' names contract 'orders-raw-events'" in run.stdout


def test_a_missing_package_is_named_not_blamed_on_a_file(repo):
    run = lint(repo, "-S")  # no site-packages: neither PyYAML nor jsonschema
    assert run.returncode == 2
    assert run.stderr.strip() == ("contracts.py: PyYAML is not installed: "
                                  "pip install -r tools/requirements.txt")
    assert "YAML" not in run.stdout and "data-product" not in run.stderr
