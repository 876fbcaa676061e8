"""`dpf.py update`: Renovate's `copier update` for the root and every product, each in a
temporary git worktree, then one journaled step that brings every result in at once."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from .copier_run import byte_exact_env, copier_command, render_release, report_copier_failure
from .gitrepo import (
    answers_at,
    answers_files,
    blob_sha,
    git_bytes,
    git_dir,
    head_blob,
    head_tree,
    index_entries,
    parents,
    porcelain,
    posix_dirname,
    read_json,
    unmerged,
)
from .markdown import SCHEME
from .settings import (
    ANSWERS_FILE,
    Config,
    DpfError,
    answers_problem,
    full_answers,
    read_answers,
    read_answers_safely,
    restore_hint,
)
from .versions import release_version

_COMMITISH = re.compile(r"^[0-9a-f]{7,40}$|-\d+-g[0-9a-f]{4,40}$")  # a sha, or `git describe` output


def template_location(src: str, root: Path) -> str:
    """What git can reach for Copier's _src_path (Copier's gh:/gl: shortcuts expanded)."""
    for short, url in (("gh:", "https://github.com/"), ("gl:", "https://gitlab.com/")):
        if src.startswith(short):
            return url + src[len(short):]
    if src.startswith("git+"):
        return src[4:]
    if not SCHEME.match(src) and not src.startswith(("/", "~", "git@")) and (root / src).exists():
        return str((root / src).resolve())
    return os.path.expanduser(src)


def template_refs(location: str) -> set[str] | None:
    """Tag and branch names of the template, or None when git cannot list them (offline)."""
    try:
        result = subprocess.run(["git", "ls-remote", "--tags", "--heads", location],
                                capture_output=True, text=True, timeout=120,
                                env={**os.environ, "GIT_TERMINAL_PROMPT": "0"})
    except (OSError, subprocess.TimeoutExpired):
        return None
    if result.returncode != 0:
        return None
    refs = set()
    for line in result.stdout.splitlines():
        ref = line.split("\t", 1)[-1].removesuffix("^{}")
        for prefix in ("refs/tags/", "refs/heads/"):
            if ref.startswith(prefix):
                refs.add(ref[len(prefix):])
    return refs


JOURNAL = "dpf-update.json"  # under .git/: the paths a bring-in is writing; gone when it finished
DONE_MARK = "dpf-update-done.json"  # under .git/: what the last finished `dpf.py update` wrote
WORKTREE_PREFIX = "dpf-update-"


RECOVERY = ("`git add -A && git stash` keeps everything that is there (conflict markers included) in "
            "a stash, and `git stash pop` brings it back; or `git reset --hard && git clean -fd` drops "
            "the half-applied update; then re-run `python tools/dpf.py update`")


def half_applied(root: Path) -> tuple[list[str], list[str]]:
    """(signs of an update that stopped half-way, softer signs worth a warning).

    Outside a git repository there is nothing to compare with: ([], [])."""
    gdir = git_dir(root)
    if gdir is None or subprocess.run(["git", "rev-parse", "--verify", "-q", "HEAD"], cwd=root,
                                      capture_output=True).returncode != 0:
        return [], []
    changes = porcelain(root)
    dirty = bool(changes)
    signs: list[str] = []
    soft: list[str] = []
    journal = read_json(gdir / JOURNAL) if (gdir / JOURNAL).exists() else None
    if (gdir / JOURNAL).exists():
        head = git_bytes(root, "rev-parse", "HEAD").decode().strip()
        base = (journal or {}).get("base", "")
        if base and head != base:
            signs.append(f"`python tools/dpf.py update` was interrupted while it wrote files (.git/{JOURNAL}) "
                         f"and commits were made after it: `git diff {base[:12]} HEAD` shows what they hold; "
                         f"if they hold the half-written update, `git revert --no-edit {base[:12]}..HEAD` undoes "
                         f"them without losing history; then delete .git/{JOURNAL}")
        elif dirty:
            paths = (journal or {}).get("paths", [])
            signs.append(f"`python tools/dpf.py update` was interrupted while it wrote {len(paths)} file(s) "
                         f"(.git/{JOURNAL} lists them)")
    conflicted = unmerged(root)
    if conflicted:
        shown = ", ".join(conflicted[:5]) + (" and more" if len(conflicted) > 5 else "")
        signs.append(f"{len(conflicted)} file(s) are unmerged in git's index ({shown}): an update left "
                     "conflicts; resolve the markers and `git add` each file")
    leftovers = [path for xy, path in changes if path.endswith((".rej", ".orig"))]
    if leftovers:
        signs.append(f"files left by an update or merge that did not apply cleanly, not committed: "
                     f"{', '.join(leftovers[:5])}; apply what they hold by hand, then delete them")
    if dirty and not signs:
        done = read_json(gdir / DONE_MARK) or {}
        for rel in answers_files(root):
            now = read_answers_safely(root / rel)
            before = answers_at(root, "HEAD", rel)
            if not now or not before or now.get("_commit") == before.get("_commit"):
                continue
            if done.get("answers", {}).get(rel) == now.get("_commit"):
                continue  # `dpf.py update` finished this update; it waits for review
            soft.append(f"{rel} records `_commit: {now.get('_commit')}` but HEAD's says "
                        f"`{before.get('_commit')}` and the tree has uncommitted changes: an update that is "
                        "not committed yet, or one that stopped half-way (then: " + RECOVERY + ")")
    return signs, soft


@dataclass
class Target:
    folder: str  # "" for the root, else e.g. 01_Data_Products/customers
    rel: str  # its answers file
    answers: dict
    data: list[tuple[str, str]] = field(default_factory=list)
    worktree: Path | None = None
    old_render: Path | None = None
    changes: dict[str, tuple] = field(default_factory=dict)  # path -> ("file", bytes, exec) | ("link", target) | ("delete",)
    kept: list[str] = field(default_factory=list)
    index: dict[str, list[tuple[str, str, str]]] = field(default_factory=dict)
    conflicts: list[str] = field(default_factory=list)
    new_commit: str | None = None
    output: str = ""


def tree_kinds(base: Path) -> dict[str, str]:
    """path -> "file" | "exec" | "link" below base (folders implied), .git left out."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(base):
        dirnames[:] = [d for d in dirnames if d != ".git" or dirpath != str(base)]
        rel_dir = os.path.relpath(dirpath, base)
        for name in filenames + [d for d in dirnames if os.path.islink(os.path.join(dirpath, d))]:
            full = os.path.join(dirpath, name)
            rel = name if rel_dir == "." else f"{rel_dir}/{name}".replace(os.sep, "/")
            if os.path.islink(full):
                out[rel] = "link"
            else:
                out[rel] = "exec" if os.access(full, os.X_OK) else "file"
        dirnames[:] = [d for d in dirnames if not os.path.islink(os.path.join(dirpath, d))]
    return out


