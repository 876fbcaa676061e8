"""The real Renovate 44 client (offline harness: Node 24, Renovate from npm, a
fake Gitea API on 127.0.0.1) bumping a repository with a root and two products.

Opt-in (`-m renovate`): the first run installs Node and Renovate (~630 MB,
cached in ~/.cache/renovate-offline); each Renovate job takes a minute or two.
Set DPF_RENOVATE_HARNESS to the harness's run.sh if it is not found below.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from testkit.helpers import ROOT, files_of, git, render
from testkit.ladder import EARLIER, FIXED, commit_all, conflict_markers, recorded_commit, start_project
from testkit.products import add_product_with_copier, conflicting_edit, edit, marked_files, resolve_keeping_both

pytestmark = pytest.mark.renovate

PRODUCTS = {"customers": "Customers", "demand-forecasts": "Demand Forecasts"}


def _harness() -> Path | None:
    candidates = [os.environ.get("DPF_RENOVATE_HARNESS", "")]
    candidates += [str(p / "shared/tools/renovate/run.sh") for p in ROOT.parents]
    return next((Path(c) for c in candidates if c and Path(c).is_file()), None)


@pytest.fixture(scope="module")
def harness(tmp_path_factory) -> Path:
    run_sh = _harness()
    if run_sh is None:
        pytest.skip("Renovate harness (tools/renovate/run.sh) not found; set DPF_RENOVATE_HARNESS")
    if shutil.which("npm") is None and not (Path.home() / ".cache/renovate-offline/rv").is_dir():
        pytest.skip("neither npm nor a cached Renovate install: cannot install Node 24 / Renovate 44")
    log = tmp_path_factory.mktemp("renovate-install") / "install.log"
    done = subprocess.run([str(run_sh.parent / "install.sh")], capture_output=True, text=True)
    log.write_text(done.stdout + done.stderr)
    if done.returncode != 0:
        pytest.skip(f"could not install Node 24 / Renovate 44 from npm (see {log})")
    return run_sh


@dataclass
class RenovateRun:
    out: Path
    state: dict

    @property
    def bare(self) -> Path:
        return self.out / "project.git"

    def branches(self) -> list[str]:
        refs = git(self.bare, "for-each-ref", "--format=%(refname:short)", "refs/heads/renovate")
        return sorted(refs.split())

    def checkout(self, branch: str) -> Path:
        dst = self.out / "checkouts" / branch.replace("/", "_")
        if not dst.exists():
            git(self.out, "clone", "-q", "-b", branch, str(self.bare), str(dst))
        return dst

    def answers_versions(self, branch: str) -> dict[str, str]:
        tree = self.checkout(branch)
        return {a.relative_to(tree).parent.as_posix(): recorded_commit(a.parent)
                for a in sorted(tree.rglob(".copier-answers.yml"))}

    def changed_files(self, branch: str) -> list[str]:
        return git(self.bare, "diff", "--name-only", "main", branch).split()

    def status(self, branch: str) -> set[str]:
        """States of the 'artifacts' commit statuses Renovate set on the branch's head."""
        sha = git(self.bare, "rev-parse", branch).strip()
        return {s["state"] for s in self.state.get("statuses", [])
                if s.get("sha") == sha and "artifact" in s.get("context", "")}

    def pr_titles(self) -> dict[str, str]:
        return {p["head_branch"]: p["title"] for p in self.state.get("pulls", [])}


def run_renovate(harness: Path, project: Path, out: Path, trust: bool) -> RenovateRun:
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    args = [str(harness), str(project), str(out)] + (["--trust"] if trust else [])
    done = subprocess.run(args, capture_output=True, text=True, env=env, timeout=1800)
    assert done.returncode == 0, done.stdout + done.stderr
    state = json.loads((out / "state.json").read_text()) if (out / "state.json").exists() else {}
    return RenovateRun(out, state)


def repo_with_two_products(src: str, dst: Path, tag: str) -> Path:
    project = start_project(src, dst, tag, {})
    for slug, name in PRODUCTS.items():
        add_product_with_copier(project, tag, src, name, slug)
    commit_all(project, "Two more products")
    return project


def team_edits(project: Path) -> list[str]:
    lines = [edit(project / "02_Architecture/system-overview.md", "Root: we run on two regions since May.")]
    for slug in PRODUCTS:
        lines.append(edit(project / f"01_Data_Products/{slug}/spec.md", f"{slug}: finance signs off the logic."))
    commit_all(project, "Team edits in the root and every product")
    return lines


def lines_lost(tree: Path, lines: list[str]) -> list[str]:
    text = "\n".join((tree / rel).read_text(errors="replace") for rel in files_of(tree))
    return [line for line in lines if line not in text]


