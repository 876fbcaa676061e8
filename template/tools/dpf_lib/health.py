"""`dpf.py health`: documents, links, markers, answers files and the product index."""

from __future__ import annotations

import datetime as dt
import json
import os
import shlex
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote

from .gitrepo import answers_at, answers_files, git_dir, last_commits, posix_dirname, touched_files
from .markdown import (
    ANY_PLACEHOLDER,
    DATE,
    INLINE_LINK,
    JINJA,
    MARKER_WORDS,
    REF_DEF,
    SCHEME,
    MdDoc,
    parse_markdown,
)
from .markers import conflict_markers
from .products import INDEX_END, INDEX_START, Product, find_products, linked_slugs, parse_index_block
from .settings import (
    ANSWERS_FILE,
    CONFIG_FILE,
    SKIP_DIRS,
    STATUSES,
    Config,
    answers_problem,
    read_answers_safely,
    restore_hint,
)
from .update import RECOVERY, half_applied


@dataclass(order=True)
class Finding:
    path: str
    line: int
    severity: str
    check: str
    message: str

    def text(self) -> str:
        return f"{self.path}:{self.line}: {self.severity}: {self.check}: {self.message}"


@dataclass
class Tree:
    files: list[str]  # repo-relative posix paths of regular files (no symlinks)
    dirs: set[str]
    file_set: set[str] = field(default_factory=set)
    listings: dict[str, set[str]] = field(default_factory=dict)
    exact_cache: dict[str, bool] = field(default_factory=dict)


def git_listed_files(root: Path) -> list[str] | None:
    """Files git tracks plus untracked files it does not ignore, below root; None outside a
    git work tree. Ignored files, virtualenvs, nested repositories and submodules are left out."""
    try:
        inside = subprocess.run(["git", "rev-parse", "--show-prefix"], cwd=root, capture_output=True)
    except OSError:
        return None
    if inside.returncode != 0:
        return None
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                            cwd=root, capture_output=True)
    if listed.returncode != 0:
        return None
    return sorted({os.fsdecode(raw) for raw in listed.stdout.split(b"\0") if raw})


def walk(root: Path, config: Config) -> Tree:
    listed = git_listed_files(root)
    if listed is not None:
        files = []
        dirs: set[str] = {""}
        for rel in listed:
            parts = rel.split("/")
            if any(part in SKIP_DIRS for part in parts[:-1]) or config.ignored(rel):
                continue
            if any(config.ignored("/".join(parts[:n])) for n in range(1, len(parts))):
                continue
            path = root / rel
            # Regular files only: symlinks, submodules (folders) and files deleted since are skipped.
            if path.is_symlink() or not path.is_file():
                continue
            files.append(rel)
            for n in range(1, len(parts)):
                dirs.add("/".join(parts[:n]))
        return Tree(files, dirs, set(files))
    files: list[str] = []
    dirs: set[str] = {""}
    stack = [("", str(root))]
    while stack:
        rel_dir, abs_dir = stack.pop()
        try:
            entries = list(os.scandir(abs_dir))
        except OSError:
            continue
        for entry in entries:
            rel = f"{rel_dir}/{entry.name}" if rel_dir else entry.name
            if entry.is_symlink():
                continue
            if entry.is_dir(follow_symlinks=False):
                if entry.name in SKIP_DIRS or config.ignored(rel):
                    continue
                dirs.add(rel)
                stack.append((rel, entry.path))
            elif entry.is_file(follow_symlinks=False) and not config.ignored(rel):
                files.append(rel)
    files.sort()
    return Tree(files, dirs, set(files))


def _parse_date(value: str | None) -> dt.date | None:
    match = DATE.match(value or "")
    if not match:
        return None
    try:
        return dt.date(*(int(g) for g in match.groups()))
    except ValueError:
        return None