def kind_of_mode(mode: str) -> str:
    return {"120000": "link", "100755": "exec", "160000": "submodule"}.get(mode, "file")


def read_kind(base: Path, rel: str) -> tuple:
    path = base / rel
    if path.is_symlink():
        return ("link", os.readlink(path))
    return ("file", path.read_bytes(), os.access(path, os.X_OK))


def precheck(target: Target, head: dict[str, str], old: dict[str, str], new: dict[str, str],
             old_root: Path, new_root: Path) -> tuple[list[str], list[str]]:
    """(refusals, warnings), one sentence each, for paths where the team's tree and the
    release disagree on what a path is, or where the release adds what the team has."""
    prefix = f"{target.folder}/" if target.folder else ""
    head_dirs = {posix_dirname(p) for p in head}
    head_dirs = {d for p in head_dirs for d in _parents_and_self(p)}
    refusals, warnings = [], []
    go_on = ("to go on, move yours aside (`git mv {p} {p}.ours`), commit, run the update, then move "
             "your version back")
    for rel, kind in sorted(new.items()):
        path = prefix + rel
        ours = head.get(path)
        if ours is None:
            if path in head_dirs:
                refusals.append(f"{path}: your repository has a folder where the release writes a "
                                f"{'symlink' if kind == 'link' else 'file'}; Copier would stop half-way; "
                                + go_on.format(p=path))
                continue
            clash = next((d for d in parents(path) if d in head), None)
            if clash:
                refusals.append(f"{clash}: your repository has a file where the release writes the folder "
                                f"holding {path}; Copier would stop half-way; " + go_on.format(p=clash))
            continue
        ours_kind = kind_of_mode(ours)
        if rel not in old:
            if (ours_kind == "link") != (kind == "link"):
                refusals.append(f"{path}: the release adds a {'symlink' if kind == 'link' else 'file'} "
                                f"where your repository has a {'symlink' if ours_kind == 'link' else 'file'}; "
                                + go_on.format(p=path))
            else:
                warnings.append(f"{path}: the release adds this file and your repository already has "
                                "one; yours is kept and the release's version is merged into it with "
                                "conflict markers where they differ")
            continue
        old_kind = old[rel]
        if (ours_kind == "link") != (old_kind == "link") and not _same(old_root / rel, new_root / rel):
            refusals.append(f"{path}: you replaced the template's {'symlink' if old_kind == 'link' else 'file'} "
                            f"with a {'symlink' if ours_kind == 'link' else 'file'} and the release changes "
                            "it; " + go_on.format(p=path))
    return refusals, warnings


