"""Product folders, the product index (`dpf.py index`) and `dpf.py add-product`."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

from .copier_run import copier_command
from .gitrepo import posix_dirname
from .markdown import INLINE_LINK, SCHEME, mask_code_spans, parse_markdown
from .settings import ANSWERS_FILE, SKIP_DIRS, SLUG_MAX, SLUG_RE, Config, DpfError, read_answers

INDEX_START = "<!-- products:start -->"
INDEX_END = "<!-- products:end -->"


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
        for m in INLINE_LINK.finditer(mask_code_spans(line)):
            target = unquote(m.group(1).strip("<>").split("#", 1)[0])
            rel = os.path.normpath(os.path.join(base, target)).replace(os.sep, "/")
            prefix = config.products_dir.rstrip("/") + "/"
            if rel.startswith(prefix) and rel.endswith("/spec.md") and rel.count("/") == prefix.count("/") + 1:
                rows.setdefault(rel[len(prefix):-len("/spec.md")], line.rstrip("\r"))
    return rows


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
            f"| {_cell(config.audience_labels.get(audience, audience.capitalize()))} "
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
    if not SCHEME.match(src) and not src.startswith(("/", "~", "gh:", "gl:", "git@")) \
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
    data += [(key, answers[key]) for key in config.shared_answers if answers.get(key) is not None]
    for key, value in data:
        cmd += ["--data", f"{key}={value}"]
    cmd += [src, dest_rel]
    (root / config.products_dir).mkdir(exist_ok=True)
    print("$ " + shlex.join(cmd), flush=True)
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
    print("  2. python tools/dpf.py health")
    print(f"  3. git add {dest_rel} {config.index}")
    print(f"  4. git commit -m {shlex.quote('Add data product ' + name)}")
    return index_rc


