"""migrations/helpers.py keeps the team's bytes: merges, link rewrites and answer
renames never drop or re-encode a byte, and the file walk sees only what git
tracks in this project. Unit tests on small git repos, then one real hop."""

from __future__ import annotations

import pytest
import yaml

from migrations import helpers as migration
from testkit.helpers import files_of, git
from testkit.ladder import ANSWER_SETS, commit_all, recorded_commit, renovate_update, start_project
from testkit.tree import Symlink, build_file_tree, git_repo

LABELS = ("yours", "template before", "template now")
BASE = b"# Title\n\nLine one.\nLine two.\nLine three.\n"
LATIN1_CRLF = b"Caf\xe9 cr\xe8me, na\xefve \xfcber\r\nSecond line \xe0 la carte\r\n"


def repo(tmp_path, files=None):
    """A git repository with `files` committed (none: an empty repository)."""
    return git_repo(tmp_path / "repo", files or {})


# ----------------------------------------------------------------- merge_file


def test_merge_file_keeps_latin1_and_crlf_bytes_exactly():
    ours = BASE + LATIN1_CRLF
    theirs = BASE.replace(b"Line one.", b"Line one, reworded by the release.")
    merged, conflicted = migration.merge_file(ours, BASE, theirs, LABELS)
    assert not conflicted
    assert merged == theirs + LATIN1_CRLF


def test_merge_file_puts_lines_a_team_appended_after_the_release_version():
    """Only appended at the end, while the release rewrote the last line: no conflict."""
    base = b"# Doc\r\n\r\n- old last question\r\n"
    ours = base + b"Note ajout\xe9e par l'\xe9quipe\r\n"
    theirs = b"# Doc\r\n\r\n- new last question\r\n"
    merged, conflicted = migration.merge_file(ours, base, theirs, LABELS)
    assert (merged, conflicted) == (theirs + b"Note ajout\xe9e par l'\xe9quipe\r\n", False)
    # An edit above the end is a real 3-way merge again.
    edited = base.replace(b"# Doc", b"# Our doc") + b"more\r\n"
    merged, conflicted = migration.merge_file(edited, base, theirs, LABELS)
    assert conflicted and b"more\r\n" in merged and b"# Our doc" in merged


def test_merge_file_conflict_keeps_both_sides_bytes():
    ours = BASE.replace(b"Line two.", b"Line two, ours: \xe9t\xe9\r")
    theirs = BASE.replace(b"Line two.", b"Line two, the release's.")
    merged, conflicted = migration.merge_file(ours, BASE, theirs, LABELS)
    assert conflicted
    assert b"Line two, ours: \xe9t\xe9\r\n" in merged and b"Line two, the release's.\n" in merged
    assert merged.startswith(b"# Title\n") and b"<<<<<<< yours\n" in merged


def test_merge_file_takes_both_sides_when_they_change_different_lines():
    ours = BASE.replace(b"Line one.", b"Line one, the team's.")
    theirs = BASE.replace(b"Line three.", b"Line three, the release's.")
    merged, conflicted = migration.merge_file(ours, BASE, theirs, LABELS)
    assert not conflicted
    assert merged == BASE.replace(b"Line one.", b"Line one, the team's.").replace(
        b"Line three.", b"Line three, the release's.")


def test_merge_file_same_change_on_both_sides_is_no_conflict():
    both = BASE.replace(b"Line two.", b"Line two, agreed.")
    assert migration.merge_file(both, BASE, both, LABELS) == (both, False)


def test_merge_file_refuses_binary_content():
    with pytest.raises(migration.CannotMerge):
        migration.merge_file(b"\x00\x01binary\x00", b"\x00base\x00", b"\x00theirs\x00", LABELS)


# ------------------------------------------------------------------ file walk


def test_tracked_files_skips_ignored_venv_nested_projects_submodules_and_symlinks(tmp_path):
    root = repo(tmp_path, {
        "README.md": b"# ok\n",
        "docs-real/page.md": b"caf\xe9\n",
        "01_Data_Products/customers/.copier-answers.yml": b"scope: product\n",
        "01_Data_Products/customers/spec.md": b"# nested product\n",
        ".gitignore": b"build/\n",
        "link.md": Symlink("README.md"),
    })
    sha = git(root, "rev-parse", "HEAD").strip()
    git(root, "update-index", "--add", "--cacheinfo", f"160000,{sha},vendor/submodule")
    git(root, "commit", "-q", "-m", "submodule")
    (root / "vendor/submodule").mkdir(parents=True)
    build_file_tree(root, {rel: b"Latin-1 \xe9 nobody tracks\n"
                           for rel in (".venv/lib/notes.md", "build/old.md", "untracked.md")})
    assert migration.tracked_files(root) == [".gitignore", "README.md", "docs-real/page.md"]
    # Seen from a product folder, paths are relative to it.
    assert migration.tracked_files(root / "01_Data_Products/customers") == [".copier-answers.yml", "spec.md"]


