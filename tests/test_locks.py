"""The lock files (requirements*.lock) a generated repository installs from.

The template ships one lock per environment and stack (locks/, compiled by scripts/lock.py
with the generated repository's own `make lock`); a render includes the ones its answers
need. These tests check that a render gets its locks byte for byte, that each lock pins
every requirement of the files it was compiled from, that Renovate's pip-compile manager can
read its header, that it installs into a fresh venv with `pip check` passing, that make
refuses a lock its requirements file has outgrown, and that a team's own file at a lock path
survives the update that introduces the locks. The default suite covers the default stack
(and the docs lock every repository has); every other stack is behind -m slow.
"""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
import venv
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from scripts import lock as lock_script  # where each lock is stored
from testkit.helpers import ROOT, render
from testkit.ladder import ANSWER_SETS, FIXED, commit_all, conflict_markers, recorded_commit, renovate_update, start_project

# The options Renovate 44's pip-compile manager accepts in a `uv pip compile` header
# (lib/modules/manager/pip-compile/common.ts); any other one makes it skip the lock.
RENOVATE_UV_OPTIONS = {"--no-strip-extras", "--universal", "-v", "--generate-hashes", "--emit-index-url",
                       "--index-url", "--constraints", "--python-version", "--no-emit-package",
                       "--output-file", "--extra", "--extra-index-url"}
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^\s;\\]+)", re.M)


def lock_inputs(lock: Path) -> list[str]:
    """The requirements files named in the lock's header (the command that compiled it)."""
    command = lock.read_text().splitlines()[1].lstrip("# ").strip()
    return [arg for arg in shlex.split(command)[3:] if not arg.startswith("-")]


def pins(lock: Path) -> dict[str, str]:
    return {_norm(name): version for name, version in PIN.findall(lock.read_text())}


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def requirements(path: Path) -> list[Requirement]:
    """Every requirement of a requirements file, following its -r includes."""
    found = []
    for line in path.read_text().splitlines():
        line = line.split(" #")[0].strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("-r "):
            found += requirements(path.parent / line[3:].strip())
        else:
            found.append(Requirement(line))
    return found


def uncovered(project: Path, lock: str) -> list[str]:
    """Requirements of the lock's inputs that the lock does not pin at an allowed version."""
    pinned = pins(project / lock)
    missing = []
    for name in lock_inputs(project / lock):
        for req in requirements(project / name):
            version = pinned.get(_norm(req.name))
            if version is None or not req.specifier.contains(version, prereleases=True):
                missing.append(f"{name}: {req} (locked: {version})")
    return missing


def make(project: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["make", "--no-print-directory", *args], cwd=project, capture_output=True, text=True,
                          env={"PATH": "/usr/bin:/bin", "HOME": str(Path.home()), "PYTHON": sys.executable},
                          timeout=1200)


def install_lock(project: Path, env: Path, lock: str) -> subprocess.CompletedProcess:
    """What make runs to install an environment: the Makefile's own install-lock target."""
    if not (env / "bin/python").exists():
        venv.create(env, with_pip=True)
    inputs = " ".join(lock_inputs(project / lock))
    return make(project, "install-lock", f"INTO={env}/bin", f"LOCK={lock}", f"INPUTS={inputs}")


@pytest.fixture(scope="module")
def default_render(template_repo, tmp_path_factory) -> Path:
    src, info = template_repo
    return render(src, tmp_path_factory.mktemp("locks") / "orders", dict(FIXED), vcs_ref=info["head"])


@pytest.fixture(scope="module")
def docs_env(default_render, tmp_path_factory) -> Path:
    """A fresh venv holding the docs lock, installed the way `make docs` does."""
    env = tmp_path_factory.mktemp("docs-env") / "venv"
    run = install_lock(default_render, env, "requirements-docs.lock")
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-3000:]
    return env


def rendered_locks(project: Path) -> list[str]:
    return sorted(p.name for p in project.glob("requirements*.lock"))


def test_a_render_gets_the_locks_of_its_answers_byte_for_byte(default_render):
    answers = {"transformation_tool": "dbt", "orchestrator": "airflow", "warehouse": "duckdb"}
    assert rendered_locks(default_render) == ["requirements-check-docs.lock", "requirements-contract-tools.lock",
                                              "requirements-docs.lock", "requirements-orchestrator.lock",
                                              "requirements.lock"]
    for name in rendered_locks(default_render):
        assert (default_render / name).read_bytes() == lock_script.stored_path(name, answers).read_bytes(), name


def test_each_lock_pins_every_requirement_of_its_inputs(default_render):
    for name in rendered_locks(default_render):
        assert lock_inputs(default_render / name), f"{name}: no input named in its header"
        assert uncovered(default_render, name) == [], name


def test_every_shipped_lock_has_a_header_renovate_can_rerun():
    stored = sorted((ROOT / "locks").rglob("*.lock"))
    names = ("requirements.lock", "requirements-contract-tools.lock", "requirements-check-docs.lock", "requirements-docs.lock",
             "requirements-orchestrator.lock", "requirements-warehouse.lock")
    needed = {lock_script.stored_path(name, answers) for answers in lock_script.combinations() for name in names}
    needed = {path for path in needed if "-duckdb" not in path.parent.name and "-none" not in path.parent.name}
    assert set(stored) == needed  # one lock per environment of every stack, no leftovers
    for path in stored:
        lines = path.read_text().splitlines()
        assert lines[0] == "# This file was autogenerated by uv via the following command:", path
        argv = shlex.split(lines[1].lstrip("# "))
        assert argv[:3] == ["uv", "pip", "compile"], path
        options = [arg.split("=")[0] for arg in argv[3:] if arg.startswith("-")]
        assert set(options) <= RENOVATE_UV_OPTIONS, (path, options)
        assert f"--output-file={path.name}" in argv and "--generate-hashes" in argv and "--universal" in argv
        assert "--hash=sha256:" in path.read_text()


