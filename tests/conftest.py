from __future__ import annotations

import os
from pathlib import Path

import pytest

from testkit.helpers import build_template_repo

# The reliability suites' end-of-run figures (tests/reliability/).
pytest_plugins = ["testkit.figures"]

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
