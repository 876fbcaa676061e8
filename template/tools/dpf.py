#!/usr/bin/env python3
"""dpf: keep a Data Product Framework repository healthy.

Shipped by the data-product-framework Copier template as tools/dpf.py.
Standard library only (Python >= 3.11, the repository's floor); run it from anywhere in the repository:

    python tools/dpf.py health [--json]     check documents, links, markers and the product index
    python tools/dpf.py index [--check]     regenerate (or verify) the product table
    python tools/dpf.py add-product "Customers" [--slug customers]
                                            render one more product folder with Copier
    python tools/dpf.py update [--to v1.3.0] [--product customers] [--trust]
                                            update the root and every product the way
                                            Renovate does, each in a temporary git worktree,
                                            then bring the results in at once
    python tools/dpf.py update --data orchestrator=dagster [--data KEY=VALUE ...]
                                            change an answer (a shared one for the root and
                                            every product) keeping every file your team
                                            edited or created that the new answer drops

Settings live in dpf.toml at the repository root (section [health] and [products]).
Findings print as `path:line: severity: check: message`; line 0 means the finding is
about the file as a whole (for example, the file is missing).
"""

from __future__ import annotations

import argparse
import datetime as dt
import fnmatch
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote

try:  # Python >= 3.11
    import tomllib
except ModuleNotFoundError:  # pragma: no cover - exercised on Python 3.10 only
    tomllib = None

CONFIG_FILE = "dpf.toml"
ANSWERS_FILE = ".copier-answers.yml"
INDEX_START = "<!-- products:start -->"
INDEX_END = "<!-- products:end -->"
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
# Root answers passed on to a new product so it renders against the same stack.
SHARED_ANSWERS = (
    "project_name", "project_slug", "team_name", "team_email", "team_contact",
    "orchestrator", "transformation_tool", "warehouse",
)
# How the template labels product_audience in the index (macros.jinja LABELS | capitalize).
AUDIENCE_LABELS = {
    "internal": "Internal teams",
    "external": "External users",
    "both": "Internal teams and external users",
}
DEFAULTS = {
    "stale_after_days": 180,
    "stale_severity": "warning",
    "placeholder_severity": "warning",
    "ignore": [],
    "required": [],
    "products_dir": "01_Data_Products",
    "index": "01_Data_Products/README.md",
    "product_documents": ["spec.md", "api-contracts.md", "architecture.md", "changelog.md"],
}


class DpfError(Exception):
    """A problem the user must fix; printed without a traceback, exit code 2."""


# ---------------------------------------------------------------------------
#  A tiny YAML reader for the flat files the template writes
# ---------------------------------------------------------------------------
_KEY_RE = re.compile(r"""^(?P<key>'[^']*'|"[^"]*"|[^\s#'"\-?:][^:#]*?|-[^\s:#][^:#]*?)\s*:(?:[ \t]+(?P<rest>.*))?\s*$""")
_DQ_ESCAPES = {
    "0": "\0", "a": "\a", "b": "\b", "t": "\t", "\t": "\t", "n": "\n", "v": "\v", "f": "\f",
    "r": "\r", "e": "\x1b", " ": " ", '"': '"', "/": "/", "\\": "\\", "N": "\x85",
    "_": "\xa0", "L": "\u2028", "P": "\u2029",
}
_DQ_ESCAPE_RE = re.compile(r"\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|.)", re.S)


def _fold(lines: list[str]) -> str:
    """YAML line folding of a multi-line flow scalar whose lines are already trimmed:
    a single break becomes a space, n+1 breaks (n empty lines) become n newlines.
    The first and last lines are content even when empty."""
    out = lines[0] if lines else ""
    pending = 0
    for n, line in enumerate(lines[1:], start=1):
        if not line and n < len(lines) - 1:
            pending += 1
            continue
        out += ("\n" * pending if pending else " ") + line
        pending = 0
    return out


def _find_close(text: str, quote: str) -> int:
    """Index of the closing quote in text (text starts after the opening quote), or -1."""
    i = 0
    while i < len(text):
        ch = text[i]
        if quote == "'" and ch == "'":
            if text[i + 1:i + 2] == "'":
                i += 2
                continue
            return i
        if quote == '"':
            if ch == "\\":
                i += 2
                continue
            if ch == '"':
                return i
        i += 1
    return -1


def _quoted(rest: str, cont: list[str]) -> str:
    quote = rest[0]
    raw = "\n".join([rest[1:]] + cont)
    end = _find_close(raw, quote)
    if end < 0:
        raise ValueError("unterminated quoted string")
    lines = raw[:end].split("\n")
    if quote == "'":
        if len(lines) == 1:
            return lines[0].replace("''", "'")
        parts = [lines[0].rstrip(" \t")] + [ln.strip(" \t") for ln in lines[1:-1]]
        parts.append(lines[-1].lstrip(" \t"))
        return _fold(parts).replace("''", "'")
    # Double quoted: a line ending in an odd number of backslashes continues without a space.
    pieces: list[str] = []
    for n, line in enumerate(lines):
        if n:
            line = line.lstrip(" \t")
        if n < len(lines) - 1:
            stripped = line.rstrip(" \t")
            backslashes = len(stripped) - len(stripped.rstrip("\\"))
            if backslashes % 2:
                pieces.append(stripped[:-1] + "\x00JOIN\x00")
                continue
            line = stripped
        pieces.append(line)
    folded = _fold([p for p in pieces]).replace("\x00JOIN\x00 ", "").replace("\x00JOIN\x00", "")

    def unescape(match: re.Match) -> str:
        code = match.group(1)
        if code[0] in "xuU" and len(code) > 1:
            return chr(int(code[1:], 16))
        return _DQ_ESCAPES.get(code, "\\" + code)

    return _DQ_ESCAPE_RE.sub(unescape, folded)


def _block(header: str, cont: list[str]) -> str:
    literal = header.startswith("|")
    chomp = "-" if "-" in header else "+" if "+" in header else ""
    indents = [len(ln) - len(ln.lstrip(" ")) for ln in cont if ln.strip()]
    indent = min(indents) if indents else 0
    lines = [ln[indent:] if ln.strip() else "" for ln in cont]
    while chomp != "+" and lines and not lines[-1]:
        lines.pop()
    if literal:
        text = "\n".join(lines)
    else:
        text = lines[0] if lines else ""
        for n in range(1, len(lines)):
            line, prev = lines[n], lines[n - 1]
            if not line:
                text += "\n"
            elif not prev:
                text += line
            elif line.startswith((" ", "\t")) or prev.startswith((" ", "\t")):
                text += "\n" + line
            else:
                text += " " + line
    return text if chomp == "-" else text + "\n"