def _parents_and_self(path: str) -> list[str]:
    return parents(path) + [path] if path else []


def _same(a: Path, b: Path) -> bool:
    if a.is_symlink() or b.is_symlink():
        return a.is_symlink() and b.is_symlink() and os.readlink(a) == os.readlink(b)
    try:
        return a.read_bytes() == b.read_bytes()
    except OSError:
        return False


def template_questions(location: str, ref: str, scratch: Path) -> set[str] | None:
    """Names of the questions copier.yml asks at `ref` (None when git cannot read it)."""
    clone = scratch / "template"
    if subprocess.run(["git", "clone", "--quiet", "--no-checkout", location, str(clone)],
                      capture_output=True).returncode != 0:
        return None
    shown = subprocess.run(["git", "show", f"{ref}:copier.yml"], cwd=clone, capture_output=True)
    if shown.returncode != 0:
        shown = subprocess.run(["git", "show", f"{ref}:copier.yaml"], cwd=clone, capture_output=True)
    if shown.returncode != 0:
        return None
    try:  # copier.yml may hold several YAML documents; Copier merges them
        documents = list(yaml.safe_load_all(shown.stdout.decode("utf-8")))
    except (yaml.YAMLError, UnicodeDecodeError):
        return None
    return {str(key) for doc in documents if isinstance(doc, dict) for key, value in doc.items()
            if not str(key).startswith("_") and not is_computed(value)}


def is_computed(question: object) -> bool:
    """A computed value (`when: false`): Copier derives it from the answers, nobody sets it."""
    return isinstance(question, dict) and str(question.get("when", "")).strip().lower() == "false"


def remove_stale_worktrees(root: Path) -> None:
    """Worktrees a killed `dpf.py update` left in the temporary folder, and their records."""
    raw = git_bytes(root, "worktree", "list", "--porcelain", check=False)
    for item in raw.split(b"\n"):
        if item.startswith(b"worktree "):
            path = os.fsdecode(item[len(b"worktree "):])
            if Path(path).name.startswith("tree-") and Path(path).parent.name.startswith(WORKTREE_PREFIX):
                subprocess.run(["git", "worktree", "remove", "--force", path], cwd=root, capture_output=True)
                shutil.rmtree(Path(path).parent, ignore_errors=True)
    subprocess.run(["git", "worktree", "prune"], cwd=root, capture_output=True)


def collect_result(target: Target, wt: Path, head: dict[str, str]) -> None:
    """What Copier changed in the worktree: bytes, symlinks, exec bits, deletions, index."""
    changed = sorted({path for _, path in porcelain(wt)})
    for path in changed:
        full = wt / path
        if full.is_symlink() or full.is_file():
            target.changes[path] = read_kind(wt, path)
        elif not full.exists():
            target.changes[path] = ("delete",)
    target.conflicts = unmerged(wt)
    if changed:
        target.index = index_entries(wt, *changed)


