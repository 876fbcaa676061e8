"""Migration to 1.1.0: each orchestrator's own vocabulary in file names, the
glossary moves to 11_Learning, the how-to index folds into onboarding, and the
question ci_provider is renamed ci_platform.

Run by Copier (registered in copier.yml); to finish a run that was
interrupted, run it again from the project folder:
    python <template clone>/migrations/v1_1_0.py after .copier-answers.yml
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from helpers import record_earlier_updates_in_index, run  # noqa: E402

# Dagster schedules jobs of assets, Prefect runs flows; only Airflow has DAGs.
UNIT = {"dagster": "job", "prefect": "flow"}


def v1_1_0_moves(answers: dict) -> dict[str, str]:
    """Paths 1.0.0 used -> paths 1.1.0 uses, in the repository layout."""
    moves = {"09_Docs_Internal/glossary.md": "11_Learning/glossary.md"}
    tool = answers.get("orchestrator")
    if tool in UNIT:
        unit = UNIT[tool]
        moves[f"05_Pipelines/{tool}/dag-structure.md"] = f"05_Pipelines/{tool}/{unit}-structure.md"
        moves[f"09_Docs_Internal/how-tos/debug-{tool}-dag.md"] = f"09_Docs_Internal/how-tos/debug-{tool}-{unit}.md"
    return moves


V1_1_0_RENAMED_ANSWERS = {"ci_provider": "ci_platform"}

if __name__ == "__main__":
    if sys.argv[1:2] == ["before"]:
        # Renovate's one-branch sequence (releases up to 1.3.1): a product's update runs in
        # the tree the root's update just changed; make that visible to Copier's index snapshot.
        record_earlier_updates_in_index()
    run("1.1.0", v1_1_0_moves, V1_1_0_RENAMED_ANSWERS)
