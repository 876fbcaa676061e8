"""The update ladder's building blocks: render a project at a release, apply a
scripted set of user edits, update it the way Renovate does, and check that
nothing the user wrote was lost."""

from __future__ import annotations

import posixpath
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from testkit.helpers import ROOT, broken_links, files_of, git, release, render
from testkit.questions import CHOICES

COPIER = [sys.executable, "-m", "copier"]

# Releases strictly before what the tests see as HEAD (uncommitted work counts
# as a commit above HEAD), from main's history by the CHANGELOG rule.
_HEAD_SHA = git(ROOT, "rev-parse", "HEAD").strip()
_DIRTY = bool(git(ROOT, "status", "--porcelain").strip())
EARLIER = [f"v{v}" for v, sha in release.release_points(ROOT) if sha != _HEAD_SHA or _DIRTY]


def migration_versions() -> list[str]:
    """The versions copier.yml registers a migration for, without the v."""
    config = yaml.safe_load((ROOT / "copier.yml").read_text())
    return sorted({str(m["version"]).lstrip("v") for m in config.get("_migrations", [])})


FIXED = {"created_on": "2026-01-15", "roadmap_start_quarter": "2026-Q1"}

ANSWER_SETS = {
    "defaults": {},
    "dagster-sqlmesh-snowflake": {
        "orchestrator": "dagster", "transformation_tool": "sqlmesh", "warehouse": "snowflake",
        "product_name": "Customer 360", "ci_provider": "gitlab", "ci_platform": "gitlab",
    },
    "prefect-none-bigquery": {
        "orchestrator": "prefect", "transformation_tool": "none", "warehouse": "bigquery",
        "product_audience": "both", "ci_provider": "none", "ci_platform": "none",
    },
    "none-dbt-postgres": {"orchestrator": "none", "transformation_tool": "dbt", "warehouse": "postgres"},
}
# The stacks the reliability suites update: the defaults and one that a release's moves touch.
STACKS = ["defaults", "dagster-sqlmesh-snowflake"]