def _scalar(rest: str, cont: list[str]) -> str | None:
    rest = rest.strip()
    if rest[:1] in ("'", '"'):
        return _quoted(rest, cont)
    if rest[:1] in ("|", ">") and re.fullmatch(r"[|>][-+0-9]*(\s+#.*)?", rest):
        return _block(rest.split()[0], cont)
    if not rest and cont and re.match(r"\s*(- |-$|[^\s:#]+:(\s|$))", cont[0]):
        return None  # a nested list or mapping: not needed by dpf
    parts = ([rest] if rest else []) + [ln.strip() for ln in cont]
    parts = [re.sub(r"(^|\s+)#.*$", "", p) if "#" in p else p for p in parts]
    while len(parts) > 1 and not parts[-1]:
        parts.pop()
    value = _fold(parts)
    closing = {"[": "]", "{": "}"}.get(value[:1])
    if closing and not value.rstrip().endswith(closing):
        raise ValueError(f"unclosed {value[0]} (a YAML list or mapping that never ends)")
    return None if value in ("~", "null", "Null", "NULL") else value


def parse_flat_yaml(text: str) -> tuple[dict[str, str | None], dict[str, int]]:
    """Parse top-level `key: value` pairs. Returns (values, 1-based line of each key).

    Supports plain, single- and double-quoted scalars (including PyYAML's folded
    continuation lines), block scalars, comments and a leading `---`. Nested
    collections are recorded as None. Raises ValueError on a line it cannot read.
    """
    lines = [ln.rstrip("\r") for ln in text.split("\n")]
    values: dict[str, str | None] = {}
    where: dict[str, int] = {}
    i = 0
    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        if not stripped or stripped.startswith("#") or stripped in ("---", "..."):
            i += 1
            continue
        if line[:1] in (" ", "\t"):
            raise ValueError(f"line {i + 1}: unexpected indentation")
        match = _KEY_RE.match(line)
        if not match:
            raise ValueError(f"line {i + 1}: expected `key: value`, got {line.strip()[:60]!r}")
        key = match.group("key").strip()
        if key[:1] in ("'", '"'):
            key = key[1:-1]
        j = i + 1
        # PyYAML writes a list under a key without indenting it ("- item").
        while j < len(lines) and (
            lines[j][:1] in (" ", "\t") or not lines[j].strip() or lines[j].startswith("- ")
        ):
            j += 1
        cont = lines[i + 1:j]
        while cont and not cont[-1].strip():  # blank lines before the next key
            cont.pop()
        if not (match.group("rest") or "").strip() and any(c.startswith("- ") for c in cont):
            values[key], where[key] = None, i + 1
            i = j
            continue
        try:
            values[key] = _scalar(match.group("rest") or "", cont)
        except ValueError as exc:
            raise ValueError(f"line {i + 1}: {exc}") from None
        where[key] = i + 1
        i = j
    return values, where


def read_answers(path: Path) -> dict[str, str | None]:
    try:
        return parse_flat_yaml(path.read_bytes().decode("utf-8"))[0]
    except (ValueError, UnicodeDecodeError) as exc:
        raise DpfError(f"{path}: cannot read the answers file ({exc})") from None


# ---------------------------------------------------------------------------
#  Configuration (dpf.toml)
# ---------------------------------------------------------------------------
def _mini_toml(text: str) -> dict:
    """Just enough TOML for dpf.toml on Python 3.10 (no tomllib): tables, comments,
    integers, booleans, basic/literal strings and (multi-line) arrays of those."""
    data: dict = {}
    table = data
    token = re.compile(r"""\s*(?:("(?:[^"\\]|\\.)*")|('[^']*')|(-?\d+)|(true|false)|(\[)|(\])|(,)|(\#[^\n]*)|(\n))""")

    def scan(s: str) -> list:
        items, pos = [], 0
        while pos < len(s):
            if s[pos:].strip(" \t") == "":
                break
            m = token.match(s, pos)
            if not m:
                raise ValueError(f"cannot read {s[pos:pos + 30]!r}")
            pos = m.end()
            dq, sq, num, boolean, open_, close, comma, comment, newline = m.groups()
            if dq is not None:
                items.append(("v", json.loads(dq)))
            elif sq is not None:
                items.append(("v", sq[1:-1]))
            elif num is not None:
                items.append(("v", int(num)))
            elif boolean is not None:
                items.append(("v", boolean == "true"))
            elif open_ or close or comma:
                items.append((open_ or close or comma, None))
        return items

    def value(items: list, pos: int):
        kind, val = items[pos]
        if kind == "v":
            return val, pos + 1
        if kind != "[":
            raise ValueError("expected a value")
        out, pos = [], pos + 1
        while items[pos][0] != "]":
            val, pos = value(items, pos)
            out.append(val)
            if items[pos][0] == ",":
                pos += 1
        return out, pos + 1

    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i].strip()
        i += 1
        if not line or line.startswith("#"):
            continue
        header = re.fullmatch(r"\[\s*([A-Za-z0-9_-]+)\s*\]\s*(#.*)?", line)
        if header:
            table = data.setdefault(header.group(1), {})
            continue
        m = re.match(r"([A-Za-z0-9_-]+)\s*=\s*(.*)$", line)
        if not m:
            raise ValueError(f"line {i}: cannot read {line[:40]!r}")
        rhs = m.group(2)
        while rhs.count("[") > rhs.count("]") and i < len(lines):  # multi-line array
            rhs += "\n" + lines[i]
            i += 1
        items = [t for t in scan(rhs)]
        val, end = value(items, 0)
        if end != len(items):
            raise ValueError(f"line {i}: unexpected text after the value of {m.group(1)}")
        table[m.group(1)] = val
    return data


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
    notes: list[str] = field(default_factory=list)

    def ignored(self, rel: str) -> bool:
        return any(fnmatch.fnmatchcase(rel, pat) or fnmatch.fnmatchcase(rel + "/", pat)
                   for pat in self.ignore)


