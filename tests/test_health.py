"""Tests for tools/dpf.py against repositories rendered by the real template.

Renders come from the tagged temporary template repository (conftest.py), so
the answers file records a real `_commit`, which `add-product` passes to
copier as --vcs-ref. Timing lives in bench/, not here.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import copier
import pytest

from testkit.helpers import ROOT
from testkit.questions import SLICE  # the template's CI slice: every choice at least once

DPF = ROOT / "template" / "tools" / "dpf.py"
import dpf  # noqa: E402  (template/tools/, on the path through pytest.ini)


# ---------------------------------------------------------------------------
#  Fixtures and helpers
# ---------------------------------------------------------------------------
@pytest.fixture(scope="session")
def template_src(template_repo) -> Path:
    """The tagged temporary template repository (see conftest.py)."""
    return template_repo[0]


def render(src: Path, dst: Path, **answers) -> Path:
    copier.run_copy(str(src), dst, data=answers or None, vcs_ref="HEAD", defaults=True,
                    quiet=True, unsafe=False)
    assert (dst / "tools" / "dpf.py").read_bytes() == DPF.read_bytes()
    assert (dst / "dpf.toml").is_file(), "dpf.toml.jinja did not render"
    return dst


@pytest.fixture(scope="session")
def rendered(tmp_path_factory, template_src) -> Path:
    return render(template_src, tmp_path_factory.mktemp("rendered") / "repo")


@pytest.fixture
def repo(rendered, tmp_path) -> Path:
    """A private copy of the fresh render for one test to break."""
    dst = tmp_path / "repo"
    shutil.copytree(rendered, dst, symlinks=True)
    return dst


def run(repo: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "tools/dpf.py", *args], cwd=repo, capture_output=True,
                          text=True, env={**os.environ, **(env or {})})


def health(repo: Path) -> tuple[int, list[dict]]:
    result = run(repo, "health", "--json")
    assert result.returncode in (0, 1), result.stderr
    return result.returncode, json.loads(result.stdout)["findings"]


@pytest.fixture(scope="session")
def baseline(rendered) -> list[dict]:
    """Findings of the fresh render (ideally none); breakage tests look at what is new."""
    return health(rendered)[1]


def new_findings(repo: Path, baseline: list[dict]) -> list[dict]:
    key = lambda f: (f["path"], f["line"], f["check"], f["message"])  # noqa: E731
    known = {key(f) for f in baseline}
    return [f for f in health(repo)[1] if key(f) not in known]


def has(findings: list[dict], path: str, line: int, check: str, severity: str = "error",
        text: str = "") -> bool:
    return any(f["path"] == path and f["line"] == line and f["check"] == check
               and f["severity"] == severity and text in f["message"] for f in findings)


def line_of(path: Path, pattern: str) -> int:
    for n, line in enumerate(path.read_text().splitlines(), start=1):
        if re.search(pattern, line):
            return n
    raise AssertionError(f"{pattern!r} not in {path}")


def set_front(path: Path, key: str, value: str | None) -> int:
    """Set (or with None delete) a front-matter key; return its line number."""
    lines = path.read_text().split("\n")
    for n, line in enumerate(lines):
        if line.startswith(f"{key}:"):
            if value is None:
                del lines[n]
            else:
                lines[n] = f"{key}: {value}"
            path.write_text("\n".join(lines))
            return n + 1
    raise AssertionError(f"no {key} in {path}")


def append(path: Path, text: str) -> int:
    """Append text; return the line number of its first line."""
    before = path.read_text()
    if not before.endswith("\n"):
        before += "\n"
    path.write_text(before + text)
    return before.count("\n") + 1


DOC = "02_Architecture/output-serving.md"


# ---------------------------------------------------------------------------
#  A fresh repository
# ---------------------------------------------------------------------------
def test_fresh_repo_is_healthy(rendered, baseline):
    result = run(rendered, "health")
    print("\n--- health on a fresh render ---\n" + result.stdout + result.stderr)
    errors = [f for f in baseline if f["severity"] == "error"]
    warnings = [f for f in baseline if f["severity"] == "warning"]
    print(f"{len(errors)} errors, {len(warnings)} warnings remain on a fresh render")
    assert not errors, "\n".join(f"{f['path']}:{f['line']}: {f['message']}" for f in errors)
    assert result.returncode == 0
    assert not warnings, "warnings remain: " + "; ".join(f"{f['path']}:{f['line']}" for f in warnings)


def test_rendered_config_is_valid_toml_and_lists_existing_docs(rendered):
    data = tomllib.loads((rendered / "dpf.toml").read_text())
    assert data["health"]["stale_after_days"] == 180
    assert data["health"]["stale_severity"] == "warning"
    assert data["health"]["placeholder_severity"] == "warning"
    assert data["health"]["ignore"] == []
    required = data["health"]["required"]
    assert "README.md" in required and "01_Data_Products/README.md" in required
    assert not any(p.startswith("01_Data_Products/orders") for p in required)
    assert data["products"] == {
        "directory": "01_Data_Products", "index": "01_Data_Products/README.md",
        "documents": ["spec.md", "api-contracts.md", "architecture.md", "changelog.md",
                      "data-product.odps.yaml", "data-contract.odcs.yaml"],
    }


@pytest.mark.parametrize("answers", SLICE, ids=lambda a: f"{a['orchestrator']}-{a['transformation_tool']}")
def test_stack_variants_need_only_rendered_docs(template_src, tmp_path, answers, baseline):
    repo = render(template_src, tmp_path / "repo", **answers)
    data = tomllib.loads((repo / "dpf.toml").read_text())
    required = data["health"]["required"]
    missing_tool_docs = [p for p in required if not (repo / p).exists()
                         and re.search(r"(^|[/-])(none|airflow|dagster|prefect|dbt|sqlmesh)([/-]|$)", p)]
    assert not missing_tool_docs, missing_tool_docs
    if answers["orchestrator"] == "none":
        assert not any("none" in re.split(r"[/.\-_]", p) for p in required)
    code, findings = health(repo)
    print(f"\n{answers}: " + "; ".join(f"{f['path']}:{f['line']} {f['check']}" for f in findings))
    # Documents missing from every render are test_fresh_repo_is_healthy's business; here no
    # variant may miss anything more than the default render does.
    missing_by_default = {f["path"] for f in baseline if f["check"] == "missing-document"}
    assert not [f for f in findings if f["check"] == "product-index"]
    assert not [f for f in findings if f["check"] == "missing-document"
                and f["path"] not in missing_by_default]
    if not baseline:
        assert findings == [] and code == 0
    index = repo / "01_Data_Products/README.md"
    before = index.read_bytes()
    assert run(repo, "index", "--check").returncode == 0
    run(repo, "index")
    assert index.read_bytes() == before


def test_json_shape(repo, baseline):
    set_front(repo / DOC, "status", "bogus")
    result = run(repo, "health", "--json")
    report = json.loads(result.stdout)
    assert set(report) == {"errors", "warnings", "findings"}
    assert isinstance(report["errors"], int) and isinstance(report["warnings"], int)
    assert report["errors"] == sum(f["severity"] == "error" for f in report["findings"]) >= 1
    assert report["warnings"] == sum(f["severity"] == "warning" for f in report["findings"])
    for finding in report["findings"]:
        assert set(finding) == {"path", "line", "severity", "check", "message"}
        assert isinstance(finding["line"], int) and finding["severity"] in ("error", "warning")
    assert result.returncode == 1
    text = run(repo, "health").stdout
    assert f"{DOC}:4: error: front-matter: status 'bogus'" in text


# ---------------------------------------------------------------------------
#  Each breakage is reported with file and line
# ---------------------------------------------------------------------------
def test_stale_date(repo, baseline):
    old = (dt.date.today() - dt.timedelta(days=400)).isoformat()
    line = set_front(repo / DOC, "last_reviewed", old)
    new = new_findings(repo, baseline)
    assert has(new, DOC, line, "stale", "warning", "400 days ago"), new
    # severity and threshold come from dpf.toml
    cfg = repo / "dpf.toml"
    cfg.write_text(cfg.read_text().replace('stale_severity = "warning"', 'stale_severity = "error"')
                   .replace("stale_after_days = 180", "stale_after_days = 500"))
    assert not [f for f in new_findings(repo, baseline) if f["check"] == "stale"]
    cfg.write_text(cfg.read_text().replace("stale_after_days = 500", "stale_after_days = 30"))
    new = new_findings(repo, baseline)
    assert has(new, DOC, line, "stale", "error")
    assert run(repo, "health").returncode == 1


def test_invalid_front_matter_values(repo, baseline):
    future = (dt.date.today() + dt.timedelta(days=30)).isoformat()
    l_future = set_front(repo / DOC, "last_reviewed", future)
    l_status = set_front(repo / "02_Architecture/system-overview.md", "status", "published")
    l_date = set_front(repo / "02_Architecture/ingestion-pipeline.md", "last_reviewed", "2026-02-30")
    new = new_findings(repo, baseline)
    assert has(new, DOC, l_future, "front-matter", text="in the future"), new
    assert has(new, "02_Architecture/system-overview.md", l_status, "front-matter", text="'published'")
    assert has(new, "02_Architecture/ingestion-pipeline.md", l_date, "front-matter",
               text="not a real date")


def test_missing_front_matter_field_and_block(repo, baseline):
    set_front(repo / DOC, "owner", None)
    spec = repo / "01_Data_Products/orders/changelog.md"
    text = spec.read_text()
    spec.write_text(text[text.index("---", 3) + 4:])  # drop the whole block
    new = new_findings(repo, baseline)
    assert has(new, DOC, 1, "front-matter", text="`owner` is missing"), new
    assert has(new, "01_Data_Products/orders/changelog.md", 1, "front-matter", text="no front-matter")
    set_front(repo / "02_Architecture/system-overview.md", "owner", "''")
    assert has(new_findings(repo, baseline), "02_Architecture/system-overview.md", 3,
               "front-matter", text="`owner` is empty")


def test_broken_link_and_anchor(repo, baseline):
    line = append(repo / DOC, "\n".join([
        "## Health check: links & anchors",
        "[gone](../02_Architecture/nowhere.md) and [ok](system-overview.md)",
        "[bad anchor](system-overview.md#no-such-heading) [own](#no-such-section)",
        "[good anchor](#health-check-links--anchors) [mkdocs style](#health-check-links-anchors)",
        "`[inline code](nowhere.md)` [web](https://example.com/x.md) [abs](/nowhere.md) [m](mailto:a@b.co)",
        "```markdown",
        "[in a fence](nowhere.md) TODO {{ fenced }}",
        "```",
        "[ref]: ./also-gone.md",
        "",
    ]))
    new = new_findings(repo, baseline)
    assert has(new, DOC, line + 1, "broken-link", text="nowhere.md"), new
    assert has(new, DOC, line + 2, "broken-anchor", text="#no-such-heading")
    assert has(new, DOC, line + 2, "broken-anchor", text="#no-such-section")
    assert has(new, DOC, line + 8, "broken-link", text="also-gone.md")
    assert {(f["line"], f["check"]) for f in new} == {
        (line + 1, "broken-link"), (line + 2, "broken-anchor"), (line + 8, "broken-link")}, new


def test_existing_cross_document_anchor_resolves(repo, baseline):
    # A heading in another document, linked with the GitHub slug of its text.
    target = repo / "01_Data_Products/orders/spec.md"
    heading = next(l for l in target.read_text().splitlines() if l.startswith("## "))
    slug = dpf.github_slug(heading[3:])
    append(repo / DOC, f"[spec section](../01_Data_Products/orders/spec.md#{slug})\n")
    assert new_findings(repo, baseline) == []


def test_conflict_markers_in_any_text_file(repo, baseline):
    start = append(repo / "renovate.json5", "<<<<<<< ours\n  a: 1,\n=======\n  a: 2,\n>>>>>>> theirs\n")
    mdline = append(repo / DOC, "<<<<<<< HEAD\nmine\n=======\nyours\n>>>>>>> template\n")
    new = new_findings(repo, baseline)
    for path, first in (("renovate.json5", start), (DOC, mdline)):
        for offset in (0, 2, 4):
            assert has(new, path, first + offset, "conflict-marker"), (path, first + offset, new)
    # A setext underline alone is not a conflict.
    append(repo / "02_Architecture/system-overview.md", "Title\n=======\n")
    assert not [f for f in new_findings(repo, baseline)
                if f["path"] == "02_Architecture/system-overview.md"]
    assert run(repo, "health").returncode == 1


def test_todo_and_placeholders(repo, baseline):
    line = append(repo / DOC, "TODO: decide the SLA. Ask about `TODO` later; XXXX and TODOS are words.\n"
                              "Owner is {{ team_name }} and {% if x %}.\n"
                              "## Heading with an id {#custom-id}\n")
    new = new_findings(repo, baseline)
    assert has(new, DOC, line, "placeholder", "warning", "`TODO`"), new
    assert has(new, DOC, line + 1, "placeholder", "warning", "`{{`")
    assert has(new, DOC, line + 1, "placeholder", "warning", "`{%`")
    assert len(new) == 3, new
    assert run(repo, "health").returncode == (1 if any(f["severity"] == "error" for f in baseline) else 0)
    cfg = repo / "dpf.toml"
    cfg.write_text(cfg.read_text().replace('placeholder_severity = "warning"', 'placeholder_severity = "off"'))
    assert new_findings(repo, baseline) == []


def test_missing_required_and_product_documents(repo, baseline):
    (repo / DOC).unlink()
    (repo / "01_Data_Products/orders/changelog.md").unlink()
    new = new_findings(repo, baseline)
    assert has(new, DOC, 0, "missing-document", text="required"), new
    assert has(new, "01_Data_Products/orders/changelog.md", 0, "missing-document", text="orders")


def test_product_folder_missing_from_index(repo, baseline):
    extra = repo / "01_Data_Products/extra"
    shutil.copytree(repo / "01_Data_Products/orders", extra)
    marker = line_of(repo / "01_Data_Products/README.md", "products:start")
    new = new_findings(repo, baseline)
    assert has(new, "01_Data_Products/README.md", marker, "product-index", text="extra"), new
    check = run(repo, "index", "--check")
    assert check.returncode == 1 and "extra" in check.stdout
    assert run(repo, "index").returncode == 0
    assert new_findings(repo, baseline) == []


def test_skipped_dirs_symlinks_and_ignore(repo, baseline):
    for skipped in ("node_modules/x", "docs", "site", ".venv/lib", "target"):
        (repo / skipped).mkdir(parents=True, exist_ok=True)
        (repo / skipped / "bad.md").write_text("[x](nowhere.md) TODO\n<<<<<<< HEAD\n")
    (repo / "11_Learning/loop").symlink_to("..", target_is_directory=True)
    (repo / "docs/linked.md").symlink_to("../README.md")
    assert new_findings(repo, baseline) == []
    (repo / "archive").mkdir()
    (repo / "archive/old.md").write_text("no front matter, TODO\n")
    assert new_findings(repo, baseline)
    cfg = repo / "dpf.toml"
    cfg.write_text(cfg.read_text().replace("ignore = []", 'ignore = ["archive/*"]'))
    assert new_findings(repo, baseline) == []


# ---------------------------------------------------------------------------
#  index
# ---------------------------------------------------------------------------
def test_index_is_a_noop_on_fresh_repo(repo):
    index = repo / "01_Data_Products/README.md"
    before = index.read_bytes()
    assert run(repo, "index", "--check").returncode == 0
    result = run(repo, "index")
    assert result.returncode == 0, result.stderr
    assert index.read_bytes() == before


def test_index_noop_with_unusual_answers(template_src, tmp_path):
    repo = render(template_src, tmp_path / "repo", product_name="Customer 360", team_name="O'Neil & Co",
                  product_audience="both",
                  product_purpose="Every customer's profile, orders and support history in one place "
                                  "for account managers, support leads and the growth team's analysts.")
    index = repo / "01_Data_Products/README.md"
    before = index.read_bytes()
    result = run(repo, "index", "--check")
    assert result.returncode == 0, result.stdout + result.stderr
    run(repo, "index")
    assert index.read_bytes() == before
    assert "| [Customer 360](../01_Data_Products/customer-360/spec.md) |" in before.decode()


def test_index_adds_row_for_new_product(repo):
    extra = repo / "01_Data_Products/billing"
    shutil.copytree(repo / "01_Data_Products/orders", extra)
    (extra / ".copier-answers.yml").write_text(
        "# Changes here will be overwritten by Copier; do not edit by hand.\n"
        "_commit: abc1234\n_src_path: /somewhere\nproduct_audience: external\n"
        "product_name: Billing\nproduct_purpose: Invoices and payments, reconciled daily for finance\n"
        "    and the partners we bill.\nproduct_slug: billing\nscope: product\n")
    spec = extra / "spec.md"
    spec.write_text(spec.read_text().replace("owner: 'Data Platform'", "owner: 'Finance Data'"))
    assert run(repo, "index", "--check").returncode == 1
    assert run(repo, "index").returncode == 0
    text = (repo / "01_Data_Products/README.md").read_text()
    rows = re.findall(r"^\| \[.*$", text, flags=re.M)
    assert rows[0] == ("| [Billing](../01_Data_Products/billing/spec.md) | Invoices and payments, reconciled "
                       "daily for finance and the partners we bill. | External users | Finance Data |")
    assert rows[1].startswith("| [Orders](../01_Data_Products/orders/spec.md) |")
    assert run(repo, "index", "--check").returncode == 0


# ---------------------------------------------------------------------------
#  add-product (the real copier CLI)
# ---------------------------------------------------------------------------
def test_add_product_runs_copier(repo, baseline):
    result = run(repo, "add-product", "Customers", "--purpose",
                 "One view of every customer for support and account managers.", "--audience", "external")
    print(result.stdout, result.stderr)
    assert result.returncode == 0, result.stdout + result.stderr
    product = repo / "01_Data_Products/customers"
    answers = dpf.read_answers(product / ".copier-answers.yml")
    root_answers = dpf.read_answers(repo / ".copier-answers.yml")
    assert answers["scope"] == "product"
    assert answers["product_name"] == "Customers" and answers["product_slug"] == "customers"
    assert answers["product_audience"] == "external"
    assert answers["_commit"] == root_answers["_commit"]
    for key in ("team_name", "team_email", "orchestrator", "transformation_tool", "warehouse"):
        assert answers[key] == root_answers[key], key
    for name in ("spec.md", "api-contracts.md", "architecture.md", "changelog.md"):
        assert (product / name).is_file(), name
    text = (repo / "01_Data_Products/README.md").read_text()
    assert ("| [Customers](../01_Data_Products/customers/spec.md) | One view of every customer for "
            "support and account managers. | External users | Data Platform |") in text
    assert "git add 01_Data_Products/customers" in result.stdout
    assert "--trust" not in result.stdout
    assert run(repo, "index", "--check").returncode == 0
    # The new product's documents may only repeat what the first product's already have
    # (links to pages other writers have not finished yet).
    known = {(f["check"], f["message"]) for f in baseline}
    new = [f for f in new_findings(repo, baseline) if (f["check"], f["message"]) not in known]
    assert new == []


def test_add_product_refuses_bad_slug_and_existing_folder(repo):
    bad = run(repo, "add-product", "Customers", "--slug", "Bad_Slug")
    assert bad.returncode == 2 and "invalid slug" in bad.stderr
    too_long = run(repo, "add-product", "X", "--slug", "a" * 41)
    assert too_long.returncode == 2 and "40" in too_long.stderr
    double = run(repo, "add-product", "Customers", "--slug", "a--b")
    assert double.returncode == 2
    exists = run(repo, "add-product", "Orders")
    assert exists.returncode == 2 and "already exists" in exists.stderr
    assert not (repo / "01_Data_Products/Bad_Slug").exists()


# ---------------------------------------------------------------------------
#  Scale: 50 products
# ---------------------------------------------------------------------------
def test_fifty_products_are_indexed_and_checked(repo, baseline):
    orders = repo / "01_Data_Products/orders"
    root_answers = (repo / ".copier-answers.yml").read_text()
    for n in range(1, 50):
        slug = f"product-{n:02d}"
        dst = repo / "01_Data_Products" / slug
        shutil.copytree(orders, dst)
        (dst / ".copier-answers.yml").write_text(
            root_answers.replace("product_slug: orders", f"product_slug: {slug}")
            .replace("product_name: Orders", f"product_name: Product {n:02d}")
            .replace("scope: repository", "scope: product"))
    assert run(repo, "index").returncode == 0
    assert len(re.findall(r"^\| \[", (repo / "01_Data_Products/README.md").read_text(), re.M)) == 50
    timings = []
    for _ in range(3):
        start = time.perf_counter()
        result = run(repo, "health", "--json")
        timings.append(time.perf_counter() - start)
    report = json.loads(result.stdout)
    best = min(timings)
    print(f"\n50-product health check: best {best * 1000:.0f} ms of {len(timings)} runs "
          f"(process start included), {report['errors']} errors, {report['warnings']} warnings")
    assert not [f for f in report["findings"] if f["check"] == "product-index"]


# ---------------------------------------------------------------------------
#  Front-matter (more in tests/test_dpf_lib.py)
# ---------------------------------------------------------------------------
def test_front_matter_reader_quotes():
    doc = dpf.parse_markdown("x.md", "---\ntitle: 'It''s: \"quoted\"'\nowner: \"Team \\u00e9\"\n"
                                     "status: draft\nlast_reviewed: 2026-01-31\n---\n# X\n")
    assert doc.front == {"title": "It's: \"quoted\"", "owner": "Team é", "status": "draft",
                         "last_reviewed": "2026-01-31"}
    assert doc.front_lines == {"title": 2, "owner": 3, "status": 4, "last_reviewed": 5}


# ---------------------------------------------------------------------------
#  Odds and ends
# ---------------------------------------------------------------------------
def test_runs_from_a_subfolder_and_with_root(repo, tmp_path):
    sub = repo / "01_Data_Products/orders"
    from_sub = subprocess.run([sys.executable, "../../tools/dpf.py", "index", "--check"], cwd=sub,
                              capture_output=True, text=True)
    assert from_sub.returncode == 0, from_sub.stdout + from_sub.stderr
    elsewhere = subprocess.run([sys.executable, str(repo / "tools/dpf.py"), "health", "--root", str(repo)],
                               cwd=tmp_path, capture_output=True, text=True)
    assert "in 6" in elsewhere.stdout or "documents" in elsewhere.stdout, elsewhere.stderr


def test_without_dpf_toml_uses_defaults(repo, baseline):
    (repo / "dpf.toml").unlink()
    (repo / DOC).unlink()
    result = run(repo, "health")
    assert "no dpf.toml" in result.stderr
    assert "missing-document" not in result.stdout  # nothing is required without the config
    assert "broken-link" in result.stdout  # the other checks still run


def test_update_leftovers_are_reported(repo, baseline):
    (repo / "02_Architecture/output-serving.md.rej").write_text("@@ -1 +1 @@\n-a\n+b\n")
    new = new_findings(repo, baseline)
    assert has(new, "02_Architecture/output-serving.md.rej", 0, "update-leftover", "warning"), new


def test_a_document_that_is_not_utf8_is_named_before_an_update_drops_its_bytes(repo, baseline):
    doc = repo / DOC
    doc.write_bytes(doc.read_bytes() + b"\nD\xe9cision de l'\xe9quipe.\n")  # Latin-1
    line = doc.read_bytes().count(b"\n")
    new = new_findings(repo, baseline)
    assert has(new, DOC, line, "not-utf8", "warning", "dpf.py update"), new
    assert all(f["severity"] == "warning" for f in new), new  # the commit is not blocked
    assert doc.read_bytes().endswith(b"D\xe9cision de l'\xe9quipe.\n")  # health never rewrites


ANSWERS_BREAKAGE = {
    # name: (how the answers file is broken, what the finding says)
    "deleted": (None, "missing"),
    "invalid-yaml": (lambda text: text + "broken: [unclosed\n  : :\n", "not valid YAML"),
    "comment-only": (lambda text: "# nothing left\n", "holds no answers"),
    "not-utf8": (lambda text: "\udcff garbage", "not text"),
    "no-_commit": (lambda text: re.sub(r"(?m)^_commit:.*\n", "", text), "has no _commit"),
}


@pytest.mark.parametrize("case", ANSWERS_BREAKAGE)
def test_broken_answers_file_is_an_error_before_renovate_meets_it(repo, baseline, case):
    breakage, says = ANSWERS_BREAKAGE[case]
    answers = repo / ".copier-answers.yml"
    if breakage is None:
        answers.unlink()
    else:
        answers.write_bytes(breakage(answers.read_text()).encode("utf-8", "surrogateescape"))
    new = new_findings(repo, baseline)
    assert has(new, ".copier-answers.yml", 0, "answers", text=says), new
    assert any("git checkout" in f["message"] for f in new if f["check"] == "answers")


def test_product_answers_file_is_checked_too(repo, baseline):
    assert run(repo, "add-product", "Customers", "--purpose", "Who buys what.").returncode == 0
    (repo / "01_Data_Products/customers/.copier-answers.yml").write_text("{broken\n")
    new = new_findings(repo, baseline)
    assert has(new, "01_Data_Products/customers/.copier-answers.yml", 0, "answers", text="not valid YAML"), new
