"""A refactor of the template's code (computed values, includes/, plain links) must not
change a single byte of what teams get: every answer set renders the same tree at the
baseline commit and at the working tree.

This guard lasts until a release changes the output on purpose: then move BASELINE to
that release's commit (or drop the test), and list here any path that differs on purpose.
"""

from __future__ import annotations

import itertools
import os
from pathlib import Path

import pytest

from testkit.helpers import ROOT, git, render
from testkit.ladder import CHOICES, FIXED, path_kinds

# Output changed on purpose after the refactor (the locks, dpf.py fixes, provider wording): the
# baseline is the last of those commits. The refactor itself was proven against a59fdae.
BASELINE = "103deb3"

ANSWERS = ".copier-answers.yml"
# Lines of the answers file that name the template's source and commit, which differ by
# construction (a temp clone at BASELINE vs. the tagged working tree).
WHERE_FROM = (b"_commit:", b"_src_path:")

# Paths whose bytes may differ from the baseline on purpose, each with the reason.
MAY_DIFFER: dict[str, str] = {
    "tools/check_docs.py": "lists the files with dpf_lib's walk instead of its own copy",
}

# Every orchestrator, transformation tool and CI platform, a digit-leading product slug
# (the module name gets its "p"), the starter pipeline on and off, and the product scope.
SLICE = {
    "airflow-dbt-github": {"orchestrator": "airflow", "transformation_tool": "dbt", "ci_platform": "github",
                           "warehouse": "duckdb", "product_name": "360 View"},
    "dagster-sqlmesh-gitlab": {"orchestrator": "dagster", "transformation_tool": "sqlmesh", "ci_platform": "gitlab",
                               "warehouse": "snowflake", "starter_pipeline": True, "product_name": "Customer 360"},
    "prefect-none-none": {"orchestrator": "prefect", "transformation_tool": "none", "ci_platform": "none",
                          "warehouse": "bigquery", "starter_pipeline": True},
    "none-dbt-nostarter": {"orchestrator": "none", "transformation_tool": "dbt", "ci_platform": "github",
                           "warehouse": "postgres", "starter_pipeline": False},
    "product-scope": {"scope": "product", "product_name": "2nd Shop", "orchestrator": "dagster",
                      "transformation_tool": "sqlmesh"},
}

# Every choice of copier.yml crossed with the starter pipeline, and the product scope for
# every stack its folder reads.
FULL = {
    **{"-".join(map(str, combo)): {**dict(zip(CHOICES, combo[:-1])), "starter_pipeline": combo[-1]}
       for combo in itertools.product(*CHOICES.values(), (True, False))},
    **{f"product-{'-'.join(combo)}": {"scope": "product", **dict(zip(CHOICES, combo))}
       for combo in itertools.product(*CHOICES.values())},
}


@pytest.fixture(scope="session")
def baseline_repo(tmp_path_factory) -> Path:
    """This repository cloned into tmp; renders there use `vcs_ref=BASELINE`."""
    clone = tmp_path_factory.mktemp("baseline") / "data-product-framework"
    git(ROOT.parent, "clone", "-q", "--no-local", str(ROOT), str(clone))
    git(clone, "cat-file", "-e", f"{BASELINE}^{{commit}}")  # fails loudly if the baseline is gone
    return clone


def tree_differences(before: Path, after: Path) -> list[str]:
    """Paths that differ in kind, link target or bytes; symlinks compared as links."""
    kinds_before, kinds_after = path_kinds(before), path_kinds(after)
    problems = [f"{rel}: only {'before' if rel in kinds_before else 'after'}"
                for rel in sorted(kinds_before.keys() ^ kinds_after.keys())]
    for rel in sorted(kinds_before.keys() & kinds_after.keys()):
        kind = kinds_before[rel]
        if kind != kinds_after[rel]:
            problems.append(f"{rel}: {kind} before, {kinds_after[rel]} after")
        elif kind == "link":
            if os.readlink(before / rel) != os.readlink(after / rel):
                problems.append(f"{rel}: link target changed")
        elif kind == "file" and _comparable(before / rel) != _comparable(after / rel):
            problems.append(f"{rel}: bytes changed")
    return [p for p in problems if p.split(":", 1)[0] not in MAY_DIFFER]


def _comparable(path: Path) -> bytes:
    data = path.read_bytes()
    if path.name != ANSWERS:
        return data
    return b"".join(line for line in data.splitlines(keepends=True) if not line.startswith(WHERE_FROM))


def assert_renders_identical(baseline_repo, template_repo, tmp_path, answers: dict) -> None:
    src, info = template_repo
    answers = {**FIXED, **answers}
    before = render(baseline_repo, tmp_path / "before", answers, vcs_ref=BASELINE)
    after = render(src, tmp_path / "after", answers, vcs_ref=info["head"])
    assert len(path_kinds(after)) > 5  # a render, not an empty folder
    assert tree_differences(before, after) == []


def test_tree_differences_sees_bytes_links_and_kinds(tmp_path):
    """The comparison itself: a changed byte, a moved link and a file turned folder all count."""
    before, after = tmp_path / "before", tmp_path / "after"
    for root in (before, after):
        (root / "docs").mkdir(parents=True)
        (root / ANSWERS).write_bytes(b"_commit: v1\nproduct_slug: orders\n")
    (before / ANSWERS).write_bytes(b"_commit: v2\nproduct_slug: orders\n")  # where-from lines do not count
    (before / "a.md").write_bytes(b"x\n")
    (after / "a.md").write_bytes(b"x\r\n")
    (before / "docs/area").symlink_to("../a")
    (after / "docs/area").symlink_to("../b")
    (before / "c").write_text("file")
    (after / "c").mkdir()
    assert tree_differences(before, after) == [
        "a.md: bytes changed", "c: file before, dir after", "docs/area: link target changed"]


@pytest.mark.parametrize("answers", SLICE.values(), ids=SLICE.keys())
def test_slice_renders_byte_identical_to_the_baseline(baseline_repo, template_repo, tmp_path, answers):
    assert_renders_identical(baseline_repo, template_repo, tmp_path, answers)


@pytest.mark.slow
@pytest.mark.parametrize("answers", FULL.values(), ids=FULL.keys())
def test_full_matrix_renders_byte_identical_to_the_baseline(baseline_repo, template_repo, tmp_path, answers):
    assert_renders_identical(baseline_repo, template_repo, tmp_path, answers)
