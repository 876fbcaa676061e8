"""Reliability 2: hostile answers. Each value of the corpus is refused with a message that
names the question, or rendered literally; nothing is ever written outside the destination."""

from __future__ import annotations

import shutil
from pathlib import Path

import copier
import pytest
import yaml

from testkit.bad_answers import BAD_ANSWERS, EITHER, LITERAL, SENTINEL
from testkit.figures import say
from testkit.helpers import files_of, front_matter, health, leftover_jinja, outside, render
from testkit.ladder import FIXED

ANSWERS = ".copier-answers.yml"


REJECTED = [h for h in BAD_ANSWERS if h[3].startswith("reject:") or h[3] == EITHER]
ACCEPTED = [h for h in BAD_ANSWERS if h[3] in (LITERAL, EITHER)]


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
    kinds = sorted({h[0] for h in BAD_ANSWERS})
    say(f"hostile corpus: {len(BAD_ANSWERS)} values ({len([h for h in BAD_ANSWERS if h[3].startswith('reject:')])} "
        f"must be refused, {len([h for h in BAD_ANSWERS if h[3] == LITERAL])} rendered literally, "
        f"{len([h for h in BAD_ANSWERS if h[3] == EITHER])} either) in {len(_batches(ACCEPTED))} renders; "
        f"kinds: {', '.join(kinds)}", "2 hostile answers", corpus=len(BAD_ANSWERS))
    assert len(BAD_ANSWERS) >= 30
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
