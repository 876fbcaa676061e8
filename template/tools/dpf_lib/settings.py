"""Settings: dpf.toml (read with tomllib), the answers file, and where the repository is.

Every fact the tools need about the repository's layout lives in dpf.toml, which the
template renders from its own path table. DEFAULTS is only the fallback for a
repository without dpf.toml (or a dpf.toml from a release that lacked a key); the
template's tests check that it equals what a fresh render writes.
"""

from __future__ import annotations

import fnmatch
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

CONFIG_FILE = "dpf.toml"
ANSWERS_FILE = ".copier-answers.yml"
STATUSES = ("draft", "active", "deprecated")
SEVERITIES = ("error", "warning", "off")
SLUG_RE = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
SLUG_MAX = 40
# Directories never walked (matched by name at any depth); `docs` is the folder of
# symlinks the docs site builds from, the rest are tool outputs and environments.
SKIP_DIRS = frozenset({
    ".git", ".hg", ".svn", ".venv", "venv", "node_modules", "site", "docs", "target",
    "dbt_packages", "logs", "__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache",
    ".tox",
})
DEFAULTS = {
    "stale_after_days": 180,
    "stale_severity": "warning",
    "placeholder_severity": "warning",
    "ignore": [],
    "required": [],
    "products_dir": "01_Data_Products",
    "index": "01_Data_Products/README.md",
    "product_documents": ["spec.md", "api-contracts.md", "architecture.md", "changelog.md",
                          "data-product.odps.yaml", "data-contract.odcs.yaml"],
    "shared_answers": ["project_name", "project_slug", "team_name", "team_email",
                       "orchestrator", "transformation_tool", "warehouse"],
    "audience_labels": {"internal": "Internal teams", "external": "External users",
                        "both": "Internal teams and external users"},
}
# dpf.toml key -> Config field, per table.
TOML_KEYS = {
    "health": {k: k for k in ("stale_after_days", "stale_severity", "placeholder_severity", "ignore", "required")},
    "products": {"directory": "products_dir", "index": "index", "documents": "product_documents"},
    "answers": {"shared": "shared_answers"},
    "index": {"audience_labels": "audience_labels"},
}


class DpfError(Exception):
    """A problem the user must fix; printed without a traceback, exit code 2."""


@dataclass
class Config:
    stale_after_days: int
    stale_severity: str
    placeholder_severity: str
    ignore: list[str]
    required: list[str]
    products_dir: str
    index: str
    product_documents: list[str]
    shared_answers: list[str]
    audience_labels: dict[str, str]
    notes: list[str] = field(default_factory=list)

    def ignored(self, rel: str) -> bool:
        return any(fnmatch.fnmatchcase(rel, pat) or fnmatch.fnmatchcase(rel + "/", pat)
                   for pat in self.ignore)


def read_config_file(root: Path) -> dict | None:
    """dpf.toml as TOML tables, None when the repository has none."""
    path = root / CONFIG_FILE
    if not path.is_file():
        return None
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        raise DpfError(f"{CONFIG_FILE}: not UTF-8 text (TOML files must be UTF-8)") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise DpfError(f"{CONFIG_FILE}: invalid TOML: {exc}") from None


def load_config(root: Path) -> Config:
    settings = {k: (list(v) if isinstance(v, list) else dict(v) if isinstance(v, dict) else v)
                for k, v in DEFAULTS.items()}
    notes: list[str] = []
    data = read_config_file(root)
    if data is None:
        notes.append(f"no {CONFIG_FILE} at {root}; using defaults (no framework documents are required)")
    else:
        for table, keys in TOML_KEYS.items():
            values = data.get(table, {})
            for src, dst in keys.items():
                if src in values:
                    settings[dst] = values[src]
    validate(settings)
    return Config(**settings, notes=notes)


