"""scripts/adopt.py: the framework adopted in a repository that already exists,
then kept current with `copier update` like any generated repository, without
ever writing a file the team had before."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import copier
import pytest
import yaml

from helpers import ROOT, files_of, git
from ladder import FIXED, conflict_markers, recorded_commit, renovate_update

ADOPT = ROOT / "scripts" / "adopt.py"
ANSWERS = ".copier-answers.yml"

# The team's repository: a README and a doc where the framework has files of its
# own, code, and a docs site of their own in a nested docs/ folder.
THEIRS = {
    "README.md": "# Orders data\n\nOur pipelines for the orders domain. Ask #data-orders.\n",
    "02_Architecture/system-overview.md": "# How orders flow\n\nKafka -> S3 -> warehouse, drawn on the wall.\n",
    "src/etl.py": "def run():\n    return 'extract, transform, load'\n",
    "docs/index.md": "# Orders docs\n\nSee the [guide](guide.md).\n",
    "docs/guide.md": "# Guide\n\nRun `make etl`.\n",
    "mkdocs.yml": "site_name: Orders data\nnav:\n  - index.md\n  - guide.md\n",
}
# Clash in every release; later releases may add more (mkdocs.yml with the docs site).
MUST_CLASH = {"README.md", "02_Architecture/system-overview.md"}
ADOPTED = sorted(THEIRS)  # every file they had is recorded, clashing or not
NEWER_LINE = "Line added by the newer release of the template."
NEWER_FILE = "src/etl.py"  # the newer release adds a file where they already have one


# ----------------------------------------------------------------------------
#  helpers
# ----------------------------------------------------------------------------
def their_repo(path: Path, files: dict[str, str] = THEIRS) -> Path:
    path.mkdir(parents=True)
    git(path, "init", "-q", "-b", "main")
    for rel, text in files.items():
        (path / rel).parent.mkdir(parents=True, exist_ok=True)
        (path / rel).write_text(text)
    git(path, "add", "-A")
    git(path, "commit", "-q", "-m", "Our own repository")
    return path


def adopt(target: Path, src: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    data = [a for key, value in FIXED.items() for a in ("--data", f"{key}={value}")]
    return subprocess.run(
        [sys.executable, str(ADOPT), str(target), "--src", str(src), *data, *args],
        capture_output=True, text=True, env={**os.environ, **(env or {})},
    )


def entries(root: Path) -> dict[str, tuple[str, bytes | str]]:
    """Every file and symlink below root (.git excluded, symlinked folders not
    entered): rel -> ("file", bytes) or ("link", target)."""
    found = {}
    for folder, dirs, files in os.walk(root):
        here = Path(folder)
        dirs[:] = [d for d in dirs if d != ".git" or here != root]
        for name in [*files, *(d for d in dirs if (here / d).is_symlink())]:
            path = here / name
            rel = path.relative_to(root).as_posix()
            found[rel] = ("link", os.readlink(path)) if path.is_symlink() else ("file", path.read_bytes())
    return found


def snapshot(repo: Path) -> tuple:
    """Every byte and link outside .git, git's view of the tree, and HEAD."""
    return (
        entries(repo),
        git(repo, "status", "--porcelain", "--untracked-files=all", "--ignored"),
        git(repo, "rev-parse", "HEAD"),
    )


def answers_of(repo: Path) -> dict:
    return yaml.safe_load((repo / ANSWERS).read_text())


def offered(rel: str) -> str:
    path = Path(rel)
    return str(path.with_name(f"{path.stem}.framework{path.suffix}"))


_FRESH: dict[tuple[str, str], dict] = {}


@pytest.fixture(scope="module")
def fresh(tmp_path_factory):
    """What a plain `copier copy` of a release gives with the same answers (cached)."""
    def render_once(src: Path, tag: str) -> dict:
        if (str(src), tag) not in _FRESH:
            dst = tmp_path_factory.mktemp("fresh") / tag
            copier.run_copy(str(src), str(dst), data=dict(FIXED), defaults=True, vcs_ref=tag, quiet=True)
            _FRESH[str(src), tag] = entries(dst)
        return _FRESH[str(src), tag]
    return render_once


def assert_theirs_untouched(repo: Path) -> None:
    for rel, text in THEIRS.items():
        assert (repo / rel).read_text() == text, f"{rel} of theirs was changed"


def assert_framework_matches(repo: Path, framework: dict, offered_copies: dict) -> None:
    """Framework files are the release's own; theirs win every shared path."""
    have = entries(repo)
    assert set(have) == set(framework) | set(THEIRS) | set(offered_copies.values())
    for rel, entry in framework.items():
        if rel not in THEIRS and rel != ANSWERS:
            assert have[rel] == entry, f"{rel} differs from the release's own file"


