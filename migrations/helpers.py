"""Shared machinery for this template's migrations.

Copier alone loses a user's work when a release moves or removes a file: it
deletes every file of the old render that the new render lacks, edited or not.
Each release that changes structure ships one script (vX_Y_Z.py) that declares
what moved; this module does the rest, after Copier has written the new files:

- moved file: a real 3-way merge with `git merge-file`
    ours   = the user's file before the update   (git show HEAD:<old path>)
    base   = the old release, rendered with the project's recorded answers
    theirs = the new release's file, rendered the same way
  Clean merges stay clean; overlaps get standard conflict markers.
- file the release removed but the user edited: restored where it was.
- relative Markdown links to moved paths, in every document: rewritten.
- renamed questions: renamed in the answers file (before stage).

Every result is computed from HEAD and the two renders only, never from what a
previous run wrote, so running a migration twice, or again after a crash,
gives the same tree as one clean run.

Bytes are the team's: files are read and written as bytes (`git merge-file`
merges bytes, so CRLF line ends and Latin-1 letters come out as they went in);
Markdown is decoded with surrogateescape only to find links, and encoded back
the same way. Only files git tracks in this project are walked (not ignored
files, virtualenvs, submodules or nested product projects). A file that cannot
be merged as text is left as it is and reported. The renders hold only the files that can
matter (moved ones and the ones Copier deleted), which keeps a migration cheap.
"""

from __future__ import annotations

import os
import posixpath
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import yaml

PRODUCTS_DIR = "01_Data_Products"


# --------------------------------------------------------------------- project


@dataclass
class Project:
    """The project being updated, seen from its root (Copier's cwd)."""

    root: Path
    answers_file: str
    old_answers: dict
    new_answers: dict

    @property
    def layout_prefix(self) -> str:
        """Where this project's files sit in the repository layout the moves
        are written in: '' for a repository, 01_Data_Products/<slug>/ for a product."""
        if self.new_answers.get("scope") == "product":
            return f"{PRODUCTS_DIR}/{self.new_answers['product_slug']}/"
        return ""


def head_bytes(root: Path, rel: str) -> bytes | None:
    """The file's bytes as committed before the update (None: not in HEAD)."""
    run = subprocess.run(["git", "-C", str(root), "show", f"HEAD:./{rel}"], capture_output=True)
    return run.stdout if run.returncode == 0 else None


def load_project(answers_file: str = ".copier-answers.yml") -> Project:
    root = Path.cwd()
    old = head_bytes(root, answers_file)
    if old is None:
        sys.exit(f"{answers_file} is not committed in HEAD; commit before updating.")
    new_path = root / answers_file
    return Project(
        root=root,
        answers_file=answers_file,
        old_answers=yaml.safe_load(old) or {},
        new_answers=yaml.safe_load(new_path.read_bytes()) or {},
    )


def only_these(paths: set[str]) -> list[str]:
    """Copier exclude patterns that leave exactly `paths` (project-relative files).

    Rendering a few files instead of the whole release is what keeps a migration
    cheap: Copier skips excluded templates before Jinja compiles them, and
    compiling the templates is most of a render's time (see bench/run.py).
    """
    escaped = (re.sub(r"([\\*?\[\]!#])", r"\\\1", rel) for rel in sorted(paths))
    return ["*", *(f"!/{rel}" for rel in escaped)]


def render(answers: dict, dst: Path, only: set[str] | None = None) -> Path:
    """Render the release recorded in `answers` with those answers (just `only`, if given)."""
    if only is not None and not only:
        dst.mkdir(parents=True, exist_ok=True)  # nothing wanted: no clone, no render
        return dst
    import copier  # here, not at the top: the "before" stage needs no Copier, and importing it costs 0.3 s

    data = {k: v for k, v in answers.items() if not k.startswith("_")}
    copier.run_copy(
        answers["_src_path"], str(dst), data=data, vcs_ref=answers["_commit"],
        defaults=True, overwrite=True, quiet=True, unsafe=True,
        exclude=only_these(only) if only is not None else (),
    )
    (dst / ".copier-answers.yml").unlink(missing_ok=True)
    return dst


