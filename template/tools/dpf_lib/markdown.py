"""Markdown documents: front-matter (read with PyYAML), headings and their anchors,
prose with code masked, the way GitHub and the docs site see them."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import yaml

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when PyYAML has it: faster
_NULL = "tag:yaml.org,2002:null"


def read_flat_yaml(text: str) -> tuple[dict[str, str | None], dict[str, int]]:
    """Top-level `key: value` pairs of a YAML mapping, each value as its text (null as None,
    a nested list or mapping as None), and the 1-based line of each key.

    Values stay text on purpose: a date or a version is compared as written
    (`last_reviewed: 2026-01-31`, `_commit: v1.2`). Raises ValueError, saying on
    which line, when the text is not YAML or not a mapping."""
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}: " if mark is not None else ""
        raise ValueError(f"{where}{exc.problem or exc.context}") from None
    except yaml.YAMLError as exc:
        raise ValueError(str(exc).splitlines()[0]) from None
    if node is None:
        return {}, {}
    if not isinstance(node, yaml.MappingNode):
        raise ValueError(f"line {node.start_mark.line + 1}: expected `key: value` lines")
    values: dict[str, str | None] = {}
    where: dict[str, int] = {}
    for key_node, value_node in node.value:
        if not isinstance(key_node, yaml.ScalarNode):
            raise ValueError(f"line {key_node.start_mark.line + 1}: a key must be plain text")
        key = key_node.value
        if isinstance(value_node, yaml.ScalarNode) and value_node.tag != _NULL:
            values[key] = value_node.value
        else:
            values[key] = None
        where[key] = key_node.start_mark.line + 1
    return values, where


_FENCE_OPEN = re.compile(r"^\s*(`{3,}|~{3,})(.*)$")
_TICKS = re.compile(r"`+")
INLINE_LINK = re.compile(
    r"!?\[(?:[^\[\]\n]|\[[^\[\]\n]*\])*\]"
    r"\(\s*(<[^>\n]*>|[^()\s]*(?:\([^()\s]*\)[^()\s]*)*)(?:\s+(?:\"[^\"]*\"|'[^']*'|\([^)]*\)))?\s*\)"
)
REF_DEF = re.compile(r"^ {0,3}\[[^\]]+\]:\s*(<[^>]*>|\S+)")
SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
_ATX = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?[ \t]*$")
_SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
_HTML_ID = re.compile(r"""<[^>]*?\b(?:id|name)\s*=\s*["']([^"']+)["']""")
_ATTR_ID = re.compile(r"\{:?\s*#([A-Za-z][\w:.-]*)[^}]*\}\s*$")
MARKER_WORDS = re.compile(r"\b(TODO|FIXME|TBD|XXX)\b")
# Written with [{] so that this file itself holds no template syntax.
JINJA = re.compile(r"[{][{]|[{]%|[{]#(?![A-Za-z][\w:.-]*\s*[}])")
ANY_PLACEHOLDER = re.compile(MARKER_WORDS.pattern + "|" + JINJA.pattern)
DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")


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
                    front, key_lines = read_flat_yaml("\n".join(lines[1:n]))
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


