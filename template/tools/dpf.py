#!/usr/bin/env python3
"""dpf: keep a Data Product Framework repository healthy.

Shipped by the data-product-framework Copier template as tools/dpf.py.
A thin entry point over the package beside it (tools/dpf_lib/), on PyYAML, tomllib and
packaging (tools/requirements.txt; Copier brings them too). Run it from anywhere in the repository:

    python tools/dpf.py health [--json]     check documents, links, markers and the product index
    python tools/dpf.py index [--check]     regenerate (or verify) the product table
    python tools/dpf.py add-product "Customers" [--slug customers]
                                            render one more product folder with Copier
    python tools/dpf.py update [--to v1.3.0] [--product customers] [--trust]
                                            update the root and every product the way
                                            Renovate does, each in a temporary git worktree,
                                            then bring the results in at once
    python tools/dpf.py update --data orchestrator=dagster [--data KEY=VALUE ...]
                                            change an answer (a shared one for the root and
                                            every product) keeping every file your team
                                            edited or created that the new answer drops
    python tools/dpf.py check-docs [--parse-only] [--min PERCENT] [--json]
                                            run the documents' examples against this
                                            repository (tools/check_docs.py, which needs
                                            sqlglot: tools/requirements-check-docs.txt)

Settings live in dpf.toml at the repository root ([health], [products], [answers], [index]).
Findings print as `path:line: severity: check: message`; line 0 means the finding is
about the file as a whole (for example, the file is missing).
"""

from __future__ import annotations

import sys
from pathlib import Path

# `python tools/dpf.py` puts tools/ on sys.path; importing this file by path does not.
_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

try:
    from dpf_lib.cli import main
    from dpf_lib.markdown import github_slug, parse_markdown, read_flat_yaml
    from dpf_lib.settings import DpfError, load_config, read_answers
except ModuleNotFoundError as exc:  # PyYAML missing: say how to get it, exit 2 like any dpf error
    if exc.name != "yaml":
        raise
    print("dpf: error: PyYAML is not installed: python -m pip install -r tools/requirements.txt",
          file=sys.stderr)
    sys.exit(2)

__all__ = ["DpfError", "github_slug", "load_config", "main", "parse_markdown", "read_answers",
           "read_flat_yaml"]


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BrokenPipeError:  # e.g. `dpf.py health | head`
        sys.stderr.close()
        sys.exit(1)
