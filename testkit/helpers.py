"""Small helpers shared by the tests: a tagged template repo in tmp, renders,
and the checks every rendered document must pass."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import copier
import yaml

from scripts import release  # the release rule
from testkit.questions import QUESTIONS

ROOT = Path(__file__).resolve().parents[1]


def git(cwd: Path, *args: str, check: bool = True) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, check=check, capture_output=True, text=True
    ).stdout


def build_template_repo(dst: Path) -> dict[str, str]:
    """Clone this repository into `dst` with today's working tree committed on top,
    tag every release by the CHANGELOG rule and tag HEAD just above the last one.

    Returns {"releases": [...], "head": tag of HEAD, "previous": see previous_release}.
    """
    git(ROOT.parent, "clone", "-q", "--no-local", str(ROOT), str(dst))
    # Mirror the working tree (uncommitted edits included) so tests see it as HEAD.
    tracked = set(git(dst, "ls-files").splitlines())
    current = set(git(ROOT, "ls-files", "-co", "--exclude-standard").splitlines())
    for rel in tracked - current:
        (dst / rel).unlink(missing_ok=True)
    for rel in current:
        src = ROOT / rel
        if src.is_symlink():  # template/docs/*: keep them links, never copy their targets
            (dst / rel).parent.mkdir(parents=True, exist_ok=True)
            (dst / rel).unlink(missing_ok=True)
            (dst / rel).symlink_to(os.readlink(src))
        elif src.is_file():
            (dst / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dst / rel)
    git(dst, "add", "-A")
    if git(dst, "status", "--porcelain").strip():
        git(dst, "commit", "-q", "-m", "Working tree under test")
    release.create_tags(dst)
    versions = [v for v, _ in release.release_points(dst)]
    head_tags = git(dst, "tag", "--points-at", "HEAD").split()
    if head_tags:
        head = head_tags[0]
    else:
        major, minor, micro = release.version_key(versions[-1]) if versions else (0, 0, 0)
        head = f"v{major}.{minor}.{micro + 1}"
        git(dst, "tag", "-a", head, "-m", "HEAD under test")
    releases = [f"v{v}" for v in versions]
    return {"releases": releases, "head": head, "previous": previous_release(dst, releases)}


def previous_release(repo: Path, releases: list[str]) -> str:
    """The newest release whose generated README differs from HEAD's: the tests of "the hop to
    the newest release" make the team edit a README line the hop changes, and nearly every
    release changes the README. On a release commit HEAD is that release, and just after one
    (a fix in tools/ only) the README is the same."""
    for tag in reversed(releases):
        if subprocess.run(["git", "diff", "--quiet", tag, "HEAD", "--", "template/README.md.jinja"],
                          cwd=repo).returncode:
            return tag
    raise AssertionError("no release has a README that differs from HEAD's")


def render(src: Path, dst: Path, answers: dict | None = None, vcs_ref: str | None = None) -> Path:
    """`copier copy --defaults` through the API, as a user would run it."""
    copier.run_copy(
        str(src), str(dst), data=answers or {}, defaults=True, vcs_ref=vcs_ref, quiet=True
    )
    return dst


def outside(tmp: Path, dst: Path) -> list[str]:
    """Everything below tmp that is not dst, inside it or one of its parents."""
    return sorted(
        p.relative_to(tmp).as_posix() for p in tmp.rglob("*")
        if p != dst and dst not in p.parents and p not in dst.parents
    )


def health(project: Path) -> dict:
    """The generated repository's own health check, as JSON."""
    run = subprocess.run([sys.executable, "tools/dpf.py", "health", "--json"], cwd=project,
                         capture_output=True, text=True)
    assert run.returncode in (0, 1), run.stderr
    return json.loads(run.stdout)


def files_of(root: Path) -> set[str]:
    """Relative paths of every file below root, .git excluded."""
    return {
        p.relative_to(root).as_posix()
        for p in root.rglob("*")
        if p.is_file() and ".git" not in p.relative_to(root).parts
    }


# ---------------------------------------------------------------- document checks

FENCE = re.compile(r"^(```|~~~)")
JINJA = re.compile(r"\{\{|\{%|\{#|%\}|#\}")


def outside_fences(text: str):
    """Yield (line number, line) for Markdown lines that are not in a code fence."""
    in_fence = False
    for number, line in enumerate(text.splitlines(), 1):
        if FENCE.match(line.strip()):
            in_fence = not in_fence
            continue
        if not in_fence:
            yield number, line


