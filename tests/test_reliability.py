"""Reliability: a suite that tries to break the template.

- property-based answers over the whole answer space: each set renders, leaves no
  Jinja or empty document behind and passes the generated repo's own health check;
- a corpus of hostile answers: each is refused with a message naming the question,
  or rendered literally, and nothing is ever written outside the destination;
- update safety: a corpus of user edits x every release hop, user lines lost = 0;
- migrations: twice = once, and killed after any write then re-run = uninterrupted;
- refusals: dirty repo, missing or corrupted answers, unknown _commit, downgrade:
  the repository byte-for-byte unchanged, with Renovate's command line and with the
  generated repo's `tools/dpf.py update`, which says what is wrong and how to fix it
  where Copier 9 prints a traceback.

The default run is a fast slice; `-m slow` adds the full run (200 answer sets, every
corpus x hop x stack, every kill point). Every test prints its figures on lines
starting with [reliability]; under xdist see them with -rP:

    python -m pytest -n 2 -rP tests/test_reliability.py             # fast slice
    python -m pytest -n 2 -rP -m slow tests/test_reliability.py     # full run
"""

from __future__ import annotations

import ast
import datetime as dt
import json
import os
import posixpath
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import copier
import pytest
import yaml
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

# Hypothesis keeps a cache folder; keep it out of the working tree.
os.environ.setdefault("HYPOTHESIS_STORAGE_DIRECTORY", os.path.join(tempfile.gettempdir(), "dpf-hypothesis"))

from helpers import ROOT, files_of, front_matter, git, leftover_jinja, render, thin_documents
from ladder import (
    ANSWER_SETS, EDIT_CORPORA, FIXED, RISKY_CLASSES, added_paths, commit_all, conflict_markers, copier_cli,
    lost_lines, own_doc_links_broken, path_kinds, recorded_commit, renovate_update, risky_edits, risky_losses,
    start_project, tree_bytes, user_edits,
)
from test_update_ladder import EARLIER

ANSWERS = ".copier-answers.yml"
TRACEBACK = "Traceback (most recent call last)"


_RUNNING: list = []  # the test being run in this process (xdist runs one at a time per worker)


@pytest.fixture(autouse=True)
def _figures_for_summary(request):
    _RUNNING.append(request.node)
    yield
    _RUNNING.pop()


def say(text: str, area: str, **figures: int) -> None:
    """Print a figure line and hand its numbers to the end-of-run summary (conftest.py)."""
    print("[reliability]", text, flush=True)
    if _RUNNING:
        _RUNNING[-1].user_properties.append(("reliability", {"area": area, **figures}))


def health(project: Path) -> dict:
    run = subprocess.run([sys.executable, "tools/dpf.py", "health", "--json"], cwd=project,
                         capture_output=True, text=True)
    assert run.returncode in (0, 1), run.stderr
    return json.loads(run.stdout)


def outside(tmp: Path, dst: Path) -> list[str]:
    """Everything below tmp that is not dst, inside it or one of its parents."""
    return sorted(
        p.relative_to(tmp).as_posix() for p in tmp.rglob("*")
        if p != dst and dst not in p.parents and p not in dst.parents
    )


# ============================================================================
#  1. Property-based: random valid answer sets
# ============================================================================

WORD_CHARS = st.characters(categories=("L", "N"))
NAME = st.builds(
    lambda first, middle, last: (first + middle + last)[:60].rstrip(" "),
    WORD_CHARS, st.text(st.one_of(WORD_CHARS, st.sampled_from(list(" .,&'()+/:-_"))), max_size=58),
    st.one_of(st.just(""), WORD_CHARS),
).filter(lambda s: re.fullmatch(r"[^\W_][\w .,&'()+/:-]*", s) is not None)
SLUG = st.from_regex(r"[a-z0-9]{1,12}(-[a-z0-9]{1,8}){0,3}", fullmatch=True)
PURPOSE_FRAGMENTS = ["# ", "---", "*", "_", "[x]", "(y)", "'", '"', ": ", " - ", "&", "%", "#", "TBD",
                     "!!python/object", "~~", "...", "✓", "—", "ü", "日本", "עברית", " "]
PURPOSE = st.lists(
    st.one_of(
        st.text(st.characters(categories=("L", "N", "P", "S", "Zs"), exclude_characters="{}<>`|\\"),
                min_size=1, max_size=30),
        st.sampled_from(PURPOSE_FRAGMENTS),
    ),
    min_size=1, max_size=12,
).map(" ".join).filter(
    lambda s: 10 <= len(s.strip()) and len(s) <= 200 and "](" not in s and "]:" not in s
)
EMAIL = st.from_regex(
    r"[A-Za-z0-9._%+-]{1,20}@[A-Za-z0-9]([A-Za-z0-9-]{0,8}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,8}[A-Za-z0-9])?){1,3}",
    fullmatch=True,
)
DATE = st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date.today()).map(dt.date.isoformat)
QUARTER = st.builds(lambda y, q: f"{y}-Q{q}", st.integers(2000, 2099), st.integers(1, 4))