def load_config(root: Path) -> Config:
    settings = dict(DEFAULTS)
    notes: list[str] = []
    path = root / CONFIG_FILE
    if path.is_file():
        try:
            text = path.read_bytes().decode("utf-8")
        except UnicodeDecodeError:
            raise DpfError(f"{CONFIG_FILE}: not UTF-8 text (TOML files must be UTF-8)") from None
        try:
            if tomllib is not None:
                data = tomllib.loads(text)
            else:
                data = _mini_toml(text)
                notes.append("Python < 3.11 has no tomllib; read dpf.toml with dpf's own small TOML reader")
        except Exception as exc:  # tomllib.TOMLDecodeError or ValueError from _mini_toml
            if tomllib is not None:
                raise DpfError(f"{CONFIG_FILE}: invalid TOML: {exc}") from None
            data = {}
            notes.append(f"cannot read dpf.toml without tomllib ({exc}); using the defaults")
        health = data.get("health", {})
        products = data.get("products", {})
        for key in ("stale_after_days", "stale_severity", "placeholder_severity", "ignore", "required"):
            if key in health:
                settings[key] = health[key]
        for src, dst in (("directory", "products_dir"), ("index", "index"), ("documents", "product_documents")):
            if src in products:
                settings[dst] = products[src]
    else:
        notes.append(f"no {CONFIG_FILE} at {root}; using defaults (no framework documents are required)")
    if not isinstance(settings["stale_after_days"], int) or isinstance(settings["stale_after_days"], bool) \
            or settings["stale_after_days"] < 1:
        raise DpfError(f"{CONFIG_FILE}: [health] stale_after_days must be a whole number of days >= 1")
    for key in ("stale_severity", "placeholder_severity"):
        if settings[key] not in SEVERITIES:
            raise DpfError(f"{CONFIG_FILE}: [health] {key} must be one of {', '.join(SEVERITIES)}; "
                           f"got {settings[key]!r}")
    for key in ("ignore", "required", "product_documents"):
        if not isinstance(settings[key], list) or not all(isinstance(v, str) for v in settings[key]):
            raise DpfError(f"{CONFIG_FILE}: {key} must be a list of strings")
    for key in ("products_dir", "index"):
        if not isinstance(settings[key], str) or not settings[key]:
            raise DpfError(f"{CONFIG_FILE}: [products] {key} must be a non-empty string")
    return Config(**settings, notes=notes)


def find_root(start: Path | None) -> Path:
    """--root, else the nearest directory upwards that holds dpf.toml or a product folder
    area, else the repository this script lives in."""
    if start is not None:
        root = start.resolve()
        if not root.is_dir():
            raise DpfError(f"--root {start}: not a directory")
        return root
    here = Path.cwd().resolve()
    for candidate in (here, *here.parents):
        if (candidate / CONFIG_FILE).is_file() or (candidate / DEFAULTS["products_dir"]).is_dir():
            return candidate
    script_repo = Path(__file__).resolve().parent.parent
    if (script_repo / CONFIG_FILE).is_file() or (script_repo / ANSWERS_FILE).is_file():
        return script_repo
    return here


# ---------------------------------------------------------------------------
#  Markdown scanning
# ---------------------------------------------------------------------------
_FENCE_OPEN = re.compile(r"^\s*(`{3,}|~{3,})(.*)$")
_TICKS = re.compile(r"`+")
_INLINE_LINK = re.compile(
    r"!?\[(?:[^\[\]\n]|\[[^\[\]\n]*\])*\]"
    r"\(\s*(<[^>\n]*>|[^()\s]*(?:\([^()\s]*\)[^()\s]*)*)(?:\s+(?:\"[^\"]*\"|'[^']*'|\([^)]*\)))?\s*\)"
)
_REF_DEF = re.compile(r"^ {0,3}\[[^\]]+\]:\s*(<[^>]*>|\S+)")
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
_ATX = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?[ \t]*$")
_SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
_HTML_ID = re.compile(r"""<[^>]*?\b(?:id|name)\s*=\s*["']([^"']+)["']""")
_ATTR_ID = re.compile(r"\{:?\s*#([A-Za-z][\w:.-]*)[^}]*\}\s*$")
_MARKER_WORDS = re.compile(r"\b(TODO|FIXME|TBD|XXX)\b")
# Written with [{] so that this file itself holds no template syntax.
_JINJA = re.compile(r"[{][{]|[{]%|[{]#(?![A-Za-z][\w:.-]*\s*[}])")
_ANY_PLACEHOLDER = re.compile(_MARKER_WORDS.pattern + "|" + _JINJA.pattern)
_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")


def mask_code_spans(line: str) -> str:
    """Replace inline code spans (`...`, ``...``) with spaces, keeping columns."""
    if "`" not in line:
        return line
    runs = list(_TICKS.finditer(line))
    out, pos, k = [], 0, 0
    while k < len(runs):
        run = runs[k]
        for k2 in range(k + 1, len(runs)):
            if len(runs[k2].group()) == len(run.group()):
                out.append(line[pos:run.start()])
                out.append(" " * (runs[k2].end() - run.start()))
                pos = runs[k2].end()
                k = k2 + 1
                break
        else:
            k += 1
    out.append(line[pos:])
    return "".join(out)


def github_slug(text: str) -> str:
    return re.sub(r"[^\w\- ]", "", text.strip().lower()).replace(" ", "-")


def mkdocs_slug(text: str) -> str:
    value = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    value = re.sub(r"[^\w\s-]", "", value).strip().lower()
    return re.sub(r"[-\s]+", "-", value)


def heading_text(raw: str) -> str:
    text = re.sub(r"[ \t]+#+[ \t]*$", "", raw.strip())
    text = _ATTR_ID.sub("", text)
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", text)
    text = re.sub(r"<[^>]+>", "", text)
    return text.replace("`", "").replace("*", "").strip()


@dataclass
class MdDoc:
    rel: str
    lines: list[str]
    body_start: int  # index of the first line after the front-matter
    front: dict[str, str | None] | None
    front_lines: dict[str, int]
    front_error: str | None
    prose: list[str | None]  # code spans masked; None inside fenced code blocks
    _anchors: set[str] | None = None

    def anchors(self) -> set[str]:
        if self._anchors is None:
            found: set[str] = set()
            seen_gh: dict[str, int] = {}
            seen_mk: dict[str, int] = {}
            headings: list[tuple[str, str | None]] = []
            prev = None
            for n in range(self.body_start, len(self.lines)):
                prose = self.prose[n]
                if prose is None:
                    prev = None
                    continue
                raw = self.lines[n]
                if "id" in raw or "name" in raw:
                    found.update(m.group(1) for m in _HTML_ID.finditer(raw))
                atx = _ATX.match(raw)
                if atx:
                    headings.append((atx.group(2) or "", raw))
                    prev = None
                    continue
                setext = _SETEXT.match(raw)
                if setext and prev and prev.strip() and not prev.lstrip().startswith(("-", "*", "|", ">")):
                    headings.append((prev, prev))
                    prev = None
                    continue
                prev = raw if raw.strip() else None
            for text, raw in headings:
                attr = _ATTR_ID.search(raw or "")
                if attr:
                    found.add(attr.group(1))
                plain = heading_text(text)
                for slug, seen, sep in ((github_slug(plain), seen_gh, "-"), (mkdocs_slug(plain), seen_mk, "_")):
                    if slug in seen:
                        seen[slug] += 1
                        found.add(f"{slug}{sep}{seen[slug]}")
                    else:
                        seen[slug] = 0
                        found.add(slug)
            self._anchors = found
        return self._anchors