# The one exception outside Markdown: the starter pipeline's dbt project, whose
# .sql and .yml files ARE Jinja for dbt ({{ ref('stg_orders') }}, {% test %},
# {{ env_var('DUCKDB_PATH', ...) }}); the template writes them with {% raw %}.
# There a line may hold whole {{ }} / {% %} tags, but none that names one of the
# template's own variables or macros (outside quoted strings), and no {# #}.
DBT_SEGMENT = re.compile(r"\{\{.*?\}\}|\{%.*?%\}")
TEMPLATE_NAMES = re.compile(r"\b(m\.\w+|_copier_\w+|" + "|".join(map(re.escape, QUESTIONS)) + r")\b")


def is_dbt_file(root: Path, rel: str) -> bool:
    return (
        rel.startswith("transform/") and rel.endswith((".sql", ".yml"))
        and (root / "transform" / "dbt_project.yml").is_file()
    )


def dbt_line_is_clean(line: str) -> bool:
    if "{#" in line or "#}" in line:
        return False
    rest = DBT_SEGMENT.sub("", line)
    if JINJA.search(rest):  # an unbalanced or multi-line tag: not what the starter writes
        return False
    for segment in DBT_SEGMENT.findall(line):
        code = re.sub(r"'[^']*'|\"[^\"]*\"", "''", segment)
        if TEMPLATE_NAMES.search(code):
            return False
    return True


# GitHub Actions writes its own expressions as ${{ github.ref }}: whole ones on
# a line of a workflow file are GitHub's, not the template's.
GITHUB_EXPRESSION = re.compile(r"\$\{\{[^{}]*\}\}")


# renovate.json5 (copied, never rendered) holds Renovate's own Handlebars templates:
# {{{field}}}, {{#if field}}, {{/if}}, {{else}}, naming Renovate's fields, not the template's.
HANDLEBARS = re.compile(r"\{\{\{?[#/]?\w+(?: \w+)?\}?\}\}")


def renovate_line_is_clean(line: str) -> bool:
    return not JINJA.search(HANDLEBARS.sub("", line)) and not any(
        TEMPLATE_NAMES.search(tag) for tag in HANDLEBARS.findall(line))


def leftover_jinja(root: Path) -> list[str]:
    """Template syntax that survived rendering.

    Markdown: anywhere outside fenced code (dbt's own `{{ ref() }}` inside a
    ```sql fence is content the docs teach). The dbt project's .sql and .yml
    files: dbt's own tags only (see DBT_SEGMENT above). GitHub workflows: outside
    GitHub's own ${{ }} expressions. renovate.json5: Renovate's own tags only (see
    HANDLEBARS). Every other file: anywhere.
    """
    problems = []
    for rel in sorted(files_of(root)):
        text = (root / rel).read_text(encoding="utf-8")
        lines = outside_fences(text) if rel.endswith(".md") else enumerate(text.splitlines(), 1)
        dbt = is_dbt_file(root, rel)
        workflow = rel.startswith(".github/workflows/")
        problems += [
            f"{rel}:{n}: {line.strip()}" for n, line in lines
            if JINJA.search(GITHUB_EXPRESSION.sub("", line) if workflow else line)
            and not (dbt and dbt_line_is_clean(line))
            and not (rel == "renovate.json5" and renovate_line_is_clean(line))
        ]
    return problems


def front_matter(text: str) -> dict:
    if not text.startswith("---\n"):
        return {}
    end = text.index("\n---\n", 4)
    return yaml.safe_load(text[4:end]) or {}


def body_of(text: str) -> str:
    if text.startswith("---\n"):
        return text[text.index("\n---\n", 4) + 5 :]
    return text


def thin_documents(root: Path, min_lines: int = 25) -> list[str]:
    """Markdown files that are empty or little more than headings."""
    thin = []
    for rel in sorted(r for r in files_of(root) if r.endswith(".md")):
        body = body_of((root / rel).read_text(encoding="utf-8"))
        prose = [l for l in body.splitlines() if l.strip() and not l.lstrip().startswith("#")]
        if len(prose) < min_lines:
            thin.append(f"{rel} ({len(prose)} lines of content)")
    return thin


LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)")


def heading_slugs(text: str) -> set[str]:
    slugs = set()
    for _, line in outside_fences(text):
        if line.startswith("#"):
            title = line.lstrip("#").strip().lower()
            title = re.sub(r"[^\w\- ]", "", title)
            slugs.add(re.sub(r"\s", "-", title))
    return slugs


def broken_links(root: Path) -> list[str]:
    """Relative Markdown links (and #anchors) that do not resolve."""
    broken = []
    for rel in sorted(r for r in files_of(root) if r.endswith(".md")):
        path = root / rel
        text = path.read_text(encoding="utf-8")
        for number, line in outside_fences(text):
            for target in LINK.findall(line):
                if re.match(r"^[a-z]+:", target) or target.startswith("/"):
                    continue
                file_part, _, anchor = target.partition("#")
                dest = (path.parent / file_part).resolve() if file_part else path
                if not dest.exists():
                    broken.append(f"{rel}:{number}: {target}")
                elif anchor and dest.is_file() and anchor not in heading_slugs(dest.read_text()):
                    broken.append(f"{rel}:{number}: {target} (no such heading)")
    return broken