# -------------------------------------------------------------- rewrite_links


def _project(root, scope="repository"):
    answers = {"scope": scope, "product_slug": "orders"}
    return migration.Project(root=root, answers_file=".copier-answers.yml", old_answers=answers, new_answers=answers)


def test_rewrite_links_changes_only_the_link_bytes(tmp_path):
    doc = (b"# Notes \xe9t\xe9\r\n\r\nSee [the glossary](../09_Docs_Internal/glossary.md#terms) "
           b"\xe0 lire.\r\nUntouched: [other](other.md)\r\n")
    # Not tracked: an ignored folder and a virtualenv, both with Latin-1 Markdown.
    root = repo(tmp_path, {"02_Architecture/notes.md": doc, ".gitignore": b"scratch/\n.venv/\n"})
    build_file_tree(root, {rel: b"[g](../09_Docs_Internal/glossary.md) caf\xe9\n"
                           for rel in ("scratch/old.md", ".venv/lib/site.md")})
    report = migration.Report("test")
    moves = {"09_Docs_Internal/glossary.md": "11_Learning/glossary.md"}
    migration.rewrite_links(_project(root), moves, report)
    assert (root / "02_Architecture/notes.md").read_bytes() == doc.replace(
        b"../09_Docs_Internal/glossary.md#terms", b"../11_Learning/glossary.md#terms")
    assert report.links == ["02_Architecture/notes.md"]
    assert (root / "scratch/old.md").read_bytes() == b"[g](../09_Docs_Internal/glossary.md) caf\xe9\n"


GLOSSARY_MOVE = {"09_Docs_Internal/glossary.md": "11_Learning/glossary.md"}


def test_rewrite_links_leaves_fenced_code_urls_and_anchors_alone(tmp_path):
    doc = (b"# Notes\n\n```markdown\n[in a fence](../09_Docs_Internal/glossary.md)\n```\n\n"
           b"[web](https://example.com/09_Docs_Internal/glossary.md) [abs](/09_Docs_Internal/glossary.md) "
           b"[here](#notes)\n")
    root = repo(tmp_path, {"02_Architecture/notes.md": doc})
    report = migration.Report("test")
    migration.rewrite_links(_project(root), GLOSSARY_MOVE, report)
    assert (root / "02_Architecture/notes.md").read_bytes() == doc
    assert report.links == []


def test_rewrite_links_follows_reference_definitions(tmp_path):
    doc = b"See [the glossary][g].\n\n[g]: ../09_Docs_Internal/glossary.md#terms\n"
    root = repo(tmp_path, {"02_Architecture/notes.md": doc})
    migration.rewrite_links(_project(root), GLOSSARY_MOVE, migration.Report("test"))
    assert (root / "02_Architecture/notes.md").read_bytes() == doc.replace(
        b"../09_Docs_Internal/glossary.md", b"../11_Learning/glossary.md")


def test_rewrite_links_in_a_product_folder_reads_moves_in_the_repository_layout(tmp_path):
    """A product's migration runs from its folder; the moves name repository paths."""
    spec = b"Read [the old notes](old.md) and [the glossary](../../09_Docs_Internal/glossary.md).\n"
    root = repo(tmp_path, {"spec.md": spec})
    moves = {"01_Data_Products/orders/old.md": "01_Data_Products/orders/docs/new.md", **GLOSSARY_MOVE}
    report = migration.Report("test")
    migration.rewrite_links(_project(root, scope="product"), moves, report)
    assert (root / "spec.md").read_bytes() == (
        b"Read [the old notes](docs/new.md) and [the glossary](../../11_Learning/glossary.md).\n")
    assert report.links == ["spec.md"]


def test_rewrite_links_twice_equals_once(tmp_path):
    root = repo(tmp_path, {"README.md": b"[g](09_Docs_Internal/glossary.md)\r\n"})
    migration.rewrite_links(_project(root), GLOSSARY_MOVE, migration.Report("test"))
    once = (root / "README.md").read_bytes()
    again = migration.Report("test")
    migration.rewrite_links(_project(root), GLOSSARY_MOVE, again)
    assert (root / "README.md").read_bytes() == once == b"[g](11_Learning/glossary.md)\r\n"
    assert again.links == []


# -------------------------------------------------------------- rename_answers


ANSWERS = (b"# Changes here will be overwritten by Copier; NEVER EDIT MANUALLY\r\n"
           b"_commit: v1.0.0\r\n_src_path: https://example.com/t.git\r\n"
           b"ci_provider: gitlab\r\nteam_name: \"\xc3\x89quipe Donn\xc3\xa9es\"\r\nwarehouse: duckdb\r\n")


def test_rename_answers_renames_in_place_keeping_every_other_byte(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "answers.yml").write_bytes(ANSWERS)
    report = migration.Report("test")
    migration.rename_answers("answers.yml", {"ci_provider": "ci_platform"}, report)
    assert (tmp_path / "answers.yml").read_bytes() == ANSWERS.replace(b"ci_provider:", b"ci_platform:")
    assert report.answers == ["ci_provider -> ci_platform"]