def parse_markdown(rel: str, text: str) -> MdDoc:
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    lines = [ln.rstrip("\r") for ln in lines]
    front, front_lines, front_error, body_start = None, {}, None, 0
    if lines and lines[0].lstrip("\ufeff").strip() == "---":
        for n in range(1, len(lines)):
            if lines[n].strip() in ("---", "..."):
                body_start = n + 1
                try:
                    front, key_lines = parse_flat_yaml("\n".join(lines[1:n]))
                    front_lines = {k: v + 1 for k, v in key_lines.items()}
                except ValueError as exc:
                    front_error = f"front-matter is not valid YAML ({exc})"
                break
        else:
            front_error = "front-matter starts with --- but is never closed"
    prose: list[str | None] = [None] * len(lines)
    fence: tuple[str, int] | None = None
    for n in range(body_start, len(lines)):
        line = lines[n]
        if fence is not None:
            stripped = line.strip()
            if stripped and stripped[0] == fence[0] and len(stripped) >= fence[1] \
                    and stripped == fence[0] * len(stripped):
                fence = None
            continue
        opened = _FENCE_OPEN.match(line)
        if opened and not (opened.group(1)[0] == "`" and "`" in opened.group(2)):
            fence = (opened.group(1)[0], len(opened.group(1)))
            continue
        prose[n] = mask_code_spans(line)
    return MdDoc(rel, lines, body_start, front, front_lines, front_error, prose)


# ---------------------------------------------------------------------------
#  Health
# ---------------------------------------------------------------------------
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


@dataclass
class Product:
    slug: str
    rel: str  # e.g. 01_Data_Products/orders
    answers: dict[str, str | None] | None  # its own answers file, if any


def find_products(root: Path, config: Config, with_answers: bool = True) -> list[Product]:
    base = root / config.products_dir
    products: list[Product] = []
    if not base.is_dir():
        return products
    for entry in sorted(os.scandir(base), key=lambda e: e.name):
        if entry.is_symlink() or not entry.is_dir(follow_symlinks=False) or entry.name in SKIP_DIRS:
            continue
        rel = f"{config.products_dir}/{entry.name}"
        if config.ignored(rel):
            continue
        own = Path(entry.path) / ANSWERS_FILE
        if own.is_file() or (Path(entry.path) / "spec.md").is_file():
            answers = read_answers(own) if with_answers and own.is_file() else None
            products.append(Product(entry.name, rel, answers))
    return products


def _parse_date(value: str | None) -> dt.date | None:
    match = _DATE.match(value or "")
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
    if not _ANY_PLACEHOLDER.search("\n".join(visible)):
        return  # the common case: one regex pass over the whole document
    for n, line in enumerate(doc.lines):
        text = line if n < front_end else doc.prose[n]
        if not text:
            continue
        found = []
        for m in _MARKER_WORDS.finditer(text):
            if m.group(1) not in found:
                found.append(m.group(1))
        for m in _JINJA.finditer(text):
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
        targets = [m.group(1) for m in _INLINE_LINK.finditer(prose)]
        ref = _REF_DEF.match(prose)
        if ref:
            targets.append(ref.group(1))
        for target in targets:
            if target.startswith("<") and target.endswith(">"):
                target = target[1:-1]
            target = target.strip()
            if not target or _SCHEME.match(target) or target.startswith("/"):
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


def posix_dirname(rel: str) -> str:
    return rel.rsplit("/", 1)[0] if "/" in rel else ""


def load_doc(root: Path, rel: str, docs: dict[str, MdDoc | None]) -> MdDoc | None:
    if rel not in docs:
        try:
            docs[rel] = parse_markdown(rel, (root / rel).read_bytes().decode("utf-8", errors="surrogateescape"))
        except OSError:
            docs[rel] = None
    return docs[rel]


_CONFLICT_START = re.compile(r"^(<{7}|>{7})( |$)", re.M)


def check_conflicts(rel: str, data: bytes, out: list[Finding]) -> None:
    if b"<" * 7 not in data and b">" * 7 not in data:
        return
    text = data.decode("utf-8", errors="surrogateescape")
    if not _CONFLICT_START.search(text):
        return
    for n, line in enumerate(text.split("\n")):
        line = line.rstrip("\r")
        if _CONFLICT_START.match(line) or line == "=" * 7 or re.match(r"^\|{7}( |$)", line):
            out.append(Finding(rel, n + 1, "error", "conflict-marker",
                               f"unresolved merge conflict marker `{line[:7]}`; resolve the conflict"))


def parse_index_block(text: str) -> tuple[int, int, list[str]] | None:
    """(line of start marker, line of end marker, lines between), 1-based; None if absent."""
    lines = text.split("\n")
    start = end = None
    for n, line in enumerate(lines):
        stripped = line.strip()
        if stripped == INDEX_START and start is None:
            start = n
        elif stripped == INDEX_END and start is not None:
            end = n
            break
    if start is None or end is None:
        return None
    return start + 1, end + 1, lines[start + 1:end]


def linked_slugs(config: Config, block: list[str]) -> dict[str, str]:
    """slug -> row for every row of the index block that links to <products_dir>/<slug>/spec.md."""
    base = posix_dirname(config.index)
    rows: dict[str, str] = {}
    for line in block:
        for m in _INLINE_LINK.finditer(mask_code_spans(line)):
            target = unquote(m.group(1).strip("<>").split("#", 1)[0])
            rel = os.path.normpath(os.path.join(base, target)).replace(os.sep, "/")
            prefix = config.products_dir.rstrip("/") + "/"
            if rel.startswith(prefix) and rel.endswith("/spec.md") and rel.count("/") == prefix.count("/") + 1:
                rows.setdefault(rel[len(prefix):-len("/spec.md")], line.rstrip("\r"))
    return rows


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
    try:
        values, _ = parse_flat_yaml(text)
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


