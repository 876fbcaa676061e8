#!/usr/bin/env python3
"""dpf: keep a Data Product Framework repository healthy.

Shipped by the data-product-framework Copier template as tools/dpf.py.
Standard library only (Python >= 3.10); run it from anywhere in the repository:

    python tools/dpf.py health [--json]     check documents, links, markers and the product index
    python tools/dpf.py index [--check]     regenerate (or verify) the product table
    python tools/dpf.py add-product "Customers" [--slug customers]
                                            render one more product folder with Copier
    python tools/dpf.py update [--to v1.3.0] [--product customers] [--trust]
                                            check the answers file, then run the same
                                            `copier update` Renovate runs

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
import subprocess
import sys
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
        return parse_flat_yaml(path.read_text(encoding="utf-8"))[0]
    except ValueError as exc:
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
        text = path.read_text(encoding="utf-8")
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


def walk(root: Path, config: Config) -> Tree:
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
            docs[rel] = parse_markdown(rel, (root / rel).read_text(encoding="utf-8", errors="replace"))
        except OSError:
            docs[rel] = None
    return docs[rel]


_CONFLICT_START = re.compile(r"^(<{7}|>{7})( |$)", re.M)


def check_conflicts(rel: str, data: bytes, out: list[Finding]) -> None:
    if b"<" * 7 not in data and b">" * 7 not in data:
        return
    text = data.decode("utf-8", errors="replace")
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
            docs[rel] = parse_markdown(rel, data.decode("utf-8", errors="replace"))
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
    for product in products:
        for name in config.product_documents:
            rel = f"{product.rel}/{name}"
            if rel not in tree.file_set and not exists_exact(root, rel, tree):
                out.append(Finding(rel, 0, "error", "missing-document",
                                   f"product `{product.slug}` has no {name}"))
    for rel in md_files:
        doc = docs[rel]
        checked_doc = rel != "README.md" and not any(part.startswith(".") for part in rel.split("/")[:-1])
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
            index_text = (root / config.index).read_text(encoding="utf-8", errors="replace")
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
            doc = parse_markdown(f"{product.rel}/spec.md", spec.read_text(encoding="utf-8", errors="replace"))
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
    with path.open(encoding="utf-8", newline="") as fh:
        text = fh.read()
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
    with (root / config.index).open("w", encoding="utf-8", newline="") as fh:
        fh.write(new_text)
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


def cmd_update(root: Path, config: Config, to: str | None, product: str | None, trust: bool) -> int:
    folder = root if product is None else root / config.products_dir / product
    if not folder.is_dir():
        raise DpfError(f"no product folder {config.products_dir}/{product}")
    rel = os.path.relpath(folder / ANSWERS_FILE, root)
    path = folder / ANSWERS_FILE
    nothing = "nothing was changed"
    if not path.is_file():
        raise DpfError(f"{rel} is missing, so Copier cannot tell which template and release rendered "
                       f"this folder; {nothing}. To fix it, {restore_hint(rel)}")
    problem = answers_problem(path)
    if problem:
        raise DpfError(f"{rel} {problem}; {nothing}. To fix it, {restore_hint(rel)}")
    answers = read_answers(path)
    src, current = answers["_src_path"], answers["_commit"]
    status = subprocess.run(["git", "status", "--porcelain"], cwd=root, capture_output=True, text=True)
    if status.returncode == 0 and status.stdout.strip():
        changed = status.stdout.splitlines()
        listed = ", ".join(line[3:] for line in changed[:5]) + (" and more" if len(changed) > 5 else "")
        raise DpfError(f"the repository has uncommitted changes ({listed}); commit or stash them "
                       f"first, so the update can be reviewed as one diff; {nothing}")
    location = template_location(src, root)
    refs = template_refs(location)
    if refs is None:
        print(f"note: cannot list the releases of {location}; Copier will check the versions itself",
              file=sys.stderr)
    else:
        releases = sorted((r for r in refs if _release_key(r)), key=_release_key)
        known = f"its releases: {', '.join(releases[-5:]) or 'none'}"
        if not _COMMITISH.search(current) and current not in refs:
            raise DpfError(
                f"{rel} records `_commit: {current}`, but the template {src} has no such release "
                f"({known}); {nothing}. Set `_commit` back to the release that last rendered this folder: "
                f"`git log -p -- {rel}` shows every value it had")
        if to is not None and not _COMMITISH.search(to) and to not in refs:
            raise DpfError(f"the template {src} has no release `{to}` ({known}); {nothing}")
        if to is not None and _release_key(to) and _release_key(current) \
                and _release_key(to) < _release_key(current):
            raise DpfError(f"`{to}` is older than `{current}`, the release this folder is on; "
                           f"Copier cannot go back to an older release; {nothing}")
    cmd = [*copier_command(), "update", "--skip-answered", "--defaults", "--answers-file", ANSWERS_FILE]
    if to is not None:
        cmd += ["--vcs-ref", to]
    if trust:
        cmd.append("--trust")
    print("$ " + " ".join(_shell_quote(part) for part in cmd) + (f"   # in {folder.relative_to(root)}/"
                                                               if product else ""), flush=True)
    result = subprocess.run(cmd, cwd=folder, capture_output=True, text=True)
    sys.stdout.write(result.stdout)
    if result.returncode == 0:
        sys.stderr.write(result.stderr)
        print("\nUpdated. Next: review `git status` and `git diff`, resolve any conflict markers, "
              "run `python tools/dpf.py health`, then commit.")
        return 0
    err = result.stderr
    if _TRACEBACK not in err:
        sys.stderr.write(err)
        if "--trust" in err and not trust:
            print("dpf: this release carries a migration (its CHANGELOG entry says so); "
                  "read it, then re-run with --trust", file=sys.stderr)
        return result.returncode or 1
    last = err.strip().splitlines()[-1]
    if "revision" in last.lower():
        reason = (f"Copier could not find the template revision recorded in {rel} (`_commit: {current}`) "
                  f"or asked for; set `_commit` back to the release that last rendered this folder "
                  f"(`git log -p -- {rel}` shows every value it had)")
    else:
        reason = f"Copier stopped with an internal error: {last}"
    print(f"dpf: error: {reason}; {nothing}", file=sys.stderr)
    return result.returncode or 1


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
    for p in (health, index, add, update):  # accept --root after the subcommand too
        p.add_argument("--root", type=Path, default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
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
            return cmd_update(root, config, args.to, args.product, args.trust)
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