# ---------------------------------------------------------------- the generated README

TREE_LINE = re.compile(r"^((?:│   |    )*)(?:├── |└── )(\S+)")


def readme_tree(root: Path) -> list[str]:
    """Paths drawn in README.md's "Repository layout" tree, relative to the root."""
    text = (root / "README.md").read_text(encoding="utf-8")
    block = text.split("## Repository layout", 1)[1].split("```text\n", 1)[1].split("\n```", 1)[0]
    parents: list[str] = []
    paths = []
    for line in block.splitlines()[1:]:  # the first line is the repository's own name
        match = TREE_LINE.match(line)
        assert match, f"not a tree line: {line!r}"
        depth = len(match.group(1)) // 4
        name = match.group(2).rstrip("/")
        path = f"{parents[depth - 1]}/{name}" if depth else name
        parents[depth:] = [path]
        paths.append(path)
    return paths


def readme_tree_problems(root: Path) -> list[str]:
    """What the README's tree draws that is not there, and what is there that it leaves out
    (every top-level file and folder of the render)."""
    drawn = readme_tree(root)
    missing = [p for p in drawn if not (root / p).exists()]
    top = {p.split("/")[0] for p in drawn}
    left_out = sorted(p.name for p in root.iterdir() if p.name not in top and p.name != ".git")
    return [f"drawn but absent: {p}" for p in missing] + [f"not drawn: {p}" for p in left_out]


def ci_job_commands(root: Path) -> dict[str, list[str]]:
    """Each CI job of the render and the commands it runs (first line of each step)."""
    github = root / ".github/workflows/checks.yml"
    gitlab = root / ".gitlab-ci.yml"
    if github.is_file():
        jobs = yaml.safe_load(github.read_text())["jobs"]
        steps = {name: [s["run"] for s in job["steps"] if "run" in s] for name, job in jobs.items()}
    elif gitlab.is_file():
        config = yaml.safe_load(gitlab.read_text())
        steps = {name: job["script"] for name, job in config.items()
                 if isinstance(job, dict) and "script" in job}
    else:
        return {}
    return {name: [cmd.strip().splitlines()[0] for cmd in cmds] for name, cmds in steps.items()}


def command_core(command: str) -> str:
    """The tool and its subcommand, without env assignments, `if`, `python [-m]` or a venv path:
    `SKIP=x pre-commit run --all-files` -> `pre-commit run`."""
    words = [w for w in command.split() if not re.match(r"^[A-Z_]+=", w) and w != "if"]
    while words and re.match(r"^(\S*/)?python3?$|^-m$", words[0]):
        words = words[1:]
    return " ".join(w.rsplit("/bin/", 1)[-1] for w in words[:2])


def readme_ci_mismatches(root: Path) -> list[str]:
    """CI jobs (or their commands) missing from the README's "same commands CI runs" block."""
    text = (root / "README.md").read_text(encoding="utf-8")
    block = text.split("## Checks and the docs site", 1)[1].split("```bash\n", 1)[1].split("\n```", 1)[0]
    problems = []
    for job, commands in ci_job_commands(root).items():
        if f"# {job}:" not in block:
            problems.append(f"job {job} has no block")
        problems += [f"{job}: {command_core(c)!r} not shown" for c in commands if command_core(c) not in block]
    return problems


# Ways a Python floor is stated or enforced: "3.11 or newer", "Python >= 3.11", "3.11+",
# "3.11 or 3.12", PYTHON_FLOOR := 3.11, requires-python = ">=3.11".
FLOOR = re.compile(
    r"(?:[Pp]ython\s*(?:>=|≥)\s*|PYTHON_FLOOR\s*:?=\s*|requires-python\s*=\s*\">=\s*)(3\.\d+)"
    r"|(3\.\d+)(?:\s+or\s+(?:newer|later|3\.\d+)|\+)"
)


def python_floors(root: Path) -> dict[str, list[str]]:
    """Every Python floor the render states, with where. tools/dpf.py is left out: it is
    standard library only and runs on 3.10 on purpose (it says so), not a repository floor."""
    floors: dict[str, list[str]] = {}
    for rel in sorted(files_of(root)):
        if rel == "tools/dpf.py" or rel.endswith(".json"):
            continue
        for number, line in enumerate((root / rel).read_text(encoding="utf-8").splitlines(), 1):
            for match in FLOOR.finditer(line):
                floors.setdefault(match.group(1) or match.group(2), []).append(f"{rel}:{number}")
    return floors