def test_the_docs_lock_installs_into_a_fresh_venv_and_pip_check_passes(docs_env):
    check = subprocess.run([str(docs_env / "bin/python"), "-m", "pip", "check"], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout
    for tool in ("mkdocs", "pre-commit", "yamllint"):
        assert (docs_env / "bin" / tool).exists(), tool


def test_make_refuses_a_lock_its_requirements_file_outgrew(default_render, docs_env, tmp_path):
    project = tmp_path / "edited"
    subprocess.run(["cp", "-a", str(default_render), str(project)], check=True)
    docs = project / "requirements-docs.txt"
    docs.write_text(re.sub(r"^yamllint==.*$", "yamllint==1.0.0", docs.read_text(), flags=re.M))
    run = install_lock(project, docs_env, "requirements-docs.lock")
    assert run.returncode != 0
    assert "requirements-docs.lock does not satisfy requirements-docs.txt" in run.stderr
    assert "make lock" in run.stderr


def test_a_team_lock_file_at_a_new_lock_path_is_merged_never_replaced(template_repo, docs_env, tmp_path):
    """The release that adds the locks meets a repository that already has files there: like
    any file the template adds where the team has one, both sides stay, between conflict
    markers, and make refuses the lock with a sentence instead of a pip traceback."""
    src, info = template_repo
    old = next(tag for tag in reversed(info["releases"])
               if subprocess.run(["git", "cat-file", "-e", f"{tag}:locks"], cwd=src,
                                 capture_output=True).returncode)
    project = start_project(src, tmp_path / "project", old, {})
    assert rendered_locks(project) == []
    ours = {"requirements.lock": b"# Our own lock, from pip-tools.\r\nduckdb==1.0.0 \\\n    --hash=sha256:00\n",
            "requirements-docs.lock": "# Nos outils, verrouill\u00e9s \u00e0 la main.\n".encode("latin-1")}
    for name, data in ours.items():
        (project / name).write_bytes(data)
    commit_all(project, "Our own locks")
    run = renovate_update(project, info["head"], trust=False)
    assert run.returncode == 0, run.stderr[-2000:]
    assert recorded_commit(project) == info["head"]
    for name, data in ours.items():
        merged = (project / name).read_bytes()
        assert all(line in merged for line in data.splitlines()), name  # every byte of the team's side
        assert b"--hash=sha256:" in merged.replace(data, b""), name  # and the template's lock beside it
    assert {marker.split(":")[0] for marker in conflict_markers(project)} == set(ours)
    # The locks the team did not have arrive from the template, untouched.
    assert (project / "requirements-contract-tools.lock").read_text().startswith("# This file was autogenerated")
    refused = make(project, "install-lock", f"INTO={docs_env}/bin", "LOCK=requirements-docs.lock",
                   "INPUTS=requirements-docs.txt")
    assert refused.returncode != 0 and "requirements-docs.lock holds conflict markers" in refused.stderr


STACKS = [("dbt", "dagster", "databricks"), ("sqlmesh", "prefect", "snowflake"), ("none", "airflow", "duckdb"),
          ("dbt", "prefect", "bigquery")]


@pytest.mark.slow
@pytest.mark.parametrize("tool,orchestrator,warehouse", STACKS)
def test_every_lock_of_a_stack_installs_and_covers_its_inputs(template_repo, tmp_path, tool, orchestrator, warehouse):
    src, info = template_repo
    answers = {"transformation_tool": tool, "orchestrator": orchestrator, "warehouse": warehouse,
               "starter_pipeline": True}
    project = render(src, tmp_path / "p", {**FIXED, **answers}, vcs_ref=info["head"])
    for name in rendered_locks(project):
        assert uncovered(project, name) == [], name
        run = install_lock(project, tmp_path / name, name)
        assert run.returncode == 0, f"{name}\n{run.stdout[-2000:]}\n{run.stderr[-3000:]}"


@pytest.mark.slow
def test_shipped_locks_match_their_inputs_as_make_lock_compiles_them():
    """scripts/lock.py --check: every render's `make lock` leaves its locks unchanged (PyPI, uv)."""
    run = subprocess.run([sys.executable, "scripts/lock.py", "--check"], cwd=ROOT, capture_output=True,
                         text=True, timeout=3600)
    assert run.returncode == 0, run.stderr[-3000:]


@pytest.mark.parametrize("stack", ["prefect-none-bigquery"])
def test_a_repository_without_the_starter_gets_only_the_docs_lock(template_repo, tmp_path, stack):
    src, info = template_repo
    project = render(src, tmp_path / "p", {**FIXED, **ANSWER_SETS[stack]}, vcs_ref=info["head"])
    assert rendered_locks(project) == ["requirements-docs.lock"]
    assert uncovered(project, "requirements-docs.lock") == []