def test_rename_answers_when_both_names_are_present_keeps_the_new_one(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    both = ANSWERS.replace(b"warehouse:", b"ci_platform: github\r\nwarehouse:")
    (tmp_path / "answers.yml").write_bytes(both)
    migration.rename_answers("answers.yml", {"ci_provider": "ci_platform"}, migration.Report("test"))
    assert (tmp_path / "answers.yml").read_bytes() == both.replace(b"ci_provider: gitlab\r\n", b"")
    assert yaml.safe_load((tmp_path / "answers.yml").read_bytes())["ci_platform"] == "github"


def test_rename_answers_without_the_old_name_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    plain = ANSWERS.replace(b"ci_provider", b"ci_platform")
    (tmp_path / "answers.yml").write_bytes(plain)
    before = (tmp_path / "answers.yml").stat().st_mtime_ns
    migration.rename_answers("answers.yml", {"ci_provider": "ci_platform"}, migration.Report("test"))
    assert (tmp_path / "answers.yml").read_bytes() == plain
    assert (tmp_path / "answers.yml").stat().st_mtime_ns == before


def test_rename_answers_rewrites_a_layout_it_cannot_edit_line_by_line(tmp_path, monkeypatch):
    """A flow-style mapping: the whole file is written again, its comment header kept."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "answers.yml").write_bytes(b"# header kept\n{ci_provider: gitlab, team_name: Data}\n")
    migration.rename_answers("answers.yml", {"ci_provider": "ci_platform"}, migration.Report("test"))
    written = (tmp_path / "answers.yml").read_bytes()
    assert written.startswith(b"# header kept\n")
    assert yaml.safe_load(written) == {"ci_platform": "gitlab", "team_name": "Data"}


# ------------------------------------------------------------ write_bytes, remove


def test_write_bytes_writes_only_a_change_and_says_so(tmp_path):
    path = tmp_path / "a/b.md"
    assert migration.write_bytes(path, b"one\r\n") is True
    before = path.stat().st_mtime_ns
    assert migration.write_bytes(path, b"one\r\n") is False
    assert path.stat().st_mtime_ns == before
    assert not list(tmp_path.rglob("*.dpf-tmp"))


def test_remove_takes_the_folders_it_empties_and_says_so(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    build_file_tree(tmp_path, {"keep/other.md": "x", "keep/deep/er/gone.md": "x"})
    assert migration.remove(tmp_path / "keep/deep/er/gone.md") is True
    assert not (tmp_path / "keep/deep").exists() and (tmp_path / "keep/other.md").is_file()
    assert migration.remove(tmp_path / "keep/deep/er/gone.md") is False


# ------------------------------------------------------------ a real hop (1.0.0)


def test_hop_from_1_0_keeps_latin1_crlf_edits_and_ignores_untracked_markdown(template_repo, tmp_path):
    """Renovate's command line with --trust: the moved file's Latin-1 + CRLF lines arrive
    byte for byte; Latin-1 Markdown in an ignored folder and a .venv neither crashes
    the migration nor changes."""
    src, info = template_repo
    answers = ANSWER_SETS["dagster-sqlmesh-snowflake"]  # 1.1.0 moves dag-structure.md -> job-structure.md
    project = start_project(src, tmp_path / "project", info["releases"][0], answers)
    moved = project / "05_Pipelines/dagster/dag-structure.md"
    moved.write_bytes(moved.read_bytes() + b"\r\n" + LATIN1_CRLF)
    glossary = project / "09_Docs_Internal/glossary.md"
    glossary.write_bytes(glossary.read_bytes() + b"Terme ajout\xe9 par l'\xe9quipe.\n")
    commit_all(project, "Team edits in Latin-1 with CRLF")
    (project / ".git/info/exclude").write_text("scratch/\n.venv/\n")
    untracked = {"scratch/notes.md": b"# Brouillon\n[x](../09_Docs_Internal/glossary.md) \xe9t\xe9\n",
                 ".venv/lib/python3.11/site-packages/pkg/README.md": b"Caf\xe9 [y](missing.md)\n"}
    build_file_tree(project, untracked)

    run = renovate_update(project, info["head"], trust=True)
    assert run.returncode == 0, run.stderr[-2000:]
    assert recorded_commit(project) == info["head"]
    # Byte for byte; inside a conflict when the release also changed the document's last lines.
    assert b"\r\n" + LATIN1_CRLF in (project / "05_Pipelines/dagster/job-structure.md").read_bytes()
    assert b"Terme ajout\xe9 par l'\xe9quipe.\n" in (project / "11_Learning/glossary.md").read_bytes()
    assert not moved.exists() and not glossary.exists()
    for rel, data in untracked.items():
        assert (project / rel).read_bytes() == data, rel
    assert not [f for f in files_of(project) if f.endswith((".rej", ".orig", ".dpf-tmp"))]