def rollback_interrupted(root: Path, gdir: Path) -> bool:
    """Undo a bring-in killed half-way when every path it lists is either as in HEAD or as the
    update meant to write it (nothing of the team's is touched). True when rolled back."""
    journal = read_json(gdir / JOURNAL)
    if not journal or journal.get("base") != git_bytes(root, "rev-parse", "HEAD").decode().strip():
        return False
    listed = journal.get("new", {})
    dirty = {path for _, path in porcelain(root)}
    temporary = {path for path in dirty if path.endswith(".dpf-tmp") and path[:-len(".dpf-tmp")] in listed}
    dirty -= temporary
    if not dirty <= set(listed):
        return False
    head = head_tree(root)
    for path in dirty:
        full = root / path
        now = None
        if full.is_symlink():
            now = blob_sha(os.fsencode(os.readlink(full)))
        elif full.is_file():
            now = blob_sha(full.read_bytes())
        wanted = listed[path]
        at_head = head_blob(root, path) if path in head else None
        if now is not None and now != wanted and (at_head is None or now != blob_sha(at_head)):
            return False  # changed since the kill: someone's work, leave it
    for path in temporary:  # a write the kill cut short, never renamed into place
        (root / path).unlink()
        _remove_empty_parents(root, path)
    tracked = [p for p in dirty if p in head]
    if tracked:
        git_bytes(root, "checkout", "HEAD", "--", *tracked)
    for path in dirty - set(tracked):
        full = root / path
        subprocess.run(["git", "rm", "-q", "--cached", "--ignore-unmatch", "--", path], cwd=root,
                       capture_output=True)
        if full.is_symlink() or full.is_file():
            full.unlink()
        _remove_empty_parents(root, path)
    (gdir / JOURNAL).unlink()
    print(f"dpf: rolled back {len(dirty)} file(s) an interrupted `dpf.py update` had written; "
          "the repository is as HEAD has it", file=sys.stderr)
    return True


def _remove_empty_parents(root: Path, path: str) -> None:
    for parent in reversed(parents(path)):
        try:
            (root / parent).rmdir()
        except OSError:
            break


def _write_atomically(root: Path, path: str, change: tuple) -> None:
    full = root / path
    if full.is_dir() and not full.is_symlink():
        raise DpfError(f"{path} is a folder in your repository; the update writes a file there")
    full.parent.mkdir(parents=True, exist_ok=True)
    tmp = full.with_name(full.name + ".dpf-tmp")
    if tmp.is_symlink() or tmp.exists():
        tmp.unlink()
    if change[0] == "link":
        os.symlink(change[1], tmp)
    else:
        with open(tmp, "wb") as fh:
            fh.write(change[1])
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o755 if change[2] else 0o644)
    os.replace(tmp, full)


