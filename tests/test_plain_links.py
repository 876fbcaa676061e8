"""Links written as plain Markdown in the template (their target depends on no answer, so
they skip the path table of includes/macros.jinja and cost Jinja nothing) must still
resolve in every render: a release that moves or renames a document fails here, naming
the template file and the link."""

from __future__ import annotations

import re
from pathlib import Path

import jinja2
import yaml

from testkit.helpers import LINK, ROOT, outside_fences, render
from testkit.ladder import FIXED
from scripts import template_paths  # the same computed values Copier derives from copier.yml

# Together these render every document of the template (every orchestrator and
# transformation tool has its own folder of documents).
ANSWER_SETS = [
    {"orchestrator": "airflow", "transformation_tool": "dbt"},
    {"orchestrator": "dagster", "transformation_tool": "sqlmesh", "product_name": "360 View"},
    {"orchestrator": "prefect", "transformation_tool": "none", "warehouse": "postgres", "starter_pipeline": True},
]
# Jinja that is not text: comments, raw blocks (their content is literal text, but the
# template's raw blocks hold dbt code, not links) and tags.
NOT_TEXT = re.compile(r"\{#.*?#\}|\{%-?\s*raw\s*-?%\}.*?\{%-?\s*endraw\s*-?%\}|\{\{.*?\}\}|\{%.*?%\}", re.S)


def plain_links(source: str) -> list[tuple[int, str]]:
    """(line, target) of every relative Markdown link written as text in a template source."""
    text = NOT_TEXT.sub(lambda m: "\n" * m.group(0).count("\n"), source)
    return [(number, target) for number, line in outside_fences(text) for target in LINK.findall(line)
            if not re.match(r"^[a-z]+:", target) and not target.startswith(("/", "#"))]


def rendered_path(source_rel: str, answers: dict) -> str | None:
    """Where the template file `source_rel` (relative to template/) lands, or None if not rendered."""
    env = jinja2.Environment()
    names = [env.from_string(part).render(answers) for part in source_rel.removesuffix(".jinja").split("/")]
    return "/".join(names) if all(names) else None


def with_computed_values(recorded: dict) -> dict:
    questions = yaml.safe_load((ROOT / "copier.yml").read_text())
    answers = {**recorded, "_copier_conf": {"answers_file": ".copier-answers.yml"}}
    for key, formula in template_paths.computed_values(questions).items():
        answers[key] = jinja2.Environment().from_string(formula).render(answers)
    return answers


def test_plain_links_finds_only_text_links():
    source = "See [a](../a.md) and {{ m.link('b', here) }}{# [c](c.md) #}\n```\n[d](d.md)\n```\n[e](https://x.org)\n"
    assert plain_links(source) == [(1, "../a.md")]


def test_every_plain_link_resolves_in_the_render(template_repo, tmp_path):
    src, info = template_repo
    sources = {p.relative_to(ROOT / "template").as_posix(): plain_links(p.read_text(encoding="utf-8"))
               for p in (ROOT / "template").rglob("*.md.jinja")}
    sources = {rel: links for rel, links in sources.items() if links}
    assert sources, "no plain link found: the pattern or the template changed"
    checked, broken = set(), []
    for number, answers in enumerate(ANSWER_SETS):
        project = render(src, tmp_path / f"render-{number}", {**FIXED, **answers}, vcs_ref=info["head"])
        full = with_computed_values(yaml.safe_load((project / ".copier-answers.yml").read_text()))
        for rel, links in sources.items():
            doc = rendered_path(rel, full)
            if doc is None:
                continue
            assert (project / doc).is_file(), f"{rel} should render as {doc}"
            checked.add(rel)
            for line, target in links:
                if not (project / doc).parent.joinpath(target.partition("#")[0]).resolve().is_file():
                    broken.append(f"template/{rel}:{line}: {target}")
    assert broken == []
    assert set(sources) - checked == set(), "documents no answer set renders"