def derived_slug(name: str, fallback: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or fallback


@st.composite
def answer_sets(draw) -> dict:
    """Any valid answer set: every choice, unusual text, omitted answers (defaults)."""
    answers = {
        "orchestrator": draw(st.sampled_from(["airflow", "dagster", "prefect", "none"])),
        "transformation_tool": draw(st.sampled_from(["dbt", "sqlmesh", "none"])),
        "warehouse": draw(st.sampled_from(["duckdb", "postgres", "snowflake", "bigquery", "databricks"])),
        "ci_platform": draw(st.sampled_from(["github", "gitlab", "none"])),
        "product_audience": draw(st.sampled_from(["internal", "external", "both"])),
    }
    # adopted_paths is left to tests/test_adopt.py: it presumes files the team already had.
    if draw(st.booleans()):
        answers["starter_pipeline"] = draw(st.booleans())
    optional = {
        "project_name": NAME, "product_name": NAME, "team_name": NAME, "product_purpose": PURPOSE,
        "team_email": EMAIL, "project_slug": SLUG, "product_slug": SLUG,
        "created_on": DATE, "roadmap_start_quarter": QUARTER,
    }
    for key, strategy in optional.items():
        value = draw(st.none() | strategy)
        if value is not None:
            answers[key] = value
    # A name whose derived folder name would exceed 40 characters needs an explicit
    # slug (without one the copy is refused: test_long_name_without_slug below).
    for name, slug, fallback in (("project_name", "project_slug", "data-products"),
                                 ("product_name", "product_slug", "product")):
        if slug not in answers and len(derived_slug(answers.get(name, ""), fallback)) > 40:
            answers[slug] = draw(SLUG)
    if draw(st.booleans()):
        name = draw(NAME)
        first = answers.get("product_slug") or derived_slug(answers.get("product_name", "Orders"), "product")
        slug = derived_slug(name, "")
        if not slug or len(slug) > 40 or slug == first:
            slug = draw(SLUG.filter(lambda s: s != first))
        answers["+product"] = {"name": name, "slug": slug, "purpose": draw(PURPOSE),
                               "audience": draw(st.sampled_from(["internal", "external", "both"]))}
    return answers


TALLY = {"tried": 0, "passed": 0, "with_second_product": 0}


def check_answer_set(src: Path, answers: dict) -> None:
    TALLY["tried"] += 1
    answers = dict(answers)
    extra = answers.pop("+product", None)
    with tempfile.TemporaryDirectory(prefix="dpf-prop-") as tmp:
        tmp = Path(tmp)
        dst = tmp / "dst"
        render(src, dst, answers)
        assert outside(tmp, dst) == []
        recorded = yaml.safe_load((dst / ANSWERS).read_text())
        for key, value in answers.items():
            assert recorded[key] == value, f"{key} did not round-trip through {ANSWERS}"
        if extra:
            TALLY["with_second_product"] += 1
            run = subprocess.run(
                [sys.executable, "tools/dpf.py", "add-product", extra["name"], f"--slug={extra['slug']}",
                 f"--purpose={extra['purpose']}", f"--audience={extra['audience']}"],
                cwd=dst, capture_output=True, text=True)
            assert run.returncode == 0, run.stdout + run.stderr
            product = yaml.safe_load((dst / "01_Data_Products" / extra["slug"] / ANSWERS).read_text())
            assert (product["scope"], product["product_name"], product["product_purpose"]) == \
                ("product", extra["name"], extra["purpose"])
        assert leftover_jinja(dst) == []
        assert thin_documents(dst) == []
        text = "\n".join((dst / rel).read_text() for rel in sorted(files_of(dst)) if rel.endswith(".md"))
        for key in ("project_name", "product_name", "product_purpose", "team_email"):
            if key in answers:
                assert answers[key] in text, f"{key} is not rendered literally"
        team = answers.get("team_name", "Data Platform")
        owners = {rel: front_matter((dst / rel).read_text()).get("owner")
                  for rel in sorted(files_of(dst)) if rel.endswith(".md")}
        assert sum(owner is not None for owner in owners.values()) >= 50
        assert {rel: o for rel, o in owners.items() if o is not None and o != team} == {}, team
        report = health(dst)
        assert report["errors"] == 0, [f for f in report["findings"] if f["severity"] == "error"]
    TALLY["passed"] += 1


# No shrinking: one example costs seconds; a failure is reported as generated.
PROPERTY_SETTINGS = dict(deadline=None, database=None, phases=[Phase.explicit, Phase.generate],
                         suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                                HealthCheck.data_too_large])


def run_answer_sets(src: Path, examples: int, label: str) -> None:
    @settings(max_examples=examples, **PROPERTY_SETTINGS)
    @given(answer_sets())
    def run(answers):
        check_answer_set(src, answers)

    before = dict(TALLY)
    run()
    tried, passed = TALLY["tried"] - before["tried"], TALLY["passed"] - before["passed"]
    say(f"{label}: {tried} random answer sets tried, {passed} passed (render, no Jinja left, no thin "
        f"document, health 0 errors), {TALLY['with_second_product'] - before['with_second_product']} "
        "with a second product", "1 property: random valid answer sets", tried=tried, passed=passed)


def test_random_answer_sets_fast(template_repo):
    run_answer_sets(template_repo[0], 10, "property")


@pytest.mark.slow
@pytest.mark.parametrize("shard", range(4))
def test_random_answer_sets_full(template_repo, shard):
    """4 shards x 50 = 200 answer sets (spread over the xdist workers)."""
    run_answer_sets(template_repo[0], 50, f"property shard {shard}")


def test_long_name_without_slug_is_refused_clearly_or_rendered(template_repo, tmp_path):
    """A valid 50-character name derives a folder name longer than 40 characters."""
    src, _ = template_repo
    name = "The Very Long Name Of Our Analytics Platform Group"
    dst = tmp_path / "dst"
    try:
        render(src, dst, {"project_name": name})
    except ValueError as error:
        assert "question 'project_slug'" in str(error) and "40 or fewer" in str(error)
        assert not dst.exists()
        say("long name without slug: refused with a message naming project_slug", "2 hostile answers", refused=1)
    else:
        slug = yaml.safe_load((dst / ANSWERS).read_text())["project_slug"]
        assert len(slug) <= 40
        say(f"long name without slug: rendered as {slug!r}", "2 hostile answers", literal=1)


# ============================================================================
#  2. Hostile answers
# ============================================================================

LITERAL = "literal"
EITHER = "either"  # refused or literal, both fine
SENTINEL = "/tmp/dpf-hostile-sentinel"

