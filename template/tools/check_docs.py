#!/usr/bin/env python3
"""check_docs: are the examples in this repository's documents true to the repository?

Shipped by the data-product-framework Copier template as tools/check_docs.py.
It reads the Markdown documents git tracks (README.md and the numbered areas, 01_.../ to
11_.../) and checks every fenced block it knows how to check:

    ```sql     runs against the DuckDB file `make run` builds (opened read-only; a block that
               writes runs on a throwaway copy instead), or, when the warehouse is not DuckDB
               (the answers file says which) or there is no starter pipeline, parses with
               sqlglot in the warehouse's dialect. dbt's ref(), source(), config(), var()
               and env_var() with a default, and is_incremental() (as on a first build) are
               resolved first; other Jinja fails the block. A SQLMesh MODEL/AUDIT header is
               set aside (quoted alone, its name must be a model of the repository).
    ```python  compiles; every import of a repository module (pipelines.orders.load) resolves
               to a file and, for `from x import name`, to a name it defines; any other import
               is the standard library's, installed here, in a requirements*.txt or
               requirements*.lock file, or imported by the repository's own code
    ```yaml / ```json / ```toml   parse
    ```bash / ```sh / ```console   every make target, repository path, `python -m` module and
               flag of the repository's own tools (tools/*.py, python -m pipelines.run) exists;
               a shell block that names none of these is not counted
    ```dockerfile   every COPY/ADD source (globs allowed; not --from=, not URLs) exists in
               the repository, the build context; RUN lines are checked like shell lines

A block of any language that quotes a file of the repository says so on the line before
its fence:

    <!-- excerpt: .github/workflows/checks.yml -->

Its lines must then appear in that file (the path is from the repository root) in the same
order, which keeps a quoted CI job, Makefile rule or hook true to the real file. Blank lines
are ignored, and so are lines that are only `...` or `# ...`, which mark what the quote
leaves out; each line is compared without its trailing whitespace, but with its indentation
(a line the file indents with tabs may be indented with spaces in the document). The block
fails on the first line not found in order, or when the file does not exist.

The same references in inline code (`make run`, `transform/models/...`) are checked too and
counted apart. A block that is deliberately illustrative (a sketch for another warehouse, a
pattern on tables the starter does not have) carries this marker on the line before its fence:

    <!-- illustrative -->

It is counted apart and not checked; illustrative blocks may be at most --max-illustrative
percent (default 10) of the blocks of the kinds above.

Figures: runnable = checked blocks that pass / checked blocks (blocks not marked), as a
percentage; the command fails (exit 1) below --min (default 100: every checked block
must pass, so one broken example fails CI) or above the illustrative limit; exit 2 when
something needed is missing (duckdb, sqlglot, PyYAML, the DuckDB file).

Run it where the pipeline is installed (duckdb's version must be the one that wrote the file):
`make check-docs` builds the warehouse (make run), installs what the check needs from its lock
and runs it. By hand, the same through dpf.py or this file alone:

    make run
    .venv/bin/python -m pip install -r tools/requirements-check-docs.txt
    .venv/bin/python tools/dpf.py check-docs [--json] [--min PERCENT] [--max-illustrative 10]
    .venv/bin/python tools/check_docs.py [the same options]

With --parse-only no warehouse is needed (the SQL is parsed, not run): the pre-commit hook
runs it that way on every commit that changes a Markdown file.

Settings (optional) in dpf.toml, section [docs]: database = "path/to/file.duckdb" (default: the
Makefile's DATABASE), dialect = "snowflake" (default: the warehouse answer).
"""

from __future__ import annotations

import argparse
import ast
import fnmatch
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import threading
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