# ---------------------------------------------------------------------------
#  Index
# ---------------------------------------------------------------------------
def _cell(value: str | None) -> str:
    """A table cell exactly as the template writes it (trimmed), kept on one line."""
    return re.sub(r"\s*\n\s*", " ", (value or "").strip()).replace("|", "\\|")


def build_rows(root: Path, config: Config, current: dict[str, str]) -> tuple[list[str], list[str]]:
    """Rows for every product folder, sorted by slug, and notes on products whose row
    could not be derived from answers."""
    root_answers_path = root / ANSWERS_FILE
    root_answers = read_answers(root_answers_path) if root_answers_path.is_file() else {}
    depth = config.index.count("/")
    rows, notes = [], []
    for product in find_products(root, config):
        answers = product.answers
        if answers is None and root_answers.get("product_slug") == product.slug:
            answers = root_answers
        spec = root / product.rel / "spec.md"
        front = {}
        if spec.is_file():
            doc = parse_markdown(f"{product.rel}/spec.md", spec.read_bytes().decode("utf-8", errors="surrogateescape"))
            front = doc.front or {}
        if answers is None:
            if product.slug in current:
                rows.append(current[product.slug])
                continue
            name = re.sub(r"\s+product spec$", "", front.get("title") or "", flags=re.I) or product.slug
            answers = {"product_name": name, "product_purpose": "", "product_audience": ""}
            notes.append(f"{product.rel} has no {ANSWERS_FILE}; its row lacks purpose and audience, "
                         "fill them in by hand")
        audience = answers.get("product_audience") or ""
        owner = front.get("owner") or answers.get("team_name") or ""
        link = "../" * depth + f"{config.products_dir}/{product.slug}/spec.md"
        rows.append(
            f"| [{_cell(answers.get('product_name') or product.slug)}]({link}) "
            f"| {_cell((answers.get('product_purpose') or '').strip())} "
            f"| {_cell(AUDIENCE_LABELS.get(audience, audience.capitalize()))} "
            f"| {_cell(owner)} |"
        )
    return rows, notes


def render_index(root: Path, config: Config) -> tuple[str, str, dict[str, str], list[str]]:
    """(current text, regenerated text, current rows by slug, notes)."""
    path = root / config.index
    if not path.is_file():
        raise DpfError(f"{config.index} does not exist")
    # surrogateescape: any byte that is not UTF-8 survives the round trip unchanged.
    text = path.read_bytes().decode("utf-8", errors="surrogateescape")
    newline = "\r\n" if "\r\n" in text else "\n"
    block = parse_index_block(text.replace("\r\n", "\n"))
    if block is None:
        raise DpfError(f"{config.index}: markers {INDEX_START} and {INDEX_END} not found; "
                       "put them on their own lines around the product table")
    current = linked_slugs(config, block[2])
    rows, notes = build_rows(root, config, current)
    table = ["| Product | Purpose | Audience | Owner |", "| --- | --- | --- | --- |", *rows]
    lines = text.replace("\r\n", "\n").split("\n")
    new_lines = lines[:block[0]] + [""] + table + [""] + lines[block[1] - 1:]
    return text, newline.join(new_lines), current, notes


def cmd_index(root: Path, config: Config, check: bool) -> int:
    text, new_text, current, notes = render_index(root, config)
    for note in notes:
        print(f"note: {note}", file=sys.stderr)
    if text == new_text:
        print(f"{config.index} is up to date ({len(find_products(root, config))} products)")
        return 0
    slugs = [p.slug for p in find_products(root, config)]
    if check:
        missing = [s for s in slugs if s not in current]
        orphans = [s for s in current if s not in slugs]
        print(f"{config.index} is out of date:")
        for slug in missing:
            print(f"  missing row for product `{slug}` ({config.products_dir}/{slug}/)")
        for slug in orphans:
            print(f"  row for `{slug}` has no product folder {config.products_dir}/{slug}/")
        if not missing and not orphans:
            print("  rows differ from the products' answers and spec owners (or are out of order)")
        print("Run `python tools/dpf.py index` to regenerate it.")
        return 1
    (root / config.index).write_bytes(new_text.encode("utf-8", errors="surrogateescape"))
    print(f"updated {config.index}: {len(slugs)} products ({', '.join(slugs)})")
    return 0


# ---------------------------------------------------------------------------
#  add-product
# ---------------------------------------------------------------------------
def derive_slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def copier_command() -> list[str]:
    exe = shutil.which("copier")
    if exe:
        return [exe]
    import importlib.util

    if importlib.util.find_spec("copier") is None:
        raise DpfError("copier is not installed: install it with `pipx install copier` "
                       "(or `pip install \"copier>=9.9.1\"`), then run this again")
    return [sys.executable, "-m", "copier"]


# Copier 9.19 re-applies the team's edits through plumbum, which decodes `git diff` output
# with the filesystem encoding and errors="ignore": every byte of an edited line that is not
# UTF-8 (a Latin-1 letter) is dropped. Decoding as Latin-1 maps each byte to one character
# and back, so the diff reaches `git apply` byte for byte; git quotes non-ASCII file names,
# so names Copier parses are unchanged. Only the Copier that dpf.py update starts gets it.
BYTE_EXACT_SHIM = """\
try:
    from plumbum.machines.local import LocalMachine
    LocalMachine.custom_encoding = "latin-1"
except Exception:  # no plumbum: nothing to patch
    pass
"""


def byte_exact_env(scratch: Path) -> dict[str, str]:
    """Environment for the Copier subprocess with BYTE_EXACT_SHIM as its sitecustomize."""
    shim = scratch / "byte-exact"
    shim.mkdir(exist_ok=True)
    (shim / "sitecustomize.py").write_text(BYTE_EXACT_SHIM)
    path = os.pathsep.join(filter(None, [str(shim), os.environ.get("PYTHONPATH")]))
    return {**os.environ, "PYTHONPATH": path}