def going_away(src: str, tmp: Path, old: str, new: str) -> set[str]:
    """Files the root's and the products' renders at `old` have and at `new` no longer have."""
    gone = set()
    scopes = {"": {}} | {f"01_Data_Products/{s}/": {"scope": "product", "product_name": n, "product_slug": s}
                         for s, n in PRODUCTS.items()}
    for prefix, answers in scopes.items():
        key = prefix.strip("/").replace("/", "_") or "root"
        before = files_of(render(src, tmp / f"{key}-old", {**FIXED, **answers}, vcs_ref=old))
        after = files_of(render(src, tmp / f"{key}-new", {**FIXED, **answers}, vcs_ref=new))
        gone |= {prefix + rel for rel in before - after}
    return gone


def product_files_changed(run: RenovateRun, branch: str) -> list[str]:
    return [f for f in run.changed_files(branch)
            if any(f.startswith(f"01_Data_Products/{slug}/") for slug in PRODUCTS)]


def test_single_branch_bump_across_the_migration_updates_every_product(harness, template_repo, tmp_path):
    """From 1.0.0 (old config, one branch) with --trust and a conflict at the root: every
    answers file on the newest release, the files the 1.1.0 migration moved stay moved, the
    markers at the root only, no team line lost."""
    src, info = template_repo
    url, oldest = f"git+file://{src}", EARLIER[0]
    project = repo_with_two_products(url, tmp_path / "repo", oldest)
    written = team_edits(project)
    written.append(conflicting_edit(src, project, oldest, info["head"]))
    commit_all(project, "Team rewrites a README line the release also changes")
    gone = going_away(url, tmp_path / "probe", oldest, info["head"])
    assert gone, "the migration release removes nothing: this test would prove nothing"

    run = run_renovate(harness, project, tmp_path / "run", trust=True)

    [branch] = run.branches()
    tree = run.checkout(branch)
    assert set(run.answers_versions(branch).values()) == {info["head"]}
    assert sorted(gone & files_of(tree)) == []
    assert lines_lost(tree, written) == []
    # docs/ (the docs site's links, since 1.2.0) reaches Renovate's commit as a plain copy of
    # README.md, without the folder links: Renovate 44 commits no symlinks.
    assert marked_files(tree) - {"docs/README.md"} == {"README.md"}
    assert "failure" in run.status(branch)  # the root's conflict, reported as Renovate does


def test_single_branch_root_conflict_leaves_products_for_their_own_branches(harness, template_repo, tmp_path):
    """The one transition bump from 1.1.0..1.3.1 (old config): a root conflict makes the products'
    updates fail without writing; once the root PR is merged, the next run (new config) gives
    each product its own clean branch."""
    src, info = template_repo
    url, start = f"git+file://{src}", "v1.2.0"
    project = repo_with_two_products(url, tmp_path / "repo", start)
    written = team_edits(project)
    written.append(conflicting_edit(src, project, start, info["head"]))
    commit_all(project, "Team rewrites a README line the release also changes")
    products_before = {rel: (project / rel).read_bytes() for rel in files_of(project)
                       if rel.startswith(tuple(f"01_Data_Products/{s}/" for s in PRODUCTS))}

    first = run_renovate(harness, project, tmp_path / "run1", trust=False)
    [branch] = first.branches()
    tree = first.checkout(branch)
    versions = first.answers_versions(branch)
    assert versions == {".": info["head"], **{f"01_Data_Products/{s}": start for s in PRODUCTS}}
    assert marked_files(tree) == {"README.md"}
    assert "failure" in first.status(branch)
    # Nothing written for the products but Renovate's own "#copier updated" line, which it
    # appends to an answers file to trigger the update (Copier rewrites the file when it works).
    for slug in PRODUCTS:
        answers = f"01_Data_Products/{slug}/.copier-answers.yml"
        assert (tree / answers).read_bytes() == products_before.pop(answers) + b"\n#copier updated"
    product_folders = tuple(f"01_Data_Products/{s}/" for s in PRODUCTS)
    in_products = {rel: (tree / rel).read_bytes() for rel in files_of(tree)
                   if rel.startswith(product_folders) and not rel.endswith(".copier-answers.yml")}
    assert in_products == products_before  # no file changed, added or brought back
    assert lines_lost(tree, written) == []

    # The team merges the root PR, resolving the markers by keeping both sides.
    git(project, "pull", "-q", "--no-rebase", str(first.bare), branch)
    resolve_keeping_both(project)
    commit_all(project, "Merge the template update; keep both README lines")
    assert "additionalBranchPrefix" in (project / "renovate.json5").read_text()

    # Merged as they are, Renovate's "#copier updated" lines stop it from retrying the products
    # (it finds nothing to change); the generated pre-commit hook, which CI runs, names them.
    stuck = run_renovate(harness, project, tmp_path / "run2-stuck", trust=False)
    assert stuck.branches() == []
    flagged = leftover_update_lines(project)
    assert flagged == sorted(f"01_Data_Products/{s}/.copier-answers.yml" for s in PRODUCTS)
    for rel in flagged:
        path = project / rel
        path.write_bytes(path.read_bytes().removesuffix(b"\n#copier updated"))
    commit_all(project, "Drop the lines the pre-commit hook named")

    second = run_renovate(harness, project, tmp_path / "run2", trust=False)
    branches = second.branches()
    assert len(branches) == len(PRODUCTS), branches
    for slug in PRODUCTS:
        [mine] = [b for b in branches if f"/{slug}/" in b]
        assert second.answers_versions(mine)[f"01_Data_Products/{slug}"] == info["head"]
        assert all(f.startswith(f"01_Data_Products/{slug}/") for f in second.changed_files(mine))
        assert conflict_markers(second.checkout(mine)) == []
        assert "failure" not in second.status(mine)
        assert lines_lost(second.checkout(mine), written) == []