def check_front_matter(doc: MdDoc, config: Config, today: dt.date, out: list[Finding]) -> None:
    if doc.front_error:
        out.append(Finding(doc.rel, 1, "error", "front-matter", doc.front_error))
        return
    if doc.front is None:
        out.append(Finding(doc.rel, 1, "error", "front-matter",
                           "no front-matter: start the document with ---, owner, status, last_reviewed, ---"))
        return
    front, where = doc.front, doc.front_lines
    missing = [k for k in ("owner", "status", "last_reviewed") if not (front.get(k) or "").strip()]
    for key in missing:
        state = "is empty" if key in front else "is missing"
        out.append(Finding(doc.rel, where.get(key, 1), "error", "front-matter",
                           f"front-matter field `{key}` {state}"))
    status = front.get("status")
    if "status" not in missing and status not in STATUSES:
        out.append(Finding(doc.rel, where["status"], "error", "front-matter",
                           f"status {status!r} is not one of {', '.join(STATUSES)}"))
    if "last_reviewed" in missing:
        return
    raw = front.get("last_reviewed")
    reviewed = _parse_date(raw)
    line = where["last_reviewed"]
    if reviewed is None:
        out.append(Finding(doc.rel, line, "error", "front-matter",
                           f"last_reviewed {raw!r} is not a real date written YYYY-MM-DD"))
    elif reviewed > today + dt.timedelta(days=1):  # one day of slack for time zones
        out.append(Finding(doc.rel, line, "error", "front-matter",
                           f"last_reviewed {raw} is in the future"))
    elif config.stale_severity != "off" and (today - reviewed).days > config.stale_after_days:
        out.append(Finding(doc.rel, line, config.stale_severity, "stale",
                           f"last reviewed {raw}, {(today - reviewed).days} days ago "
                           f"(limit {config.stale_after_days}); review it and update last_reviewed"))


def check_placeholders(doc: MdDoc, config: Config, out: list[Finding]) -> None:
    if config.placeholder_severity == "off":
        return
    front_end = doc.body_start if doc.front is not None else 0
    visible = doc.lines[:front_end] + [p or "" for p in doc.prose[front_end:]]
    if not ANY_PLACEHOLDER.search("\n".join(visible)):
        return  # the common case: one regex pass over the whole document
    for n, line in enumerate(doc.lines):
        text = line if n < front_end else doc.prose[n]
        if not text:
            continue
        found = []
        for m in MARKER_WORDS.finditer(text):
            if m.group(1) not in found:
                found.append(m.group(1))
        for m in JINJA.finditer(text):
            if m.group() not in found:
                found.append(m.group())
        for marker in found:
            kind = "template placeholder" if marker.startswith("{") else "marker"
            out.append(Finding(doc.rel, n + 1, config.placeholder_severity, "placeholder",
                               f"leftover {kind} `{marker}`; finish or remove it"))


def check_links(doc: MdDoc, root: Path, tree: Tree, docs: dict[str, MdDoc | None],
                out: list[Finding]) -> None:
    base = posix_dirname(doc.rel)
    for n in range(doc.body_start, len(doc.lines)):
        prose = doc.prose[n]
        if not prose or ("](" not in prose and "]:" not in prose):
            continue
        targets = [m.group(1) for m in INLINE_LINK.finditer(prose)]
        ref = REF_DEF.match(prose)
        if ref:
            targets.append(ref.group(1))
        for target in targets:
            if target.startswith("<") and target.endswith(">"):
                target = target[1:-1]
            target = target.strip()
            if not target or SCHEME.match(target) or target.startswith("/"):
                continue
            path_part, _, anchor = target.partition("#")
            path_part = unquote(path_part.split("?", 1)[0])
            if not path_part:
                dest = doc
            else:
                rel = os.path.normpath(os.path.join(base, path_part)).replace(os.sep, "/")
                if rel == "." or rel in tree.dirs:
                    continue
                exists = rel in tree.file_set or exists_exact(root, rel, tree)
                if not exists:
                    out.append(Finding(doc.rel, n + 1, "error", "broken-link",
                                       f"link target `{target}` does not exist"))
                    continue
                if not anchor or not rel.endswith(".md"):
                    continue
                dest = docs.get(rel)
                if dest is None:
                    dest = load_doc(root, rel, docs)
                    if dest is None:
                        continue
            anchor = unquote(anchor)
            if anchor and anchor not in dest.anchors():
                where = "this document" if dest is doc else f"`{dest.rel}`"
                out.append(Finding(doc.rel, n + 1, "error", "broken-anchor",
                                   f"anchor `#{anchor}` matches no heading in {where}"))


def exists_exact(root: Path, rel: str, tree: Tree) -> bool:
    """Does rel exist, with exactly this spelling? (On macOS and Windows the file
    system ignores case; GitHub and the docs site do not.)"""
    if rel in tree.exact_cache:
        return tree.exact_cache[rel]
    result = True
    current = str(root)
    for part in rel.split("/"):
        if part == "..":
            current = os.path.dirname(current)
            continue
        try:
            names = tree.listings.get(current)
            if names is None:
                names = tree.listings[current] = set(os.listdir(current))
        except OSError:
            result = False
            break
        if part not in names:
            result = False
            break
        current = os.path.join(current, part)
    tree.exact_cache[rel] = result
    return result


