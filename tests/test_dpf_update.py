"""`python tools/dpf.py update` as teams run it by hand: Renovate's command line for the root
and every product, each in its own temporary git worktree, brought into the working tree in
one step; a safe way to change an answer; `health` noticing half-applied updates, products
behind the root and hand-edited answers; bytes that are not UTF-8 left alone.

The dpf.py under test is the one this checkout ships (the newest release in the tests'
template repo), run against projects rendered at any release with --root."""

from __future__ import annotations

import difflib
import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from testkit.helpers import files_of, git, render
from testkit.ladder import EARLIER, FIXED, commit_all, conflict_markers, recorded_commit, start_project, tree_bytes
from testkit.products import add_product_with_copier

AREA = "6 dpf.py update (worktrees, answer changes, kills)"
JOURNAL = "dpf-update.json"


def dpf(src: Path, project: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    """The newest release's tools/dpf.py, run on `project`."""
    return subprocess.run([sys.executable, str(src / "template/tools/dpf.py"), "--root", str(project), *args],
                          cwd=project, capture_output=True, text=True, env={**os.environ, **(env or {})})


def snapshot(project: Path) -> tuple:
    """Everything a team could lose: bytes, symlinks, exec bits, index, HEAD, status."""
    links = {}
    for path in sorted(project.rglob("*")):
        if ".git" not in path.relative_to(project).parts and path.is_symlink():
            links[path.relative_to(project).as_posix()] = os.readlink(path)
    modes = {rel: stat.S_IMODE((project / rel).lstat().st_mode) & 0o111 for rel in files_of(project)}
    return (tree_bytes(project), links, modes, git(project, "ls-files", "-s"),
            git(project, "rev-parse", "HEAD"), git(project, "status", "--porcelain"))


def figures(record_property, lines_lost=0, resurrected=0, half_written=0, **more) -> None:
    record_property("reliability", {"area": AREA, "lines_lost": lines_lost, "files_resurrected": resurrected,
                                    "trees_left_half_written": half_written, **more})


def fake_copier(tmp_path: Path, after: str, real_copier: bool = True) -> dict:
    """A `copier` on PATH that runs the real one, then runs `after` (shell) - e.g. kills dpf."""
    real = shutil.which("copier")
    real_cmd = f'"{real}"' if real else f'"{sys.executable}" -m copier'
    if not real_copier:
        real_cmd = "true"
    bin_dir = tmp_path / "fake-bin"
    bin_dir.mkdir()
    script = bin_dir / "copier"
    script.write_text(f'#!/bin/sh\n{real_cmd} "$@"\nrc=$?\n{after}\nexit $rc\n')
    script.chmod(0o755)
    return {"PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}


# A test-only hook, kept out of the shipped tool: SIGKILL dpf.py at its n-th os.replace,
# i.e. in the middle of bringing the results into the working tree.
KILL_SHIM = '''import os, signal, sys
_n = os.environ.get("DPF_TEST_KILL_AT_WRITE")
if _n and sys.argv and sys.argv[0].endswith("dpf.py"):
    _real, _count = os.replace, [0]
    def _replace(*args, **kwargs):
        _count[0] += 1
        if _count[0] > int(_n):
            os.kill(os.getpid(), signal.SIGKILL)
        return _real(*args, **kwargs)
    os.replace = _replace
'''


def kill_during_bring_in(tmp_path: Path, after_writes: int) -> dict:
    shim = tmp_path / "kill-shim"
    shim.mkdir(exist_ok=True)
    (shim / "sitecustomize.py").write_text(KILL_SHIM)
    return {"PYTHONPATH": os.pathsep.join(filter(None, [str(shim), os.environ.get("PYTHONPATH")])),
            "DPF_TEST_KILL_AT_WRITE": str(after_writes)}


def health(src: Path, project: Path) -> dict:
    run = dpf(src, project, "health", "--json")
    assert run.returncode in (0, 1), run.stderr
    assert "Traceback" not in run.stderr
    return json.loads(run.stdout)


def append(path: Path, line: str) -> str:
    path.write_text(path.read_text() + f"\n{line}\n")
    return line


@pytest.fixture(scope="module")
def one_hop(template_repo, tmp_path_factory) -> dict:
    """A project on the release before the newest, with a team edit, committed."""
    src, info = template_repo
    previous = info["previous"]
    project = start_project(src, tmp_path_factory.mktemp("one-hop") / "project", previous, {})
    line = append(project / "02_Architecture/system-overview.md", "Team note: the lake is read-only.")
    commit_all(project, "Team edit")
    return {"src": src, "head": info["head"], "previous": previous, "project": project, "line": line}


def copy_of(one_hop: dict, tmp_path: Path) -> Path:
    project = tmp_path / "project"
    shutil.copytree(one_hop["project"], project, symlinks=True)
    return project


# ---------------------------------------------------------------------------
#  Kills and failures leave the repository as it was
# ---------------------------------------------------------------------------
def test_killed_while_copier_runs_leaves_the_repository_byte_identical(one_hop, tmp_path, record_property):
    src, project = one_hop["src"], copy_of(one_hop, tmp_path)
    before = snapshot(project)
    # The fake copier lets the real update finish in the worktree, then SIGKILLs dpf.py.
    killed = dpf(src, project, "update", env=fake_copier(tmp_path, "kill -9 $PPID"))
    assert killed.returncode == -9, killed.stdout + killed.stderr
    half_written = int(snapshot(project) != before)
    figures(record_property, half_written=half_written, killed_runs=1)
    assert half_written == 0
    assert not (project / ".git" / JOURNAL).exists()

    again = dpf(src, project, "update")
    assert again.returncode == 0, again.stdout + again.stderr
    assert recorded_commit(project) == one_hop["head"]
    assert one_hop["line"] in (project / "02_Architecture/system-overview.md").read_text()
    worktrees = git(project, "worktree", "list", "--porcelain")
    assert worktrees.count("worktree ") == 1, worktrees  # the killed run's worktree was removed


def test_failure_inside_copier_changes_nothing_and_says_so_truthfully(one_hop, tmp_path, record_property):
    src, project = one_hop["src"], copy_of(one_hop, tmp_path)
    before = snapshot(project)
    # --to the release it is on: no comparison renders, straight to Copier (cheap)
    failed = dpf(src, project, "update", "--to", one_hop["previous"], env=fake_copier(tmp_path, "exit 3"))
    said = failed.stdout + failed.stderr
    assert failed.returncode == 3, said
    half_written = int(snapshot(project) != before)
    figures(record_property, half_written=half_written, failed_runs=1)
    assert half_written == 0
    assert "Traceback" not in said and "nothing was changed" in said
    assert git(project, "worktree", "list", "--porcelain").count("worktree ") == 1


def test_killed_while_bringing_in_is_detected_then_rolled_back(one_hop, tmp_path, record_property):
    src, project = one_hop["src"], copy_of(one_hop, tmp_path)
    killed = dpf(src, project, "update", env=kill_during_bring_in(tmp_path, 1))
    assert killed.returncode == -9, killed.stdout + killed.stderr
    assert (project / ".git" / JOURNAL).is_file()
    assert git(project, "status", "--porcelain"), "the kill came before any write: nothing to detect"

    report = health(src, project)
    found = [f for f in report["findings"] if f["check"] == "half-applied-update"]
    assert found and found[0]["severity"] == "error", report["findings"]
    assert "git stash" in found[0]["message"] and "commit" not in found[0]["message"].replace("commits", "")

    # Committed as it is, the half-written update is still named, with a recovery that keeps history.
    committed = tmp_path / "committed"
    shutil.copytree(project, committed, symlinks=True)
    commit_all(committed, "Oops: committed a half-written update")
    found = [f for f in health(src, committed)["findings"] if f["check"] == "half-applied-update"]
    assert found and "git revert --no-edit" in found[0]["message"], found
    refused = dpf(src, committed, "update")
    assert refused.returncode == 2 and "git revert --no-edit" in refused.stderr, refused.stderr

    # The next run puts back what the killed one had written, then updates as usual.
    again = dpf(src, project, "update")
    half_written = int(again.returncode != 0 or (project / ".git" / JOURNAL).exists()
                       or recorded_commit(project) != one_hop["head"])
    lost = int(one_hop["line"] not in (project / "02_Architecture/system-overview.md").read_text())
    figures(record_property, lines_lost=lost, half_written=half_written, killed_runs=1)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "rolled back" in again.stderr
    assert not (project / ".git" / JOURNAL).exists()
    assert recorded_commit(project) == one_hop["head"]
    assert one_hop["line"] in (project / "02_Architecture/system-overview.md").read_text()
    assert not [f for f in files_of(project) if f.endswith(".dpf-tmp")]
    assert not [f for f in health(src, project)["findings"] if f["check"] == "half-applied-update"]


# ---------------------------------------------------------------------------
#  Root + products in Renovate's order, with a true conflict at the root
# ---------------------------------------------------------------------------
def changed_readme_line(old_render: Path, new_render: Path) -> str:
    """A line of the root README that the newer render rewrites (present in the older only)."""
    before, after = old_render / "README.md", new_render / "README.md"
    new_lines = set(after.read_text().splitlines())
    changed = [line[2:] for line in difflib.ndiff(before.read_text().splitlines(), after.read_text().splitlines())
               if line.startswith("- ") and line[2:].strip() and line[2:] not in new_lines]
    assert changed, f"README.md is the same in {old_render.name} and {new_render.name}: no conflict to make"
    return changed[0]


def update_root_and_products(src: Path, info: dict, tmp_path: Path, old: str, record_property) -> None:
    project = start_project(src, tmp_path / "repo", old, {})
    products = [add_product_with_copier(project, old, src, name, slug)
                for name, slug in (("Customers", "customers"), ("Demand Forecasts", "demand-forecasts"))]
    commit_all(project, "Two more products")
    old_render = render(src, tmp_path / "old", FIXED, vcs_ref=old)
    new_render = render(src, tmp_path / "new", FIXED, vcs_ref=info["head"])
    ours = changed_readme_line(old_render, new_render)
    readme = project / "README.md"
    readme.write_text(readme.read_text().replace(ours, "Our team runs updates every Monday.", 1))
    lines = ["Our team runs updates every Monday.",
             append(products[0] / "spec.md", "Customers: GDPR erasure runs within 30 days."),
             append(products[1] / "architecture.md", "Forecasts: retrain weekly on Sunday night.")]
    commit_all(project, "Team edits")
    removed_by_release = files_of(old_render) - files_of(new_render)

    run = dpf(src, project, "update")
    said = run.stdout + run.stderr
    assert run.returncode == 0, said
    for answers in (project / ".copier-answers.yml", *(p / ".copier-answers.yml" for p in products)):
        assert yaml.safe_load(answers.read_text())["_commit"] == info["head"], answers
    text = "\n".join((project / f).read_text(errors="replace") for f in files_of(project))
    lost = [line for line in lines if line not in text]
    resurrected = sorted(removed_by_release & files_of(project))
    figures(record_property, lines_lost=len(lost), resurrected=len(resurrected), products=len(products))
    assert lost == [] and resurrected == []
    assert any(hit.startswith("README.md:") for hit in conflict_markers(project))
    assert "UU README.md" in git(project, "status", "--porcelain").splitlines()  # as Copier leaves it
    assert "conflict" in said and "README.md" in said and "Next steps" in said
    # Each product's update stayed in its own folder; nothing was left behind.
    assert git(project, "worktree", "list", "--porcelain").count("worktree ") == 1
    assert not (project / ".git" / JOURNAL).exists()


def test_root_and_two_products_update_together_with_a_root_conflict(template_repo, tmp_path, record_property):
    src, info = template_repo
    update_root_and_products(src, info, tmp_path, info["previous"], record_property)


def _key(tag: str) -> tuple[int, ...]:
    return tuple(int(n) for n in tag.lstrip("v").split("."))


# Routine hops to the newest release (no migration on the way, so no --trust), less the
# one the default suite runs.
ROUTINE = [tag for tag in EARLIER[:-1] if _key(tag) >= (1, 2, 0)]


@pytest.mark.slow
@pytest.mark.parametrize("old", ROUTINE)
def test_root_and_two_products_from_earlier_releases(template_repo, tmp_path, record_property, old):
    src, info = template_repo
    update_root_and_products(src, info, tmp_path, old, record_property)


@pytest.mark.slow
def test_root_and_a_product_across_the_migration_release(template_repo, tmp_path, record_property):
    """From the oldest release with --trust: the root's migration moves files, the product's
    update runs in a worktree of its own and so brings none of them back."""
    src, info = template_repo
    oldest = info["releases"][0]
    project = start_project(src, tmp_path / "repo", oldest, {})
    product = add_product_with_copier(project, oldest, src, "Customers", "customers")
    line = append(product / "spec.md", "Customers: GDPR erasure runs within 30 days.")
    commit_all(project, "A product and an edit")
    old_render = render(src, tmp_path / "old", FIXED, vcs_ref=oldest)
    new_render = render(src, tmp_path / "new", FIXED, vcs_ref=info["head"])
    run = dpf(src, project, "update", "--trust")
    resurrected = sorted((files_of(old_render) - files_of(new_render)) & files_of(project))
    lost = int(line not in (product / "spec.md").read_text())
    figures(record_property, lines_lost=lost, resurrected=len(resurrected))
    assert run.returncode == 0, run.stdout + run.stderr
    assert resurrected == [] and lost == 0
    assert recorded_commit(product) == info["head"] == recorded_commit(project)


@pytest.mark.slow
def test_killed_at_every_write_of_the_bring_in_then_rerun(one_hop, tmp_path, record_property):
    src = one_hop["src"]
    kills = 0
    for n in range(0, 40):
        project = tmp_path / f"kill-{n}"
        shutil.copytree(one_hop["project"], project, symlinks=True)
        run = dpf(src, project, "update", env=kill_during_bring_in(tmp_path, n))
        if run.returncode == 0:
            break
        assert run.returncode == -9, run.stdout + run.stderr
        kills += 1
        again = dpf(src, project, "update")
        half_written = int(again.returncode != 0 or (project / ".git" / JOURNAL).exists())
        lost = int(one_hop["line"] not in (project / "02_Architecture/system-overview.md").read_text())
        figures(record_property, lines_lost=lost, half_written=half_written, killed_runs=1)
        assert again.returncode == 0 and half_written == 0 and lost == 0, again.stdout + again.stderr
        assert recorded_commit(project) == one_hop["head"]
        shutil.rmtree(project)
    assert kills >= 2


def test_a_product_update_that_leaves_its_folder_is_refused(template_repo, tmp_path):
    """Each answers file's result must stay in its own folder; otherwise nothing is written."""
    src, info = template_repo
    project = start_project(src, tmp_path / "repo", info["head"], {})
    add_product_with_copier(project, info["head"], src, "Customers", "customers")
    commit_all(project, "A product")
    before = snapshot(project)
    # A copier that, in a product folder only, writes a file of the repository root (and,
    # to keep the test cheap, does nothing else).
    stray = 'if [ -f ../../.copier-answers.yml ]; then echo stray > ../../02_Architecture/stray.md; fi'
    run = dpf(src, project, "update", env=fake_copier(tmp_path, stray, real_copier=False))
    said = run.stdout + run.stderr
    assert run.returncode == 2, said
    assert "must stay in its own folder" in said and "02_Architecture/stray.md" in said
    assert snapshot(project) == before


# ---------------------------------------------------------------------------
#  Changing an answer keeps the team's files
# ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def airflow_project(template_repo, tmp_path_factory) -> Path:
    src, info = template_repo
    project = start_project(src, tmp_path_factory.mktemp("airflow") / "project", info["head"], {})
    added = dpf(src, project, "add-product", "Customers", "--purpose", "Who buys what, for sales.")
    assert added.returncode == 0, added.stderr
    commit_all(project, "Add Customers")
    return project


def test_changing_the_orchestrator_keeps_edited_and_own_files(template_repo, airflow_project, tmp_path,
                                                              record_property):
    src, info = template_repo
    project = tmp_path / "project"
    shutil.copytree(airflow_project, project, symlinks=True)
    doc = project / "05_Pipelines/airflow/dag-structure.md"
    dag = project / "dags/orders_daily.py"
    own = project / "05_Pipelines/airflow/team-runbook.md"
    lines = [append(doc, "Team note: we pause DAGs during the month-end close."),
             append(dag, "# Team: retries raised to 5 after the March incident.")]
    own.write_text("# Runbook\n\nOur on-call steps for Airflow.\n")
    untouched = project / "05_Pipelines/airflow/failures-retries.md"
    assert untouched.is_file()
    commit_all(project, "Team work on the Airflow stack")
    kept = {rel: (project / rel).read_bytes() for rel in
            ("05_Pipelines/airflow/dag-structure.md", "dags/orders_daily.py", "05_Pipelines/airflow/team-runbook.md")}

    run = dpf(src, project, "update", "--data", "orchestrator=dagster")
    said = run.stdout + run.stderr
    assert run.returncode == 0, said
    lost = [rel for rel, data in kept.items() if not (project / rel).is_file() or (project / rel).read_bytes() != data]
    text = "\n".join((project / rel).read_text(errors="replace") for rel in kept if (project / rel).is_file())
    figures(record_property, lines_lost=sum(line not in text for line in lines), kept_files=len(kept) - len(lost))
    assert lost == []
    for rel in kept:
        assert rel in said
    assert "git commit -F-" in said and "- dags/orders_daily.py" in said  # the suggested message lists them
    assert not untouched.exists()  # the old release's own file, unedited: the change removes it
    assert (project / "05_Pipelines/dagster").is_dir()
    assert yaml.safe_load((project / ".copier-answers.yml").read_text())["orchestrator"] == "dagster"
    # A shared answer reaches the product added with add-product in the same run.
    product = yaml.safe_load((project / "01_Data_Products/customers/.copier-answers.yml").read_text())
    assert product["orchestrator"] == "dagster" and product["_commit"] == info["head"]


@pytest.mark.slow
@pytest.mark.parametrize("data,edited", [
    ("transformation_tool=sqlmesh", "transform/dbt_project.yml"),
    ("ci_platform=gitlab", ".github/workflows/checks.yml"),
    ("warehouse=snowflake", "05_Pipelines/airflow/dag-structure.md"),
])
def test_changing_any_stack_answer_keeps_edited_files(template_repo, airflow_project, tmp_path,
                                                      record_property, data, edited):
    src, _ = template_repo
    project = tmp_path / "project"
    shutil.copytree(airflow_project, project, symlinks=True)
    line = append(project / edited, "# Team: changed after the March review.")
    commit_all(project, "Team edit")
    run = dpf(src, project, "update", "--data", data)
    said = run.stdout + run.stderr
    lost = int(not (project / edited).is_file() or line not in (project / edited).read_text())
    figures(record_property, lines_lost=lost)
    assert run.returncode == 0, said
    assert lost == 0
    key, value = data.split("=")
    assert yaml.safe_load((project / ".copier-answers.yml").read_text())[key] == value


@pytest.mark.parametrize("data,says", [
    ("no_such_question=1", "is not a question"),
    ("orchestrator=bogus", "Copier refused the answers: Invalid choice for 'orchestrator'"),
    ("team_email=not-an-address", "team_email must be"),
])
def test_a_bad_answer_is_refused_and_writes_nothing(template_repo, airflow_project, tmp_path, data, says):
    src, _ = template_repo
    project = tmp_path / "project"
    shutil.copytree(airflow_project, project, symlinks=True)
    before = snapshot(project)
    run = dpf(src, project, "update", "--data", data)
    said = run.stdout + run.stderr
    assert run.returncode != 0
    assert says in said and "Traceback" not in said and "nothing was changed" in said, said
    assert snapshot(project) == before


# ---------------------------------------------------------------------------
#  Pre-checks name collisions before Copier writes
# ---------------------------------------------------------------------------
def test_team_folder_where_the_release_writes_a_symlink_is_refused_before_any_write(template_repo, tmp_path):
    src, info = template_repo
    before_docs = [r for r in info["releases"] if r < "v1.2.0"][-1]  # docs/ came with 1.2.0
    project = start_project(src, tmp_path / "project", before_docs, {})
    (project / "docs/02_Architecture").mkdir(parents=True)
    (project / "docs/02_Architecture/our-diagrams.md").write_text("# Our diagrams\n")
    (project / "Makefile").write_text("all:\n\techo ours\n")
    commit_all(project, "The team's own docs folder and Makefile")
    before = snapshot(project)
    run = dpf(src, project, "update")
    said = run.stdout + run.stderr
    assert run.returncode == 2, said
    assert "docs/02_Architecture: your repository has a folder where the release writes a symlink" in said
    assert "git mv docs/02_Architecture docs/02_Architecture.ours" in said
    assert "Makefile: the release adds this file and your repository already has one" in said
    assert "nothing was changed" in said
    assert snapshot(project) == before


def test_a_document_the_team_replaced_by_a_symlink_is_refused_when_the_release_changes_it(one_hop, tmp_path):
    src, project = one_hop["src"], copy_of(one_hop, tmp_path)
    (project / "README.md").unlink()
    (project / "README.md").symlink_to("09_Docs_Internal/onboarding.md")
    commit_all(project, "Our onboarding page is the README")
    before = snapshot(project)
    run = dpf(src, project, "update")
    said = run.stdout + run.stderr
    assert run.returncode == 2, said
    assert "README.md: you replaced the template's file with a symlink and the release changes it" in said
    assert snapshot(project) == before


# ---------------------------------------------------------------------------
#  health: products behind, hand-edited answers, bytes that are not UTF-8
# ---------------------------------------------------------------------------
def test_health_reports_a_product_behind_and_a_hand_edited_answer_and_survives_latin1(template_repo, tmp_path):
    src, info = template_repo
    project = start_project(src, tmp_path / "project", info["head"], {})
    add_product_with_copier(project, info["previous"], src, "Customers", "customers")
    latin1 = project / "09_Docs_Internal/notes-fr.md"
    latin1_bytes = (b"---\nowner: \xc9quipe Donn\xe9es\nstatus: draft\nlast_reviewed: 2026-01-15\n---\n\n"
                    b"# Notes\n\nCaf\xe9 cr\xe8me, voir [la page](caf\xe9.md).\n")
    latin1.write_bytes(latin1_bytes)
    index = project / "01_Data_Products/README.md"
    index.write_bytes(index.read_bytes() + b"\nR\xe9vis\xe9 par l'\xe9quipe.\n")
    # Files git ignores are not the team's documents: health does not read them.
    with (project / ".gitignore").open("a") as fh:
        fh.write("\nscratch/\n")
    (project / "scratch").mkdir()
    (project / "scratch/draft.md").write_bytes(b"# Draft\n\n[gone](nowhere-\xff.md)\n")
    commit_all(project, "Customers at the previous release, French notes")
    answers = project / ".copier-answers.yml"
    answers.write_text(answers.read_text().replace("team_name: Data Platform", "team_name: Data Guild"))
    commit_all(project, "Rename the team by hand")

    for args in (("health",), ("health", "--json")):
        run = dpf(src, project, *args)
        assert run.returncode in (0, 1) and "Traceback" not in run.stderr, run.stderr
    findings = health(src, project)["findings"]
    behind = [f for f in findings if f["check"] == "product-behind"]
    assert [f["path"] for f in behind] == ["01_Data_Products/customers/.copier-answers.yml"]
    assert "update --product customers" in behind[0]["message"]
    edited = [f for f in findings if f["check"] == "answers-edited"]
    assert len(edited) == 1 and "NOT apply" in edited[0]["message"], findings
    assert "python tools/dpf.py update --data team_name='Data Guild'" in edited[0]["message"]
    assert any(f["path"] == "09_Docs_Internal/notes-fr.md" and f["check"] == "broken-link" for f in findings)
    assert not [f for f in findings if f["path"].startswith("scratch/")]

    assert dpf(src, project, "index").returncode == 0  # rewrites the block, keeps every other byte
    assert index.read_bytes().endswith(b"\nR\xe9vis\xe9 par l'\xe9quipe.\n")
    assert latin1.read_bytes() == latin1_bytes
    assert git(project, "status", "--porcelain").strip() in ("", "M 01_Data_Products/README.md")


# ---------------------------------------------------------------------------
#  Bytes Copier alone would drop, and a kind change Copier alone crashes on
# ---------------------------------------------------------------------------
def test_latin1_edit_of_a_staying_document_keeps_every_byte(one_hop, tmp_path, record_property):
    """Renovate's command line drops the Latin-1 letters of this line (see the strict xfail in
    tests/reliability/); dpf.py update brings them through byte for byte."""
    project = copy_of(one_hop, tmp_path)
    doc = project / "02_Architecture/system-overview.md"
    line = "Décision de l'équipe: café, crème.".encode("latin-1")
    doc.write_bytes(doc.read_bytes() + b"\n" + line + b"\n")
    commit_all(project, "A Latin-1 line")
    run = dpf(one_hop["src"], project, "update", "--to", one_hop["head"])
    assert run.returncode == 0, run.stdout[-1500:] + run.stderr[-1500:]
    assert recorded_commit(project) == one_hop["head"]
    assert line in doc.read_bytes()
    assert one_hop["line"].encode() in doc.read_bytes()
    figures(record_property, lines_lost=int(line not in doc.read_bytes()))


def test_template_folder_the_team_made_a_file_is_refused_before_any_write(one_hop, tmp_path, record_property):
    """Copier crashes half-way (NotADirectoryError) on it; dpf.py names it and writes nothing."""
    project = copy_of(one_hop, tmp_path)
    shutil.rmtree(project / "11_Learning/papers")
    (project / "11_Learning/papers").write_bytes(b"Our reading list replaces the folder.\n")
    commit_all(project, "A folder replaced by a file")
    before = snapshot(project)
    run = dpf(one_hop["src"], project, "update", "--to", one_hop["head"])
    assert run.returncode != 0
    assert "11_Learning/papers" in run.stderr and "dpf: refused:" in run.stderr, run.stderr[-1500:]
    assert "Traceback" not in run.stderr
    assert snapshot(project) == before
    figures(record_property, half_written=int(snapshot(project) != before))