def leftover_update_lines(project: Path) -> list[str]:
    """Files the generated pre-commit hook `copier-update-not-applied` fails on."""
    config = yaml.safe_load((project / ".pre-commit-config.yaml").read_text())
    [hook] = [h for r in config["repos"] for h in r["hooks"] if h["id"] == "copier-update-not-applied"]
    return sorted(rel for rel in files_of(project) if re.search(hook["files"], rel)
                  and re.search(hook["entry"], (project / rel).read_text(), re.MULTILINE))


def later_release(template_repo, dst: Path) -> tuple[str, str, str]:
    """A clone of the template repository with one more release above HEAD that rewrites a
    root README line and adds a line to every product's spec. Returns (url, head, later)."""
    src, info = template_repo
    git(dst.parent, "clone", "-q", str(src), str(dst))
    readme = dst / "template/README.md.jinja"
    lines = readme.read_text().split("\n")
    at = next(i for i, line in enumerate(lines) if line.startswith("- **Let Renovate do the watching.**"))
    lines[at] = "- **Let Renovate do the watching** (rewritten by the later release)."
    readme.write_text("\n".join(lines))
    spec = dst / "template/01_Data_Products/{{ product_slug }}/spec.md.jinja"
    lines = spec.read_text().split("\n")
    title = next(i for i, line in enumerate(lines) if line.startswith("# "))
    lines[title + 1:title + 1] = ["", "Added by the later release."]
    spec.write_text("\n".join(lines))
    git(dst, "commit", "-q", "-am", "A later release")
    major, minor, micro = map(int, info["head"][1:].split("."))
    later = f"v{major}.{minor}.{micro + 1}"
    git(dst, "tag", "-a", later, "-m", later)
    return f"git+file://{dst}", info["head"], later


def test_one_branch_per_answers_file_on_the_new_config(harness, template_repo, tmp_path):
    """A repository on the newest release (new config) bumped to a later one with a root
    conflict: three branches; the root's holds the markers, each product's is clean."""
    url, head, later = later_release(template_repo, tmp_path / "template")
    project = repo_with_two_products(url, tmp_path / "repo", head)
    written = team_edits(project)
    readme = project / "README.md"
    line = next(l for l in readme.read_text().split("\n") if l.startswith("- **Let Renovate do the watching.**"))
    readme.write_text(readme.read_text().replace(line, "- **Let Renovate do the watching**, says the team."))
    written.append("- **Let Renovate do the watching**, says the team.")
    commit_all(project, "Team rewrites the Renovate line")

    run = run_renovate(harness, project, tmp_path / "run", trust=False)

    branches = run.branches()
    assert len(branches) == 1 + len(PRODUCTS), branches
    [root] = [b for b in branches if "01_Data_Products" not in b]
    assert run.answers_versions(root) == {".": later, **{f"01_Data_Products/{s}": head for s in PRODUCTS}}
    assert marked_files(run.checkout(root)) == {"README.md"}
    assert "failure" in run.status(root)
    assert product_files_changed(run, root) == []
    for slug in PRODUCTS:
        [mine] = [b for b in branches if f"/{slug}/" in b]
        versions = run.answers_versions(mine)
        assert versions["."] == head and versions[f"01_Data_Products/{slug}"] == later
        assert sorted(run.changed_files(mine)) == [f"01_Data_Products/{slug}/.copier-answers.yml",
                                                   f"01_Data_Products/{slug}/spec.md"]
        assert "Added by the later release." in (run.checkout(mine) / f"01_Data_Products/{slug}/spec.md").read_text()
        assert conflict_markers(run.checkout(mine)) == []
        assert "failure" not in run.status(mine)
    titles = run.pr_titles()
    assert len(set(titles.values())) == len(titles) == 1 + len(PRODUCTS), titles
    for tree in map(run.checkout, branches):
        assert lines_lost(tree, written) == []