HOSTILE: list[tuple[str, str, object, str]] = [
    # (kind, question, value, expected: "reject:<part of the message>" | LITERAL | EITHER)
    # path traversal and absolute paths
    ("path", "product_slug", "../../outside", "reject:one safe folder name"),
    ("path", "project_slug", "../escape", "reject:one safe folder name"),
    ("path", "product_slug", SENTINEL, "reject:one safe folder name"),
    ("path", "product_slug", "..\\..\\windows", "reject:one safe folder name"),
    ("path", "product_slug", "orders/../../../x", "reject:one safe folder name"),
    ("path", "product_slug", "orders\n", "reject:one safe folder name"),
    ("path", "product_name", "../../../etc/passwd", "reject:must start with a letter or digit"),
    ("path", "product_name", "a/../../etc/passwd", LITERAL),
    ("path", "project_name", "C:\\Windows\\System32", "reject:must start with a letter or digit"),
    ("path", "team_name", "~root/.ssh", "reject:must start with a letter or digit"),
    ("path", "product_slug", "con", LITERAL),
    # Jinja
    ("jinja", "project_name", "{{ 7 * 7 }}", "reject:must start with a letter or digit"),
    ("jinja", "product_name", "A {% include '/etc/passwd' %}", "reject:must start with a letter or digit"),
    ("jinja", "product_purpose", "Uses {{ cycler.__init__.__globals__.os.popen('id').read() }} now",
     "reject:plain prose"),
    ("jinja", "team_name", "Data {# comment #}", "reject:must start with a letter or digit"),
    ("jinja", "product_purpose", "Percent-curly %} and hash-curly #} tokens", "reject:plain prose"),
    # YAML
    ("yaml", "team_name", "null", LITERAL),
    ("yaml", "project_name", "yes", LITERAL),
    ("yaml", "product_name", "2026-01-01", LITERAL),
    ("yaml", "team_email", "a.b@example.co", LITERAL),
    ("yaml", "project_slug", "0x1f", LITERAL),
    ("yaml", "product_purpose", "key: value # comment - list: [1, 2] &anchor *ref !!python/object", LITERAL),
    ("yaml", "product_purpose", "--- a document separator, then ... the end marker", LITERAL),
    ("yaml", "team_name", "O'Neil: & Co (EU)/DE", LITERAL),
    ("yaml", "product_purpose", "\"Double\" and 'single' quotes: both kinds in one purpose", LITERAL),
    # control characters and NUL
    ("control", "team_name", "Data\x00Team", "reject:control or invisible"),
    ("control", "product_purpose", "Tab\tseparated purpose of the product", "reject:control or invisible"),
    ("control", "project_name", "Acme\rAnalytics", "reject:control or invisible"),
    ("control", "product_purpose", "ANSI \x1b[31mred\x1b[0m purpose text", "reject:control or invisible"),
    ("control", "project_name", "Acme\u2028Analytics", "reject:control or invisible"),
    ("control", "product_purpose", "Lone surrogate \ud800 in the purpose text", "reject:control or invisible"),
    # 10 kB strings
    ("10kB", "project_name", "x" * 10240, "reject:keep it to 60 or fewer"),
    ("10kB", "product_purpose", "y" * 10240, "reject:at most 200 characters"),
    ("10kB", "team_email", "a" * 10240 + "@example.com", "reject:at most 254"),
    ("10kB", "product_slug", "a" * 10240, "reject:keep it to 40 or fewer"),
    ("10kB", "created_on", "2" * 10240, "reject:YYYY-MM-DD"),
    # right-to-left and combining Unicode
    ("unicode", "product_name", "Orders\u202e", "reject:control or invisible"),
    ("unicode", "product_purpose", "Purpose with RLO \u202e reversed text inside", "reject:control or invisible"),
    ("unicode", "product_purpose", "Arabic letter mark \u061c inside the purpose", "reject:control or invisible"),
    ("unicode", "product_purpose", "Zero\u200bwidth space inside the purpose text", "reject:control or invisible"),
    ("unicode", "product_name", "הזמנות", LITERAL),
    ("unicode", "team_name", "فريق البيانات", LITERAL),
    ("unicode", "project_name", "Cafe\u0301 Analytics", "reject:must start with a letter or digit"),
    ("unicode", "product_purpose", "Zalgo t\u0336\u0337e\u0338xt for planners and analysts", LITERAL),
    ("unicode", "project_name", "Ｆｕｌｌｗｉｄｔｈ Analytics", LITERAL),
    # e-mail look-alikes
    ("email", "team_email", "data@ex\u0430mple.com", "reject:one e-mail address"),
    ("email", "team_email", "data@example.com\n", "reject:one e-mail address"),
    ("email", "team_email", "data@example.com, boss@example.com", "reject:one e-mail address"),
    ("email", "team_email", "Data Team <data@example.com>", "reject:one e-mail address"),
    ("email", "team_email", "mailto:data@example.com", "reject:one e-mail address"),
    ("email", "team_email", "data@example..com", "reject:one e-mail address"),
    ("email", "team_email", "data@localhost", "reject:one e-mail address"),
    ("email", "team_email", "\"quoted\"@example.com", "reject:one e-mail address"),
    ("email", "team_email", "data@[127.0.0.1]", "reject:one e-mail address"),
    ("email", "team_email", "data%evil.com@example.com", LITERAL),
    # choices
    ("choice", "orchestrator", "../../etc", "reject:Invalid choice"),
    ("choice", "scope", "product/../..", "reject:Invalid choice"),
    ("choice", "warehouse", "duckdb; rm -rf /", "reject:Invalid choice"),
    # dates
    ("date", "created_on", "2026-02-30", "reject:real calendar date"),
    ("date", "created_on", "2099-12-31", "reject:must not be in the future"),
    ("date", "created_on", "2026-01-15\n", "reject:YYYY-MM-DD"),
    # copier.yml's own quarter validator ends in `$`, which also accepts a final new line.
    ("date", "roadmap_start_quarter", "2026-Q1\n", EITHER),
    # Markdown and shells
    ("markdown", "product_purpose", "See [the spec](../../../etc/passwd) before building.", "reject:Markdown links"),
    ("markdown", "product_purpose", "# Heading injection and *emphasis* and _underscores_", LITERAL),
    ("markdown", "product_purpose", "<<<<<<< HEAD conflict marker look-alike", "reject:plain prose"),
    ("markdown", "product_purpose", "======= seven equals, then some words", LITERAL),
    ("shell", "product_purpose", "$(rm -rf ~) and `id` in the purpose", "reject:plain prose"),
    ("shell", "product_purpose", f"$(touch {SENTINEL}) then more words", LITERAL),
    ("shell", "project_name", "Robert'); DROP TABLE students;--", "reject:must start with a letter or digit"),
    # adopted_paths (a list; scripts/adopt.py fills it): paths the template must never write
    ("path", "adopted_paths", ["../../etc/passwd"], "reject:below the repository root"),
    ("path", "adopted_paths", ["/etc/passwd"], "reject:not absolute"),
    ("path", "adopted_paths", ["C:/Windows/win.ini"], "reject:not absolute"),
    ("path", "adopted_paths", ["README.md\n"], "reject:without control characters"),
    ("path", "adopted_paths", ["*"], "reject:are not accepted"),
    ("yaml", "adopted_paths", "README.md", "reject:must be a list"),
    # emptiness
    ("empty", "project_name", "", "reject:must not be empty"),
    ("empty", "team_name", "   ", "reject:must not be empty"),
    ("empty", "product_purpose", " " * 12, "reject:too short"),
]