def load_doc(root: Path, rel: str, docs: dict[str, MdDoc | None]) -> MdDoc | None:
    if rel not in docs:
        try:
            docs[rel] = parse_markdown(rel, (root / rel).read_bytes().decode("utf-8", errors="surrogateescape"))
        except OSError:
            docs[rel] = None
    return docs[rel]


def check_conflicts(rel: str, data: bytes, out: list[Finding]) -> None:
    for line, marker in conflict_markers(data):
        out.append(Finding(rel, line, "error", "conflict-marker",
                           f"unresolved merge conflict marker `{marker}`; resolve the conflict"))


def check_encoding(rel: str, data: bytes, out: list[Finding]) -> None:
    """Copier 9.19 re-applies a team's edits to a template document through a decode that drops
    every byte that is not UTF-8 (Renovate's bump and `copier update` alike); `dpf.py update`
    keeps them. Said before the bump, not found missing after it."""
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        out.append(Finding(rel, line, "warning", "not-utf8",
                           "holds bytes that are not UTF-8 (e.g. Latin-1); if the template also "
                           "writes this document, a template update by Renovate or `copier update` "
                           "drops those bytes from your lines: save the file as UTF-8, or update with "
                           "`python tools/dpf.py update`, which keeps them"))


def check_answers(root: Path, config: Config, products: list[Product], out: list[Finding]) -> None:
    """Answers files Copier and Renovate could not read: caught here, at commit time, instead
    of as a traceback in an update nobody is watching."""
    candidates = [ANSWERS_FILE] + [f"{p.rel}/{ANSWERS_FILE}" for p in products]
    for rel in candidates:
        path = root / rel
        if not path.exists():
            if rel == ANSWERS_FILE and (root / CONFIG_FILE).is_file():
                out.append(Finding(rel, 0, "error", "answers",
                                   "missing, so `copier update` and Renovate cannot update this "
                                   "repository any more; " + restore_hint(rel)))
            continue
        problem = answers_problem(path)
        if problem:
            out.append(Finding(rel, 0, "error", "answers",
                               f"{problem}; `copier update` and Renovate would stop on it; " + restore_hint(rel)))


def run_health(root: Path, config: Config, today: dt.date | None = None) -> tuple[list[Finding], dict]:
    today = today or dt.date.today()
    out: list[Finding] = []
    tree = walk(root, config)
    docs: dict[str, MdDoc | None] = {}
    md_files: list[str] = []
    for rel in tree.files:
        try:
            data = (root / rel).read_bytes()
        except OSError:
            continue
        if b"\0" in data[:8192]:
            continue  # binary
        check_conflicts(rel, data, out)
        if rel.lower().endswith(".md"):
            docs[rel] = parse_markdown(rel, data.decode("utf-8", errors="surrogateescape"))
            md_files.append(rel)
            check_encoding(rel, data, out)
        if rel.endswith((".rej", ".orig")):
            out.append(Finding(rel, 0, "warning", "update-leftover",
                               "leftover of a template update that did not merge cleanly; "
                               "apply what it holds by hand, then delete it"))
    for rel in config.required:
        rel = rel.strip("/")
        if rel not in tree.file_set and not config.ignored(rel) and not exists_exact(root, rel, tree):
            out.append(Finding(rel, 0, "error", "missing-document",
                               f"required framework document is missing (listed in {CONFIG_FILE})"))
    products = find_products(root, config, with_answers=False)
    check_answers(root, config, products, out)
    check_half_applied(root, out)
    check_answers_history(root, products, out)
    for product in products:
        for name in config.product_documents:
            rel = f"{product.rel}/{name}"
            if rel not in tree.file_set and not exists_exact(root, rel, tree):
                out.append(Finding(rel, 0, "error", "missing-document",
                                   f"product `{product.slug}` has no {name}"))
    for rel in md_files:
        doc = docs[rel]
        # The root README (and the framework's copy of it that adoption offers beside
        # a team's own README) is a landing page, not a document with an owner.
        checked_doc = rel not in ("README.md", "README.framework.md") and not any(part.startswith(".") for part in rel.split("/")[:-1])
        if checked_doc:
            check_front_matter(doc, config, today, out)
            check_placeholders(doc, config, out)
        check_links(doc, root, tree, docs, out)
    # Product index
    if products:
        index_text = None
        if config.index in docs:
            index_text = "\n".join(docs[config.index].lines)
        elif (root / config.index).is_file():
            index_text = (root / config.index).read_bytes().decode("utf-8", errors="surrogateescape")
        if index_text is None:
            out.append(Finding(config.index, 0, "error", "product-index",
                               f"no product index, but {len(products)} product folder(s) exist"))
        else:
            block = parse_index_block(index_text)
            if block is None:
                out.append(Finding(config.index, 1, "error", "product-index",
                                   f"markers {INDEX_START} and {INDEX_END} not found; "
                                   "restore them around the product table"))
            else:
                listed = linked_slugs(config, block[2])
                for product in products:
                    if product.slug not in listed:
                        out.append(Finding(config.index, block[0], "error", "product-index",
                                           f"product folder `{product.rel}` has no row in the index; "
                                           "run `python tools/dpf.py index`"))
    out.sort(key=lambda f: (f.path, f.line, f.check, f.message))
    stats = {"files": len(tree.files), "documents": len(md_files), "products": len(products)}
    return out, stats