MARKER = "<!-- illustrative -->"
EXCERPT_RE = re.compile(r"^<!--\s*excerpt:\s*(\S+)\s*-->$")
ELISION_RE = re.compile(r"^\s*(#\s*)?\.\.\.\s*$")  # `...` or `# ...`: lines left out of a quote
CONFIG_FILE = "dpf.toml"
ANSWERS_FILE = ".copier-answers.yml"
DOCUMENT_RE = re.compile(r"^(README\.md|\d\d_[^/]+/.+\.md)$")
# Folders whose files are never documents (docs/ holds the site's symlinks to the areas).
SKIP_DIRS = frozenset({"docs", "site", ".venv", ".venv-docs", "node_modules", "target", "dbt_packages"})
FENCE_RE = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,})\s*(?P<info>[^`]*)$")
SQL, PYTHON, DATA, SHELL, DOCKER, EXCERPT = "sql", "python", "data", "shell", "docker", "excerpt"
KINDS = {"sql": SQL, "python": PYTHON, "py": PYTHON, "yaml": DATA, "yml": DATA, "json": DATA,
         "toml": DATA, "bash": SHELL, "sh": SHELL, "shell": SHELL, "console": SHELL, "zsh": SHELL,
         "dockerfile": DOCKER, "docker": DOCKER}
DIALECTS = {"duckdb": "duckdb", "postgres": "postgres", "snowflake": "snowflake",
            "bigquery": "bigquery", "databricks": "databricks", "redshift": "redshift"}
BLOCK_TIMEOUT = 20  # seconds per SQL block, then DuckDB is interrupted
INSTALL_HINT = ("install what the check needs where the pipeline runs: `make check-docs` does it from "
                "its lock, or .venv/bin/python -m pip install -r tools/requirements-check-docs.txt "
                "(then run .venv/bin/python tools/dpf.py check-docs)")


class CheckError(Exception):
    """Something the check needs is missing; printed without a traceback, exit code 2."""


@dataclass
class Block:
    path: str
    line: int  # line of the opening fence, 1-based
    lang: str
    text: str
    illustrative: bool
    data: list | None = None  # what a yaml block parsed to
    excerpt: str | None = None  # the repository file the block quotes (excerpt marker)


@dataclass
class Failure:
    path: str
    line: int
    kind: str
    message: str


@dataclass
class Repo:
    root: Path
    files: list[str]
    file_set: set[str] = field(default_factory=set)
    dirs: set[str] = field(default_factory=set)
    make_targets: set[str] | None = None
    dependencies: set[str] = field(default_factory=set)
    _defined: dict[str, set[str] | None] = field(default_factory=dict)
    _flags: dict[str, set[str]] = field(default_factory=dict)
    _ignored: dict[str, bool] = field(default_factory=dict)

    @classmethod
    def load(cls, root: Path) -> "Repo":
        files = listed_files(root)
        repo = cls(root, files, set(files))
        for rel in files:
            parts = rel.split("/")
            repo.dirs.update("/".join(parts[:n]) for n in range(1, len(parts)))
        repo.make_targets = read_make_targets(root / "Makefile") if "Makefile" in repo.file_set else None
        repo.dependencies = read_dependencies(root, files) | imported_by_code(root, files)
        return repo

    # -- paths ---------------------------------------------------------------
    def path_exists(self, rel: str, doc: str) -> bool:
        rel = rel.rstrip("/")
        if not rel or rel in self.file_set or rel in self.dirs or (self.root / rel).exists():
            return True
        here = posix_join(doc.rsplit("/", 1)[0] if "/" in doc else "", rel)
        if here and (here in self.file_set or here in self.dirs):
            return True
        # A path inside a tool's own folder (models/marts/... in transform/) names it too.
        suffix = "/" + rel
        if any(f.endswith(suffix) for f in self.file_set) or any(d.endswith(suffix) for d in self.dirs):
            return True
        return self.build_output(rel)

    def context_has(self, source: str) -> bool:
        """A COPY/ADD source, relative to the repository root (the build context); globs allowed."""
        if source.rstrip("/") in (".", ""):
            return True  # the whole context
        rel = posix_join("", source.removeprefix("./"))
        if not rel:
            return False  # outside the context
        if any(ch in rel for ch in "*?["):
            pattern = rel.rstrip("/")
            return any(fnmatch.fnmatchcase(f, pattern) for f in self.file_set | self.dirs)
        return rel.rstrip("/") in self.file_set or rel.rstrip("/") in self.dirs

    def build_output(self, rel: str) -> bool:
        """Inside a folder .gitignore keeps out as a tool's output (target/, data/warehouse/):
        `make run` or the tool writes it. A file pattern (*.duckdb) does not count."""
        if rel not in self._ignored:
            self._ignored[rel] = False
            # As a folder too: before the tool has run, git cannot tell data/warehouse is one.
            for candidate in (rel, rel + "/"):
                out = subprocess.run(["git", "check-ignore", "--no-index", "-v", candidate], cwd=self.root,
                                     capture_output=True, text=True)
                pattern = out.stdout.split("\t", 1)[0].split(":", 2)[-1] if out.returncode == 0 else ""
                if pattern.endswith("/") and not pattern.startswith("!"):
                    self._ignored[rel] = True
                    break
        return self._ignored[rel]

    # -- the tools' own settings ---------------------------------------------
    def dbt_targets(self) -> set[str] | None:
        """Targets the dbt profiles define (None: no profiles.yml, or no PyYAML to read it)."""
        profiles = [f for f in self.files if f.rsplit("/", 1)[-1] == "profiles.yml"]
        try:
            import yaml
        except ImportError:
            return None
        if not profiles:
            return None
        targets: set[str] = set()
        for rel in profiles:
            try:
                data = yaml.safe_load((self.root / rel).read_text(encoding="utf-8"))
            except (yaml.YAMLError, OSError, UnicodeDecodeError):
                continue
            for profile in (data or {}).values() if isinstance(data, dict) else ():
                if isinstance(profile, dict) and isinstance(profile.get("outputs"), dict):
                    targets.update(str(name) for name in profile["outputs"])
        return targets

    def sqlmesh_gateways(self) -> set[str] | None:
        """Gateways of a SQLMesh config.py (`gateways = {...}` or Config(gateways={...}))."""
        configs = [f for f in self.files if f.rsplit("/", 1)[-1] == "config.py"
                   and (self.root / f).read_text(encoding="utf-8", errors="replace").count("sqlmesh")]
        if not configs:
            return None
        gateways: set[str] = set()
        for rel in configs:
            try:
                tree = ast.parse((self.root / rel).read_bytes())
            except (SyntaxError, ValueError):
                continue
            for node in ast.walk(tree):
                value = None
                if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "gateways" for t in node.targets):
                    value = node.value
                elif isinstance(node, ast.keyword) and node.arg == "gateways":
                    value = node.value
                if isinstance(value, ast.Dict):
                    gateways.update(k.value for k in value.keys if isinstance(k, ast.Constant) and isinstance(k.value, str))
        return gateways

    # -- python modules -------------------------------------------------------
    def top_packages(self) -> set[str]:
        names = set()
        for rel in self.files:
            if rel.endswith(".py"):
                names.add(rel.split("/")[0].removesuffix(".py"))
        return names

    def module_file(self, dotted: str) -> str | None:
        base = dotted.replace(".", "/")
        for rel in (f"{base}.py", f"{base}/__init__.py"):
            if rel in self.file_set:
                return rel
        if base in self.dirs and any(f.startswith(base + "/") and f.endswith(".py") for f in self.files):
            return base  # a namespace package
        return None

    def defined_names(self, rel: str) -> set[str] | None:
        """Top-level names a module file binds; None when it cannot be parsed."""
        if rel not in self._defined:
            names: set[str] | None = set()
            if rel.endswith(".py"):
                try:
                    tree = ast.parse((self.root / rel).read_bytes())
                except (SyntaxError, ValueError, OSError):
                    tree = None
                if tree is None:
                    names = None
                else:
                    for node in tree.body:
                        names |= bound_names(node)
            self._defined[rel] = names
        return self._defined[rel]

    def tool_flags(self, rel: str) -> set[str]:
        """Option strings and subcommands an argparse tool (file or package) declares."""
        if rel not in self._flags:
            sources = [rel] if rel.endswith(".py") else [f for f in self.files if f.startswith(rel + "/") and f.endswith(".py")]
            if rel.endswith(".py"):
                sources += self.local_package_sources(rel)
            flags: set[str] = {"-h", "--help"}
            for source in sources:
                try:
                    tree = ast.parse((self.root / source).read_bytes())
                except (SyntaxError, ValueError, OSError):
                    continue
                for node in ast.walk(tree):
                    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                            and node.func.attr in ("add_argument", "add_parser"):
                        for arg in node.args:
                            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                                flags.add(arg.value)
            self._flags[rel] = flags
        return self._flags[rel]


    def local_package_sources(self, rel: str) -> list[str]:
        """The .py files beside a tool that it imports, directly or through them: a thin entry
        point such as tools/dpf.py declares its options in tools/dpf_lib/, and its check-docs
        command takes them from tools/check_docs.py."""
        folder = rel.rpartition("/")[0]
        seen, todo = {rel}, [rel]
        while todo:
            try:
                tree = ast.parse((self.root / todo.pop()).read_bytes())
            except (SyntaxError, ValueError, OSError):
                continue
            names: set[str] = set()
            for node in ast.walk(tree):
                if isinstance(node, ast.ImportFrom) and node.module and not node.level:
                    names.add(node.module.split(".")[0])
                elif isinstance(node, ast.Import):
                    names.update(alias.name.split(".")[0] for alias in node.names)
            for name in sorted(names):
                base = posix_join(folder, name)
                found = [f"{base}.py"] if f"{base}.py" in self.file_set else \
                    [f for f in self.files if f.startswith(base + "/") and f.endswith(".py")]
                for source in found:
                    if source not in seen:
                        seen.add(source)
                        todo.append(source)
        return sorted(seen - {rel})


def posix_join(base: str, rel: str) -> str:
    parts: list[str] = [p for p in base.split("/") if p]
    for part in rel.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if not parts:
                return ""
            parts.pop()
        else:
            parts.append(part)
    return "/".join(parts)


def bound_names(node: ast.stmt) -> set[str]:
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {node.name}
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return {(a.asname or a.name).split(".")[0] for a in node.names}
    names: set[str] = set()
    targets = []
    if isinstance(node, ast.Assign):
        targets = node.targets
    elif isinstance(node, (ast.AnnAssign, ast.AugAssign)):
        targets = [node.target]
    elif isinstance(node, (ast.If, ast.Try)):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.stmt):
                names |= bound_names(child)
        for handler in getattr(node, "handlers", []):
            for child in handler.body:
                names |= bound_names(child)
    for target in targets:
        for sub in ast.walk(target):
            if isinstance(sub, ast.Name):
                names.add(sub.id)
    return names


def listed_files(root: Path) -> list[str]:
    """The files tools/dpf.py walks (tracked plus untracked ones git does not ignore)."""
    from dpf_lib.health import git_listed_files  # beside this file: tools/ is on the path

    listed = git_listed_files(root)
    if listed is None:
        raise CheckError(f"{root} is not inside a git work tree (or git is missing)")
    return [rel for rel in listed
            if (root / rel).is_file() and not any(p in SKIP_DIRS for p in rel.split("/")[:-1])]


def read_make_targets(makefile: Path) -> set[str]:
    targets: set[str] = set()
    for line in makefile.read_text(encoding="utf-8", errors="replace").splitlines():
        match = re.match(r"^([A-Za-z0-9_.\-/ $()]+?)\s*::?(?!=)", line)
        if match and not line.startswith("\t"):
            targets.update(t for t in match.group(1).split() if "$" not in t and not t.startswith("."))
        if line.startswith(".PHONY:"):
            targets.update(line.split(":", 1)[1].split())
    return targets


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()


def read_dependencies(root: Path, files: list[str]) -> set[str]:
    """Import names the repository installs: its requirements files and their locks, whose
    pinned dependencies of dependencies are installed too (pydantic comes with dbt)."""
    names: set[str] = set()
    for rel in files:
        base = rel.rsplit("/", 1)[-1]
        if not (base.startswith("requirements") and base.endswith((".txt", ".lock"))):
            continue
        for line in (root / rel).read_text(encoding="utf-8", errors="replace").splitlines():
            match = re.match(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)", line)
            if match and not line.lstrip().startswith("-"):
                dist = normalize(match.group(1))
                names.add(dist)
                if base.endswith(".txt"):  # what the team asked for, not every lock entry's parts
                    names.update(dist.split("_"))  # dbt_core -> dbt, apache_airflow -> airflow
    names.update(IMPORT_NAMES.get(dist, dist) for dist in list(names))
    return names


def imported_by_code(root: Path, files: list[str]) -> set[str]:
    """Top-level modules the repository's own code imports (pendulum for an Airflow DAG)."""
    names: set[str] = set()
    for rel in files:
        if not rel.endswith(".py"):
            continue
        try:
            tree = ast.parse((root / rel).read_bytes())
        except (SyntaxError, ValueError, OSError):
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names.update(normalize(a.name.split(".")[0]) for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(normalize(node.module.split(".")[0]))
    return names


# Distributions whose import name is not their own name.
IMPORT_NAMES = {"pyyaml": "yaml", "python_dateutil": "dateutil", "duckdb_engine": "duckdb",
                "beautifulsoup4": "bs4", "scikit_learn": "sklearn", "pymarkdownlnt": "pymarkdown"}


# ---------------------------------------------------------------------------
#  Markdown
# ---------------------------------------------------------------------------
def parse_blocks(rel: str, text: str) -> tuple[list[Block], list[tuple[int, str]]]:
    """Fenced blocks, and (line, line text) of every line outside them."""
    blocks: list[Block] = []
    prose: list[tuple[int, str]] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        match = FENCE_RE.match(lines[i])
        if not match:
            prose.append((i + 1, lines[i]))
            i += 1
            continue
        fence, info = match.group("fence"), match.group("info").strip()
        lang = info.split()[0].strip("{}.").lower() if info else ""
        start = i
        body: list[str] = []
        i += 1
        closing = "^ {0,3}" + re.escape(fence[0]) + "{" + str(len(fence)) + ",}\\s*$"
        while i < len(lines) and not re.match(closing, lines[i]):
            body.append(lines[i][len(match.group("indent")):] if lines[i].startswith(match.group("indent")) else lines[i])
            i += 1
        i += 1  # the closing fence (or the end of the file)
        previous = next((lines[j].strip() for j in range(start - 1, -1, -1) if lines[j].strip()), "")
        quoted = EXCERPT_RE.match(previous)
        blocks.append(Block(rel, start + 1, lang, "\n".join(body) + "\n", previous == MARKER,
                            excerpt=quoted.group(1) if quoted else None))
    return blocks, prose


# ---------------------------------------------------------------------------
#  References: make targets, paths, modules, tool flags
# ---------------------------------------------------------------------------
PATH_EXTS = (".py", ".sql", ".yml", ".yaml", ".toml", ".md", ".txt", ".json", ".csv", ".duckdb", ".cfg",
             ".ini", ".jinja", ".json5", ".lock", ".sh")
PATH_RE = re.compile(r"^[A-Za-z0-9_.][A-Za-z0-9_.\-/]*$")
PYTHON_RE = re.compile(r"^(?:\S*/)?python(?:3(?:\.\d+)?)?$")


def looks_like_path(token: str) -> bool:
    token = token.strip("'\"`,;:()")
    if not PATH_RE.match(token) or token.startswith(("-", "http", "www.")) or "//" in token:
        return False
    if token.startswith(("path/to/", "/path/to/")):
        return False  # the placeholder convention: the reader puts their own path there
    if "/" not in token:
        return False  # a bare file name could be anywhere (or nowhere in particular)
    last = token.rstrip("/").rsplit("/", 1)[-1]
    if token.endswith("/"):
        return bool(last) and "." not in last  # a folder: transform/models/
    return last.lower().endswith(PATH_EXTS)


DOTTED_RE = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)+$")


def check_dotted(dotted: str, repo: Repo) -> list[str]:
    """pipelines.orders.load or pipelines.orders.load.load_day: the module, then the name in it."""
    parts = dotted.split(".")
    for n in range(len(parts), 0, -1):
        found = repo.module_file(".".join(parts[:n]))
        if found is None:
            continue
        rest = parts[n:]
        if not rest:
            return []
        defined = repo.defined_names(found)
        if len(rest) == 1 and (defined is None or rest[0] in defined):
            return []
        return [f"`{dotted}`: {found} defines no `{rest[0]}`"]
    return [f"`{dotted}`: no module {parts[0]} in this repository"]


def check_command(words: list[str], repo: Repo, doc: str) -> list[str]:
    """Problems with one shell command: make targets, python -m modules and tool flags, paths."""
    problems: list[str] = []
    while words and re.match(r"^[A-Z_][A-Z0-9_]*=", words[0]):  # VAR=value prefixes
        words = words[1:]
    if not words:
        return problems
    head = words[0]
    if head == "make" and repo.make_targets is not None:
        for word in words[1:]:
            if word.startswith("-") or "=" in word:
                continue
            if word not in repo.make_targets:
                problems.append(f"`make {word}`: the Makefile has no target `{word}`")
    elif head == "make" and repo.make_targets is None:
        problems.append("`make`: this repository has no Makefile")
    elif PYTHON_RE.match(head) and len(words) > 1:
        tool = None
        rest = words[1:]
        if rest[0] == "-m" and len(rest) > 1:
            module = rest[1]
            top = module.split(".")[0]
            if top not in repo.top_packages() and not known_module(top, repo):
                problems.append(f"`python -m {module}`: neither a repository module nor a declared dependency")
            elif top in repo.top_packages():
                found = repo.module_file(module)
                if found is None:
                    problems.append(f"`python -m {module}`: no module {module} in this repository")
                elif found.endswith("/__init__.py") or not found.endswith(".py"):
                    tool = found.removesuffix("/__init__.py")  # a package: its flags anywhere in it
                else:
                    tool = found
            rest = rest[2:]
        elif rest[0].endswith(".py") or rest[0].rstrip("/") in repo.dirs:
            script = rest[0]
            if repo.path_exists(script, doc):
                tool = script.removeprefix("./")
            else:
                problems.append(f"`{script}`: no such file in this repository")
            rest = rest[1:]
        if tool and (tool in repo.file_set or tool in repo.dirs):  # flags of a file we can read
            flags = repo.tool_flags(tool)
            subcommands_expected = any(not f.startswith("-") for f in flags)
            for n, word in enumerate(rest):
                if word.startswith("-") and word != "-":
                    flag = word.split("=", 1)[0]
                    if flag not in flags:
                        problems.append(f"`{flag}`: {tool} has no such option")
                elif n == 0 and subcommands_expected and re.match(r"^[a-z][a-z0-9-]*$", word) and word not in flags:
                    problems.append(f"`{word}`: {tool} has no such command")
    elif tool_name(head) in ("dbt", "sqlmesh", "dagster"):
        problems += check_tool_options(tool_name(head), words[1:], repo)
    for word in words[1:]:
        if looks_like_path(word) and not word.startswith("~") and not repo.path_exists(word.strip("'\"`,;:()"), doc):
            problems.append(f"`{word.strip(chr(39) + chr(34))}`: no such path in this repository")
    return problems


def tool_name(word: str) -> str:
    return word.rsplit("/", 1)[-1]


def option_value(words: list[str], names: tuple[str, ...]) -> str | None:
    for n, word in enumerate(words):
        if word in names and n + 1 < len(words):
            return words[n + 1]
        for name in names:
            if name.startswith("--") and word.startswith(name + "="):
                return word.split("=", 1)[1]
    return None


def check_tool_options(tool: str, words: list[str], repo: Repo) -> list[str]:
    """The values that name this repository's settings: dbt's target, SQLMesh's gateway,
    the module Dagster loads."""
    if tool == "dbt":
        target = option_value(words, ("--target", "-t"))
        targets = repo.dbt_targets()
        if target and targets is not None and target not in targets:
            return [f"`--target {target}`: the dbt profiles define {', '.join(sorted(targets)) or 'no target'}"]
    elif tool == "sqlmesh":
        gateway = option_value(words, ("--gateway",))
        gateways = repo.sqlmesh_gateways()
        if gateway and gateways is not None and gateway not in gateways:
            return [f"`--gateway {gateway}`: the SQLMesh config defines {', '.join(sorted(gateways)) or 'no gateway'}"]
    elif tool == "dagster":
        module = option_value(words, ("-m", "--module-name"))
        if module and re.match(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$", module) and repo.module_file(module) is None:
            return [f"`-m {module}`: no module {module} in this repository"]
    return []


def shell_commands(text: str) -> list[tuple[int, list[str]]]:
    """(line offset, words) of each simple command of a shell block (prompts and comments dropped)."""
    commands: list[tuple[int, list[str]]] = []
    joined = ""
    first = 0
    for n, raw in enumerate(text.splitlines()):
        line = re.sub(r"^\s*(\$|>|#\s*\$)\s+", "", raw) if re.match(r"^\s*\$\s", raw) else raw
        if not joined:
            first = n
        if line.rstrip().endswith("\\"):
            joined += line.rstrip()[:-1] + " "
            continue
        joined += line
        try:
            lexer = shlex.shlex(joined, posix=True, punctuation_chars=";&|()<>")
            lexer.whitespace_split = True
            lexer.commenters = "#"
            tokens = list(lexer)
        except ValueError:
            tokens = joined.split()
        joined = ""
        words: list[str] = []
        for token in tokens + [";"]:
            if token and set(token) <= set(";&|()<>"):
                if words:
                    commands.append((first, words))
                words = []
            else:
                words.append(token)
    return commands


def check_shell(block: Block, repo: Repo) -> list[Failure]:
    failures = []
    for offset, words in shell_commands(block.text):
        for problem in check_command(words, repo, block.path):
            failures.append(Failure(block.path, block.line + 1 + offset, "reference", problem))
    return failures


def shell_is_checkable(block: Block, repo: Repo) -> bool:
    for _, words in shell_commands(block.text):
        while words and re.match(r"^[A-Z_][A-Z0-9_]*=", words[0]):
            words = words[1:]
        if words and (words[0] == "make" or (PYTHON_RE.match(words[0]) and len(words) > 1)
                      or tool_name(words[0]) in ("dbt", "sqlmesh", "dagster")
                      or any(looks_like_path(w) for w in words[1:])):
            return True
    return False


INLINE_RE = re.compile(r"(?<!`)`([^`\n]+)`(?!`)")


def inline_references(prose: list[tuple[int, str]], repo: Repo) -> list[tuple[int, str]]:
    """(line, code) of inline code that names a command, a path or a repository module."""
    found = []
    packages = repo.top_packages()
    for line, text in prose:
        for match in INLINE_RE.finditer(text):
            code = match.group(1).strip()
            if code.startswith(COMMANDS) or looks_like_path(code) \
                    or (DOTTED_RE.match(code) and code.split(".")[0] in packages and not code.endswith(".py")):
                found.append((line, code))
    return found


COMMANDS = ("make ", "python ", "python3 ", ".venv/bin/", "dbt ", "sqlmesh ", "dagster ")


def check_inline(code: str, repo: Repo, doc: str) -> list[str]:
    if " " in code:
        return check_command(code.split(), repo, doc)
    if looks_like_path(code):
        return [] if repo.path_exists(code, doc) else [f"`{code}`: no such path in this repository"]
    return check_dotted(code, repo)


# ---------------------------------------------------------------------------
#  Blocks
# ---------------------------------------------------------------------------
def ci_commands(data) -> list[str]:
    """Shell commands of a CI file quoted in a yaml block: GitHub's `run:`, GitLab's `script:`."""
    found: list[str] = []
    if isinstance(data, dict):
        for key, value in data.items():
            if key == "run" and isinstance(value, str):
                found.append(value)
            elif key in ("script", "before_script", "after_script") and isinstance(value, (list, str)):
                found += [v for v in (value if isinstance(value, list) else [value]) if isinstance(v, str)]
            else:
                found += ci_commands(value)
    elif isinstance(data, list):
        for item in data:
            found += ci_commands(item)
    return found


def check_yaml_commands(block: Block, documents: list, repo: Repo) -> list[Failure]:
    failures = []
    lines = block.text.splitlines()
    for command in (c for data in documents for c in ci_commands(data)):
        for offset, words in shell_commands(command):
            problems = check_command(words, repo, block.path)
            if problems:
                first = command.splitlines()[offset].strip() if offset < len(command.splitlines()) else ""
                at = next((n for n, line in enumerate(lines) if first and first in line), -1)
                failures += [Failure(block.path, block.line + 1 + at, "reference", p) for p in problems]
    return failures


def same_line(quoted: str, line: str) -> bool:
    """A quoted line equals the file's line (both without trailing whitespace). A line the file
    indents with tabs (a Makefile recipe) may be indented with spaces in the document, where
    Markdown lint forbids hard tabs."""
    if quoted == line:
        return True
    return line.startswith("\t") and quoted[:1].isspace() and quoted.lstrip() == line.lstrip()


def check_excerpt(block: Block, repo: Repo) -> str | None:
    """The block quotes block.excerpt: its lines (blank lines and `...` / `# ...` elisions
    aside) appear in that file in the same order."""
    rel = block.excerpt.removeprefix("./")
    target = repo.root / rel
    inside = posix_join("", rel) == rel.rstrip("/")  # no way out of the repository with ..
    if not inside or not target.is_file():
        return f"excerpt of `{block.excerpt}`: no such file in this repository"
    lines = [line.rstrip() for line in target.read_text(encoding="utf-8", errors="replace").splitlines()]
    at = 0  # the file's lines before `at` are used up
    for n, raw in enumerate(block.text.splitlines(), start=1):
        quoted = raw.rstrip()
        if not quoted.strip() or ELISION_RE.match(quoted):
            continue
        found = next((i for i in range(at, len(lines)) if same_line(quoted, lines[i])), None)
        if found is None:
            earlier = any(same_line(quoted, line) for line in lines[:at])
            where = f"not after line {at} of {rel} (it comes earlier: out of order)" if earlier \
                else f"not in {rel}"
            return f"excerpt line {n} `{quoted.strip()}`: {where}"
        at = found + 1
    return None


DOCKER_INSTRUCTION_RE = re.compile(r"^\s*([A-Za-z]+)\s+(.*)$", re.S)


def dockerfile_instructions(text: str) -> list[tuple[int, str, str]]:
    """(line offset, INSTRUCTION, arguments) with continuation lines joined, comments dropped."""
    found: list[tuple[int, str, str]] = []
    joined, first = "", 0
    for n, line in enumerate(text.splitlines()):
        if not joined:
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            first = n
        elif line.lstrip().startswith("#"):
            continue  # a comment inside a continued instruction
        if line.rstrip().endswith("\\"):
            joined += line.rstrip()[:-1] + " "
            continue
        joined += line
        match = DOCKER_INSTRUCTION_RE.match(joined)
        if match:
            found.append((first, match.group(1).upper(), match.group(2).strip()))
        joined = ""
    return found


def docker_sources(args: str) -> list[str] | None:
    """The sources of a COPY/ADD (None for --from=, which copies out of another image)."""
    if args.startswith("["):
        try:
            words = [str(w) for w in json.loads(args)]
        except ValueError:
            words = args.split()
    else:
        try:
            words = shlex.split(args, posix=True)
        except ValueError:  # an unclosed quote
            words = args.split()
    if any(w.startswith("--from") for w in words):
        return None
    paths = [w for w in words if not w.startswith("--")]
    return [p for p in paths[:-1] if not p.startswith("<<")]  # the last is the destination; <<EOF a heredoc


def check_dockerfile(block: Block, repo: Repo) -> list[Failure]:
    """COPY/ADD sources exist in the repository (the build context), RUN lines like shell."""
    failures = []
    for offset, instruction, args in dockerfile_instructions(block.text):
        line = block.line + 1 + offset
        if instruction in ("COPY", "ADD"):
            for source in docker_sources(args) or []:
                if re.match(r"^[a-z][a-z0-9+.-]*://|^git@", source) or "$" in source:
                    continue  # a URL, or a build argument only the build knows
                if not repo.context_has(source):
                    failures.append(Failure(block.path, line, "reference",
                                            f"`{instruction} {source}`: no such path in this repository"))
        elif instruction == "RUN":
            args = re.sub(r"^(--\S+\s+)+", "", args)  # RUN --mount=... --network=...: options of the build
            if args.startswith("["):
                try:
                    commands = [(0, [str(w) for w in json.loads(args)])]
                except ValueError:
                    commands = shell_commands(args)
            else:
                commands = shell_commands(args)
            for _, words in commands:
                failures += [Failure(block.path, line, "reference", p) for p in check_command(words, repo, block.path)]
    return failures


def check_data(block: Block) -> str | None:
    try:
        if block.lang in ("yaml", "yml"):
            import yaml  # PyYAML: in tools/requirements.txt
            block.data = list(yaml.safe_load_all(block.text))
        elif block.lang == "json":
            json.loads(block.text)
        else:
            tomllib.loads(block.text)
    except ImportError:
        raise CheckError("PyYAML is needed to parse ```yaml blocks; " + INSTALL_HINT) from None
    except Exception as exc:  # each parser's own error type
        return f"{block.lang} does not parse: {one_line(exc)}"
    return None


def check_python(block: Block, repo: Repo) -> list[str]:
    try:
        tree = ast.parse(block.text)
        compile(tree, block.path, "exec")
    except SyntaxError as exc:
        return [f"python does not compile (block line {exc.lineno}): {exc.msg}"]
    problems = []
    packages = repo.top_packages()
    for node in ast.walk(tree):
        modules: list[tuple[str, list[str]]] = []
        if isinstance(node, ast.Import):
            modules = [(a.name, []) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules = [(node.module, [a.name for a in node.names])]
        for module, names in modules:
            top = module.split(".")[0]
            if top in packages:
                found = repo.module_file(module)
                if found is None:
                    problems.append(f"import of `{module}`: no such module in this repository")
                    continue
                for name in names:
                    if name == "*" or repo.module_file(f"{module}.{name}"):
                        continue
                    defined = repo.defined_names(found)
                    if defined is not None and name not in defined:
                        problems.append(f"`from {module} import {name}`: {found} defines no `{name}`")
            elif not known_module(top, repo):
                problems.append(f"import of `{module}`: neither a repository module nor a declared dependency")
    return problems


def known_module(top: str, repo: Repo) -> bool:
    if top in sys.stdlib_module_names or normalize(top) in repo.dependencies or top == "__future__":
        return True
    import importlib.util
    try:
        return importlib.util.find_spec(top) is not None
    except (ImportError, ValueError):
        return False


def one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text[:300] + ("…" if len(text) > 300 else "")


# Written with [{] and [}] so that no template engine takes this file for a template.
JINJA_EXPR = re.compile(r"[{][{]-?\s*(.*?)\s*-?[}][}]", re.S)
JINJA_ANY = re.compile(r"[{][{]|[{]%|[{]#")


def jinja(body: str) -> str:
    return "{" * 2 + f" {body} " + "}" * 2


def resolve_dbt(sql: str, relations: dict[str, str]) -> tuple[str, str | None]:
    """dbt's ref/source/config replaced by relation names; (sql, problem)."""
    sql = re.sub(r"[{]#.*?#[}]", "", sql, flags=re.S)
    sql = re.sub(r"[{]%-?\s*if\s+is_incremental\(\)\s*-?%[}].*?[{]%-?\s*endif\s*-?%[}]", "", sql, flags=re.S)
    problem = None

    def expr(match: re.Match) -> str:
        nonlocal problem
        body = match.group(1)
        call = re.match(r"^(ref|source)\(\s*(.*?)\s*\)$", body, re.S)
        if re.match(r"^config\(", body):
            return ""
        if call:
            args = [a.strip().strip("'\"") for a in call.group(2).split(",") if a.strip()]
            if call.group(1) == "ref":
                name = args[-1]
                return relations.get(name, name)
            return relations.get(f"{args[0]}.{args[-1]}", ".".join(args[-2:]))
        if re.match(r"^(var|env_var)\(", body):
            default = re.search(r",\s*(['\"]?)(.*?)\1\s*\)$", body)
            if default:
                return default.group(2)  # what dbt uses when the variable is not set
            problem = problem or f"Jinja without a value here: {jinja(body)}"
            return ""
        problem = problem or f"Jinja the check cannot render: {jinja(body)}"
        return ""

    sql = JINJA_EXPR.sub(expr, sql)
    if JINJA_ANY.search(sql):
        tag = re.search(r"[{]%.*?%[}]", sql, re.S)
        problem = problem or f"Jinja the check cannot render: {tag.group(0) if tag else 'a Jinja tag'}"
    return sql, problem


SQLMESH_MACRO_VALUES = {"start_ds": "'2026-01-01'", "end_ds": "'2026-01-01'", "execution_ds": "'2026-01-01'",
                        "start_date": "date '2026-01-01'", "end_date": "date '2026-01-01'",
                        "start_ts": "timestamp '2026-01-01 00:00:00'", "end_ts": "timestamp '2026-01-01 23:59:59'",
                        "start_dt": "timestamp '2026-01-01 00:00:00'", "end_dt": "timestamp '2026-01-01 23:59:59'"}


def strip_sqlmesh(sql: str) -> tuple[str, str | None, str | None]:
    """A SQLMesh model or audit: (its query with the date macros given a value, the kind of
    header it had, the name in that header). The header itself is not SQL."""
    match = re.match(r"^\s*(?:--[^\n]*\n\s*)*(MODEL|AUDIT)\s*\(", sql, re.I)
    header = name = None
    if match:
        depth, i = 1, match.end()
        while i < len(sql) and depth:
            depth += {"(": 1, ")": -1}.get(sql[i], 0)
            i += 1
        header = match.group(1).upper()
        found = re.search(r"\bname\s+([\w.\"]+)", sql[match.end():i], re.I)
        name = found.group(1).replace('"', "") if found else None
        sql = sql[i:].lstrip().removeprefix(";").lstrip()
    sql = re.sub(r"@(\w+)", lambda m: SQLMESH_MACRO_VALUES.get(m.group(1).lower(), m.group(0)), sql)
    return sql, header, name


def sqlmesh_models(repo: Repo) -> set[str]:
    """Names declared in the MODEL headers of the repository's .sql files."""
    names = set()
    for rel in repo.files:
        if rel.endswith(".sql"):
            text = (repo.root / rel).read_text(encoding="utf-8", errors="replace")
            _, header, name = strip_sqlmesh(text)
            if header == "MODEL" and name:
                names.add(name.lower())
    return names


class DuckRunner:
    """Runs blocks against the DuckDB file: read-only, or a throwaway copy once a document writes."""

    def __init__(self, database: Path):
        try:
            import duckdb
        except ImportError:
            raise CheckError("duckdb is needed to run the ```sql blocks against " + str(database) + "; "
                             + INSTALL_HINT) from None
        self.duckdb = duckdb
        self.database = database
        self.readonly = duckdb.connect(str(database), read_only=True)
        self.version = duckdb.__version__
        self.scratch_dir = Path(tempfile.mkdtemp(prefix="check-docs-"))
        self.scratch = None
        self.scratch_doc = None
        self.relations = {}
        for schema, name in self.readonly.execute(
                "select table_schema, table_name from information_schema.tables").fetchall():
            self.relations.setdefault(name, f"{schema}.{name}")
            self.relations.setdefault(f"{schema}.{name}", f"{schema}.{name}")

    def run(self, sql: str, doc: str) -> str | None:
        con = self.scratch if self.scratch_doc == doc else self.readonly
        problem = self._execute(con, sql)
        if problem and "read-only" in problem.lower() and con is self.readonly:
            if self.scratch is not None:
                self.scratch.close()
            copy = self.scratch_dir / self.database.name  # same catalog name as the real file
            copy.unlink(missing_ok=True)
            shutil.copyfile(self.database, copy)
            self.scratch, self.scratch_doc = self.duckdb.connect(str(copy)), doc
            problem = self._execute(self.scratch, sql)
        return problem

    def _execute(self, con, sql: str) -> str | None:
        timer = threading.Timer(BLOCK_TIMEOUT, con.interrupt)
        timer.start()
        try:
            for statement in split_statements(sql):
                con.execute(statement).fetchall()
        except Exception as exc:  # duckdb.Error and its kin
            try:
                con.execute("rollback")
            except Exception:
                pass
            return one_line(exc)
        finally:
            timer.cancel()
        return None

    def close(self) -> None:
        self.readonly.close()
        if self.scratch is not None:
            self.scratch.close()
        shutil.rmtree(self.scratch_dir, ignore_errors=True)


def split_statements(sql: str) -> list[str]:
    """Statements of a block, split on semicolons outside quotes and comments."""
    out, current, quote, i = [], [], None, 0
    while i < len(sql):
        ch = sql[i]
        if quote:
            current.append(ch)
            if ch == quote:
                quote = None
        elif ch in "'\"":
            quote = ch
            current.append(ch)
        elif sql.startswith("--", i):
            end = sql.find("\n", i)
            i = len(sql) if end < 0 else end
            continue
        elif sql.startswith("/*", i):
            end = sql.find("*/", i + 2)
            i = len(sql) if end < 0 else end + 2
            continue
        elif ch == ";":
            out.append("".join(current))
            current = []
        else:
            current.append(ch)
        i += 1
    out.append("".join(current))
    return [s for s in (s.strip() for s in out) if s]


class Parser:
    def __init__(self, dialect: str):
        try:
            import sqlglot
            from sqlglot.errors import ErrorLevel
        except ImportError:
            raise CheckError(f"sqlglot is needed to parse the ```sql blocks as {dialect}; " + INSTALL_HINT) from None
        self.sqlglot, self.level, self.dialect = sqlglot, ErrorLevel.RAISE, dialect
        self.version = sqlglot.__version__
        import logging
        logging.getLogger("sqlglot").setLevel(logging.ERROR)  # its "falling back to Command" notes

    def run(self, sql: str, doc: str) -> str | None:
        try:
            # Statements sqlglot does not model (GRANT, CREATE ROLE...) come back as a Command:
            # they pass, as sqlglot itself lets them through.
            self.sqlglot.parse(sql, read=self.dialect, error_level=self.level)
        except Exception as exc:  # sqlglot.errors.ParseError, TokenError
            return f"does not parse as {self.dialect}: {one_line(exc)}"
        return None


# ---------------------------------------------------------------------------
#  Settings
# ---------------------------------------------------------------------------
def read_settings(root: Path) -> dict:
    path = root / CONFIG_FILE
    if not path.is_file():
        return {}
    try:
        return tomllib.loads(path.read_text(encoding="utf-8")).get("docs", {})
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise CheckError(f"{CONFIG_FILE}: invalid TOML: {exc}") from None


def read_answer(root: Path, key: str) -> str | None:
    path = root / ANSWERS_FILE
    if not path.is_file():
        return None
    match = re.search(rf"^{key}:\s*['\"]?([^'\"\s#]+)", path.read_text(encoding="utf-8", errors="replace"), re.M)
    return match.group(1) if match else None


def makefile_database(root: Path) -> str | None:
    makefile = root / "Makefile"
    if not makefile.is_file():
        return None
    match = re.search(r"^DATABASE\s*[?:]?=\s*(\S+)", makefile.read_text(encoding="utf-8", errors="replace"), re.M)
    return match.group(1) if match else None


def sql_runner(root: Path, settings: dict, parse_only: bool):
    warehouse = read_answer(root, "warehouse") or "duckdb"
    dialect = settings.get("dialect") or DIALECTS.get(warehouse, warehouse)
    database = settings.get("database") or makefile_database(root)
    if dialect == "duckdb" and database and not parse_only:
        path = root / database
        if not path.is_file():
            raise CheckError(f"{database} does not exist: build it first with `make run` "
                             "(or pass --parse-only to only parse the SQL)")
        runner = DuckRunner(path)
        return runner, f"executed against {database} (duckdb {runner.version})"
    parser = Parser(dialect)
    return parser, f"parsed as {dialect} (sqlglot {parser.version})"


# ---------------------------------------------------------------------------
#  The check
# ---------------------------------------------------------------------------
def check(root: Path, parse_only: bool = False) -> dict:
    repo = Repo.load(root)
    documents = [rel for rel in repo.files if DOCUMENT_RE.match(rel)]
    failures: list[Failure] = []
    per_lang: dict[str, dict[str, int]] = {}
    totals = {"blocks": 0, "checkable": 0, "illustrative": 0, "checked": 0, "passed": 0}
    refs = {"checked": 0, "passed": 0}
    runner, sql_mode = None, None
    parsed = [(rel, *parse_blocks(rel, (root / rel).read_text(encoding="utf-8", errors="replace")))
              for rel in documents]
    if any(b.lang == "sql" and not b.illustrative and not b.excerpt for _, blocks, _ in parsed for b in blocks):
        runner, sql_mode = sql_runner(root, read_settings(root), parse_only)
    dbt = (read_answer(root, "transformation_tool") or "dbt") == "dbt"
    try:
        for rel, blocks, prose in parsed:
            for block in blocks:
                totals["blocks"] += 1
                kind = EXCERPT if block.excerpt and not block.illustrative else KINDS.get(block.lang)
                if kind is None or (kind == SHELL and not block.illustrative and not shell_is_checkable(block, repo)):
                    continue
                label = EXCERPT if kind == EXCERPT else block.lang
                stats = per_lang.setdefault(label, {"checked": 0, "passed": 0, "illustrative": 0})
                totals["checkable"] += 1
                if block.illustrative:
                    totals["illustrative"] += 1
                    stats["illustrative"] += 1
                    continue
                totals["checked"] += 1
                stats["checked"] += 1
                found = check_block(block, kind, repo, runner, dbt)
                if found:
                    failures.extend(found)
                else:
                    totals["passed"] += 1
                    stats["passed"] += 1
            for line, code in inline_references(prose, repo):
                refs["checked"] += 1
                problems = check_inline(code, repo, rel)
                if problems:
                    failures.extend(Failure(rel, line, "inline-reference", p) for p in problems)
                else:
                    refs["passed"] += 1
    finally:
        if isinstance(runner, DuckRunner):
            runner.close()
    failures.sort(key=lambda f: (f.path, f.line))
    kinds: dict[str, int] = {}
    for failure in failures:
        label = failure_label(failure)
        kinds[label] = kinds.get(label, 0) + 1
    return {
        "documents": len(documents),
        "sql": sql_mode or "no sql blocks to check",
        "blocks": {**totals,
                   "runnable_percent": percent(totals["passed"], totals["checked"]),
                   "illustrative_percent": percent(totals["illustrative"], totals["checkable"])},
        "languages": per_lang,
        "references": {**refs, "existing_percent": percent(refs["passed"], refs["checked"])},
        "failure_kinds": dict(sorted(kinds.items(), key=lambda kv: -kv[1])),
        "failures": [f.__dict__ for f in failures],
    }


def check_block(block: Block, kind: str, repo: Repo, runner, dbt: bool) -> list[Failure]:
    def fail(message: str, kind_name: str) -> Failure:
        return Failure(block.path, block.line, kind_name, message)

    if kind == DATA:
        problem = check_data(block)
        if problem:
            return [fail(problem, block.lang)]
        return check_yaml_commands(block, block.data, repo) if block.data else []
    if kind == PYTHON:
        return [fail(p, "python") for p in dict.fromkeys(check_python(block, repo))]
    if kind == SHELL:
        return check_shell(block, repo)
    if kind == EXCERPT:
        problem = check_excerpt(block, repo)
        return [fail(problem, "excerpt")] if problem else []
    if kind == DOCKER:
        return check_dockerfile(block, repo)
    sql = block.text
    if JINJA_ANY.search(sql):
        relations = runner.relations if isinstance(runner, DuckRunner) else {}
        sql, problem = resolve_dbt(sql, relations)
        if problem:
            return [fail(problem, "sql-jinja")]
    if not dbt:
        sql, header, name = strip_sqlmesh(sql)
        if header == "MODEL" and not split_statements(sql):
            # A model's header quoted alone: it must name a model of this repository.
            if name and name.lower() in sqlmesh_models(repo):
                return []
            return [fail(f"MODEL header names `{name}`, which no model of this repository declares", "sql")]
    if not split_statements(sql):
        return [fail("empty sql block", "sql")]
    problem = runner.run(sql, block.path)
    return [fail(problem, "sql")] if problem else []


def failure_label(failure: Failure) -> str:
    """A short kind for the summary: sql errors by DuckDB's class, references by what is missing."""
    if failure.kind == "sql":
        match = re.match(r"^(\w+ Error)", failure.message)
        return f"sql: {match.group(1)}" if match else "sql: " + failure.message.split(":")[0][:40]
    if "reference" in failure.kind:
        for what in ("Makefile has no target", "dbt profiles define", "SQLMesh config defines", "no such path", "no such option", "no such command",
                     "no module", "defines no", "no such file", "no Makefile", "declared dependency"):
            if what in failure.message:
                return f"{failure.kind}: {what}"
    if failure.kind == "python":
        return "python: " + ("compile" if "compile" in failure.message else "import")
    return failure.kind


def percent(part: int, whole: int) -> float:
    return round(100.0 * part / whole, 1) if whole else 100.0


def find_root(start: Path) -> Path:
    out = subprocess.run(["git", "rev-parse", "--show-toplevel"], cwd=start, capture_output=True, text=True)
    if out.returncode != 0:
        raise CheckError(f"{start} is not inside a git work tree")
    return Path(out.stdout.strip())


def add_options(parser: argparse.ArgumentParser, root: bool = True) -> None:
    """The check's options, on its own parser or on `dpf.py check-docs` (which has its --root)."""
    if root:
        parser.add_argument("--root", type=Path, help="repository root (default: found from the current directory)")
    parser.add_argument("--json", action="store_true", help="print the figures and failures as JSON")
    parser.add_argument("--min", type=float, default=100.0, metavar="PERCENT",
                        help="fail below this share of checked blocks that pass (default 100: any failing block fails)")
    parser.add_argument("--max-illustrative", type=float, default=10.0, metavar="PERCENT",
                        help=f"fail above this share of blocks marked {MARKER} (default 10)")
    parser.add_argument("--parse-only", action="store_true",
                        help="parse the SQL with sqlglot instead of running it against the DuckDB file")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="check_docs.py", description=__doc__.split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    add_options(parser)
    return run(parser.parse_args(argv))


def run(args: argparse.Namespace) -> int:
    """The check with parsed options: prints the figures, returns the exit code."""
    try:
        root = (args.root or find_root(Path.cwd())).resolve()
        result = check(root, parse_only=args.parse_only)
    except CheckError as exc:
        print(f"check_docs: {exc}", file=sys.stderr)
        return 2
    blocks = result["blocks"]
    # Unrounded shares: at --min 100 one failing block fails the check however many pass.
    too_few = (100.0 * blocks["passed"] / blocks["checked"] if blocks["checked"] else 100.0) < args.min
    too_many_marked = (100.0 * blocks["illustrative"] / blocks["checkable"]
                       if blocks["checkable"] else 0.0) > args.max_illustrative
    result["ok"] = not too_few and not too_many_marked
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        for failure in result["failures"]:
            print(f"{failure['path']}:{failure['line']}: {failure['kind']}: {failure['message']}")
        refs = result["references"]
        print(f"\n{result['documents']} documents; sql {result['sql']}")
        print(f"blocks: {blocks['passed']}/{blocks['checked']} runnable ({blocks['runnable_percent']}%, "
              f"minimum {args.min:g}%); {blocks['illustrative']} of {blocks['checkable']} marked illustrative "
              f"({blocks['illustrative_percent']}%, maximum {args.max_illustrative:g}%)")
        for lang, stats in sorted(result["languages"].items()):
            print(f"  {lang}: {stats['passed']}/{stats['checked']}" + (
                f", {stats['illustrative']} illustrative" if stats["illustrative"] else ""))
        print(f"inline references: {refs['passed']}/{refs['checked']} exist ({refs['existing_percent']}%)")
        if result["failure_kinds"]:
            print("failures by kind: " + ", ".join(f"{k} {n}" for k, n in result["failure_kinds"].items()))
        if too_few:
            print(f"Fix each failing example above, or, for a deliberate sketch, put {MARKER} on the line before its fence.")
        if too_many_marked:
            print(f"More than {args.max_illustrative:g}% of the blocks are marked illustrative: "
                  "make some of them run against this repository instead.")
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