def cmd_add_product(root: Path, config: Config, name: str, slug: str | None,
                    purpose: str | None, audience: str | None) -> int:
    slug = slug if slug is not None else derive_slug(name)
    if not slug:
        raise DpfError(f"cannot derive a folder name from {name!r}; pass --slug")
    if len(slug) > SLUG_MAX or not SLUG_RE.match(slug):
        raise DpfError(f"invalid slug {slug!r}: use lowercase letters and digits joined by single "
                       f"hyphens, at most {SLUG_MAX} characters (like `customers` or `customer-360`)")
    dest_rel = f"{config.products_dir}/{slug}"
    dest = root / dest_rel
    if dest.exists() or dest.is_symlink():
        raise DpfError(f"{dest_rel} already exists; choose another --slug")
    answers_path = root / ANSWERS_FILE
    if not answers_path.is_file():
        raise DpfError(f"{answers_path} not found: add-product needs the repository's answers "
                       "(template source and version)")
    answers = read_answers(answers_path)
    src = answers.get("_src_path")
    if not src:
        raise DpfError(f"{ANSWERS_FILE} has no _src_path; cannot tell which template to render")
    if not _SCHEME.match(src) and not src.startswith(("/", "~", "gh:", "gl:", "git@")) \
            and (root / src).exists():
        src = str((root / src).resolve())
    cmd = [*copier_command(), "copy", "--defaults"]
    ref = answers.get("_commit")
    if ref:
        cmd += ["--vcs-ref", ref]
    else:
        print("note: no _commit in .copier-answers.yml; rendering the template's latest release",
              file=sys.stderr)
    data = [("scope", "product"), ("product_name", name), ("product_slug", slug)]
    if purpose is not None:
        data.append(("product_purpose", purpose))
    if audience is not None:
        data.append(("product_audience", audience))
    data += [(key, answers[key]) for key in SHARED_ANSWERS if answers.get(key) is not None]
    for key, value in data:
        cmd += ["--data", f"{key}={value}"]
    cmd += [src, dest_rel]
    (root / config.products_dir).mkdir(exist_ok=True)
    print("$ " + " ".join(_shell_quote(part) for part in cmd), flush=True)
    result = subprocess.run(cmd, cwd=root)
    if result.returncode != 0:
        print(f"copier failed (exit {result.returncode}); nothing was added to the index",
              file=sys.stderr)
        return result.returncode or 1
    if not (dest / ANSWERS_FILE).is_file():
        print(f"copier finished but {dest_rel}/{ANSWERS_FILE} is missing; is {src} at ref {ref} "
              "a data-product-framework release with the product scope?", file=sys.stderr)
        return 1
    index_rc = cmd_index(root, config, check=False)
    print(f"\nAdded data product {name!r} in {dest_rel}/ (template {src} @ {ref or 'latest'}).")
    print("Next steps:")
    print(f"  1. Fill in {dest_rel}/spec.md with the owners and consumers before writing pipeline code.")
    print(f"  2. python tools/dpf.py health")
    print(f"  3. git add {dest_rel} {config.index}")
    print(f"  4. git commit -m {_shell_quote('Add data product ' + name)}")
    return index_rc


# ---------------------------------------------------------------------------
#  update
# ---------------------------------------------------------------------------
_RELEASE = re.compile(r"^v?(\d+)\.(\d+)\.(\d+)$")
_COMMITISH = re.compile(r"^[0-9a-f]{7,40}$|-\d+-g[0-9a-f]{4,40}$")  # a sha, or `git describe` output
_TRACEBACK = "Traceback (most recent call last)"


def template_location(src: str, root: Path) -> str:
    """What git can reach for Copier's _src_path (Copier's gh:/gl: shortcuts expanded)."""
    for short, url in (("gh:", "https://github.com/"), ("gl:", "https://gitlab.com/")):
        if src.startswith(short):
            return url + src[len(short):]
    if src.startswith("git+"):
        return src[4:]
    if not _SCHEME.match(src) and not src.startswith(("/", "~", "git@")) and (root / src).exists():
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


def _release_key(ref: str) -> tuple[int, ...] | None:
    match = _RELEASE.match(ref)
    return tuple(int(n) for n in match.groups()) if match else None


# ---- git plumbing ----------------------------------------------------------
JOURNAL = "dpf-update.json"  # under .git/: the paths a bring-in is writing; gone when it finished
DONE_MARK = "dpf-update-done.json"  # under .git/: what the last finished `dpf.py update` wrote
WORKTREE_PREFIX = "dpf-update-"
QUESTION_KEY = re.compile(r"^([A-Za-z][A-Za-z0-9_]*)[ \t]*:", re.M)


def git_bytes(root: Path, *args: str, input: bytes | None = None, check: bool = True) -> bytes:
    result = subprocess.run(["git", *args], cwd=root, input=input, capture_output=True)
    if check and result.returncode != 0:
        raise DpfError(f"`git {' '.join(args[:3])}` failed: "
                       f"{result.stderr.decode('utf-8', 'replace').strip()[:300]}")
    return result.stdout


def git_dir(root: Path) -> Path | None:
    result = subprocess.run(["git", "rev-parse", "--absolute-git-dir"], cwd=root, capture_output=True)
    return Path(os.fsdecode(result.stdout.strip())) if result.returncode == 0 else None


def porcelain(root: Path) -> list[tuple[str, str]]:
    """(XY, path) of every change `git status` shows, untracked files one by one."""
    raw = git_bytes(root, "status", "--porcelain", "-z", "--untracked-files=all", "--no-renames")
    return [(item[:2].decode(), os.fsdecode(item[3:])) for item in raw.split(b"\0") if item]


def index_entries(root: Path, *paths: str) -> dict[str, list[tuple[str, str, str]]]:
    """path -> [(mode, sha, stage)] of git's index (several stages for an unmerged file)."""
    raw = git_bytes(root, "ls-files", "-s", "-z", "--", *paths) if paths else git_bytes(root, "ls-files", "-s", "-z")
    out: dict[str, list[tuple[str, str, str]]] = {}
    for item in raw.split(b"\0"):
        if item:
            meta, _, path = item.partition(b"\t")
            mode, sha, stage = meta.decode().split()
            out.setdefault(os.fsdecode(path), []).append((mode, sha, stage))
    return out


def unmerged(root: Path) -> list[str]:
    raw = git_bytes(root, "ls-files", "-u", "-z", check=False)
    return sorted({os.fsdecode(item.partition(b"\t")[2]) for item in raw.split(b"\0") if item})


def head_tree(root: Path) -> dict[str, str]:
    """path -> git mode of every file HEAD holds (100644, 100755, 120000 symlink, 160000 submodule)."""
    raw = git_bytes(root, "ls-tree", "-r", "-z", "--full-tree", "HEAD")
    out = {}
    for item in raw.split(b"\0"):
        if item:
            meta, _, path = item.partition(b"\t")
            out[os.fsdecode(path)] = meta.split()[0].decode()
    return out


