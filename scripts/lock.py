#!/usr/bin/env python3
"""Compile the lock files the template ships (locks/), one per environment and stack.

A generated repository installs every environment from a lock (requirements*.lock), which
depends on the answers: the starter's requirements.txt differs per transformation tool,
the orchestrator's and the warehouse's files per choice. Rather than compiling on a team's
first `make` (laptop and CI would differ until someone commits the result), the template
ships one lock per combination it renders, compiled here at release time by the generated
repository's own `make lock`, so the two can never disagree:

    python3 scripts/lock.py            # render each combination, run `make lock`, store locks/
    python3 scripts/lock.py --upgrade  # the same from scratch: newest versions the pins allow
    python3 scripts/lock.py --check    # exit 1 if a stored lock no longer matches its inputs

Like `make lock`, uv keeps a stored lock's pins where the inputs still allow them, so a
lock changes only where its requirements file did (or with --upgrade).

Needs uv (UV=/path/to/uv, or the Makefile installs the version it pins) and PyPI.
Copies the template's locks into each render with {% include 'locks/...' %}.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import copier

ROOT = Path(__file__).resolve().parents[1]
LOCKS = ROOT / "locks"
TOOLS = ("dbt", "sqlmesh", "none")
ORCHESTRATORS = ("airflow", "dagster", "prefect")
WAREHOUSES = ("postgres", "snowflake", "bigquery", "databricks")


def stored_path(lock: str, answers: dict) -> Path:
    """Where locks/ keeps the lock a render with these answers gets (the template's includes)."""
    tool = answers["transformation_tool"]
    # dbt on Databricks pins an older dbt-core in requirements.txt: a base of its own.
    base = tool + ("-databricks" if tool == "dbt" and answers["warehouse"] == "databricks" else "")
    if lock == "requirements-docs.lock":
        return LOCKS / lock
    if lock == "requirements-orchestrator.lock":
        return LOCKS / f"{base}-{answers['orchestrator']}" / lock
    if lock == "requirements-warehouse.lock":
        return LOCKS / f"{tool}-{answers['warehouse']}" / lock
    return LOCKS / base / lock


def combinations() -> list[dict]:
    """Few renders that together hold every lock: each orchestrator paired with a warehouse,
    and dbt on Databricks (its own requirements.txt) with every orchestrator."""
    out = []
    for tool in TOOLS:
        warehouses = [w for w in WAREHOUSES if w != "databricks"] if tool == "dbt" else WAREHOUSES
        for i, warehouse in enumerate(warehouses if tool != "none" else ("duckdb",) * len(ORCHESTRATORS)):
            orchestrator = ORCHESTRATORS[i] if i < len(ORCHESTRATORS) else "none"
            out.append({"transformation_tool": tool, "orchestrator": orchestrator, "warehouse": warehouse})
    out += [{"transformation_tool": "dbt", "orchestrator": o, "warehouse": "databricks"} for o in ORCHESTRATORS]
    return [{**answers, "starter_pipeline": True, "ci_platform": "none"} for answers in out]


def render(answers: dict, dst: Path) -> list[str]:
    """Render the working tree; returns the lock files the render has."""
    # A render includes its locks: a combination never compiled before starts from empty ones.
    expected = ["requirements.lock", "requirements-contract-tools.lock", "requirements-check-docs.lock",
                "requirements-docs.lock"]
    if answers["orchestrator"] != "none":
        expected.append("requirements-orchestrator.lock")
    if answers["warehouse"] != "duckdb" and answers["transformation_tool"] != "none":
        expected.append("requirements-warehouse.lock")
    for lock in expected:
        path = stored_path(lock, answers)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("")
    copier.run_copy(str(ROOT), str(dst), data=answers, defaults=True, vcs_ref="HEAD", quiet=True)
    found = sorted(p.name for p in dst.glob("requirements*.lock"))
    assert found == sorted(expected), (found, expected)
    return found


def compile_locks(project: Path, uv: str | None, upgrade: bool) -> None:
    if upgrade:
        for lock in project.glob("requirements*.lock"):
            lock.unlink()  # uv prefers the pins of an existing output file
    args = ["make", "--no-print-directory", "lock"] + ([f"UV={uv}"] if uv else [])
    run = subprocess.run(args, cwd=project, capture_output=True, text=True,
                         env={**os.environ, "PYTHON": sys.executable})
    if run.returncode:
        sys.exit(f"make lock failed in {project}:\n{run.stdout}\n{run.stderr}")


def main() -> int:
    check = "--check" in sys.argv
    uv = os.environ.get("UV") or shutil.which("uv")
    stale = []
    with tempfile.TemporaryDirectory(prefix="dpf-lock-") as tmp:
        for n, answers in enumerate(combinations()):
            project = Path(tmp, str(n))
            locks = render(answers, project)
            shipped = {lock: (project / lock).read_bytes() for lock in locks}
            compile_locks(project, uv, "--upgrade" in sys.argv)
            for lock in locks:
                fresh = (project / lock).read_bytes()
                target = stored_path(lock, answers)
                if check:
                    if fresh != shipped[lock]:
                        stale.append(target.relative_to(ROOT).as_posix())
                elif not target.exists() or target.read_bytes() != fresh:
                    target.write_bytes(fresh)
                    print(f"wrote {target.relative_to(ROOT)}")
    if stale:
        print("out of date (run python3 scripts/lock.py):\n  " + "\n  ".join(sorted(set(stale))), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