def check_half_applied(root: Path, out: list[Finding]) -> None:
    signs, soft = half_applied(root)
    for sign in signs:
        recovery = "" if "git revert" in sign else f". To recover: {RECOVERY}"
        out.append(Finding(".", 0, "error", "half-applied-update", sign + recovery))
    for sign in soft:
        out.append(Finding(".", 0, "warning", "half-applied-update", sign))


def check_answers_history(root: Path, products: list[Product], out: list[Finding]) -> None:
    """Products on another release than the root, and answers files edited by hand."""
    if git_dir(root) is None:
        return
    files = answers_files(root)
    root_answers = read_answers_safely(root / ANSWERS_FILE) if ANSWERS_FILE in files else None
    root_commit = (root_answers or {}).get("_commit")
    last = last_commits(root, files)
    touched: dict[str, set[str]] = {}
    for rel in files:
        answers = read_answers_safely(root / rel)
        if not answers:
            continue
        if rel != ANSWERS_FILE and root_commit and answers.get("_commit") != root_commit:
            folder = posix_dirname(rel)
            # A warning: with one Renovate branch per answers file a product is behind the
            # root for as long as its own pull request waits; it is still safe to merge.
            out.append(Finding(rel, 0, "warning", "product-behind",
                               f"on template release {answers.get('_commit')} but the root is on "
                               f"{root_commit}; update it with `python tools/dpf.py update --product "
                               f"{folder.rsplit('/', 1)[-1]}` (or merge its Renovate pull request)"))
        sha = last.get(rel)
        if not sha or touched.setdefault(sha, touched_files(root, sha)) != {rel}:
            continue
        before, after = answers_at(root, f"{sha}^", rel), answers_at(root, sha, rel)
        if before is None or after is None:
            continue
        changed = sorted(k for k in set(before) | set(after)
                         if not k.startswith("_") and before.get(k) != after.get(k))
        if not changed:
            continue
        how = " ".join(f"--data {k}={shlex.quote(str(after.get(k) or ''))}" for k in changed)
        scope = f" --product {posix_dirname(rel).rsplit('/', 1)[-1]}" if rel != ANSWERS_FILE else ""
        out.append(Finding(rel, 0, "warning", "answers-edited",
                           f"commit {sha[:10]} changed {', '.join(changed)} by hand; updates do NOT apply "
                           f"such a change (no file is re-rendered for it). Apply it safely: `git revert "
                           f"--no-edit {sha[:10]}`, then `python tools/dpf.py update{scope} {how}`"))


def cmd_health(root: Path, config: Config, as_json: bool) -> int:
    findings, stats = run_health(root, config)
    errors = sum(f.severity == "error" for f in findings)
    warnings = sum(f.severity == "warning" for f in findings)
    if as_json:
        print(json.dumps({
            "errors": errors,
            "warnings": warnings,
            "findings": [f.__dict__ for f in findings],
        }, indent=2))
    else:
        for finding in findings:
            print(finding.text())
        print(f"{errors} error(s), {warnings} warning(s) in {stats['documents']} documents, "
              f"{stats['products']} product(s)")
    return 1 if errors else 0