def deleted_since_head(root: Path) -> set[str]:
    """Files committed in HEAD that are gone from the working tree: the files
    Copier's update just deleted (the tree was clean before it ran) and any a
    previous run of this migration removed."""
    out = subprocess.run(["git", "-C", str(root), "diff", "--name-only", "--no-renames", "--relative",
                          "--diff-filter=D", "-z", "HEAD"], capture_output=True, check=True).stdout
    return {os.fsdecode(rel) for rel in out.split(b"\0") if rel}


def files_below(root: Path) -> set[str]:
    return {
        p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file() and not p.is_symlink()
    }


def tracked_files(root: Path) -> list[str]:
    """Regular files git tracks in this project, relative to root: no ignored or
    untracked file (a virtualenv, build output), no submodule, no symlink, and
    nothing of a nested project (a folder with its own tracked answers file,
    updated by its own run)."""
    out = subprocess.run(["git", "-C", str(root), "ls-files", "-z", "--cached", "--full-name", "--", "."],
                         capture_output=True, check=True).stdout
    top = subprocess.run(["git", "-C", str(root), "rev-parse", "--show-prefix"],
                         capture_output=True, check=True, text=True).stdout.strip()
    rels = [os.fsdecode(raw)[len(top):] for raw in out.split(b"\0") if raw]
    nested = {posixpath.dirname(rel) + "/" for rel in rels
              if posixpath.basename(rel) == ".copier-answers.yml" and "/" in rel}
    return sorted(
        rel for rel in rels
        if not any(rel.startswith(folder) for folder in nested)
        and (root / rel).is_file() and not (root / rel).is_symlink()
    )


# ---------------------------------------------------------------------- report


@dataclass
class Report:
    version: str
    moved: list[str] = field(default_factory=list)
    merged: list[str] = field(default_factory=list)
    conflicted: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    not_merged: list[str] = field(default_factory=list)
    left_deleted: list[str] = field(default_factory=list)
    links: list[str] = field(default_factory=list)
    answers: list[str] = field(default_factory=list)

    def print(self) -> None:
        print(
            f"[data-product-framework {self.version}] moved {len(self.moved)}, "
            f"merged {len(self.merged)}, conflicted {len(self.conflicted)}, "
            f"kept {len(self.kept)}, not merged {len(self.not_merged)}, links rewritten in {len(self.links)} files"
        )
        for label, items in (
            ("moved (no edits of yours)", self.moved),
            ("moved and merged with your edits", self.merged),
            ("CONFLICT, resolve the markers", self.conflicted),
            ("kept (you edited it; the template no longer ships it)", self.kept),
            ("NOT MERGED, yours kept as it was; merge it by hand", self.not_merged),
            ("not recreated (you had deleted it)", self.left_deleted),
            ("links rewritten", self.links),
            ("answers", self.answers),
        ):
            for item in items:
                print(f"  {label}: {item}")


# The migration's only two ways to change the project: each says whether it did.


def write_bytes(path: Path, data: bytes) -> bool:
    """Write only when the content changes, atomically; True if it wrote."""
    if path.is_file() and not path.is_symlink() and path.read_bytes() == data:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".dpf-tmp")
    tmp.write_bytes(data)
    tmp.replace(path)
    return True


def remove(path: Path) -> bool:
    """Delete the file and the folders it leaves empty; True if there was a file."""
    if not path.exists():
        return False
    path.unlink()
    parent = path.parent
    while parent != Path.cwd() and parent.is_dir() and not any(parent.iterdir()):
        parent.rmdir()
        parent = parent.parent
    return True


# ---------------------------------------------------------------------- merges


class CannotMerge(Exception):
    """git merge-file refused the inputs (binary content)."""


