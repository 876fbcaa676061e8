"""Every CI file the template generates passes the checks of its own ecosystem:
check-jsonschema's vendored schemas (GitHub Actions, GitLab CI), actionlint and
zizmor (offline) for the GitHub workflow, renovate-config-validator (opt-in,
Node) for renovate.json5. All of them run without the network."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from testkit.helpers import ROOT, render
from testkit.ladder import FIXED

VENV_BIN = Path(sys.executable).parent
WORKFLOW = ".github/workflows/checks.yml"
# GitHub or GitLab, with and without the starter pipeline (its own CI job).
RENDERS = {
    "github-starter": {"ci_platform": "github"},
    "github-docs-only": {"ci_platform": "github", "starter_pipeline": False},
    "gitlab-starter": {"ci_platform": "gitlab"},
    "gitlab-docs-only": {"ci_platform": "gitlab", "starter_pipeline": False},
}
GITHUB = [name for name in RENDERS if name.startswith("github")]
GITLAB = [name for name in RENDERS if name.startswith("gitlab")]


@pytest.fixture(scope="module")
def rendered(template_repo, tmp_path_factory) -> dict[str, Path]:
    src, info = template_repo
    base = tmp_path_factory.mktemp("ci-files")
    return {
        name: render(src, base / name, {**FIXED, **answers}, vcs_ref=info["head"])
        for name, answers in RENDERS.items()
    }


def tool(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    """A dev tool from this venv (requirements-dev.txt); actionlint finds shellcheck there too."""
    env = {**os.environ, "PATH": f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}", "NO_COLOR": "1"}
    return subprocess.run(
        [str(VENV_BIN / args[0]), *args[1:]], cwd=cwd, capture_output=True, text=True, env=env
    )


def assert_clean(run: subprocess.CompletedProcess) -> None:
    assert run.returncode == 0, f"{run.args}\n{run.stdout[-4000:]}\n{run.stderr[-4000:]}"


def test_github_workflows_match_the_vendored_schema(rendered):
    for name in GITHUB:
        assert_clean(tool("check-jsonschema", "--builtin-schema", "vendor.github-workflows",
                          WORKFLOW, cwd=rendered[name]))


def test_gitlab_ci_matches_the_vendored_schema(rendered):
    for name in GITLAB:
        assert_clean(tool("check-jsonschema", "--builtin-schema", "vendor.gitlab-ci",
                          ".gitlab-ci.yml", cwd=rendered[name]))


def test_actionlint_finds_nothing(rendered):
    for name in GITHUB:
        assert_clean(tool("actionlint", "-no-color", WORKFLOW, cwd=rendered[name]))


def test_zizmor_offline_finds_nothing(rendered):
    # Findings the workflow acknowledges carry a `zizmor: ignore[...]` comment
    # explaining why; anything else fails here.
    for name in GITHUB:
        assert_clean(tool("zizmor", "--offline", "--no-progress", WORKFLOW, cwd=rendered[name]))


def pin_digests_as_renovate_does(workflow: str) -> str:
    """helpers:pinGitHubActionDigests: `owner/action@v6` -> `owner/action@<digest>  # v6`."""
    return re.sub(r"(uses: [\w./-]+)@(v\d+)", lambda m: f"{m[1]}@{'0123456789abcdef' * 2}01234567  # {m[2]}",
                  workflow)


def test_workflow_stays_clean_once_renovate_pins_the_digests(rendered):
    project = rendered["github-starter"]
    path = project / WORKFLOW
    pinned = pin_digests_as_renovate_does(path.read_text())
    assert pinned.count("  # v6") == len(re.findall(r"uses: ", pinned))
    path.write_text(pinned)
    # The repository's own YAML lint (its line length) still passes on the longer lines.
    assert_clean(tool("yamllint", "--strict", WORKFLOW, cwd=project))
    assert_clean(tool("zizmor", "--offline", "--no-progress", WORKFLOW, cwd=project))


def test_gitlab_images_hand_the_runner_a_shell(rendered):
    # alpine/git's ENTRYPOINT is `git`: unless cleared, the runner's script
    # becomes `git sh -c ...` and the job cannot run.
    config = yaml.safe_load((rendered["gitlab-starter"] / ".gitlab-ci.yml").read_text())
    jobs = {name: job for name, job in config.items() if isinstance(job, dict) and "script" in job}
    for name, job in jobs.items():
        image = job["image"] if isinstance(job["image"], dict) else {"name": job["image"]}
        if image["name"].startswith("alpine/git"):
            assert image.get("entrypoint") == [""], name


@pytest.mark.slow
def test_renovate_config_passes_the_strict_validator(rendered):
    # Node 24 + Renovate 44 from npm, installed once into a cache by the script.
    run = subprocess.run(
        ["bash", str(ROOT / "scripts/renovate-validator.sh")],
        cwd=rendered["github-starter"], capture_output=True, text=True,
    )
    assert_clean(run)
    assert "Config validated successfully" in run.stdout + run.stderr