def bring_in(root: Path, gdir: Path, base: str, targets: list[Target]) -> None:
    """Write every result into the working tree in one step, guarded by the journal."""
    changes: dict[str, tuple] = {}
    index_lines: list[bytes] = []
    zero = "0" * 40
    for target in targets:
        changes.update(target.changes)
        for path in target.changes:
            entries = target.index.get(path, [])
            index_lines.append(f"0 {zero}\t".encode() + os.fsencode(path))
            for mode, sha, stage in entries:
                index_lines.append(f"{mode} {sha} {stage}\t".encode() + os.fsencode(path))
    for path, change in changes.items():  # a folder in the way is refused before any write
        full = root / path
        if change[0] != "delete" and full.is_dir() and not full.is_symlink():
            raise DpfError(f"{path} is a folder in your repository and the update writes a file there")
    new = {}
    for path, change in changes.items():
        if change[0] == "file":
            new[path] = blob_sha(change[1])
        elif change[0] == "link":
            new[path] = blob_sha(os.fsencode(change[1]))
        else:
            new[path] = None
    journal = gdir / JOURNAL
    # Ctrl-C and SIGTERM wait until the bring-in is done; only SIGKILL can stop it half-way,
    # and the journal tells the next run (and `health`) exactly which paths were being written.
    held = {sig: signal.signal(sig, signal.SIG_IGN) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        _bring_in(root, gdir, base, targets, changes, index_lines, journal, new)
    finally:
        for sig, handler in held.items():
            signal.signal(sig, handler)


def _bring_in(root: Path, gdir: Path, base: str, targets: list[Target], changes: dict, index_lines: list[bytes],
              journal: Path, new: dict) -> None:
    with open(journal, "w", encoding="utf-8") as fh:
        json.dump({"base": base, "paths": sorted(changes), "new": new,
                   "started": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")}, fh, indent=1)
        fh.flush()
        os.fsync(fh.fileno())
    for path in sorted(changes):
        change = changes[path]
        if change[0] == "delete":
            full = root / path
            if full.is_symlink() or full.is_file():
                full.unlink()
            _remove_empty_parents(root, path)
        else:
            _write_atomically(root, path, change)
    # The index as Copier left it in the worktree: unmerged stages of conflicted files included.
    git_bytes(root, "update-index", "-z", "--index-info", input=b"\0".join(index_lines) + b"\0")
    subprocess.run(["git", "update-index", "-q", "--refresh"], cwd=root, capture_output=True)
    done = {"answers": {t.rel: t.new_commit for t in targets if t.new_commit},
            "conflicts": sorted(p for t in targets for p in t.conflicts)}
    (gdir / DONE_MARK).write_text(json.dumps(done, indent=1), encoding="utf-8")
    journal.unlink()


def parse_data(items: list[str]) -> list[tuple[str, str]]:
    pairs = []
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise DpfError(f"--data {item!r}: write it as KEY=VALUE, e.g. --data orchestrator=dagster; "
                           "nothing was changed")
        pairs.append((key.strip(), value))
    return pairs


def describe(target: Target) -> str:
    kinds = {"added": 0, "changed": 0, "deleted": 0}
    for path, change in target.changes.items():
        if change[0] == "delete":
            kinds["deleted"] += 1
        elif target.index.get(path) or path in target.conflicts:
            kinds["changed"] += 1
        else:
            kinds["added"] += 1
    counts = ", ".join(f"{n} {k}" for k, n in kinds.items() if n) or "no file changed"
    conflict = (f"; {len(target.conflicts)} conflict(s): {', '.join(target.conflicts)}"
                if target.conflicts else "")
    version = f"{target.answers.get('_commit')} -> {target.new_commit}"
    return f"{target.rel}: {version}: {counts}{conflict}"


def cmd_update(root: Path, config: Config, to: str | None, product: str | None, trust: bool,
               data_items: list[str] | None = None) -> int:
    nothing = "nothing was changed"
    data = parse_data(data_items or [])
    gdir = git_dir(root)
    top = subprocess.run(["git", "rev-parse", "--show-toplevel"], cwd=root, capture_output=True)
    if gdir is None or top.returncode != 0:
        raise DpfError(f"{root} is not a git repository; Copier updates only committed work, so "
                       f"commit the repository first; {nothing}")
    if Path(os.fsdecode(top.stdout.strip())).resolve() != root.resolve():
        raise DpfError(f"run it from the repository's root ({os.fsdecode(top.stdout.strip())}); {nothing}")
    # Which answers files: the root's and every product's, sorted by path (Renovate's order).
    if product is not None:
        folder = f"{config.products_dir}/{product}"
        if not (root / folder).is_dir():
            raise DpfError(f"no product folder {folder}")
        rels = [f"{folder}/{ANSWERS_FILE}"]
    else:
        rels = sorted(set(answers_files(root)) | {ANSWERS_FILE})
    for rel in rels:
        path = root / rel
        if not path.is_file():
            raise DpfError(f"{rel} is missing, so Copier cannot tell which template and release rendered "
                           f"this folder; {nothing}. To fix it, {restore_hint(rel)}")
        problem = answers_problem(path)
        if problem:
            raise DpfError(f"{rel} {problem}; {nothing}. To fix it, {restore_hint(rel)}")
    remove_stale_worktrees(root)
    if (gdir / JOURNAL).exists():
        base = (read_json(gdir / JOURNAL) or {}).get("base")
        at_base = base == git_bytes(root, "rev-parse", "HEAD").decode().strip()
        if at_base and not porcelain(root):
            (gdir / JOURNAL).unlink()  # killed before it wrote anything, or already recovered
        elif not at_base:
            signs, _ = half_applied(root)
            raise DpfError(f"{'; '.join(signs)}; this run wrote nothing")
        elif not rollback_interrupted(root, gdir):
            signs, _ = half_applied(root)
            raise DpfError(f"{'; '.join(signs)}; this run wrote nothing. To recover: {RECOVERY}")
    signs, soft = half_applied(root)
    if signs or soft:
        raise DpfError(f"the repository holds a half-applied update ({'; '.join(signs + soft)}); "
                       f"this run wrote nothing. To recover: {RECOVERY}")
    status_before = porcelain(root)
    if status_before:
        listed = ", ".join(p for _, p in status_before[:5]) + (" and more" if len(status_before) > 5 else "")
        raise DpfError(f"the repository has uncommitted changes ({listed}); commit or stash them "
                       f"first, so the update can be reviewed as one diff; {nothing}")
    targets = [Target(posix_dirname(rel), rel, full_answers(root / rel)) for rel in rels]
    root_answers = targets[0].answers if rels[0] == ANSWERS_FILE else read_answers(root / ANSWERS_FILE)
    src = str(root_answers.get("_src_path") or targets[0].answers["_src_path"])
    location = template_location(src, root)
    refs = template_refs(location)
    latest = None
    if refs is None:
        print(f"note: cannot list the releases of {location}; Copier will check the versions itself",
              file=sys.stderr)
    else:
        releases = sorted((r for r in refs if release_version(r)), key=release_version)
        latest = releases[-1] if releases else None
        known = f"its releases: {', '.join(releases[-5:]) or 'none'}"
        for target in targets:
            current = str(target.answers["_commit"])
            if not _COMMITISH.search(current) and current not in refs:
                raise DpfError(
                    f"{target.rel} records `_commit: {current}`, but the template {src} has no such release "
                    f"({known}); {nothing}. Set `_commit` back to the release that last rendered this folder: "
                    f"`git log -p -- {target.rel}` shows every value it had")
            if to is not None and release_version(to) and release_version(current) \
                    and release_version(to) < release_version(current):
                raise DpfError(f"`{to}` is older than `{current}`, the release {target.rel} is on; "
                               f"Copier cannot go back to an older release; {nothing}")
        if to is not None and not _COMMITISH.search(to) and to not in refs:
            raise DpfError(f"the template {src} has no release `{to}` ({known}); {nothing}")
    scratch = Path(tempfile.mkdtemp(prefix=WORKTREE_PREFIX))
    signal.signal(signal.SIGTERM, _interrupt)  # clean up the worktrees on `kill` too
    try:
        if data:
            targets = plan_answer_change(targets, data, product, location, to, scratch, config.shared_answers)
        return run_update(root, gdir, targets, location, to or latest, to, trust, bool(data), scratch)
    except KeyboardInterrupt:
        print(f"\ndpf: interrupted before anything was written; {unchanged(root)}", file=sys.stderr)
        return 130
    finally:
        for target in targets:
            if target.worktree is not None:
                subprocess.run(["git", "worktree", "remove", "--force", str(target.worktree)], cwd=root,
                               capture_output=True)
        shutil.rmtree(scratch, ignore_errors=True)
        subprocess.run(["git", "worktree", "prune"], cwd=root, capture_output=True)


def unchanged(root: Path) -> str:
    """"nothing was changed", when `git status` proves it (the update starts on a clean tree)."""
    return "nothing was changed" if not porcelain(root) else "the repository has changes: see `git status`"


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def plan_answer_change(targets: list[Target], data: list[tuple[str, str]], product: str | None,
                       location: str, to: str | None, scratch: Path, shared: list[str]) -> list[Target]:
    """Which answers files take the new answers: a shared one goes to the root and every product
    that records it; any other to the root (or the --product given)."""
    ref = to or str(targets[0].answers["_commit"])
    behind = [t.rel for t in targets if to is not None and str(t.answers["_commit"]) != to]
    if behind:
        # A release may move or delete files of its own (a migration); mixed with an answer change,
        # "a file the new answer drops" could not be told apart from "a file the release moved".
        raise DpfError(f"{', '.join(behind)} {'is' if len(behind) == 1 else 'are'} not on {to}: update first "
                       f"(`python tools/dpf.py update --to {to}`), commit, then change the answer; "
                       "nothing was changed")
    questions = template_questions(location, ref, scratch)
    for key, _ in data:
        if questions is not None and key not in questions:
            known = ", ".join(sorted(q for q in questions if q != "scope"))
            raise DpfError(f"`{key}` is not a question of the template at {ref}; its questions: {known}; "
                           "nothing was changed")
        if key in ("scope", "product_slug") or key.startswith("_"):
            raise DpfError(f"`{key}` cannot be changed by an update (it decides where the files live); "
                           "nothing was changed")
    chosen = []
    for target in targets:
        if product is None and target.folder:
            mine = [(k, v) for k, v in data if k in shared and k in target.answers]
        else:
            mine = [(k, v) for k, v in data if k in target.answers or not target.folder]
        if mine:
            target.data = mine
            chosen.append(target)
    if not chosen:
        raise DpfError("no answers file records " + ", ".join(k for k, _ in data) + "; nothing was changed")
    skipped = [k for k, _ in data if k not in shared and product is None]
    if skipped and len(targets) > 1:
        print(f"note: {', '.join(skipped)} applied to the root's answers only (each product has its own; "
              "use --product SLUG for a product)", file=sys.stderr)
    return chosen


def run_update(root: Path, gdir: Path, targets: list[Target], location: str, target_ref: str | None,
               to: str | None, trust: bool, changing: bool, scratch: Path) -> int:
    head = head_tree(root)
    base = git_bytes(root, "rev-parse", "HEAD").decode().strip()
    # 1. Pre-checks against renders of the old and the new release, before Copier runs.
    refusals: list[str] = []
    for n, target in enumerate(targets):
        current = str(target.answers["_commit"])
        new_ref = to or (current if changing else target_ref)
        if not changing and new_ref == current:
            continue  # nothing to add or move: Copier keeps this release
        print(f"checking {target.rel}: rendering {current} and {new_ref or 'the latest release'} to compare "
              "with your files ...", flush=True)
        old_dir = render_release(location, current, target.answers, scratch / f"old-{n}")
        new_dir = render_release(location, new_ref, {**target.answers, **dict(target.data)},
                                 scratch / f"new-{n}")
        target.old_render = old_dir
        refused, warned = precheck(target, head, tree_kinds(old_dir), tree_kinds(new_dir), old_dir, new_dir)
        refusals += refused
        for sentence in warned:
            print(f"warning: {sentence}")
    if refusals:
        for sentence in refusals:
            print(f"dpf: refused: {sentence}", file=sys.stderr)
        print(f"dpf: error: {len(refusals)} path(s) would make Copier stop half-way or overwrite your "
              f"files; {unchanged(root)}", file=sys.stderr)
        return 2
    # 2. Copier, Renovate's command line, each answers file in its own worktree of HEAD.
    for n, target in enumerate(targets):
        wt = scratch / f"tree-{n}"
        git_bytes(root, "worktree", "add", "--detach", "--quiet", str(wt), base)
        target.worktree = wt
        cmd = [*copier_command(), "update"]
        if not changing:
            cmd.append("--skip-answered")
        cmd += ["--defaults"]
        for key, value in target.data:
            cmd += ["--data", f"{key}={value}"]
        cmd += ["--answers-file", ANSWERS_FILE]
        ref = to or (str(target.answers["_commit"]) if changing else None)
        if ref:
            cmd += ["--vcs-ref", ref]
        if trust:
            cmd.append("--trust")
        where = f"   # in {target.folder}/" if target.folder else ""
        print("$ " + shlex.join(cmd) + where, flush=True)
        result = subprocess.run(cmd, cwd=wt / target.folder, capture_output=True, text=True,
                                env=byte_exact_env(scratch))
        sys.stdout.write(result.stdout)
        if result.returncode != 0:
            nothing = "nothing was changed" if not porcelain(root) else \
                "the repository was changed (see `git status`)"
            report_copier_failure(target.rel, target.answers.get("_commit"), result, trust, nothing)
            return result.returncode or 1
        target.output = result.stderr
        new_answers = read_answers_safely(wt / target.rel) or {}
        target.new_commit = new_answers.get("_commit")
        collect_result(target, wt, head)
    # 3. Each result stays in its own folder: the root's never reaches a product with its own
    # answers file, a product's never leaves its folder.
    product_folders = [posix_dirname(rel) for rel in answers_files(root) if rel != ANSWERS_FILE]
    crossing = []
    for target in targets:
        for path in target.changes:
            inside = path.startswith(target.folder + "/") if target.folder else True
            foreign = next((f for f in product_folders if f != target.folder and path.startswith(f + "/")
                            and (not target.folder or f.startswith(target.folder + "/"))), None)
            if not inside or (not target.folder and foreign):
                crossing.append(f"{target.rel}'s update changes {path}")
    if crossing:
        shown = "; ".join(crossing[:5]) + (f" and {len(crossing) - 5} more" if len(crossing) > 5 else "")
        print(f"dpf: error: each answers file's update must stay in its own folder, but {shown}; "
              f"{unchanged(root)}. Update them one at a time with --product SLUG (and the root without "
              "products), reviewing each", file=sys.stderr)
        return 2
    # 4. A changed answer never deletes what the team wrote: keep edited or own files.
    kept_all: list[str] = []
    if changing:
        for target in targets:
            keep_team_files(root, target, head)
            kept_all += target.kept
    # 5. One step into the working tree.
    if any(t.changes for t in targets):
        bring_in(root, gdir, base, targets)
    print()
    for target in targets:
        print(describe(target))
        for line in target.output.splitlines():
            if "conflict" in line.lower():
                print(f"  copier: {line.strip()}")
    if kept_all:
        print("\nKept (the new answers no longer render them, but your team edited or created them):")
        for path in kept_all:
            print(f"  {path}")
    if not porcelain(root):
        print("\nAlready up to date: nothing was changed.")
        return 0
    conflicts = [p for t in targets for p in t.conflicts]
    print("\nNext steps:")
    step = 1
    print(f"  {step}. Review the update: `git status` and `git diff`.")
    if conflicts:
        step += 1
        print(f"  {step}. Resolve the conflict markers in {', '.join(conflicts)}, then `git add` each file.")
    step += 1
    print(f"  {step}. python tools/dpf.py health")
    step += 1
    if changing:
        summary = ", ".join(f"{k}={v}" for k, v in dict(p for t in targets for p in t.data).items())
        message = f"Change template answers: {summary}"
        if kept_all:
            message += "\n\nKept files the new answers no longer render (edited or created by the team):\n" + \
                "\n".join(f"- {p}" for p in kept_all)
        print(f"  {step}. git add -A && git commit -F- <<'EOF'\n{message}\nEOF")
    else:
        print(f"  {step}. git add -A && git commit -m {shlex.quote('Update the template to ' + str(targets[0].new_commit))}")
    return 0


def keep_team_files(root: Path, target: Target, head: dict[str, str]) -> None:
    """Deletions Copier made for the new answers, undone where the file is not the old release's
    own render: the team edited it (HEAD's bytes differ) or created it."""
    prefix = f"{target.folder}/" if target.folder else ""
    old = target.old_render
    emptied = set()
    for path, change in sorted(target.changes.items()):
        if change[0] != "delete" or path not in head:
            continue
        rel = path[len(prefix):]
        emptied.add(posix_dirname(path))
        rendered = old / rel if old is not None else None
        ours = head_blob(root, path)
        if rendered is not None and (rendered.is_file() or rendered.is_symlink()):
            theirs = os.fsencode(os.readlink(rendered)) if rendered.is_symlink() else rendered.read_bytes()
            if theirs == ours and (kind_of_mode(head[path]) == "link") == rendered.is_symlink():
                continue  # the old release's own file, untouched: let it go
        del target.changes[path]
        target.index.pop(path, None)
        target.kept.append(path)
    # The team's own files in folders the new answers no longer render stay anyway; list them too.
    for path in sorted(head):
        if posix_dirname(path) in emptied and path not in target.changes and path not in target.kept:
            rendered = old / path[len(prefix):] if old is not None else None
            if rendered is None or not (rendered.exists() or rendered.is_symlink()):
                target.kept.append(path)