def merge_file(ours: bytes, base: bytes, theirs: bytes, labels: tuple[str, str, str]) -> tuple[bytes, bool]:
    """3-way merge with git merge-file, on bytes; returns (merged bytes, had conflicts).

    Labels are written as UTF-8 (they are paths). Raises CannotMerge on binary input.

    A team that only added lines at the end of the file (its notes under the last section)
    gets them after the release's version, even when the release changed the last lines:
    git merge-file would call those adjacent changes a conflict."""
    appended = ours[len(base):]
    if base.endswith(b"\n") and theirs.endswith(b"\n") and ours.startswith(base) and appended:
        return theirs + appended, False
    with tempfile.TemporaryDirectory() as tmp:
        paths = []
        for name, data in (("ours", ours), ("base", base), ("theirs", theirs)):
            path = Path(tmp) / name
            path.write_bytes(data)
            paths.append(path)
        label_args = [arg for label in labels for arg in ("-L", label)]
        run = subprocess.run(["git", "merge-file", "-p", *label_args, *map(str, paths)], capture_output=True)
    # Exit code: number of conflicts (capped at 127); 255 or a signal: an error.
    if run.returncode < 0 or run.returncode > 127:
        raise CannotMerge(run.stderr.decode(errors="replace").strip())
    return run.stdout, run.returncode > 0


def _in_layout(moves: dict[str, str], prefix: str) -> dict[str, str]:
    """Moves that concern this project, relative to its root."""
    return {
        old[len(prefix):]: new[len(prefix):]
        for old, new in moves.items()
        if old.startswith(prefix) and new.startswith(prefix)
    }


def apply_moves_and_removals(project: Project, moves: dict[str, str], report: Report) -> None:
    root = project.root
    here = _in_layout(moves, project.layout_prefix)
    # Only files Copier deleted can be a removal to undo; only moved files need merging.
    # The team's own files recorded at adoption are never the template's to touch.
    adopted = set(project.new_answers.get("adopted_paths") or ())
    gone = deleted_since_head(root)
    wanted_old = (set(here) | gone) - adopted
    wanted_new = (set(here.values()) | gone) - adopted
    with tempfile.TemporaryDirectory(prefix="dpf-migration-") as tmp:
        old_render = render(project.old_answers, Path(tmp) / "old", only=wanted_old)
        new_render = render(project.new_answers, Path(tmp) / "new", only=wanted_new)
        old_files, new_files = files_below(old_render), files_below(new_render)

        for old_rel, new_rel in sorted(here.items()):
            if old_rel not in old_files or new_rel not in new_files:
                continue
            base = (old_render / old_rel).read_bytes()
            theirs = (new_render / new_rel).read_bytes()
            ours = head_bytes(root, old_rel)
            target = root / new_rel
            if ours is None:
                # Deleted by the user before this update: keep it deleted.
                if target.is_file() and target.read_bytes() == theirs:
                    remove(target)
                report.left_deleted.append(f"{old_rel} -> {new_rel}")
                continue
            if head_bytes(root, new_rel) is not None:
                # The team already had a file of its own at the new path: Copier merged
                # the release into it and it is never overwritten. An edited old file
                # stays where it was; an unedited one goes, as in any move.
                if ours != base:
                    _keep_as_it_was(root, old_rel, ours, report, f"{old_rel} (you also have {new_rel})")
                elif (root / old_rel).is_file() and (root / old_rel).read_bytes() == base:
                    remove(root / old_rel)
                continue
            if ours == base:
                write_bytes(target, theirs)
                report.moved.append(f"{old_rel} -> {new_rel}")
            else:
                try:
                    merged, conflicted = merge_file(
                        ours, base, theirs,
                        (f"yours ({old_rel})", "template before", f"template now ({new_rel})"),
                    )
                except CannotMerge:
                    _keep_as_it_was(root, old_rel, ours, report, f"{old_rel} (not text; {new_rel} is the release's)")
                    continue
                write_bytes(target, merged)
                (report.conflicted if conflicted else report.merged).append(f"{old_rel} -> {new_rel}")
            old_path = root / old_rel
            if old_path.is_file() and old_path.read_bytes() in (ours, base):
                remove(old_path)

        for rel in sorted(old_files - new_files - set(here)):
            ours = head_bytes(root, rel)
            base = (old_render / rel).read_bytes()
            if ours is not None and ours != base:
                write_bytes(root / rel, ours)
                report.kept.append(rel)