def head_blob(root: Path, rel: str) -> bytes | None:
    result = subprocess.run(["git", "cat-file", "blob", f"HEAD:{rel}"], cwd=root, capture_output=True)
    return result.stdout if result.returncode == 0 else None


def blob_sha(data: bytes) -> str:
    import hashlib

    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def answers_at(root: Path, rev: str, rel: str) -> dict[str, str | None] | None:
    result = subprocess.run(["git", "show", f"{rev}:{rel}"], cwd=root, capture_output=True)
    if result.returncode != 0:
        return None
    try:
        return parse_flat_yaml(result.stdout.decode("utf-8"))[0]
    except (ValueError, UnicodeDecodeError):
        return None


# ---- a half-applied update --------------------------------------------------
RECOVERY = ("`git add -A && git stash` keeps everything that is there (conflict markers included) in "
            "a stash, and `git stash pop` brings it back; or `git reset --hard && git clean -fd` drops "
            "the half-applied update; then re-run `python tools/dpf.py update`")


def read_json(path: Path) -> dict | None:
    try:
        return json.loads(path.read_bytes().decode("utf-8"))
    except (OSError, ValueError):
        return None


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


def read_answers_safely(path: Path) -> dict[str, str | None] | None:
    try:
        return read_answers(path)
    except (DpfError, OSError):
        return None


def answers_files(root: Path) -> list[str]:
    """Every answers file git knows in this repository, sorted by path (Renovate's order)."""
    raw = git_bytes(root, "ls-files", "-z", "--", ANSWERS_FILE, f"*/{ANSWERS_FILE}", check=False)
    found = {os.fsdecode(item) for item in raw.split(b"\0") if item}
    return sorted(found)


def check_half_applied(root: Path, out: list[Finding]) -> None:
    signs, soft = half_applied(root)
    for sign in signs:
        recovery = "" if "git revert" in sign else f". To recover: {RECOVERY}"
        out.append(Finding(".", 0, "error", "half-applied-update", sign + recovery))
    for sign in soft:
        out.append(Finding(".", 0, "warning", "half-applied-update", sign))


def last_commits(root: Path, files: list[str]) -> dict[str, str]:
    """The last commit that touched each of `files`, from one `git log`."""
    if not files:
        return {}
    log = subprocess.run(["git", "log", "--format=%x01%H", "--name-only", "-z", "--", *files], cwd=root,
                         capture_output=True)
    last: dict[str, str] = {}
    sha = ""
    for item in log.stdout.split(b"\0"):
        for part in item.split(b"\n"):
            if part.startswith(b"\x01"):
                sha = part[1:].decode()
            elif part and sha:
                last.setdefault(os.fsdecode(part), sha)
    return last


def _touched(root: Path, sha: str) -> set[str]:
    raw = git_bytes(root, "show", "--name-only", "-z", "--format=", sha, check=False)
    return {os.fsdecode(n).strip("\n") for n in raw.split(b"\0") if n.strip(b"\n")}


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
        if not sha or touched.setdefault(sha, _touched(root, sha)) != {rel}:
            continue
        before, after = answers_at(root, f"{sha}^", rel), answers_at(root, sha, rel)
        if before is None or after is None:
            continue
        changed = sorted(k for k in set(before) | set(after)
                         if not k.startswith("_") and before.get(k) != after.get(k))
        if not changed:
            continue
        how = " ".join(f"--data {k}={_shell_quote(str(after.get(k) or ''))}" for k in changed)
        scope = f" --product {posix_dirname(rel).rsplit('/', 1)[-1]}" if rel != ANSWERS_FILE else ""
        out.append(Finding(rel, 0, "warning", "answers-edited",
                           f"commit {sha[:10]} changed {', '.join(changed)} by hand; updates do NOT apply "
                           f"such a change (no file is re-rendered for it). Apply it safely: `git revert "
                           f"--no-edit {sha[:10]}`, then `python tools/dpf.py update{scope} {how}`"))


# ---- update: one temporary worktree per answers file, then one bring-in ----
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


def full_answers(path: Path) -> dict:
    """The answers file with its lists (adopted_paths) intact when PyYAML is there."""
    try:
        import yaml  # Copier's own dependency

        data = yaml.safe_load(path.read_bytes().decode("utf-8"))
        if isinstance(data, dict):
            return data
    except Exception:  # noqa: BLE001 - fall back to the flat reader below
        pass
    return {k: v for k, v in read_answers(path).items() if v is not None}


def render_release(location: str, ref: str | None, data: dict, dest: Path) -> Path:
    """The template at `ref` rendered with `data`, the way Copier renders the old release."""
    answers = {k: v for k, v in data.items() if not k.startswith("_")}
    try:
        import copier
    except ImportError:
        copier = None
    if copier is not None:
        try:
            copier.run_copy(location, str(dest), vcs_ref=ref, data=answers, defaults=True, quiet=True,
                            unsafe=False)
            return dest
        except Exception as exc:  # noqa: BLE001 - a render we cannot do is reported, not raised
            raise DpfError(_render_failure(ref, f"{type(exc).__name__}: {str(exc).strip()[:300]}")) from None
    cmd = [*copier_command(), "copy", "--quiet", "--defaults"]
    if ref:
        cmd += ["--vcs-ref", ref]
    for key, value in answers.items():
        if isinstance(value, (str, int, float, bool)):
            cmd += ["--data", f"{key}={str(value).lower() if isinstance(value, bool) else value}"]
    result = subprocess.run([*cmd, location, str(dest)], capture_output=True, text=True)
    if result.returncode != 0:
        raise DpfError(_render_failure(ref, (result.stderr.strip().splitlines() or ["copier failed"])[-1]))
    return dest


def _render_failure(ref: str | None, why: str) -> str:
    if why.startswith("ValueError: ") and ("Validation error" in why or "Invalid choice" in why):
        return f"Copier refused the answers: {why[len('ValueError: '):].splitlines()[0]}; nothing was changed"
    if "revision" in why.lower():
        return (f"Copier could not find the template revision `{ref}` (recorded as `_commit` in an answers "
                "file, or asked for with --to); set `_commit` back to the release that last rendered the "
                "folder (`git log -p -- .copier-answers.yml` shows every value it had); nothing was changed")
    return (f"cannot render the template at {ref or 'its latest release'} to compare with your files "
            f"({why}); nothing was changed")


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
            clash = next((d for d in _parents(path) if d in head), None)
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


def _parents(path: str) -> list[str]:
    parts = path.split("/")
    return ["/".join(parts[:n]) for n in range(1, len(parts))]


