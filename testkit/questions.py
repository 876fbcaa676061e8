"""The template's questions, read from copier.yml: the one home of their names and choices.
Matrices, slices and the document checks take them from here, so a new question or a new
option is covered without editing a test."""

from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
CONFIG = yaml.safe_load((ROOT / "copier.yml").read_text(encoding="utf-8"))

# Every question, asked or computed (`when: false`), in copier.yml's order.
QUESTIONS = {name: spec for name, spec in CONFIG.items() if not name.startswith("_")}


def is_computed(spec) -> bool:
    return isinstance(spec, dict) and str(spec.get("when", "")).strip().lower() in ("false", "{{ false }}")


def _values(choices) -> list:
    return list(choices.values()) if isinstance(choices, dict) else list(choices)


# The options of the repository: every asked question with choices but `scope`, which picks
# which template renders (a repository or a product folder), not an option of it.
CHOICES = {
    name: _values(spec["choices"]) for name, spec in QUESTIONS.items()
    if isinstance(spec, dict) and "choices" in spec and not is_computed(spec) and name != "scope"
}

# Unusual names on two rows of the slice: a product name with a digit, a team name with accents.
_SLICE_EXTRAS = {1: {"product_name": "Customer 360"}, 3: {"team_name": "Équipe Données"}}


def option_slice() -> list[dict]:
    """Every value of every choice at least once, in as many renders as the longest choice
    has values: row i takes each question's i-th value, wrapping around (the CI slice)."""
    rows = max(len(values) for values in CHOICES.values())
    return [{**{name: values[i % len(values)] for name, values in CHOICES.items()}, **_SLICE_EXTRAS.get(i, {})}
            for i in range(rows)]


SLICE = option_slice()