def _keep_as_it_was(root: Path, rel: str, ours: bytes, report: Report, note: str) -> None:
    """Leave the team's file at its old path with its exact bytes (restored if Copier deleted it)."""
    write_bytes(root / rel, ours)
    report.not_merged.append(note)


# ----------------------------------------------------------------------- links

LINK = re.compile(r"(\]\(|^\[[^\]]+\]:\s*)(?!\w+:|/|#)([^)\s#]+)(#[^)\s]*)?")
FENCE = re.compile(r"^\s*(```|~~~)")


def markdown_files(root: Path, also: set[str] = frozenset()) -> list[str]:
    """Markdown files of this project git tracks (see tracked_files), plus `also`
    (files this migration just wrote, not tracked yet). Symlinks (the docs site's
    docs/ folder) are skipped: their targets are handled under their real path."""
    extra = {rel for rel in also if (root / rel).is_file() and not (root / rel).is_symlink()}
    return sorted({rel for rel in tracked_files(root) if rel.endswith(".md")} | extra)


def rewrite_links(project: Project, moves: dict[str, str], report: Report) -> None:
    """Point relative links that target a moved path at its new place.

    Each file is decoded with surrogateescape and encoded back the same way, so
    bytes that are not UTF-8 (Latin-1 letters) and CRLF line ends stay as they were."""
    prefix = project.layout_prefix
    moved_here = {new[len(prefix):] for new in moves.values() if new.startswith(prefix)}
    for rel in markdown_files(project.root, moved_here):
        path = project.root / rel
        here = posixpath.dirname(prefix + rel)
        original = path.read_bytes()
        lines, changed, in_fence = original.decode("utf-8", "surrogateescape").split("\n"), False, False
        for i, line in enumerate(lines):
            if FENCE.match(line):
                in_fence = not in_fence
            if in_fence:
                continue

            def fix(match: re.Match) -> str:
                target = posixpath.normpath(posixpath.join(here, match.group(2)))
                if target not in moves:
                    return match.group(0)
                new = posixpath.relpath(moves[target], here or ".")
                return match.group(1) + new + (match.group(3) or "")

            new_line = LINK.sub(fix, line)
            if new_line != line:
                lines[i], changed = new_line, True
        if changed:
            write_bytes(path, "\n".join(lines).encode("utf-8", "surrogateescape"))
            report.links.append(rel)


# --------------------------------------------------------------------- answers


def rename_answers(answers_file: str, renames: dict[str, str], report: Report) -> None:
    """Before stage: carry renamed questions' answers over to their new names.

    Edits the answers file in place, key line by key line, so every other byte
    (comments, order, quoting, line ends) stays as it was."""
    path = Path(answers_file)
    original = path.read_bytes()
    data = yaml.safe_load(original) or {}
    lines = original.decode("utf-8", "surrogateescape").splitlines(True)
    want = dict(data)
    for old, new in renames.items():
        if old not in data:
            continue
        key = re.compile(rf"{re.escape(old)}\s*:")
        at = next((i for i, line in enumerate(lines) if key.match(line)), None)
        if at is not None and new not in data:
            lines[at] = new + lines[at][len(old):]
        elif at is not None:
            # Both present (an interrupted run, or a hand edit): the new name wins;
            # drop the old key with its indented or list continuation lines.
            end = at + 1
            while end < len(lines) and lines[end][:1] in (" ", "\t", "-"):
                end += 1
            del lines[at:end]
        if new not in data:
            want[new] = data[old]
        del want[old]
        report.answers.append(f"{old} -> {new}")
    text = "".join(lines)
    if want == data:
        return
    result = text.encode("utf-8", "surrogateescape")
    if (yaml.safe_load(result) or {}) != want:
        # An answers file laid out in a way the line edit does not understand: rewrite it whole.
        header = b"".join(line for line in original.splitlines(True) if line.startswith(b"#"))
        result = header + yaml.safe_dump(want, sort_keys=True, allow_unicode=True).encode()
    write_bytes(path, result)