def _parents_and_self(path: str) -> list[str]:
    return _parents(path) + [path] if path else []


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
    text = shown.stdout.decode("utf-8", "surrogateescape")
    return {key for key in QUESTION_KEY.findall(text) if not key.startswith("_")}


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
    for parent in reversed(_parents(path)):
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
        releases = sorted((r for r in refs if _release_key(r)), key=_release_key)
        latest = releases[-1] if releases else None
        known = f"its releases: {', '.join(releases[-5:]) or 'none'}"
        for target in targets:
            current = str(target.answers["_commit"])
            if not _COMMITISH.search(current) and current not in refs:
                raise DpfError(
                    f"{target.rel} records `_commit: {current}`, but the template {src} has no such release "
                    f"({known}); {nothing}. Set `_commit` back to the release that last rendered this folder: "
                    f"`git log -p -- {target.rel}` shows every value it had")
            if to is not None and _release_key(to) and _release_key(current) \
                    and _release_key(to) < _release_key(current):
                raise DpfError(f"`{to}` is older than `{current}`, the release {target.rel} is on; "
                               f"Copier cannot go back to an older release; {nothing}")
        if to is not None and not _COMMITISH.search(to) and to not in refs:
            raise DpfError(f"the template {src} has no release `{to}` ({known}); {nothing}")
    scratch = Path(tempfile.mkdtemp(prefix=WORKTREE_PREFIX))
    signal.signal(signal.SIGTERM, _interrupt)  # clean up the worktrees on `kill` too
    try:
        if data:
            targets = plan_answer_change(targets, data, product, location, to, scratch)
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
                       location: str, to: str | None, scratch: Path) -> list[Target]:
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
            mine = [(k, v) for k, v in data if k in SHARED_ANSWERS and k in target.answers]
        else:
            mine = [(k, v) for k, v in data if k in target.answers or not target.folder]
        if mine:
            target.data = mine
            chosen.append(target)
    if not chosen:
        raise DpfError("no answers file records " + ", ".join(k for k, _ in data) + "; nothing was changed")
    skipped = [k for k, _ in data if k not in SHARED_ANSWERS and product is None]
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
        print("$ " + " ".join(_shell_quote(part) for part in cmd) + where, flush=True)
        result = subprocess.run(cmd, cwd=wt / target.folder, capture_output=True, text=True,
                                env=byte_exact_env(scratch))
        sys.stdout.write(result.stdout)
        if result.returncode != 0:
            report_copier_failure(root, target, result, trust)
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
        print(f"  {step}. git add -A && git commit -m {_shell_quote('Update the template to ' + str(targets[0].new_commit))}")
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


def report_copier_failure(root: Path, target: Target, result: subprocess.CompletedProcess, trust: bool) -> None:
    nothing = "nothing was changed" if not porcelain(root) else "the repository was changed (see `git status`)"
    err = result.stderr
    current = target.answers.get("_commit")
    if _TRACEBACK not in err:
        sys.stderr.write(err)
        if "--trust" in err and not trust:
            print("dpf: this release carries a migration (its CHANGELOG entry says so); "
                  "read it, then re-run with --trust", file=sys.stderr)
        print(f"dpf: error: Copier stopped on {target.rel} in a temporary worktree; {nothing}",
              file=sys.stderr)
        return
    last = err.strip().splitlines()[-1]
    if "revision" in last.lower():
        reason = (f"Copier could not find the template revision recorded in {target.rel} (`_commit: {current}`) "
                  f"or asked for; set `_commit` back to the release that last rendered this folder "
                  f"(`git log -p -- {target.rel}` shows every value it had)")
    elif last.startswith("ValueError: "):
        reason = f"Copier refused the answers for {target.rel}: {last[len('ValueError: '):]}"
    else:
        reason = f"Copier stopped on {target.rel} with an internal error: {last}"
    print(f"dpf: error: {reason}; {nothing}", file=sys.stderr)


def _shell_quote(part: str) -> str:
    return part if re.fullmatch(r"[\w@%+=:,./-]+", part) else "'" + part.replace("'", "'\\''") + "'"


# ---------------------------------------------------------------------------
#  CLI
# ---------------------------------------------------------------------------
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="dpf", description="Keep a Data Product Framework repository healthy.")
    parser.add_argument("--root", type=Path, help="repository root (default: found from the current directory)")
    sub = parser.add_subparsers(dest="command", required=True)
    health = sub.add_parser("health", help="check documents, links, markers and the product index")
    health.add_argument("--json", action="store_true", help="print the findings as JSON")
    index = sub.add_parser("index", help="regenerate the product table in the product index")
    index.add_argument("--check", action="store_true", help="only report; exit 1 if it is out of date")
    add = sub.add_parser("add-product", help="render one more product folder with Copier")
    add.add_argument("name", help='human name of the product, e.g. "Customers"')
    add.add_argument("--slug", help="folder name under 01_Data_Products/ (default: derived from the name)")
    add.add_argument("--purpose", help="one sentence on what the product does and for whom")
    add.add_argument("--audience", choices=sorted(AUDIENCE_LABELS), help="who consumes its outputs")
    update = sub.add_parser("update", help="check the answers file, then run Renovate's `copier update`")
    update.add_argument("--to", metavar="REF", help="release to update to (default: the latest)")
    update.add_argument("--product", metavar="SLUG", help="update this product folder's own answers file")
    update.add_argument("--trust", action="store_true",
                        help="allow the release's migration to run (only releases whose CHANGELOG says so)")
    update.add_argument("--data", action="append", metavar="KEY=VALUE",
                        help="change an answer safely (files the new answer no longer renders are kept "
                             "when your team edited or created them); repeat for several")
    for p in (health, index, add, update):  # accept --root after the subcommand too
        p.add_argument("--root", type=Path, default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    for stream in (sys.stdout, sys.stderr):  # a team's non-UTF-8 bytes are shown, never a crash
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    try:
        root = find_root(args.root)
        config = load_config(root)
        for note in config.notes:
            print(f"note: {note}", file=sys.stderr)
        if args.command == "health":
            return cmd_health(root, config, args.json)
        if args.command == "index":
            return cmd_index(root, config, args.check)
        if args.command == "update":
            return cmd_update(root, config, args.to, args.product, args.trust, args.data)
        return cmd_add_product(root, config, args.name, args.slug, args.purpose, args.audience)
    except DpfError as exc:
        print(f"dpf: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BrokenPipeError:  # e.g. `dpf.py health | head`
        sys.stderr.close()
        sys.exit(1)
