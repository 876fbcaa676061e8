#!/usr/bin/env python3
"""Speed of the data-product-framework template, measured against Copier's floor.

    python bench/run.py                    # everything: about 20-30 minutes on 2 cores
    python bench/run.py --fleet 10 --products 1,10 --reps 3   # a quick look
    python bench/run.py --sections copy,update

Every figure comes from one run on one machine. Speed is reported as ratios of
two things measured side by side (interleaved, median of --reps), in wall time
and in CPU time (user + system of the whole process tree, from
getrusage(RUSAGE_CHILDREN)); CPU time hardly moves when other jobs share the
machine, wall time does. Sections:

- copy:      `copier copy --defaults` of this template vs. the floor: the same
             output files committed as a template with no Jinja (built here from
             a real render: every file verbatim, every answer a question whose
             default is that answer, plus the answers-file template).
- update:    Renovate's command line from the oldest release to HEAD on a
             project with the ladder's user edits vs. the same command on the
             floor (plain renders of both releases, no migrations).
- breakdown: where the time of one copy and one update goes, and what was tried.
- products:  1, 10, 50 products: copy (repository + `dpf.py add-product`),
             update the way Renovate does it (every answers file on its own
             branch: for each file, in path order, a clean checkout of the base
             commit, untimed, then Renovate's command from that file's folder,
             timed), health check. `--sections products --json F --merge`
             replaces only this section in an earlier run's F.
- fleet:     --fleet repos with random answers and random user edits, started
             at a random earlier release and bumped to HEAD with Renovate's
             command line (self-hosted with allowScripts: it ends in --trust);
             --workers at a time.

The template under test is this working tree, committed in a temporary clone and
tagged by the release rule (testkit/helpers.py build_template_repo), as the tests do.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

# Run by path, Python puts bench/ on the import path; testkit/ (the support code the tests
# share) is imported from the repository root.
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from measure import Bench, machine  # noqa: E402
from report import report  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sections", default="copy,update,breakdown,products,fleet")
    parser.add_argument("--reps", type=int, default=5, help="repetitions for the ratios (median)")
    parser.add_argument("--products", default="1,10,50")
    parser.add_argument("--fleet", type=int, default=100, help="repositories in the fleet")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=20261126)
    parser.add_argument("--json", type=Path, help="also write the raw figures here")
    parser.add_argument("--merge", action="store_true",
                        help="with --json: keep the file's other sections, replace only those measured")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    parser.add_argument("--report-from", type=Path, metavar="JSON",
                        help="print the table of an earlier run's --json file, measure nothing")
    args = parser.parse_args(argv)
    if args.report_from:
        saved = json.loads(args.report_from.read_text())
        print(report(saved["results"], {"load_after": "?", **saved["info"]}))
        return 0
    sections = args.sections.split(",")

    info = {"machine": machine(), "load_before": " ".join(f"{x:.1f}" for x in os.getloadavg()),
            "when": time.strftime("%Y-%m-%d %H:%M")}
    earlier = json.loads(args.json.read_text()) if args.merge and args.json and args.json.exists() else None

    def save(bench: Bench) -> dict:
        """Write the figures; with --merge, into the earlier run's file, section by section."""
        saved = {"info": info, "results": bench.results}
        if earlier:
            saved = json.loads(json.dumps(earlier))
            for name in sections:
                if name in bench.results:
                    saved["results"][name] = bench.results[name]
                    saved["results"].setdefault("runs", {})[name] = {**info, "load_after": info.get(
                        "load_after", "?"), "head": bench.head}
        args.json.write_text(json.dumps(saved, indent=2, default=str))
        return saved

    work = Path(tempfile.mkdtemp(prefix="dpf-bench-"))
    try:
        bench = Bench(work, args.reps)
        for name in sections:
            print(f"[bench] {name} ...", file=sys.stderr, flush=True)
            start = time.perf_counter()
            if name == "products":
                bench.products([int(n) for n in args.products.split(",")])
            elif name == "fleet":
                bench.fleet(args.fleet, args.workers, args.seed)
            else:
                getattr(bench, name)()
            print(f"[bench] {name} done in {time.perf_counter() - start:.0f} s", file=sys.stderr, flush=True)
            if args.json:  # a later section failing does not lose the earlier figures
                save(bench)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    info["load_after"] = " ".join(f"{x:.1f}" for x in os.getloadavg())
    if args.json:
        saved = save(bench)
        print(report(saved["results"], {"load_after": "?", **saved["info"]}))
    else:
        print(report(bench.results, info))
    fleet = bench.results.get("fleet")
    return 1 if fleet and (fleet["lost_lines"] or fleet["ok"] < fleet["repos"]) else 0


if __name__ == "__main__":
    sys.exit(main())
