"""Running a rendered repository's own `make` targets from a test, in an environment that
does not leak this session's venv or pytest settings into the project's."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path


def clean_env() -> dict[str, str]:
    """This session's environment minus what would leak into the project's own venv and pytest."""
    drop = ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "PIP_REQUIRE_VIRTUALENV")
    env = {k: v for k, v in os.environ.items() if k not in drop and not k.startswith("PYTEST_")}
    env["PYTHON"] = sys.executable  # the interpreter `make` builds .venv with
    return env


def make(project: Path, *targets: str, timeout: int = 600) -> subprocess.CompletedProcess:
    assert shutil.which("make"), "GNU make is needed: the generated repo documents `make run` / `make test`"
    return subprocess.run(["make", *targets], cwd=project, env=clean_env(), capture_output=True,
                          text=True, timeout=timeout)


def tail(run: subprocess.CompletedProcess, lines: int = 60) -> str:
    return "\n".join((run.stdout + "\n" + run.stderr).splitlines()[-lines:])