REJECTED = [h for h in HOSTILE if h[3].startswith("reject:") or h[3] == EITHER]
ACCEPTED = [h for h in HOSTILE if h[3] in (LITERAL, EITHER)]


def _batches(cases):
    """Literal cases packed into as few renders as possible: one value per question."""
    batches: list[dict] = []
    for case in cases:
        for batch in batches:
            if case[1] not in batch:
                batch[case[1]] = case
                break
        else:
            batches.append({case[1]: case})
    return [list(b.values()) for b in batches]


def escape_targets(dst: Path, value) -> list[Path]:
    """Where a path-like value would land if it escaped."""
    if not isinstance(value, str) or "\x00" in value or len(value) > 200:
        return []
    targets = [Path(SENTINEL)]
    if "/" in value or "\\" in value:
        for base in (dst, dst / "01_Data_Products"):
            try:
                targets.append((base / value).resolve())
            except (OSError, ValueError):
                pass
    return targets


def test_hostile_corpus_is_big_enough():
    kinds = sorted({h[0] for h in HOSTILE})
    say(f"hostile corpus: {len(HOSTILE)} values ({len([h for h in HOSTILE if h[3].startswith('reject:')])} "
        f"must be refused, {len([h for h in HOSTILE if h[3] == LITERAL])} rendered literally, "
        f"{len([h for h in HOSTILE if h[3] == EITHER])} either) in {len(_batches(ACCEPTED))} renders; "
        f"kinds: {', '.join(kinds)}", "2 hostile answers", corpus=len(HOSTILE))
    assert len(HOSTILE) >= 30
    assert {"path", "jinja", "yaml", "control", "10kB", "unicode", "email"} <= set(kinds)


@pytest.mark.parametrize("kind,question,value,expected", REJECTED,
                         ids=[f"{h[0]}-{h[1]}-{i}" for i, h in enumerate(REJECTED)])
def test_hostile_answer_is_refused_with_a_message(template_repo, tmp_path, kind, question, value, expected):
    src, _ = template_repo
    dst = tmp_path / "a" / "b" / "dst"
    dst.parent.mkdir(parents=True)
    try:
        copier.run_copy(str(src), str(dst), data={**FIXED, question: value}, defaults=True, quiet=True)
    except ValueError as error:
        message = str(error)
        assert question in message, message
        if expected != EITHER:
            assert expected.removeprefix("reject:") in message, message
        assert len(message) < 600, "the message should be a sentence, not a dump of the value"
        assert not dst.exists()
        assert outside(tmp_path, dst) == []
        outcome = "refused"
    else:
        assert expected == EITHER, f"{question}={value!r} was accepted"
        assert yaml.safe_load((dst / ANSWERS).read_text())[question] == value
        assert outside(tmp_path, dst) == []
        outcome = "accepted literally"
    for target in escape_targets(dst, value):  # tmp_path itself is checked by outside()
        assert target.is_relative_to(tmp_path) or not target.exists(), f"{target} exists"
    say(f"hostile {kind} {question}={ascii(value)[:50]}: {outcome}", "2 hostile answers",
        **{"refused" if outcome == "refused" else "literal": 1, "written_outside": 0})


@pytest.mark.parametrize("batch", _batches(ACCEPTED), ids=lambda b: "+".join(c[1] for c in b))
def test_hostile_answers_render_literally_and_stay_inside(template_repo, tmp_path, batch):
    src, _ = template_repo
    data = {**FIXED, **{question: value for _, question, value, _ in batch}}
    dst = tmp_path / "a" / "b" / "dst"
    dst.parent.mkdir(parents=True)
    try:
        render(src, dst, data)
    except ValueError as error:
        refusable = [c for c in batch if c[3] == EITHER and c[1] in str(error)]
        assert refusable, f"refused: {error}"
        data.pop(refusable[0][1])
        shutil.rmtree(dst, ignore_errors=True)
        render(src, dst, data)
    assert outside(tmp_path, dst) == []
    recorded = yaml.safe_load((dst / ANSWERS).read_text())
    text = "\n".join((dst / rel).read_text() for rel in sorted(files_of(dst)))
    for kind, question, value, _ in batch:
        if question not in data:
            continue
        assert recorded[question] == value, f"{question} did not round-trip"
        if question == "team_name":
            owners = {front_matter((dst / r).read_text()).get("owner") for r in files_of(dst) if r.endswith(".md")}
            assert owners - {None} == {value}
        elif question == "product_slug":
            assert (dst / "01_Data_Products" / value / "spec.md").is_file()
        elif question == "project_slug":
            assert value in text
        else:
            assert value in text, f"{question}={value!r} is not in the render as written"
        for target in escape_targets(dst, value):  # tmp_path itself is checked by outside()
            assert target.is_relative_to(tmp_path) or not target.exists(), f"{target} exists"
    assert leftover_jinja(dst) == []
    report = health(dst)
    assert report["errors"] == 0, [f for f in report["findings"] if f["severity"] == "error"]
    say(f"hostile render {'+'.join(c[1] for c in batch)}: {len(batch)} literal value(s), "
        f"nothing outside the destination, health {report['errors']} errors", "2 hostile answers",
        literal=len(batch), written_outside=0)