def copier_cli(cwd: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([*COPIER, *args], cwd=cwd, capture_output=True, text=True, env=env)


def renovate_update(project: Path, tag: str, trust: bool, answers_file: str = ".copier-answers.yml"):
    """Exactly what Renovate 44's copier manager runs, from the answers file's folder."""
    args = ["update", "--skip-answered", "--defaults", "--answers-file", answers_file, "--vcs-ref", tag]
    if trust:
        args.append("--trust")
    return copier_cli(project, *args)


def start_project(src: Path, dst: Path, tag: str, answers: dict) -> Path:
    render(src, dst, {**FIXED, **answers}, vcs_ref=tag)
    git(dst, "init", "-q", "-b", "main")
    commit_all(dst, f"Render {tag}")
    return dst


def commit_all(project: Path, message: str) -> None:
    git(project, "add", "-A")
    git(project, "commit", "-q", "--allow-empty", "-m", message)


@dataclass
class UserEdits:
    """What the scripted team wrote, to look for after the update."""

    lines: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    own_doc: str = "02_Architecture/decisions/0001-team-notes.md"


def apply_user_edits(project: Path, going_away: set[str]) -> UserEdits:
    """A team's month of work: edits, an own doc with links, a deleted doc, and
    edits to every doc the newer release moves or removes (`going_away`)."""
    edits = UserEdits()
    n = 0

    def note(about: str) -> str:
        nonlocal n
        n += 1
        line = f"Team note {n}: we decided this about {about} after the March review."
        edits.lines.append(line)
        return line

    # Edit a staying doc in the middle (after its title) and at the end.
    for rel in ("02_Architecture/system-overview.md", "09_Docs_Internal/onboarding.md"):
        path = project / rel
        text = path.read_text().split("\n")
        title = next(i for i, line in enumerate(text) if line.startswith("# "))
        text[title + 1 : title + 1] = ["", note(rel)]
        path.write_text("\n".join(text) + f"\n{note(rel + ' (end)')}\n")

    # Edit every doc that a later release moves or deletes.
    for rel in sorted(going_away):
        if rel.endswith(".md"):
            path = project / rel
            path.write_text(path.read_text() + f"\n{note(rel)}\n")

    # An own doc that links to everything that moves.
    own = project / edits.own_doc
    own.parent.mkdir(parents=True, exist_ok=True)
    links = "\n".join(
        f"- [{Path(rel).stem}](../../{rel})"
        for rel in sorted(going_away) if rel.endswith(".md")
    )
    own.write_text(f"# Team notes\n\n{note('our own decisions')}\n\nRead with:\n\n{links}\n")

    # Delete a doc the team does not want.
    gone = "11_Learning/papers/event-driven-architectures.md"
    (project / gone).unlink()
    edits.deleted.append(gone)
    commit_all(project, "Team edits")
    return edits


def all_text(project: Path) -> str:
    return "\n".join(
        (project / rel).read_text(errors="replace") for rel in sorted(files_of(project))
    )


def lost_lines(project: Path, edits: UserEdits) -> list[str]:
    text = all_text(project)
    return [line for line in edits.lines if line not in text]


def conflict_markers(project: Path) -> list[str]:
    found = []
    for rel in sorted(files_of(project)):
        for n, line in enumerate((project / rel).read_text(errors="replace").splitlines(), 1):
            if line.startswith(("<<<<<<< ", ">>>>>>> ")) or line == "=======":
                found.append(f"{rel}:{n}")
    return found


def recorded_commit(project: Path, answers_file: str = ".copier-answers.yml") -> str:
    return yaml.safe_load((project / answers_file).read_text())["_commit"]


def own_doc_links_broken(project: Path, edits: UserEdits) -> list[str]:
    return [b for b in broken_links(project) if b.startswith(edits.own_doc)]


# ------------------------------------------------ random answers and user edits
# Shared by tests/reliability/ and bench/run.py (the fleet).

import datetime as _dt  # noqa: E402
import os  # noqa: E402
import random as _random  # noqa: E402

# CHOICES: every value copier.yml offers for the choice questions (testkit/questions.py), so
# a new option is covered by the matrices and the fleet without editing the tests.
_NAMES = [
    "Acme Analytics", "O'Neil & Sons", "Data/Platform: Core", "R+D 2026", "Zürich Insights",
    "日本 Analytics", "Команда данных", "Équipe Données (EU)", "3M Data", "null", "yes",
    "Orders & Returns", "Customer 360", "A", "צוות נתונים", "Growth.io", "Ops-Finance",
]
_PURPOSES = [
    "One trusted daily view of {x} for the people who plan, sell and report on them.",
    "Every {x} event, deduplicated and joined to customers, for finance: refreshed hourly.",
    "{x} KPIs (revenue, margin & churn) for the weekly business review — 99.9% on time!",
    "Ground truth for {x}; used by ML, BI and the partner API #data",
]
_PHRASES = [
    "we decided this after the March review", "ünïcödé ✓ — owners agreed", "see ticket DATA-42",
    "keep: legal asked for it", "日本語のメモ", "ملاحظة الفريق", "TODO-free, reviewed twice",
]


def random_answers(rng: _random.Random) -> dict:
    """A valid answer set for every release (random stack, unusual names, past dates)."""
    answers = {key: rng.choice(values) for key, values in CHOICES.items()}
    answers["ci_provider"] = answers["ci_platform"]  # the 1.0.0 name of the question
    answers["starter_pipeline"] = rng.random() < 0.5  # asked since 1.2.0
    for key in ("project_name", "product_name", "team_name"):
        if rng.random() < 0.7:
            answers[key] = rng.choice(_NAMES)
    if rng.random() < 0.5:
        thing = answers.get("product_name", "orders").lower()
        answers["product_purpose"] = rng.choice(_PURPOSES).format(x=thing)[:200]
    if rng.random() < 0.3:
        answers["team_email"] = rng.choice(["data+ops@example.com", "DATA@Example.ORG", "a.b_c%d@sub.example.co"])
    day = _dt.date(2020, 1, 1) + _dt.timedelta(days=rng.randrange(2000))
    answers["created_on"] = min(day, _dt.date.today()).isoformat()
    answers["roadmap_start_quarter"] = f"20{rng.randrange(20, 31)}-Q{rng.randrange(1, 5)}"
    return answers


EDIT_OPS = ("append", "after_title", "middle", "replace", "owner", "delete", "rename",
            "own_doc", "new_folder", "tooling", "going_away")
EDIT_CORPORA = {
    # name: [(operation, how many documents; None = every document)]
    "ladder": None,  # apply_user_edits above
    "everywhere": [("append", None), ("after_title", None)],
    "rewrites": [("replace", None), ("middle", None)],
    "structure": [("delete", 3), ("rename", 3), ("own_doc", 2), ("new_folder", 1), ("going_away", None)],
    "tooling": [("tooling", 1), ("owner", None)],
    **{f"random-{seed}": seed for seed in range(1, 7)},
}


def user_edits(project: Path, going_away: set[str], corpus: str | int | list, tag: str = "") -> UserEdits:
    """Apply one corpus of user edits (a name of EDIT_CORPORA, a seed for a random
    mix, or a list of operations) and commit. Every line written is unique."""
    if corpus == "ladder":
        return apply_user_edits(project, going_away)
    spec = EDIT_CORPORA.get(corpus, corpus) if isinstance(corpus, str) else corpus
    rng = _random.Random(f"{corpus}-{tag}")
    if isinstance(spec, int):
        rng = _random.Random(spec * 7919 + sum(map(ord, tag)))
        spec = [(rng.choice(EDIT_OPS), rng.choice([1, 2, 5, None])) for _ in range(rng.randint(3, 9))]
        spec.append(("going_away", None))
    edits = UserEdits()
    counter = [0]

    def note(where: str) -> str:
        counter[0] += 1
        line = f"Team note {tag or 'x'}-{counter[0]} on {where}: {rng.choice(_PHRASES)}."
        edits.lines.append(line)
        return line

    def docs(how_many, exclude=()):
        # The team edits documents, not the docs site's links to them (docs/*.md are symlinks).
        pool = sorted(r for r in files_of(project)
                      if r.endswith(".md") and r not in exclude and not (project / r).is_symlink())
        return pool if how_many is None else rng.sample(pool, min(how_many, len(pool)))

    def body_start(lines: list[str]) -> int:
        if lines and lines[0] == "---" and "---" in lines[1:]:
            return lines.index("---", 1) + 1
        return 0

    own_docs = []
    for op, how_many in spec:
        if op in ("append", "after_title", "middle", "replace", "owner"):
            for rel in docs(how_many):
                path = project / rel
                lines = path.read_text().split("\n")
                start = body_start(lines)
                if op == "append":
                    lines += [note(rel), ""]
                elif op == "after_title":
                    title = next((i for i, l in enumerate(lines) if l.startswith("# ")), start)
                    lines[title + 1:title + 1] = ["", note(rel)]
                elif op == "middle":
                    at = rng.randrange(start, len(lines) + 1)
                    lines[at:at] = ["", note(rel), ""]
                elif op == "replace":
                    mine = set(edits.lines)  # never overwrite what the team wrote before
                    options = [i for i in range(start, len(lines))
                               if lines[i].strip() and not lines[i].startswith("#") and lines[i] not in mine]
                    if options:
                        lines[rng.choice(options)] = note(rel)
                elif op == "owner":
                    for i in range(start):
                        if lines[i].startswith("owner:"):
                            if lines[i] in edits.lines:  # the team changes its own mind: not a loss
                                edits.lines.remove(lines[i])
                            counter[0] += 1
                            lines[i] = f"owner: 'Squad {tag or 'x'}-{counter[0]}'"
                            edits.lines.append(lines[i])
                path.write_text("\n".join(lines))
        elif op == "delete":
            keep = {"README.md", "01_Data_Products/README.md", *going_away}
            for rel in docs(how_many, exclude=keep | set(edits.deleted)):
                gone = set((project / rel).read_text().split("\n"))  # deleted on purpose
                edits.lines[:] = [line for line in edits.lines if line not in gone]
                (project / rel).unlink()
                edits.deleted.append(rel)
        elif op == "rename":
            for rel in docs(how_many, exclude={*edits.deleted, *own_docs, *going_away}):
                new = rel[:-3] + "-ours.md"
                (project / rel).rename(project / new)
                (project / new).write_text((project / new).read_text() + f"\n{note(new)}\n")
                edits.deleted.append(rel)
        elif op in ("own_doc", "new_folder"):
            for _ in range(how_many or 1):
                # (or the root, if an earlier operation deleted every document)
                folder = rng.choice(sorted({Path(r).parent.as_posix() for r in files_of(project) if r.endswith(".md")})
                                    or ["."])
                if op == "new_folder":
                    folder = f"12_Team_{counter[0]}/rituals"
                rel = f"{folder}/team-notes-{counter[0]}.md".lstrip("./")
                here = Path(rel).parent
                links = [f"- [{Path(t).stem}]({Path(os.path.relpath(t, here)).as_posix()})"
                         for t in sorted(going_away) if t.endswith(".md")]
                (project / rel).parent.mkdir(parents=True, exist_ok=True)
                (project / rel).write_text(f"# Our notes\n\n{note(rel)}\n\n" + "\n".join(links) + "\n")
                own_docs.append(rel)
        elif op == "tooling":
            for rel, prefix in ((".gitignore", "# "), ("renovate.json5", "// ")):
                path = project / rel
                if path.is_file():
                    path.write_text(f"{prefix}{note(rel)}\n" + path.read_text())
        elif op == "going_away":
            for rel in sorted(r for r in going_away if r.endswith(".md") and r not in edits.deleted):
                path = project / rel
                if path.is_file():
                    path.write_text(path.read_text() + f"\n{note(rel)}\n")
    if own_docs:
        edits.own_doc = own_docs[0]
    # The harness checks itself: every line it counts is in the tree before the update,
    # so a line missing afterwards was lost by the update, not by the edits.
    unwritten = lost_lines(project, edits)
    assert not unwritten, f"edit corpus {corpus!r} overwrote its own lines: {unwritten[:3]}"
    commit_all(project, f"Team edits ({corpus})")
    return edits


def tree_bytes(project: Path) -> dict[str, bytes]:
    """Every file below project (.git excluded) with its bytes."""
    return {rel: (project / rel).read_bytes() for rel in sorted(files_of(project))}


# ------------------------------------- risky edits: encodings, collisions, type changes
# Classes of issue 15 that the text corpora above cannot express: their lines are
# bytes (not UTF-8, CRLF), or they put the team's own path where a release adds one,
# or they change what kind of path a template path is. Each returns the byte lines
# to look for after the update, and where.

RISKY_CLASSES = ("non-utf8", "crlf", "collision-file", "collision-folder", "type-change")


def path_kinds(root: Path) -> dict[str, str]:
    """Every path below root (.git excluded) -> 'file' | 'dir' | 'link'; symlinks not followed."""
    kinds = {}
    for dirpath, dirs, names in os.walk(root):
        for name in dirs + names:
            path = Path(dirpath, name)
            rel = path.relative_to(root).as_posix()
            if rel == ".git" or rel.startswith(".git/"):
                continue
            kinds[rel] = "link" if path.is_symlink() else "dir" if path.is_dir() else "file"
        dirs[:] = [d for d in dirs if d != ".git" and not Path(dirpath, d).is_symlink()]
    return kinds


def added_paths(old: Path, new: Path) -> dict[str, str]:
    """Paths (files, folders, symlinks) a render at the newer release has and the older lacks."""
    before = path_kinds(old)
    return {rel: kind for rel, kind in sorted(path_kinds(new).items()) if rel not in before}


def added_roots(added: dict[str, str]) -> dict[str, str]:
    """The added paths whose parent the older release already had."""
    return {rel: kind for rel, kind in added.items() if posixpath.dirname(rel) not in added}


@dataclass
class RiskyEdits:
    """Byte lines the team wrote (path they must stay in -> lines), and paths to check by kind."""

    lines: dict[str, list[bytes]] = field(default_factory=dict)
    kinds: dict[str, str] = field(default_factory=dict)  # team path -> the kind it must still be
    untracked: dict[str, bytes] = field(default_factory=dict)  # ignored files: must stay byte-identical

    def note(self, rel: str, line: bytes) -> bytes:
        self.lines.setdefault(rel, []).append(line)
        return line


def _write(project: Path, rel: str, data: bytes) -> None:
    path = project / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def risky_edits(project: Path, fresh: Path, corpus: str, going_away: set[str], tag: str = "") -> RiskyEdits:
    """Apply one class of RISKY_CLASSES to a project (fresh: a render of the target release) and commit."""
    edits = RiskyEdits()
    rng = _random.Random(f"{corpus}-{tag}")
    docs = sorted(r for r in files_of(project) if r.endswith(".md") and not (project / r).is_symlink())
    staying_or_moving = sorted(set(rng.sample(docs, min(6, len(docs)))) | {r for r in going_away if r.endswith(".md")})
    added = added_paths(project, fresh)
    if corpus in ("non-utf8", "crlf"):
        # Copier 9.19 itself drops non-UTF-8 bytes from the team's edits it re-applies
        # (plumbum decodes `git diff-tree` with errors="ignore"): see
        # test_copier_drops_non_utf8_bytes_of_staying_documents. Latin-1 lines go
        # where this template's code handles them: the documents a migration moves.
        targets = staying_or_moving if corpus == "crlf" else sorted(r for r in going_away if r.endswith(".md"))
        for n, rel in enumerate(targets, 1):
            if corpus == "non-utf8":
                line = f"Note {n} de l'équipe, {tag}: café, crème brûlée, Müller.".encode("latin-1")
                data = (project / rel).read_bytes() + b"\n" + line + b"\n"
            else:
                line = f"Team note {n} ({tag}) written on Windows.".encode()
                data = (project / rel).read_bytes() + b"\r\n" + line + b"\r\n" + line[:-1] + b" (2nd)\r\n"
                edits.note("*", line[:-1] + b" (2nd)\r\n")
                line += b"\r\n"
            _write(project, rel, data)
            # A moved document's lines must arrive at its new place; anywhere is fine here.
            edits.note("*", line)
        (project / ".git/info/exclude").write_text("scratch/\n.venv/\n")
        for rel in ("scratch/old-notes.md", ".venv/lib/python3.11/site-packages/pkg/README.md"):
            edits.untracked[rel] = "Brouillon: café [lien](../09_Docs_Internal/glossary.md)\n".encode("latin-1")
    elif corpus == "collision-file":
        # A team file at every path the release adds; in folders holding symlinks
        # (the docs site) and every other added folder, at its files instead.
        for i, (root, kind) in enumerate(added_roots(added).items()):
            below = {rel: k for rel, k in added.items() if rel.startswith(root + "/")}
            spots = ([rel for rel, k in below.items() if k != "dir"]
                     if kind == "dir" and ("link" in below.values() or i % 2) else [root])
            for rel in spots:
                line = f"Our own {rel} from before the release ({tag}).\n".encode()
                _write(project, rel, edits.note(rel, line))
                edits.kinds[rel] = "file"
    elif corpus == "collision-folder":
        for rel, kind in added.items():
            if kind != "dir":
                inside = f"{rel}/team-notes.md"
                line = f"Our own folder at {rel} ({tag}).\n".encode()
                _write(project, inside, edits.note(inside, line))
                edits.kinds[rel] = "dir"
    elif corpus == "type-change":
        changed = sorted(r for r in files_of(project) if r in files_of(fresh) and r.endswith(".md")
                         and not (project / r).is_symlink()
                         and (project / r).read_bytes() != (fresh / r).read_bytes())
        to_link = (changed or docs)[0]
        to_folder = next(r for r in reversed(changed + docs) if r != to_link and r not in going_away)
        # A document replaced by a symlink to a team document next to it.
        target = posixpath.join(posixpath.dirname(to_link), "team-version.md")
        _write(project, target, edits.note(target, f"Our version of {to_link} ({tag}).\n".encode()))
        (project / to_link).unlink()
        (project / to_link).symlink_to("team-version.md")
        edits.kinds[to_link] = "link"
        # A document replaced by a folder of the same name.
        (project / to_folder).unlink()
        inside = f"{to_folder}/part-1.md"
        _write(project, inside, edits.note(inside, f"Our split of {to_folder} ({tag}).\n".encode()))
        edits.kinds[to_folder] = "dir"
    else:
        raise ValueError(corpus)
    for rel, data in edits.untracked.items():
        _write(project, rel, data)
    commit_all(project, f"Team edits ({corpus})")
    return edits


def risky_losses(project: Path, edits: RiskyEdits) -> list[str]:
    """Lines missing from where they must be, and team paths that changed kind."""
    everything = b"\n".join((project / rel).read_bytes() for rel in sorted(files_of(project))
                            if (project / rel).is_file())
    lost = []
    for rel, lines in edits.lines.items():
        where = everything if rel == "*" else (project / rel).read_bytes() if (project / rel).is_file() else b""
        lost += [f"{rel}: {line!r}" for line in lines if line not in where]
    kinds = path_kinds(project)
    lost += [f"{rel} is no longer a {kind}" for rel, kind in edits.kinds.items() if kinds.get(rel) != kind]
    lost += [f"{rel} changed" for rel, data in edits.untracked.items()
             if not (project / rel).is_file() or (project / rel).read_bytes() != data]
    return lost