def assert_adopted(repo: Path, run: subprocess.CompletedProcess, tag: str, framework: dict) -> dict:
    """Checks right after adoption; returns {clashing path: offered copy}."""
    assert run.returncode == 0, run.stderr + run.stdout
    assert_theirs_untouched(repo)
    clashes = sorted(set(THEIRS) & set(framework))
    assert MUST_CLASH <= set(clashes)
    copies = {rel: offered(rel) for rel in clashes}
    for rel in clashes:
        assert f"kept yours: {rel}; framework version offered at {copies[rel]}" in run.stdout
        assert entries(repo)[copies[rel]] == framework[rel]
    for rel in set(THEIRS) - set(clashes):
        assert rel not in run.stdout.split("Summary:")[0], f"{rel} reported as a clash"
    recorded = answers_of(repo)
    assert recorded["adopted_paths"] == ADOPTED
    assert recorded["_commit"] == tag
    assert_framework_matches(repo, framework, copies)
    # Committed, on top of their history, and nothing left over.
    assert git(repo, "status", "--porcelain", "--untracked-files=all") == ""
    assert git(repo, "log", "-1", "--format=%s").strip() == f"Adopt data-product-framework {tag}"
    assert git(repo, "log", "-1", "--format=%s", "HEAD~1").strip() == "Our own repository"
    return copies


@pytest.fixture(scope="module")
def newer_release(template_repo, tmp_path_factory) -> tuple[Path, str, str]:
    """The template repo with one more release above HEAD that edits the docs the
    team kept and one they did not, and adds a file where they have one:
    (path, adopting tag, newer tag)."""
    src, info = template_repo
    path = tmp_path_factory.mktemp("newer") / "data-product-framework"
    git(src.parent, "clone", "-q", "--no-local", str(src), str(path))
    for rel in ("README.md.jinja", "02_Architecture/system-overview.md.jinja",
                "02_Architecture/ingestion-pipeline.md.jinja"):
        with open(path / "template" / rel, "a") as out:
            out.write(f"\n{NEWER_LINE}\n")
    (path / "template" / NEWER_FILE).parent.mkdir(parents=True, exist_ok=True)
    (path / "template" / NEWER_FILE).write_text("print('the framework would like this path')\n")
    git(path, "add", "-A")
    git(path, "commit", "-q", "-m", "A newer release")
    major, minor, micro = (int(p) for p in info["head"][1:].split("."))
    newer = f"v{major}.{minor}.{micro + 1}"
    git(path, "tag", "-a", newer, "-m", "newer")
    return path, info["head"], newer


# ----------------------------------------------------------------------------
#  adoption
# ----------------------------------------------------------------------------
def test_adopt_keeps_their_files_and_adds_the_framework(template_repo, fresh, tmp_path):
    src, info = template_repo
    repo = their_repo(tmp_path / "orders-data")
    run = adopt(repo, src)  # default --vcs-ref: the newest release tag
    assert_adopted(repo, run, info["head"], fresh(src, info["head"]))
    assert "nothing of yours was changed" in run.stdout


def test_adopted_repo_takes_a_later_release_through_copier_update(newer_release, fresh, tmp_path):
    src, tag, newer = newer_release
    repo = their_repo(tmp_path / "orders-data")
    copies = assert_adopted(repo, adopt(repo, src, "--vcs-ref", tag), tag, fresh(src, tag))
    offered_before = {rel: entries(repo)[rel] for rel in copies.values()}

    run = renovate_update(repo, newer, trust=False)  # no migration in this hop
    assert run.returncode == 0, run.stderr
    assert_theirs_untouched(repo)  # src/etl.py too, though the release now ships one
    recorded = answers_of(repo)
    assert recorded["_commit"] == newer
    assert recorded["adopted_paths"] == ADOPTED
    # The release's changes arrived wherever the framework owns the file ...
    assert NEWER_LINE in (repo / "02_Architecture/ingestion-pipeline.md").read_text()
    assert_framework_matches(repo, fresh(src, newer), copies)
    # ... the offered copies are not refreshed (documented), nothing is in conflict.
    assert {rel: entries(repo)[rel] for rel in copies.values()} == offered_before
    assert conflict_markers(repo) == []
    assert not [f for f in files_of(repo) if f.endswith((".rej", ".orig"))]


def test_adopt_at_the_oldest_release_then_update_to_head(template_repo, fresh, tmp_path):
    src, info = template_repo
    oldest = info["releases"][0]
    repo = their_repo(tmp_path / "orders-data")
    run = adopt(repo, src, "--vcs-ref", oldest)
    copies = assert_adopted(repo, run, oldest, fresh(src, oldest))

    # Renovate's command line; --trust only because the hop carries a migration.
    update = renovate_update(repo, info["head"], trust=True)
    assert update.returncode == 0, update.stderr
    assert_theirs_untouched(repo)
    recorded = answers_of(repo)
    assert recorded_commit(repo) == info["head"]
    assert recorded["adopted_paths"] == ADOPTED
    assert conflict_markers(repo) == []
    assert_framework_matches(repo, fresh(src, info["head"]), copies)