# ============================================================================
#  3. Update safety: corpus of user edits x every release hop
# ============================================================================

CORPORA = [name for name in EDIT_CORPORA if name != "ladder"]  # "ladder" runs in test_update_ladder.py
STACKS = ["defaults", "dagster-sqlmesh-snowflake"]


def _update_safety(template_repo, tmp_path, corpus, hop, stack) -> None:
    src, info = template_repo
    old, new = hop
    answers = ANSWER_SETS[stack]
    project = start_project(src, tmp_path / "project", old, answers)
    fresh = render(src, tmp_path / "new", {**FIXED, **answers}, vcs_ref=new)
    going_away = files_of(project) - files_of(fresh)
    edits = user_edits(project, going_away, corpus, tag=corpus)
    run = renovate_update(project, new, trust=True)
    lost = lost_lines(project, edits) if run.returncode == 0 else edits.lines
    conflicts = conflict_markers(project)
    say(f"update safety {corpus} {old}->{new} {stack}: {len(edits.lines)} user lines, {len(lost)} lost, "
        f"{len(conflicts)} conflict markers, {len(going_away)} files moved or removed by the release",
        "3 update safety: user edits x release hops", hops=1, user_lines=len(edits.lines), lost=len(lost))
    assert run.returncode == 0, run.stderr
    assert lost == []
    assert recorded_commit(project) == new
    assert not [f for f in files_of(project) if f.endswith((".rej", ".orig", ".dpf-tmp"))]
    for rel in edits.deleted:
        assert not (project / rel).exists(), f"{rel} came back"
    # A link may only break where the team itself deleted the target (or the
    # file a release moved it to, which the migration then leaves deleted).
    deleted_by_team = set(edits.deleted) | (files_of(fresh) - files_of(project))
    unexplained = [
        b for b in own_doc_links_broken(project, edits)
        if posixpath.normpath(posixpath.join(posixpath.dirname(b.split(":")[0]), b.split(": ", 1)[1].split("#")[0]))
        not in deleted_by_team
    ]
    assert unexplained == []


FAST_UPDATE = [("random-1", "dagster-sqlmesh-snowflake")]


@pytest.mark.parametrize("corpus,stack", FAST_UPDATE)
def test_update_keeps_every_user_line_fast(template_repo, tmp_path, corpus, stack):
    _, info = template_repo
    oldest_to_head = (info["releases"][0], info["head"])
    _update_safety(template_repo, tmp_path, corpus, oldest_to_head, stack)


# Every hop between two releases, or a release and HEAD, from main's history by the
# CHANGELOG rule ("HEAD" is what the template repo fixture tags above the last release).
_TAGS = EARLIER + ["HEAD"]
HOPS = [(old, new) for i, old in enumerate(_TAGS) for new in _TAGS[i + 1:]]


# Every corpus x stack x hop, less the one case the fast slice already runs.
EVERY_HOP = [(corpus, stack, hop) for corpus in CORPORA for stack in STACKS for hop in HOPS
             if not ((corpus, stack) in FAST_UPDATE and hop == (_TAGS[0], "HEAD"))]


@pytest.mark.slow
@pytest.mark.parametrize("corpus,stack,hop", EVERY_HOP, ids=lambda v: v if isinstance(v, str) else f"{v[0]}-{v[1]}")
def test_update_keeps_every_user_line_every_hop(template_repo, tmp_path, corpus, stack, hop):
    _, info = template_repo
    hop = tuple(info["head"] if tag == "HEAD" else tag for tag in hop)
    _update_safety(template_repo, tmp_path, corpus, hop, stack)


# ============================================================================
#  4. Migrations: twice = once; killed at each write and re-run = uninterrupted
# ============================================================================

# A sitecustomize that arms helpers.py's crash hook in one stage only
# (DPF_TEST_STOP=after:3 -> DPF_MIGRATION_STOP_AFTER=3 for `v1_1_0.py after ...`).
STAGE_SHIM = '''import os, sys
_spec = os.environ.get("DPF_TEST_STOP", "")
if _spec:
    _stage, _n = _spec.split(":")
    if len(sys.argv) > 1 and sys.argv[1] == _stage:
        os.environ["DPF_MIGRATION_STOP_AFTER"] = _n
    else:
        os.environ.pop("DPF_MIGRATION_STOP_AFTER", None)
'''


@pytest.fixture(scope="module")
def migration_hop(template_repo, tmp_path_factory):
    """A project at the oldest release with edits to everything the next release moves,
    and the same project updated to HEAD without interruption (the reference)."""
    src, info = template_repo
    base = tmp_path_factory.mktemp("migration")
    answers = ANSWER_SETS["dagster-sqlmesh-snowflake"]  # moves three files, renames an answer
    project = start_project(src, base / "before", info["releases"][0], answers)
    fresh = render(src, base / "new", {**FIXED, **answers}, vcs_ref=info["head"])
    edits = user_edits(project, files_of(project) - files_of(fresh), "ladder")
    reference = base / "reference"
    shutil.copytree(project, reference, symlinks=True)
    run = renovate_update(reference, info["head"], trust=True)
    assert run.returncode == 0, run.stderr
    assert lost_lines(reference, edits) == []
    shim = base / "shim"
    shim.mkdir()
    (shim / "sitecustomize.py").write_text(STAGE_SHIM)
    return {"src": src, "head": info["head"], "project": project, "reference": reference,
            "edits": edits, "shim": shim, "base": base}