def validate(settings: dict) -> None:
    days = settings["stale_after_days"]
    if not isinstance(days, int) or isinstance(days, bool) or days < 1:
        raise DpfError(f"{CONFIG_FILE}: [health] stale_after_days must be a whole number of days >= 1")
    for key in ("stale_severity", "placeholder_severity"):
        if settings[key] not in SEVERITIES:
            raise DpfError(f"{CONFIG_FILE}: [health] {key} must be one of {', '.join(SEVERITIES)}; "
                           f"got {settings[key]!r}")
    for key in ("ignore", "required", "product_documents", "shared_answers"):
        if not isinstance(settings[key], list) or not all(isinstance(v, str) for v in settings[key]):
            raise DpfError(f"{CONFIG_FILE}: {key} must be a list of strings")
    for key in ("products_dir", "index"):
        if not isinstance(settings[key], str) or not settings[key]:
            raise DpfError(f"{CONFIG_FILE}: [products] {key} must be a non-empty string")
    labels = settings["audience_labels"]
    if not isinstance(labels, dict) or not all(isinstance(v, str) for v in labels.values()):
        raise DpfError(f"{CONFIG_FILE}: [index] audience_labels must map each audience to its label")


def products_directory(root: Path) -> str:
    """Where product folders live, for tools that only need that (tools/contracts.py)."""
    try:
        data = read_config_file(root) or {}
    except DpfError:
        data = {}
    directory = data.get("products", {}).get("directory")
    return directory if isinstance(directory, str) and directory else DEFAULTS["products_dir"]


def find_root(start: Path | None, script_repo: Path) -> Path:
    """--root, else the nearest directory upwards that holds dpf.toml or a product folder
    area, else the repository the script lives in (script_repo)."""
    if start is not None:
        root = start.resolve()
        if not root.is_dir():
            raise DpfError(f"--root {start}: not a directory")
        return root
    here = Path.cwd().resolve()
    for candidate in (here, *here.parents):
        if (candidate / CONFIG_FILE).is_file() or (candidate / DEFAULTS["products_dir"]).is_dir():
            return candidate
    if (script_repo / CONFIG_FILE).is_file() or (script_repo / ANSWERS_FILE).is_file():
        return script_repo
    return here


# ---------------------------------------------------------------------------
#  The answers file Copier writes
# ---------------------------------------------------------------------------
def read_answers(path: Path) -> dict[str, str | None]:
    """Top-level answers as text (lists and mappings as None), the way dpf compares them."""
    from .markdown import read_flat_yaml  # PyYAML: imported when needed, so that
    # tools/contracts.py, which only needs dpf.toml, can say itself that PyYAML is missing.

    try:
        return read_flat_yaml(path.read_bytes().decode("utf-8"))[0]
    except (ValueError, UnicodeDecodeError) as exc:
        raise DpfError(f"{path}: cannot read the answers file ({exc})") from None


def read_answers_safely(path: Path) -> dict[str, str | None] | None:
    try:
        return read_answers(path)
    except (DpfError, OSError):
        return None


def full_answers(path: Path) -> dict:
    """The answers file with its lists (adopted_paths) and types intact, for Copier."""
    import yaml

    try:
        data = yaml.safe_load(path.read_bytes().decode("utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError, OSError) as exc:
        raise DpfError(f"{path}: cannot read the answers file ({exc})") from None
    return data if isinstance(data, dict) else {}


def answers_problem(path: Path) -> str | None:
    """Why Copier could not use this answers file, in words a person can act on; None if it can."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        return f"cannot be read ({exc.strerror or exc})"
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return "is not text (it holds bytes that are not UTF-8)"
    if "\0" in text:
        return "is not text (it holds NUL bytes)"
    from .markdown import read_flat_yaml

    try:
        values, _ = read_flat_yaml(text)
    except ValueError as exc:
        return f"is not valid YAML ({exc})"
    if not values:
        return "holds no answers"
    missing = [key for key in ("_src_path", "_commit") if not values.get(key)]
    if missing:
        return (f"has no {' and no '.join(missing)}, so Copier cannot tell which template and "
                "release this folder was rendered from")
    return None


def restore_hint(rel: str) -> str:
    return (f"restore the last good version: `git log --oneline -- {rel}` lists its commits, then "
            f"`git checkout <commit> -- {rel}`; never edit it by hand, answer with `copier update` instead")
