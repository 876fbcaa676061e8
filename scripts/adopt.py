#!/usr/bin/env python3
"""Adopt the data-product-framework in a git repository that already exists.

Usage:
    python3 scripts/adopt.py TARGET [--src URL_OR_PATH] [--vcs-ref TAG]
                                    [--data key=value ...] [--no-commit] [--dry-run]

TARGET is a git repository (or a folder inside one) with a clean status and no
.copier-answers.yml yet. The script reads the answers the repository already
gives, renders the template with them (every other question takes its
default; --data overrides anything) and adds the framework's files to TARGET:

- Read from the files git tracks, parsed (PyYAML, tomllib) and never run:
  dbt_project.yml and its profile's output type in profiles.yml, or a SQLMesh
  config and its gateway's connection -> transformation_tool and warehouse;
  Airflow DAGs, Dagster definitions/workspace.yaml, Prefect flows/prefect.yaml
  (or those packages in requirements*.txt / pyproject.toml) -> orchestrator;
  .github/workflows/ or .gitlab-ci.yml -> ci_platform; the root README's first
  `# ` title -> project_name (kept only if the template's validator accepts it).
  Each answer is printed with the file it came from before anything is
  written; --dry-run (or --print-answers) prints them and stops.
- The starter pipeline (sample data, a dbt or SQLMesh project, a DAG, a
  Makefile) is left out: starter_pipeline=false unless --data
  starter_pipeline=true.
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
from dataclasses import dataclass, field
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
#  reading the repository: the answers it already gives
# ----------------------------------------------------------------------------
# Only files git tracks are read (never ignored files, never a symlink's
# target), as text or with PyYAML / tomllib; nothing of theirs is executed.
WAREHOUSES = ("duckdb", "postgres", "snowflake", "bigquery", "databricks")
WAREHOUSE_ALIASES = {"postgresql": "postgres", "duckdb_connection": "duckdb"}
# dbt adapters and SQLMesh extras that name a warehouse, for when no profile is tracked.
ADAPTERS = {f"dbt-{w}": w for w in WAREHOUSES}
SQLMESH_CONNECTIONS = {  # class names in a SQLMesh config.py
    "DuckDBConnectionConfig": "duckdb", "PostgresConnectionConfig": "postgres",
    "SnowflakeConnectionConfig": "snowflake", "BigQueryConnectionConfig": "bigquery",
    "DatabricksConnectionConfig": "databricks",
}
ORCHESTRATOR_PACKAGES = {"airflow": "apache-airflow", "dagster": "dagster", "prefect": "prefect"}
MAX_READ = 2_000_000  # bytes; bigger files are data, not configuration
IMPORTS = {
    name: re.compile(rf"^\s*(?:from|import)\s+{name}\b", re.MULTILINE)
    for name in ("airflow", "dagster", "prefect", "sqlmesh")
}
PREFECT_FLOW = re.compile(r"^\s*@(?:prefect\.)?flow\b", re.MULTILINE)


@dataclass
class Finding:
    """One answer read from the repository: the value, where it came from, and
    the --data entries that carry it (ci_platform was ci_provider before 1.1.0)."""

    value: object
    source: str
    data: dict = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


class RepoReader:
    """The tracked files below target, read safely."""

    def __init__(self, target: Path, files: list[str]):
        self.target = target
        self.files = files
        self.problems: list[str] = []
        self._deps: dict[str, tuple[str, set[str]]] | None = None

    def named(self, *names: str) -> list[str]:
        """Tracked files with one of these base names, shallowest first."""
        wanted = {n.lower() for n in names}
        found = [rel for rel in self.files if PurePosixPath(rel).name.lower() in wanted]
        return sorted(found, key=lambda rel: (rel.count("/"), rel))

    def text(self, rel: str) -> str | None:
        path = self.target / rel
        if path.is_symlink() or not path.is_file() or path.stat().st_size > MAX_READ:
            return None
        if not path.resolve().is_relative_to(self.target.resolve()):  # a symlinked folder
            return None
        return path.read_bytes().decode("utf-8", errors="replace")

    def yaml(self, rel: str):
        import yaml

        text = self.text(rel)
        if text is None:
            return None
        try:
            return yaml.safe_load(text)
        except (yaml.YAMLError, RecursionError) as error:
            mark = getattr(error, "problem_mark", None)
            where = f" (line {mark.line + 1})" if mark else ""
            self.problems.append(f"{rel} is not plain YAML{where}; not read")
            return None

    def toml(self, rel: str) -> dict:
        import tomllib

        text = self.text(rel)
        if text is None:
            return {}
        try:
            return tomllib.loads(text)
        except (tomllib.TOMLDecodeError, RecursionError) as error:
            self.problems.append(f"{rel} is not valid TOML ({error}); not read")
            return {}

    def python_files(self) -> list[str]:
        return [rel for rel in self.files if rel.endswith(".py")]

    def dependencies(self) -> dict[str, tuple[str, set[str]]]:
        """Python packages the repository declares: name -> (file, extras), from
        requirements*.txt / *.in and pyproject.toml (PEP 621, dependency groups, Poetry)."""
        if self._deps is not None:
            return self._deps
        from packaging.requirements import InvalidRequirement, Requirement
        from packaging.utils import canonicalize_name

        deps: dict[str, tuple[str, set[str]]] = {}

        def add(spec: str, rel: str) -> None:
            spec = spec.split(" #", 1)[0].strip().rstrip("\\").strip()  # a comment, a continuation
            if not spec or spec.startswith(("#", "-")):
                return
            try:
                req = Requirement(spec)
            except InvalidRequirement:
                return
            name = canonicalize_name(req.name)
            known = deps.setdefault(name, (rel, set()))
            known[1].update(req.extras)

        for rel in self.files:
            name = PurePosixPath(rel).name
            if re.fullmatch(r"requirements[\w.-]*\.(txt|in)", name):
                for line in (self.text(rel) or "").splitlines():
                    add(line, rel)
            elif name == "pyproject.toml":
                data = self.toml(rel)
                project = data.get("project") or {}
                specs = list(project.get("dependencies") or [])
                for group in (project.get("optional-dependencies") or {}).values():
                    specs += group or []
                for group in (data.get("dependency-groups") or {}).values():
                    specs += [s for s in group or [] if isinstance(s, str)]
                for spec in specs:
                    if isinstance(spec, str):
                        add(spec, rel)
                poetry = (data.get("tool") or {}).get("poetry") or {}
                tables = [poetry.get("dependencies") or {}, poetry.get("dev-dependencies") or {}]
                tables += [(g or {}).get("dependencies") or {} for g in (poetry.get("group") or {}).values()]
                for table in tables:
                    for package in table:
                        if package.lower() != "python":
                            add(package, rel)
        self._deps = deps
        return deps

    def depends_on(self, package: str) -> str | None:
        """The file declaring `package` or one of its plugins (`package-*`)."""
        for name, (rel, _) in sorted(self.dependencies().items()):
            if name == package or name.startswith(package + "-"):
                return f"{rel}: {name}"
        return None


def warehouse_of(kind: object, source: str) -> Finding:
    value = str(kind).strip().lower() if isinstance(kind, str) else ""
    value = WAREHOUSE_ALIASES.get(value, value)
    if value in WAREHOUSES:
        return Finding(value, source)
    return Finding(None, source, notes=[
        f"{source} is {kind!r}, which the template does not offer ({', '.join(WAREHOUSES)}): "
        "kept the default"
    ])


def dbt_warehouse(reader: RepoReader, project_file: str) -> Finding | None:
    """The type of the dbt profile's output: the profiles.yml next to
    dbt_project.yml, then the repository root, then any other tracked one."""
    project = reader.yaml(project_file)
    profile = project.get("profile") if isinstance(project, dict) else None
    if not isinstance(profile, str) or not profile:
        return None
    folder = PurePosixPath(project_file).parent
    candidates = [(folder / "profiles.yml").as_posix(), "profiles.yml", *reader.named("profiles.yml")]
    for rel in dict.fromkeys(candidates):
        if rel not in reader.files:
            continue
        profiles = reader.yaml(rel)
        entry = profiles.get(profile) if isinstance(profiles, dict) else None
        outputs = entry.get("outputs") if isinstance(entry, dict) else None
        if not isinstance(outputs, dict) or not outputs:
            continue
        outputs = {str(k): v for k, v in outputs.items() if isinstance(v, dict)}
        # The warehouse that matters is production's; a dev target on DuckDB is common.
        target = entry.get("target")
        order = [n for n in ("prod", "production") if n in outputs]
        order += [target] if isinstance(target, str) and target in outputs else []
        order += list(outputs)
        chosen = order[0]
        found = warehouse_of(outputs[chosen].get("type"), f"{rel}: outputs.{chosen}.type")
        types = {name: out.get("type") for name, out in outputs.items()}
        if len(set(map(str, types.values()))) > 1:
            found.notes.append(
                f"{rel} has outputs on several warehouses ("
                + ", ".join(f"{n}={t}" for n, t in types.items()) + f"); took {chosen}"
            )
        return found
    reader.problems.append(
        f"dbt profile {profile!r} (from {project_file}) is not in any tracked profiles.yml")
    return None


def sqlmesh_warehouse(reader: RepoReader, config_file: str) -> Finding | None:
    if config_file.endswith(".py"):
        text = reader.text(config_file) or ""
        for name in re.findall(r"\b(\w+ConnectionConfig)\b", text):
            if name in SQLMESH_CONNECTIONS:
                return Finding(SQLMESH_CONNECTIONS[name], f"{config_file}: {name}")
        return None
    config = reader.yaml(config_file)
    gateways = config.get("gateways") if isinstance(config, dict) else None
    if not isinstance(gateways, dict) or not gateways:
        return None
    name = config.get("default_gateway")
    name = name if isinstance(name, str) and name in gateways else next(iter(gateways))
    gateway = gateways[name] if isinstance(gateways[name], dict) else {}
    connection = gateway.get("connection")
    if not isinstance(connection, dict) or "type" not in connection:
        return None
    return warehouse_of(connection["type"], f"{config_file}: gateways.{name}.connection.type")


def find_sqlmesh_config(reader: RepoReader) -> str | None:
    for rel in reader.named("config.yaml", "config.yml"):
        config = reader.yaml(rel)
        if isinstance(config, dict) and ("gateways" in config or "model_defaults" in config):
            return rel
    for rel in reader.named("config.py"):
        if IMPORTS["sqlmesh"].search(reader.text(rel) or ""):
            return rel
    return None


def infer_transformation(reader: RepoReader, found: dict[str, Finding]) -> None:
    """transformation_tool, and the warehouse its configuration names."""
    # Installed dbt packages carry their own dbt_project.yml; the team's is the shallowest.
    dbt_projects = [rel for rel in reader.named("dbt_project.yml") if "dbt_packages" not in rel.split("/")]
    sqlmesh_config = find_sqlmesh_config(reader)
    tool, tool_file = None, None
    if dbt_projects:
        tool, tool_file = "dbt", dbt_projects[0]
    elif sqlmesh_config:
        tool, tool_file = "sqlmesh", sqlmesh_config
    if tool:
        found["transformation_tool"] = Finding(tool, tool_file)
        if len(dbt_projects) > 1:
            found["transformation_tool"].notes.append(
                "several dbt projects (" + ", ".join(dbt_projects) + f"); read {dbt_projects[0]}")
        if tool == "dbt" and sqlmesh_config:
            found["transformation_tool"].notes.append(f"a SQLMesh config too ({sqlmesh_config}); chose dbt")
    else:
        for name in ("dbt", "sqlmesh"):  # dbt-core or any dbt-<adapter>; sqlmesh
            source = reader.depends_on(name)
            if source:
                found["transformation_tool"] = Finding(name, source)
                break

    warehouse = None
    if tool == "dbt":
        warehouse = dbt_warehouse(reader, tool_file)
    elif tool == "sqlmesh":
        warehouse = sqlmesh_warehouse(reader, tool_file)
    if warehouse is None:
        # No readable profile or gateway: a dbt adapter or a SQLMesh extra still names it.
        for name, (rel, extras) in sorted(reader.dependencies().items()):
            extra = next((e for e in sorted(extras) if e in WAREHOUSES), None) if name == "sqlmesh" else None
            if name in ADAPTERS or extra:
                warehouse = Finding(extra or ADAPTERS[name], f"{rel}: {name}" + (f"[{extra}]" if extra else ""))
                break
    if warehouse is not None:
        found["warehouse"] = warehouse


def infer_orchestrator(reader: RepoReader, found: dict[str, Finding]) -> None:
    """Code and configuration first, declared packages second."""
    evidence: dict[str, list[str]] = {}
    for rel in reader.python_files():
        parts = PurePosixPath(rel).parts
        text = reader.text(rel) or ""
        if "dags" in parts[:-1] and IMPORTS["airflow"].search(text):
            evidence.setdefault("airflow", []).append(f"{rel}: imports airflow")
        if PurePosixPath(rel).name == "definitions.py" and IMPORTS["dagster"].search(text):
            evidence.setdefault("dagster", []).append(f"{rel}: imports dagster")
        if IMPORTS["prefect"].search(text) and PREFECT_FLOW.search(text):
            evidence.setdefault("prefect", []).append(f"{rel}: @flow")
    for rel in reader.named("workspace.yaml"):
        config = reader.yaml(rel)
        if isinstance(config, dict) and "load_from" in config:
            evidence.setdefault("dagster", []).append(f"{rel}: load_from")
    for rel in reader.named("pyproject.toml"):
        if "dagster" in ((reader.toml(rel).get("tool") or {})):
            evidence.setdefault("dagster", []).append(f"{rel}: [tool.dagster]")
    for rel in reader.named("prefect.yaml"):
        evidence.setdefault("prefect", []).append(rel)
    if not evidence:
        for name, package in ORCHESTRATOR_PACKAGES.items():
            source = reader.depends_on(package)
            if source:
                evidence[name] = [source]
    if evidence:
        chosen = next(name for name in ORCHESTRATOR_PACKAGES if name in evidence)
        found["orchestrator"] = Finding(chosen, evidence[chosen][0])
        others = [f"{name} ({sources[0]})" for name, sources in evidence.items() if name != chosen]
        if others:
            found["orchestrator"].notes.append(f"also found {', '.join(others)}; chose {chosen}")


def infer_ci(reader: RepoReader, found: dict[str, Finding]) -> None:
    github = [rel for rel in reader.files
              if rel.startswith(".github/workflows/") and rel.endswith((".yml", ".yaml"))]
    gitlab = ".gitlab-ci.yml" in reader.files
    if github or gitlab:
        chosen = "github" if github else "gitlab"
        source = github[0] if github else ".gitlab-ci.yml"
        found["ci_platform"] = Finding(chosen, source, data={"ci_platform": chosen, "ci_provider": chosen})
        if github and gitlab:
            found["ci_platform"].notes.append("both .github/workflows/ and .gitlab-ci.yml; chose github")


def readme_title(reader: RepoReader) -> Finding | None:
    """The first `# ` heading of the root README, outside code fences."""
    for rel in reader.files:
        if "/" in rel or rel.lower() not in ("readme.md", "readme.markdown"):
            continue
        fence = None
        for line in (reader.text(rel) or "").splitlines():
            stripped = line.strip()
            marker = re.match(r"(`{3,}|~{3,})", stripped)
            if marker:
                fence = None if fence and stripped.startswith(fence) else (fence or marker.group(1))
                continue
            if fence is None and line.startswith("# "):
                title = re.sub(r"\s+#+\s*$", "", line[2:]).strip()
                title = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", title)  # [text](link) -> text
                # Emphasis and code marks, and a leading emoji or badge, are not part of the name.
                title = re.sub(r"^[^\w]+", "", title.replace("**", "").replace("`", "")).strip()
                if title:
                    return Finding(title, f"{rel}: first '# ' title")
        return None
    return None


def infer_answers(target: Path) -> tuple[dict[str, Finding], list[str]]:
    """What the repository says about the template's questions, and the files it
    could not read."""
    reader = RepoReader(target, their_files(target))
    found: dict[str, Finding] = {}
    for infer in (infer_transformation, infer_orchestrator, infer_ci):
        infer(reader, found)
    title = readme_title(reader)
    if title:
        found["project_name"] = title
    for finding_key, finding in found.items():
        if not finding.data and finding.value is not None:
            finding.data = {finding_key: finding.value}
    return found, list(dict.fromkeys(reader.problems))


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
    if "ci_platform" in data:  # the question's name before 1.1.0, for adopting an old release
        data.setdefault("ci_provider", data["ci_platform"])
    if "adopted_paths" in data:
        raise Refused("--data adopted_paths is not accepted: the adoption computes it from your files")
    if data.get("scope", "repository") != "repository":
        raise Refused(
            "adoption adds the whole framework (scope=repository); to add one more product "
            "folder to an adopted repository use `python tools/dpf.py add-product`"
        )
    return data


def check_target(target: Path, allow_dirty: bool = False) -> None:
    if not target.is_dir():
        raise Refused(f"{target} is not a folder")
    code, out, _ = git_ok(target, "rev-parse", "--is-inside-work-tree")
    if code != 0 or out.strip() != "true":
        raise Refused(f"{target} is not inside a git repository: run `git init` and commit your files first")
    status = "" if allow_dirty else git(target, "status", "--porcelain", "--untracked-files=all")
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



# The answers the report shows, and what it says when the repository is silent.
REPORTED = {
    "project_name": "no '# ' title in a root README.md",
    "transformation_tool": "no dbt_project.yml, SQLMesh config or dbt/sqlmesh package",
    "warehouse": "no dbt profile, SQLMesh gateway or adapter package naming one",
    "orchestrator": "no Airflow DAG, Dagster definitions or Prefect flow; "
                    "--data orchestrator=none if you use none",
    "ci_platform": "no .github/workflows/ or .gitlab-ci.yml",
    "starter_pipeline": "",
}
VALIDATION_ERROR = re.compile(r"Validation error for question '(\w+)': (.*)", re.DOTALL)


def adoption_answers(target: Path, user: dict) -> tuple[dict[str, Finding], list[str]]:
    """What the repository says, less what --data overrides, plus the starter
    pipeline left out: an existing data repository gets no sample data, second
    dbt project or DAG unless asked."""
    found, problems = infer_answers(target)
    found["starter_pipeline"] = Finding(False, "left out when adopting; --data starter_pipeline=true adds it",
                                        data={"starter_pipeline": False})
    for finding in found.values():
        if set(finding.data) & set(user):
            finding.data = {}
    return found, problems


def render_settled(src: str, dst: Path, user: dict, found: dict[str, Finding],
                   vcs_ref: str | None, only_answers: bool = False) -> dict:
    """Render with the inferred answers under --data; an inferred answer the
    template's validator refuses (a README title it cannot use) is dropped for
    the default, with the reason. Returns the data used."""
    while True:
        data = {k: v for f in found.values() for k, v in f.data.items()}
        data.update(user)
        try:
            render(src, dst, data, vcs_ref, only_answers=only_answers)
            return data
        except ValueError as error:
            match = VALIDATION_ERROR.search(str(error))
            culprit = next((f for f in found.values() if match and match.group(1) in f.data), None)
            if culprit is None:
                raise
            culprit.notes.append(f"{culprit.value!r} from {culprit.source} refused by the template "
                                 f"({match.group(2).strip().rstrip('.')}): kept the default")
            culprit.value, culprit.data = None, {}
            shutil.rmtree(dst, ignore_errors=True)


def starter_wanted(user: dict) -> bool:
    value = user.get("starter_pipeline", False)
    return value if isinstance(value, bool) else str(value).strip().lower() in ("true", "yes", "y", "on", "1")


def show(value: object) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def print_answers(target: Path, answers: dict, found: dict[str, Finding], user: dict,
                  problems: list[str], pinned: dict) -> None:
    version = answers.get("_commit") or "HEAD"
    print(f"Answers for {target} ({TEMPLATE_NAME} {version}); override any with --data KEY=VALUE:")
    for key, silent in REPORTED.items():
        if key in pinned:  # a release from before the question: recorded for later ones
            why = "from --data" if key in user else "left out when adopting"
            print(f"  {key} = {show(pinned[key])} ({why}; {version} does not ask it: recorded for later releases)")
            continue
        shown = key if key in answers else ("ci_provider" if key == "ci_platform" else None)
        if shown not in answers:
            continue  # not a question of this release
        finding = found.get(key)
        if key in user or (key == "ci_platform" and "ci_provider" in user):
            why = "from --data"
        elif finding and finding.value is not None and answers[shown] == finding.value:
            why = f"from {finding.source}" if key != "starter_pipeline" else finding.source
        else:
            why = "template default" + (f": {silent}" if silent and not (finding and finding.notes) else "")
        print(f"  {shown} = {show(answers[shown])} ({why})")
        for note in finding.notes if finding else []:
            print(f"      {note}")
    for problem in problems:
        print(f"  note: {problem}")
    print("Every other answer is the template's default.", flush=True)


def adopt(target: Path, src: str, vcs_ref: str | None, data: dict, commit: bool,
          dry_run: bool = False) -> int:
    import yaml

    check_target(target, allow_dirty=dry_run)
    found, problems = adoption_answers(target, data)
    with tempfile.TemporaryDirectory(prefix="dpf-adopt.") as tmp:
        probe, final = Path(tmp) / "probe", Path(tmp) / "final"
        try:
            render_settled(src, probe, data, found, vcs_ref, only_answers=dry_run)
        except Exception as error:  # noqa: BLE001
            raise Refused(f"Copier could not render the template ({type(error).__name__}): {error}") from None
        answers = yaml.safe_load((probe / ANSWERS_FILE).read_text(encoding="utf-8")) or {}
        pinned = {} if "starter_pipeline" in answers else {"starter_pipeline": starter_wanted(data)}
        print_answers(target, answers, found, data, problems, pinned)  # before anything is written
        if dry_run:
            print("Dry run: nothing was written.")
            return 0
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
        if legacy or pinned:
            # A release from before adoption support neither records nor
            # excludes the paths, nor asks starter_pipeline: record them here
            # (updates to a release that knows the questions keep them, and
            # do not add the starter pipeline).
            extra = {**({"adopted_paths": adopted} if legacy else {}), **pinned}
            with open(final / ANSWERS_FILE, "a", encoding="utf-8") as out:
                out.write(yaml.safe_dump(extra, default_flow_style=False))
            recorded = yaml.safe_load((final / ANSWERS_FILE).read_text(encoding="utf-8"))
        changed = {k for k in set(answers) | set(recorded) if answers.get(k) != recorded.get(k)}
        expected_changes = ({"adopted_paths"} if adopted else set()) | set(pinned)
        if changed != expected_changes or recorded.get("adopted_paths", []) != adopted:
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
    parser.add_argument("--dry-run", "--print-answers", action="store_true", dest="dry_run",
                        help="print the answers read from the repository and write nothing")
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
        return adopt(args.target.resolve(), src, vcs_ref, data, commit=not args.no_commit,
                     dry_run=args.dry_run)
    except Refused as refusal:
        print(f"adopt: refused: {refusal}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