def _migration(src: Path, project: Path, stage: str, env: dict | None = None):
    return subprocess.run([sys.executable, str(src / "migrations" / "v1_1_0.py"), stage, ANSWERS],
                          cwd=project, capture_output=True, text=True, env=env)


def _clean_env() -> dict:
    return {k: v for k, v in os.environ.items() if k not in ("DPF_MIGRATION_STOP_AFTER", "DPF_TEST_STOP")}


def test_migration_twice_equals_once(migration_hop, tmp_path):
    hop = migration_hop
    want = tree_bytes(hop["reference"])
    project = tmp_path / "project"
    shutil.copytree(hop["reference"], project, symlinks=True)
    for attempt in range(2):
        for stage in ("before", "after"):
            run = _migration(hop["src"], project, stage, _clean_env())
            assert run.returncode == 0, run.stderr
            assert tree_bytes(project) == want, f"{stage} stage run {attempt + 2} changed the tree"
    # The before stage alone, twice, on the old project: same answers file as once.
    once, twice = tmp_path / "once", tmp_path / "twice"
    for path, times in ((once, 1), (twice, 2)):
        shutil.copytree(hop["project"], path, symlinks=True)
        for _ in range(times):
            assert _migration(hop["src"], path, "before", _clean_env()).returncode == 0
    assert tree_bytes(once) == tree_bytes(twice)
    assert tree_bytes(once) != tree_bytes(hop["project"]), "the before stage did nothing to compare"
    say("migration idempotence: after x3 and before x3 on an updated project, before x2 on the old one: "
        "byte-for-byte equal to one run", "4 migrations", repeated_runs=4, differences=0)


def _kill_and_rerun(hop: dict, workdir: Path, stage: str, n: int) -> str:
    """Update with the migration killed after its n-th write in `stage`, then recover.

    Returns "killed" or "finished" (n was past the stage's last write)."""
    project = workdir / f"{stage}-{n}"
    shutil.copytree(hop["project"], project, symlinks=True)
    env = {**_clean_env(), "DPF_TEST_STOP": f"{stage}:{n}",
           "PYTHONPATH": os.pathsep.join(filter(None, [str(hop["shim"]), os.environ.get("PYTHONPATH")]))}
    run = copier_cli(project, "update", "--skip-answered", "--defaults", "--answers-file", ANSWERS,
                     "--vcs-ref", hop["head"], "--trust", env=env)
    if run.returncode == 0:
        outcome = "finished"
    else:
        outcome = "killed"
        assert "returned non-zero exit status 99" in run.stderr, run.stderr[-500:]
        if stage == "after":
            # Copier's update is done; finish the migration by hand, as its docstring says.
            rerun = _migration(hop["src"], project, "after", _clean_env())
            assert rerun.returncode == 0, rerun.stderr
        else:
            # Killed before Copier rendered anything: only the answers file was touched.
            changed = git(project, "status", "--porcelain").splitlines()
            assert [line[3:] for line in changed] == [ANSWERS], changed
            git(project, "checkout", "--", ANSWERS)
            again = renovate_update(project, hop["head"], trust=True)
            assert again.returncode == 0, again.stderr
    assert lost_lines(project, hop["edits"]) == []
    got, want = tree_bytes(project), tree_bytes(hop["reference"])
    assert sorted(got) == sorted(want)
    assert [rel for rel in want if got[rel] != want[rel]] == []
    shutil.rmtree(project)
    return outcome


@pytest.mark.parametrize("stop", ["before:1", "after:1", "after:3"])
def test_migration_killed_then_rerun_fast(migration_hop, tmp_path, stop):
    stage, n = stop.split(":")
    outcome = _kill_and_rerun(migration_hop, tmp_path, stage, int(n))
    assert outcome == "killed"
    say(f"migration killed after write {n} of the {stage} stage, re-run: equal to the uninterrupted "
        f"update, 0 lines lost", "4 migrations", killed_and_rerun=1, lost=0)


@pytest.mark.slow
@pytest.mark.parametrize("stage", ["before", "after"])
def test_migration_killed_at_every_write(migration_hop, tmp_path, stage):
    kills = 0
    for n in range(1, 60):
        if _kill_and_rerun(migration_hop, tmp_path, stage, n) == "finished":
            break
        kills += 1
    else:
        pytest.fail("the migration never finished")
    assert kills >= 1
    say(f"migration {stage} stage: killed at each of its {kills} writes and re-run; all {kills} trees "
        f"equal to the uninterrupted update, 0 lines lost", "4 migrations", killed_and_rerun=kills, lost=0)


# ============================================================================
#  5. Refusals: clear message, repository byte-for-byte unchanged
# ============================================================================


def _snapshot(project: Path) -> tuple:
    return (tree_bytes(project), git(project, "rev-parse", "HEAD"), git(project, "status", "--porcelain"),
            git(project, "stash", "list"))


def _rewrite_answers(edit):
    def apply(project: Path, info: dict) -> None:
        path = project / ANSWERS
        path.write_bytes(edit(path.read_bytes()))
        git(project, "commit", "-q", "-am", "Hand-edited answers")
    return apply


def _dirty(project: Path, info: dict) -> None:
    path = project / "02_Architecture/system-overview.md"
    path.write_text(path.read_text() + "\nwork in progress\n")


def _untracked(project: Path, info: dict) -> None:
    (project / "notes.md").write_text("a new file nobody committed\n")


def _missing(project: Path, info: dict) -> None:
    git(project, "rm", "-q", ANSWERS)
    git(project, "commit", "-q", "-m", "Lost the answers file")