# ----------------------------------------------------------------------------
#  refusals and roll-back: the repository is left exactly as it was
# ----------------------------------------------------------------------------
@pytest.mark.parametrize("dirt", ["modified", "untracked"])
def test_dirty_repo_is_refused_and_left_untouched(template_repo, tmp_path, dirt):
    src, _ = template_repo
    repo = their_repo(tmp_path / "orders-data")
    if dirt == "modified":
        (repo / "README.md").write_text("work in progress\n")
    else:
        (repo / "notes.txt").write_text("not committed yet\n")
    before = snapshot(repo)
    run = adopt(repo, src)
    assert run.returncode == 2
    assert "dirty" in run.stderr and "nothing was changed" in run.stderr
    assert snapshot(repo) == before


def test_already_generated_repo_is_refused(template_repo, tmp_path):
    src, _ = template_repo
    repo = their_repo(tmp_path / "orders-data", {**THEIRS, ANSWERS: "_commit: v1.0.0\n"})
    before = snapshot(repo)
    run = adopt(repo, src)
    assert run.returncode == 2 and "copier update" in run.stderr
    assert snapshot(repo) == before


@pytest.mark.parametrize("layout", ["file-where-a-folder-goes", "folder-where-a-file-goes"])
def test_file_folder_clash_is_refused_and_left_untouched(template_repo, tmp_path, layout):
    src, _ = template_repo
    files = dict(THEIRS)
    if layout == "file-where-a-folder-goes":
        files["06_DevOps"] = "our devops notes in one file\n"
        expected = "needs a folder 06_DevOps/"
    else:
        files["renovate.json5/README.md"] = "a folder of ours\n"
        expected = "writes a file (or link) renovate.json5, but yours is a folder"
    repo = their_repo(tmp_path / "orders-data", files)
    before = snapshot(repo)
    run = adopt(repo, src)
    assert run.returncode == 2, run.stdout
    assert expected in run.stderr and "nothing was changed" in run.stderr
    assert snapshot(repo) == before


@pytest.mark.parametrize("fail_after", [7, 10_000], ids=["while-writing", "before-commit"])
def test_failure_after_writing_began_rolls_back_byte_for_byte(template_repo, tmp_path, fail_after):
    src, _ = template_repo
    repo = their_repo(tmp_path / "orders-data")
    before = snapshot(repo)
    run = adopt(repo, src, env={"DPF_ADOPT_FAIL_AFTER": str(fail_after)})
    assert run.returncode == 1, run.stdout
    assert "rolled back" in run.stderr
    assert snapshot(repo) == before
    # No folder the adoption created is left behind, empty or not.
    assert sorted(p.name for p in repo.iterdir()) == sorted(
        {".git", *(Path(rel).parts[0] for rel in THEIRS)}
    )
    assert git(repo, "ls-files") == git(repo, "ls-tree", "-r", "--name-only", "HEAD")


# ----------------------------------------------------------------------------
#  the question behind it
# ----------------------------------------------------------------------------
def answers_only(src: Path, dst: Path, tag: str, data: dict) -> dict:
    copier.run_copy(str(src), str(dst), data={**FIXED, **data}, defaults=True, vcs_ref=tag,
                    quiet=True, exclude=["*", f"!/{ANSWERS}"])
    return answers_of(dst)


def test_plain_copy_neither_asks_nor_records_adopted_paths(template_repo, tmp_path):
    src, info = template_repo
    assert "adopted_paths" not in answers_only(src, tmp_path / "p", info["head"], {})


@pytest.mark.parametrize(
    "value, message",
    [
        ('"README.md"', "must be a list"),
        ('["/etc/passwd"]', "not absolute"),
        ('["../outside.md"]', 'no ".."'),
        ('["docs/*.md"]', "* ? [ ] !"),
        ('["a\\\\b.md"]', "backslashes"),
        ('["two\\nlines.md"]', "one line"),
        ('["docs/"]', "trailing"),
    ],
)
def test_adopted_paths_accepts_only_plain_relative_paths(template_repo, tmp_path, value, message):
    src, info = template_repo
    with pytest.raises(ValueError, match="adopted_paths") as error:
        answers_only(src, tmp_path / "p", info["head"], {"adopted_paths": value})
    assert message in str(error.value)
    assert not (tmp_path / "p").exists() or not any((tmp_path / "p").iterdir())


def _dpf_module():
    spec = importlib.util.spec_from_file_location("dpf_under_test", ROOT / "template/tools/dpf.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_dpf_reads_an_adopted_answers_file(template_repo, tmp_path):
    """The generated tools/dpf.py parses the answers file, list answer included."""
    src, info = template_repo
    answers_only(src, tmp_path / "p", info["head"], {"adopted_paths": sorted(MUST_CLASH)})
    values = _dpf_module().read_answers(tmp_path / "p" / ANSWERS)
    assert values["product_slug"] == "orders"
