#!/usr/bin/env python3
"""Adopt the data-product-framework in a git repository that already exists.

Usage:
    python3 scripts/adopt.py TARGET [--src URL_OR_PATH] [--vcs-ref TAG]
                                    [--data key=value ...] [--no-commit]

TARGET is a git repository (or a folder inside one) with a clean status and no
.copier-answers.yml yet. The script renders the template with every default
answer (plus --data) and adds the framework's files to TARGET:

- A file of yours is never written. Where the framework has a file at a path
  you already use, yours stays and the framework's version is written beside
  it as <name>.framework<ext> (README.md -> README.framework.md).
- Every file you had (git's tracked files, plus any file at a framework path)
  is recorded in the answers file as `adopted_paths`; the template excludes
  them, so no later `copier update` writes, merges or deletes them either,
  even when a later release adds a file at one of those paths.
- The result is committed as "Adopt data-product-framework vX.Y.Z" (staged
  only with --no-commit) and the repository then updates like any generated
  one: `copier update --defaults`, or a Renovate PR.
- All or nothing: a dirty tree, a folder where the framework needs a file (or
  the reverse), or bad --data is refused before anything is written (exit 2).
  Any error once writing began removes exactly what was written (exit 1).
  Copying needs no --trust.

Defaults: --src is this template repository (its `origin` URL when that is a
network URL Renovate can reach, else its local path); --vcs-ref is the newest
release tag vX.Y.Z of --src (none: Copier's own choice).

Test hook: DPF_ADOPT_FAIL_AFTER=N makes the run fail after writing N files
(or just before committing, when it writes fewer), to prove the roll-back.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import sys
import tempfile
from pathlib import Path, PurePosixPath

ANSWERS_FILE = ".copier-answers.yml"
TEMPLATE_NAME = "data-product-framework"
ROOT = Path(__file__).resolve().parents[1]
NETWORK_URL = re.compile(r"^(https?|ssh|git)://|^[\w.-]+@[\w.-]+:")
FAIL_AFTER_ENV = "DPF_ADOPT_FAIL_AFTER"


class Refused(Exception):
    """A precondition failed: nothing was written (exit 2)."""


class InjectedFailure(RuntimeError):
    """Raised on purpose by the DPF_ADOPT_FAIL_AFTER test hook."""


# ----------------------------------------------------------------------------
#  git
# ----------------------------------------------------------------------------
def _git():
    from plumbum import local

    return local["git"]["--literal-pathspecs"]


def git(cwd: Path, *args: str, stdin: str | None = None) -> str:
    command = _git().with_cwd(str(cwd))[list(args)]
    if stdin is not None:
        command = command << stdin
    return command()


def git_ok(cwd: Path, *args: str) -> tuple[int, str, str]:
    return _git().with_cwd(str(cwd))[list(args)].run(retcode=None)


# ----------------------------------------------------------------------------
#  defaults for --src and --vcs-ref
# ----------------------------------------------------------------------------
def default_src() -> str:
    code, out, _ = git_ok(ROOT, "remote", "get-url", "origin")
    url = out.strip()
    if code == 0 and NETWORK_URL.search(url):
        return url
    return str(ROOT)


def newest_release_tag(src: str) -> str | None:
    from packaging.version import InvalidVersion, Version

    code, out, _ = git_ok(Path.cwd(), "ls-remote", "--tags", "--refs", src)
    if code != 0:
        return None
    best: tuple[Version, str] | None = None
    for line in out.splitlines():
        tag = line.rpartition("refs/tags/")[2]
        if not re.fullmatch(r"v\d+\.\d+\.\d+", tag):
            continue
        try:
            version = Version(tag[1:])
        except InvalidVersion:
            continue
        if best is None or version > best[0]:
            best = (version, tag)
    return best[1] if best else None


# ----------------------------------------------------------------------------
#  the plan: what to write where
# ----------------------------------------------------------------------------
def files_below(root: Path) -> list[str]:
    return sorted(
        p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file() or p.is_symlink()
    )


def render(src: str, dst: Path, data: dict, vcs_ref: str | None, only_answers: bool = False) -> None:
    """`copier copy --defaults` into an empty folder (optionally the answers file only)."""
    import copier

    exclude = ["*", f"!/{ANSWERS_FILE}"] if only_answers else []
    copier.run_copy(
        src, str(dst), data=data, defaults=True, vcs_ref=vcs_ref, quiet=True, exclude=exclude
    )


def offered_name(rel: str, taken: set[str], target: Path) -> str:
    """Where the framework's version of a clashing file goes: <name>.framework<ext>,
    or <name>.framework-2<ext>, ... when that is taken too. Workflows keep a
    suffix GitHub does not run."""
    path = PurePosixPath(rel)
    workflow = path.parent.as_posix() == ".github/workflows"
    for n in range(1, 100):
        tag = "framework" if n == 1 else f"framework-{n}"
        if workflow:
            name = f"{path.name}.{tag}"
        elif path.suffix and path.stem:
            name = f"{path.stem}.{tag}{path.suffix}"
        else:
            name = f"{path.name}.{tag}"
        candidate = (path.parent / name).as_posix()
        if candidate not in taken and not os.path.lexists(target / candidate):
            return candidate
    raise Refused(f"cannot find a free name beside {rel} for the framework's version")


# What the adopted_paths validator in copier.yml accepts: plain relative paths
# that are safe as anchored gitignore-style patterns.
UNRECORDABLE = re.compile(r"[*?\[\]!\\\x00-\x1f\x7f\u0085\u2028\u2029]|^[A-Za-z]:")


def recordable(rel: str) -> bool:
    return (
        not UNRECORDABLE.search(rel)
        and rel == rel.strip()
        and not rel.startswith("/")
        and all(part not in ("", ".", "..") for part in rel.split("/"))
    )


def their_files(target: Path) -> list[str]:
    """Every file git tracks below target (the tree is clean: that is all of theirs
    but ignored files), relative to target."""
    out = git(target, "ls-files", "-z")
    return sorted({rel for rel in out.split("\0") if rel})


def find_clashes(target: Path, framework_files: list[str]) -> list[str]:
    """Framework paths where the repository already has a file (or symlink).
    A folder of theirs where the framework writes a file, or a file or symlink of
    theirs where the framework needs a folder, cannot be adopted cleanly."""
    clashes, problems = [], []
    for rel in framework_files:
        parts = PurePosixPath(rel).parts
        blocked = False
        for i in range(1, len(parts)):
            folder = "/".join(parts[:i])
            here = target / folder
            if os.path.lexists(here) and (here.is_symlink() or not here.is_dir()):
                problems.append(
                    f"the framework needs a folder {folder}/ (for {rel}), "
                    f"but yours is a {'symlink' if here.is_symlink() else 'file'}"
                )
                blocked = True
                break
        if blocked:
            continue
        here = target / rel
        if here.is_dir() and not here.is_symlink():
            problems.append(f"the framework writes a file (or link) {rel}, but yours is a folder")
        elif os.path.lexists(here):
            clashes.append(rel)
    if problems:
        unique = list(dict.fromkeys(problems))
        raise Refused(
            "cannot adopt without moving something of yours; nothing was changed:\n  "
            + "\n  ".join(unique)
            + "\nRename or move those paths, commit, and run the adoption again."
        )
    return clashes


# ----------------------------------------------------------------------------
#  writing, all or nothing
# ----------------------------------------------------------------------------
class Transaction:
    """Creates files that do not exist yet and remembers them, so a failure can
    remove exactly what was written (files, then the folders it created)."""

    def __init__(self, target: Path):
        self.target = target
        self.files: list[str] = []
        self.dirs: list[Path] = []
        self.staged = False
        limit = os.environ.get(FAIL_AFTER_ENV, "").strip()
        self.fail_after = int(limit) if limit else None

    def check_injected(self, last: bool = False) -> None:
        if self.fail_after is not None and (last or len(self.files) >= self.fail_after):
            raise InjectedFailure(f"{FAIL_AFTER_ENV}={self.fail_after}: failing on purpose")

    def write(self, rel: str, source: Path) -> None:
        self.check_injected()
        dest = self.target / rel
        missing = []
        parent = dest.parent
        while not os.path.lexists(parent):
            missing.append(parent)
            parent = parent.parent
        for folder in reversed(missing):
            folder.mkdir()
            self.dirs.append(folder)
        if source.is_symlink():  # e.g. docs/<area> -> ../<area>: stays a link
            os.symlink(os.readlink(source), dest)  # fails if anything is there
            self.files.append(rel)
            return
        # "x": never replace anything, even a file that appeared meanwhile.
        with open(dest, "xb") as out:
            self.files.append(rel)
            out.write(source.read_bytes())
        shutil.copymode(source, dest)

    def stage(self) -> None:
        self.staged = True
        git(self.target, "add", "--force", "--pathspec-from-file=-", "--pathspec-file-nul",
            stdin="\0".join(self.files))

    def commit(self, message: str) -> None:
        self.check_injected(last=True)
        git(self.target, "commit", "-q", "-m", message)

    def roll_back(self) -> list[str]:
        problems = []
        if self.staged and self.files:
            # The tree was clean and every written path was new, so dropping
            # them from the index gives back the index as it was.
            try:
                git(self.target, "rm", "--cached", "-q", "--ignore-unmatch",
                    "--pathspec-from-file=-", "--pathspec-file-nul", stdin="\0".join(self.files))
            except Exception as error:  # noqa: BLE001
                problems.append(f"could not unstage the written files: {error}")
        for rel in reversed(self.files):
            try:
                (self.target / rel).unlink()
            except FileNotFoundError:
                pass
            except OSError as error:
                problems.append(f"could not remove {rel}: {error}")
        for folder in reversed(self.dirs):
            try:
                folder.rmdir()
            except OSError as error:
                problems.append(f"could not remove folder {folder}: {error}")
        return problems


# ----------------------------------------------------------------------------
#  adoption
# ----------------------------------------------------------------------------
def parse_data(items: list[str]) -> dict[str, str]:
    data = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise Refused(f"--data expects key=value, got {item!r}")
        data[key.strip()] = value
    if "adopted_paths" in data:
        raise Refused("--data adopted_paths is not accepted: the adoption computes it from your files")
    if data.get("scope", "repository") != "repository":
        raise Refused(
            "adoption adds the whole framework (scope=repository); to add one more product "
            "folder to an adopted repository use `python tools/dpf.py add-product`"
        )
    return data


def check_target(target: Path) -> None:
    if not target.is_dir():
        raise Refused(f"{target} is not a folder")
    code, out, _ = git_ok(target, "rev-parse", "--is-inside-work-tree")
    if code != 0 or out.strip() != "true":
        raise Refused(f"{target} is not inside a git repository: run `git init` and commit your files first")
    status = git(target, "status", "--porcelain", "--untracked-files=all")
    if status.strip():
        lines = status.rstrip("\n").splitlines()
        shown = "\n  ".join(lines[:10]) + ("\n  ..." if len(lines) > 10 else "")
        raise Refused(
            f"{target} has uncommitted changes (a dirty tree); nothing was changed.\n  {shown}\n"
            "Commit or stash them (untracked files count), then run the adoption again."
        )
    if os.path.lexists(target / ANSWERS_FILE):
        raise Refused(
            f"{target / ANSWERS_FILE} exists: this repository was already generated or adopted. "
            "Keep it current with `copier update --defaults` instead."
        )


def adopt(target: Path, src: str, vcs_ref: str | None, data: dict, commit: bool) -> int:
    import yaml

    check_target(target)
    with tempfile.TemporaryDirectory(prefix="dpf-adopt.") as tmp:
        probe, final = Path(tmp) / "probe", Path(tmp) / "final"
        try:
            render(src, probe, data, vcs_ref)
        except Exception as error:  # noqa: BLE001
            raise Refused(f"Copier could not render the template ({type(error).__name__}): {error}") from None
        answers = yaml.safe_load((probe / ANSWERS_FILE).read_text(encoding="utf-8")) or {}
        framework = [rel for rel in files_below(probe) if rel != ANSWERS_FILE]
        clashes = find_clashes(target, framework)
        # Record every file of theirs, not only today's clashes: a later
        # release may add a file at any of their paths (mkdocs.yml, Makefile).
        theirs = sorted(set(their_files(target)) | set(clashes))
        adopted = [rel for rel in theirs if recordable(rel)]
        unrecorded = [rel for rel in theirs if not recordable(rel)]
        if set(unrecorded) & set(clashes):
            raise Refused(f"cannot record these paths as adopted_paths: {set(unrecorded) & set(clashes)}")

        # Render the answers file again with the same answers (same dates) plus
        # adopted_paths, so Copier records them; everything else comes from the
        # first render (the template's _exclude leaves exactly the clashes out).
        final_data = {k: v for k, v in answers.items() if not k.startswith("_")}
        if adopted:
            final_data["adopted_paths"] = adopted
            try:
                render(src, final, final_data, vcs_ref, only_answers=True)
            except Exception as error:  # noqa: BLE001
                raise Refused(f"Copier could not render the template ({type(error).__name__}): {error}") from None
        else:
            final.mkdir()
            shutil.copy2(probe / ANSWERS_FILE, final / ANSWERS_FILE)
        recorded = yaml.safe_load((final / ANSWERS_FILE).read_text(encoding="utf-8")) or {}
        legacy = bool(adopted) and "adopted_paths" not in recorded
        if legacy:
            # A release from before adoption support neither records nor
            # excludes the paths: record them here (updates to a release that
            # knows the question keep them).
            with open(final / ANSWERS_FILE, "a", encoding="utf-8") as out:
                out.write(yaml.safe_dump({"adopted_paths": adopted}, default_flow_style=False))
            recorded = yaml.safe_load((final / ANSWERS_FILE).read_text(encoding="utf-8"))
        changed = {k for k in set(answers) | set(recorded) if answers.get(k) != recorded.get(k)}
        if changed != ({"adopted_paths"} if adopted else set()) or recorded.get("adopted_paths", []) != adopted:
            raise Refused(
                "the answers of the second render differ from the first (unexpected template "
                f"behaviour); nothing was changed: {sorted(changed)}"
            )
        # The framework's files come from the first render: adopted_paths only
        # feeds _exclude (no template file prints it), so they are identical.
        written = sorted(set(framework) - set(clashes))
        version = str(recorded.get("_commit") or "HEAD")

        taken = set(framework) | {ANSWERS_FILE}
        offered: dict[str, str] = {}
        for rel in clashes:
            offered[rel] = offered_name(rel, taken, target)
            taken.add(offered[rel])

        message = f"Adopt {TEMPLATE_NAME} {version}"
        work = Transaction(target)
        try:
            for rel in written:
                work.write(rel, probe / rel)
            for rel in clashes:
                work.write(offered[rel], probe / rel)
            work.write(ANSWERS_FILE, final / ANSWERS_FILE)
            work.stage()
            if commit:
                work.commit(message)
            else:
                work.check_injected(last=True)
        except BaseException as error:
            problems = work.roll_back()
            print(f"adopt: failed while writing ({type(error).__name__}: {error})", file=sys.stderr)
            if problems:
                print("adopt: could NOT fully roll back:\n  " + "\n  ".join(problems), file=sys.stderr)
            else:
                print(f"adopt: rolled back; {target} is exactly as it was.", file=sys.stderr)
            if isinstance(error, (KeyboardInterrupt, SystemExit)):
                raise
            return 1

    # ------------------------------------------------------------ the report
    print(f"Adopted {TEMPLATE_NAME} {version} into {target}")
    if clashes:
        print(f"{len(clashes)} path(s) where you already had a file:")
        for rel in clashes:
            print(f"  kept yours: {rel}; framework version offered at {offered[rel]}")
    else:
        print("No clashes: none of your files sits at a framework path.")
    print(
        f"Summary: {len(written)} framework file(s) added, {len(clashes)} file(s) of yours kept at "
        f"framework paths, {len(adopted)} file(s) of yours recorded as adopted_paths in "
        f"{ANSWERS_FILE} (no copier update will write, merge or delete them); nothing of yours "
        "was changed."
    )
    if unrecorded:
        print(
            f"Not recorded ({len(unrecorded)}): names with * ? [ ] ! \\, control characters or "
            "edge spaces cannot be written as adopted_paths; a later release could only touch them "
            "by adding that exact path:\n  " + "\n  ".join(unrecorded[:20])
            + ("\n  ..." if len(unrecorded) > 20 else "")
        )
    if clashes:
        print(
            "The offered *.framework* copies are part of the adoption so the tree stays clean for "
            "`copier update`, but Copier does not know them: updates never refresh them. Merge what "
            "you want into your file, then delete the copy."
        )
    if legacy:
        print(
            f"Note: {version} predates adoption support in the template; adopted_paths was added to "
            f"{ANSWERS_FILE} by this script. Update straight to a release that knows adopted_paths "
            "(the newest one): an update to an older release would merge the framework into those files."
        )
    if commit:
        print(f"Committed: \"{message}\". Keep it current with `copier update --defaults`.")
    else:
        print(f"Staged, not committed (--no-commit): review with `git diff --cached --stat`, then "
              f"`git commit -m \"{message}\"` (copier update needs a clean tree).")
    if not NETWORK_URL.search(str(recorded.get("_src_path", ""))):
        print(
            f"Note: the template source is recorded as a local path ({recorded.get('_src_path')}); "
            "Renovate needs a full https URL: adopt with --src https://... to get template updates as PRs."
        )
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="adopt.py",
        description="Adopt the data-product-framework in an existing git repository "
        "without overwriting any file of yours.",
    )
    parser.add_argument("target", type=Path, help="the existing repository (clean git status)")
    parser.add_argument("--src", help="template URL or path (default: this template repository)")
    parser.add_argument("--vcs-ref", help="template release tag (default: the newest vX.Y.Z tag)")
    parser.add_argument("--data", action="append", default=[], metavar="KEY=VALUE",
                        help="an answer, as for `copier copy --data` (repeatable)")
    parser.add_argument("--no-commit", action="store_true",
                        help="stage the adoption but leave the commit to you")
    args = parser.parse_args(argv)
    try:
        import copier  # noqa: F401  (brings plumbum, PyYAML and packaging)
    except ImportError:
        print('adopt: refused: Copier is not installed for this Python: run it with a Python that has '
              '`pip install "copier>=9.9.1"` (see README, "Adopt it in an existing repository").',
              file=sys.stderr)
        return 2
    try:
        data = parse_data(args.data)
        src = args.src or default_src()
        if os.path.isdir(src):
            src = str(Path(src).resolve())  # Copier records it; a relative path breaks updates
        vcs_ref = args.vcs_ref or newest_release_tag(src)
        return adopt(args.target.resolve(), src, vcs_ref, data, commit=not args.no_commit)
    except Refused as refusal:
        print(f"adopt: refused: {refusal}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