def _at_head(project: Path, info: dict) -> None:
    shutil.rmtree(project)
    start_project(info["src"], project, info["head"], {})


def _drop_key(key: str):
    return _rewrite_answers(lambda b: b"".join(l for l in b.splitlines(True) if not l.startswith(key.encode())))


REFUSALS = {
    # name: (set-up, target, what Copier's own message says or None where Copier 9 prints a
    #        traceback, what `tools/dpf.py update` says)
    "dirty-tracked": (_dirty, "head", "dirty", "uncommitted changes"),
    "dirty-untracked": (_untracked, "head", "dirty", "uncommitted changes"),
    "answers-missing": (_missing, "head", "cannot obtain old template references", "is missing"),
    "answers-without-_commit": (_drop_key("_commit"), "head", "cannot obtain old template references",
                                "has no _commit"),
    "answers-without-_src_path": (_drop_key("_src_path"), "head", "cannot obtain old template references",
                                  "has no _src_path"),
    "answers-invalid-yaml": (_rewrite_answers(lambda b: b + b"broken: [unclosed\n  : :\n"), "head",
                             None, "is not valid YAML"),
    "answers-empty": (_rewrite_answers(lambda b: b"# nothing but a comment\n"), "head", None, "holds no answers"),
    "answers-binary": (_rewrite_answers(lambda b: b"\x00\xff\xfe garbage"), "head", None, "is not text"),
    "unknown-_commit": (_rewrite_answers(lambda b: re.sub(rb"_commit: \S+", b"_commit: v0.9.0", b)), "head",
                        None, "has no such release"),
    "unknown-_commit-sha": (_rewrite_answers(lambda b: re.sub(rb"_commit: \S+", b"_commit: " + b"deadbeef" * 5, b)),
                            "head", None, "could not find the template revision"),
    "downgrade": (_at_head, "oldest", "Downgrades are not supported", "older than"),
}


@pytest.fixture(scope="module")
def refusal_base(template_repo, tmp_path_factory):
    src, info = template_repo
    return start_project(src, tmp_path_factory.mktemp("refusal") / "base", info["releases"][0], {})


@pytest.mark.parametrize("case", REFUSALS)
def test_refusal_is_clear_and_changes_nothing(template_repo, refusal_base, tmp_path, case):
    """Renovate's command and the repository's own `dpf.py update` both refuse and change no
    byte; dpf always says what is wrong and how to fix it, Copier does where it can."""
    src, info = template_repo
    setup, target, copier_says, dpf_says = REFUSALS[case]
    project = tmp_path / "project"
    shutil.copytree(refusal_base, project, symlinks=True)
    setup(project, {**info, "src": src})
    tag = info["head"] if target == "head" else info["releases"][0]
    before = _snapshot(project)

    run = renovate_update(project, tag, trust=True)
    assert run.returncode != 0
    assert _snapshot(project) == before, "Copier's refused update changed the repository"
    output = run.stdout + run.stderr
    if copier_says:
        assert TRACEBACK not in output and copier_says.lower() in output.lower(), output[-800:]
    else:
        assert TRACEBACK in output, f"Copier now explains {case} itself; record its message:\n{output[-800:]}"

    # The tool as this release ships it, run against the team's repository.
    dpf = subprocess.run([sys.executable, str(src / "template/tools/dpf.py"), "--root", str(project),
                          "update", "--to", tag, "--trust"], capture_output=True, text=True)
    assert dpf.returncode != 0
    assert _snapshot(project) == before, "dpf's refused update changed the repository"
    said = dpf.stdout + dpf.stderr
    assert TRACEBACK not in said and dpf_says.lower() in said.lower(), said[-800:]
    assert "nothing was changed" in said or copier_says, said[-800:]
    say(f"refusal {case}: repository unchanged; Copier: "
        f"{'clear message' if copier_says else 'traceback'}; dpf.py update: {said.strip().splitlines()[-1][:140]}",
        "5 refusals", cases=1, unchanged=1, clear_from_copier=int(bool(copier_says)), clear_from_dpf=1)


# ============================================================================
#  6. Risky edits: bytes that are not UTF-8, CRLF, the team's own path where a
#     release adds one, a template path whose kind the team changed
# ============================================================================

RISKY_AREA = "6 risky edits: encodings, collisions, type changes"
# Hops into the newest release only: the collision guard lives in copier.yml, and
# Copier applies the newest release's settings to the whole hop.
RISKY_FAST = [("non-utf8", 0, "dagster-sqlmesh-snowflake"), ("crlf", 0, "dagster-sqlmesh-snowflake"),
              ("collision-file", 1, "defaults"), ("collision-folder", 1, "defaults"),
              ("type-change", -1, "defaults")]


def _risky_update(template_repo, tmp_path, corpus: str, old: str, stack: str) -> None:
    src, info = template_repo
    answers = ANSWER_SETS[stack]
    project = start_project(src, tmp_path / "project", old, answers)
    fresh = render(src, tmp_path / "new", {**FIXED, **answers}, vcs_ref=info["head"])
    going_away = files_of(project) - files_of(fresh)
    edits = risky_edits(project, fresh, corpus, going_away, tag=f"{corpus}-{old}")
    assert risky_losses(project, edits) == [], "the corpus did not write what it checks"
    run = renovate_update(project, info["head"], trust=True)
    lost = risky_losses(project, edits)
    # A template path written back over one the team replaced by its own kind of path.
    resurrected = sorted(rel for rel, kind in edits.kinds.items() if path_kinds(project).get(rel) != kind
                         and (project / rel).exists())
    half_written = int(run.returncode != 0)
    say(f"risky {corpus} {old}->{info['head']} {stack}: {sum(map(len, edits.lines.values()))} team lines, "
        f"{len(edits.kinds)} team paths of their own kind, {len(lost)} lost, {len(resurrected)} resurrected, "
        f"{half_written} half-written, {len(conflict_markers(project))} conflict markers",
        RISKY_AREA, hops=1, team_paths=len(edits.kinds), lost=len(lost), resurrected=len(resurrected),
        half_written=half_written)
    assert run.returncode == 0, run.stderr[-2000:]
    assert recorded_commit(project) == info["head"]
    assert lost == [] and resurrected == []
    assert not [f for f in files_of(project) if f.endswith((".rej", ".dpf-tmp"))]