# ------------------------------------------------------------------------ main


def run(version: str, moves_for, renames: dict[str, str] | None = None) -> None:
    """Entry point of every vX_Y_Z.py: `python vX_Y_Z.py before|after [answers file]`.

    moves_for(answers) -> {old path: new path}, written in the repository layout.
    """
    stage = sys.argv[1] if len(sys.argv) > 1 else "after"
    answers_file = sys.argv[2] if len(sys.argv) > 2 else ".copier-answers.yml"
    report = Report(version)
    if stage == "before":
        rename_answers(answers_file, renames or {}, report)
    else:
        project = load_project(answers_file)
        moves = moves_for(project.old_answers)
        apply_moves_and_removals(project, moves, report)
        rewrite_links(project, moves, report)
    report.print()


# ------------------------------------------------------ earlier updates (index)


def _git_bytes(cwd: Path, *args: str, stdin: bytes | None = None) -> bytes:
    import subprocess

    return subprocess.run(["git", "--literal-pathspecs", "-C", str(cwd), *args],
                          input=stdin, capture_output=True, check=True).stdout


def record_earlier_updates_in_index(here: Path | None = None) -> dict[str, list[str]]:
    """Before stage of a nested project (a product folder with its own answers file).

    Renovate updates every answers file of a repository in one working tree with no commit
    in between, and Copier's update of a nested project snapshots the WHOLE repository's
    index (`git write-tree`). What the root's update just did is only in the working tree:
    a file it deleted would come back through the product's update, and a file it left
    unmerged makes `git write-tree` fail. So, outside this folder only, stage those
    deletions and record unmerged files as they are in the working tree (conflict markers
    included). Only the index changes; no file's content is touched.
    """
    here = Path.cwd() if here is None else here
    prefix = _git_bytes(here, "rev-parse", "--show-prefix").rstrip(b"\n")
    if not prefix:  # the repository's own answers file: nothing ran before it
        return {"deletions": [], "unmerged": []}
    top = Path(os.fsdecode(_git_bytes(here, "rev-parse", "--show-toplevel").rstrip(b"\n")))

    def outside(paths) -> list[bytes]:
        return sorted({p for p in paths if p and not p.startswith(prefix)})

    stages = _git_bytes(top, "ls-files", "-z", "-u").split(b"\0")  # "<mode> <sha> <stage>\t<path>"
    unmerged = outside(entry.split(b"\t", 1)[1] for entry in stages if entry)
    deleted = outside(_git_bytes(top, "ls-files", "-z", "--deleted").split(b"\0"))
    gone = sorted(set(deleted) | {p for p in unmerged if not (top / os.fsdecode(p)).exists()})
    present = [p for p in unmerged if p not in gone]
    if gone:
        _git_bytes(top, "rm", "-q", "--cached", "--pathspec-from-file=-", "--pathspec-file-nul", stdin=b"\0".join(gone))
    if present:
        _git_bytes(top, "add", "--pathspec-from-file=-", "--pathspec-file-nul", stdin=b"\0".join(present))
    done = {"deletions": [os.fsdecode(p) for p in gone], "unmerged": [os.fsdecode(p) for p in present]}
    for path in done["deletions"]:
        print(f"  earlier update in this tree deleted {path}: deletion staged so this update does not bring it back")
    for path in done["unmerged"]:
        print(f"  earlier update in this tree left {path} unmerged: recorded as it is (markers kept)")
    return done
