"""Reliability 2: hostile answers. Each value of the corpus is refused with a message that
names the question, or rendered literally; nothing is ever written outside the destination."""

from __future__ import annotations

import shutil
from pathlib import Path

import copier
import pytest
import yaml

from testkit.figures import say
from testkit.helpers import files_of, front_matter, health, leftover_jinja, outside, render
from testkit.ladder import FIXED

ANSWERS = ".copier-answers.yml"


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