@pytest.mark.parametrize("corpus,release,stack", RISKY_FAST, ids=lambda v: str(v))
def test_risky_edits_fast(template_repo, tmp_path, corpus, release, stack):
    _, info = template_repo
    _risky_update(template_repo, tmp_path, corpus, info["releases"][release], stack)


RISKY_EVERY = [(corpus, old, stack) for corpus in RISKY_CLASSES for old in EARLIER for stack in STACKS]


@pytest.mark.slow
@pytest.mark.parametrize("corpus,old,stack", RISKY_EVERY)
def test_risky_edits_every_hop(template_repo, tmp_path, corpus, old, stack):
    _risky_update(template_repo, tmp_path, corpus, old, stack)


def test_template_path_list_is_current():
    """includes/template_paths.jinja, which the collision guard reads, matches template/."""
    run = subprocess.run([sys.executable, "scripts/template_paths.py", "--check"], cwd=ROOT,
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stderr


@pytest.mark.parametrize("stack", ["defaults", pytest.param("prefect-none-bigquery", marks=pytest.mark.slow)])
def test_every_path_a_release_added_is_guarded(template_repo, tmp_path, stack):
    """Lists the paths each release added (renders of consecutive releases and HEAD)
    and checks the guard knows each with the kind the release writes."""
    src, info = template_repo
    listing = (ROOT / "includes/template_paths.jinja").read_text()
    guarded = dict(ast.literal_eval(listing[listing.index("["):listing.rindex("]") + 1]))
    tags = info["releases"] + [info["head"]]
    listed = 0
    answers = {**FIXED, **ANSWER_SETS[stack]}
    renders = [render(src, tmp_path / tag, answers, vcs_ref=tag) for tag in tags]
    slug = yaml.safe_load((renders[-1] / ANSWERS).read_text())["product_slug"]
    module = slug.replace("-", "_")  # the starter's module name (slugs here start with a letter)
    for (old, new), (before, after) in zip(zip(tags, tags[1:]), zip(renders, renders[1:])):
        added = added_paths(before, after)
        listed += len(added)
        unknown = {rel: kind for rel, kind in added.items()
                   if kind not in {guarded.get(rel.replace(slug, "zz-slug").replace(module, "zz_slug")),
                                   guarded.get(rel.replace(module, "zz_slug").replace(slug, "zz-slug"))}}
        assert unknown == {}, f"{old} -> {new} adds paths the guard does not know: {unknown}"
    assert listed > 0
    say(f"collision guard ({stack}): {listed} paths added by releases, every one known to the guard with its kind",
        RISKY_AREA, added_paths=listed)


def test_folder_replaced_by_a_file_is_a_copier_crash_with_renovates_command_line(template_repo, tmp_path):
    """Copier 9.19 lists the files below a template folder the team replaced by a file
    as "deleted by the team" and unlinks each one: NotADirectoryError, after it wrote the
    new release. The guard's _skip_if_exists keeps them off that list only when Copier
    is given an absolute destination: Renovate runs from the folder (destination "."),
    and Copier evaluates the patterns from a scratch folder. Renovate then reports an
    error and commits nothing; this records that, and that an absolute destination works."""
    src, info = template_repo
    project = start_project(src, tmp_path / "project", info["previous"], {})
    shutil.rmtree(project / "11_Learning/papers")
    (project / "11_Learning/papers").write_bytes(b"Our reading list replaces the folder.\n")
    commit_all(project, "A folder replaced by a file")
    head = git(project, "rev-parse", "HEAD")
    clone = tmp_path / "renovate-clone"
    shutil.copytree(project, clone, symlinks=True)
    run = renovate_update(clone, info["head"], trust=False)
    assert run.returncode != 0 and "NotADirectoryError" in run.stderr, run.stderr[-1500:]
    assert git(clone, "rev-parse", "HEAD") == head  # nothing committed: Renovate's clone is thrown away
    absolute = copier_cli(project, "update", "--skip-answered", "--defaults", "--vcs-ref", info["head"], str(project))
    assert absolute.returncode == 0, absolute.stderr[-1500:]
    assert (project / "11_Learning/papers").read_bytes() == b"Our reading list replaces the folder.\n"
    assert recorded_commit(project) == info["head"]
    say("type change folder -> file: Renovate's command line crashes after writing (NotADirectoryError), "
        "nothing committed; with an absolute destination the update completes and keeps the file",
        RISKY_AREA, copier_crashes=1, lost=0)


@pytest.mark.xfail(strict=True, reason="Copier 9.19 re-applies the team's edits through plumbum, which decodes "
                   "`git diff-tree` output with errors='ignore': every non-UTF-8 byte of an edited line is dropped")
def test_copier_keeps_non_utf8_bytes_of_staying_documents(template_repo, tmp_path):
    """Records a loss the template cannot prevent on Renovate's path (no migration runs
    on a routine hop): a Latin-1 line added to a document loses its accented letters.
    When this passes, Copier is fixed: make the non-utf8 corpus edit every document."""
    src, info = template_repo
    project = start_project(src, tmp_path / "project", info["previous"], {})
    doc = project / "02_Architecture/system-overview.md"
    line = "Décision de l'équipe: café.".encode("latin-1")
    doc.write_bytes(doc.read_bytes() + b"\n" + line + b"\n")
    commit_all(project, "A Latin-1 line")
    run = renovate_update(project, info["head"], trust=False)
    assert run.returncode == 0, run.stderr[-1500:]
    assert line in doc.read_bytes()
