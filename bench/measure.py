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
import platform
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from multiprocessing import Pool
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # testkit/, the tests' support package

for _key, _value in {
    "GIT_AUTHOR_NAME": "Template Bench", "GIT_AUTHOR_EMAIL": "bench@example.com",
    "GIT_COMMITTER_NAME": "Template Bench", "GIT_COMMITTER_EMAIL": "bench@example.com",
}.items():
    os.environ.setdefault(_key, _value)

import copier  # noqa: E402
import yaml  # noqa: E402

from testkit.helpers import build_template_repo, files_of, git, render  # noqa: E402
from testkit.ladder import (  # noqa: E402
    COPIER, FIXED, apply_user_edits, commit_all, conflict_markers, lost_lines, random_answers,
    recorded_commit, renovate_update, start_project, user_edits,
)

ANSWERS = ".copier-answers.yml"


# ------------------------------------------------------------------- measuring


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def self_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def timed(cmd: list[str], cwd: Path, check: bool = True) -> tuple[subprocess.CompletedProcess, float, float]:
    """Run cmd; return (result, wall seconds, CPU seconds of its whole process tree)."""
    cpu, start = children_cpu(), time.perf_counter()
    result = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    wall, cpu = time.perf_counter() - start, children_cpu() - cpu
    if check and result.returncode != 0:
        raise SystemExit(f"failed ({result.returncode}): {' '.join(cmd)}\n{result.stdout}\n{result.stderr}")
    return result, wall, cpu


def timed_update(project: Path, tag: str, answers_file: str = ANSWERS):
    cpu, start = children_cpu(), time.perf_counter()
    result = renovate_update(project, tag, trust=True, answers_file=answers_file)
    return result, time.perf_counter() - start, children_cpu() - cpu


def med(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def fresh_copy(project: Path, dst: Path) -> Path:
    shutil.rmtree(dst, ignore_errors=True)
    shutil.copytree(project, dst, symlinks=True)
    return dst


# ----------------------------------------------------------------------- floor


def plain_template(rendered: Path, repo: Path, tag: str, answers_template: Path) -> None:
    """Commit `rendered` as a template with no Jinja and tag it.

    Every file is copied verbatim under template/, every recorded answer becomes a
    question whose default is that answer, and the one templated file Copier needs
    to write the answers file is taken from the real template. Called once per
    release, on the same repo, it builds a floor with the same history.
    """
    answers = yaml.safe_load((rendered / ANSWERS).read_text())
    if not (repo / ".git").exists():
        repo.mkdir(parents=True)
        git(repo, "init", "-q", "-b", "main")
    shutil.rmtree(repo / "template", ignore_errors=True)
    for rel in files_of(rendered):
        if rel == ANSWERS:
            continue
        (repo / "template" / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(rendered / rel, repo / "template" / rel)
    shutil.copy2(answers_template, repo / "template" / answers_template.name)
    config = {"_subdirectory": "template", "_answers_file": ANSWERS, "_templates_suffix": ".jinja"}
    for key, value in answers.items():
        if not key.startswith("_"):
            kind = {bool: "bool", int: "int", float: "float", str: "str"}.get(type(value), "yaml")
            config[key] = {"type": kind, "default": value}
    (repo / "copier.yml").write_text(yaml.safe_dump(config, sort_keys=False, allow_unicode=True))
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "--allow-empty", "-m", f"floor {tag}")
    git(repo, "tag", "-a", tag, "-m", tag)


def same_output(a: Path, b: Path) -> list[str]:
    """Differences between two renders (the answers files may differ in _src_path/_commit)."""
    diff = sorted(files_of(a) ^ files_of(b))
    for rel in sorted(files_of(a) & files_of(b)):
        if rel.endswith(ANSWERS):
            strip = lambda p: {k: v for k, v in yaml.safe_load(p.read_text()).items() if k not in ("_src_path", "_commit")}  # noqa: E731
            if strip(a / rel) != strip(b / rel):
                diff.append(rel)
        elif (a / rel).read_bytes() != (b / rel).read_bytes():
            diff.append(rel)
    return diff


# ------------------------------------------------------------------- sections


class Bench:
    def __init__(self, work: Path, reps: int):
        self.work, self.reps = work, reps
        self.src = work / "data-product-framework"
        self.info = build_template_repo(self.src)
        self.head = self.info["head"]
        self.oldest = self.info["releases"][0]
        self.earlier = [t for t in self.info["releases"] if t != self.head]
        self.answers_template = next((self.src / "template").glob("{{ _copier_conf.answers_file }}.jinja"))
        self.results: dict = {"head": self.head, "releases": self.info["releases"]}

    def dir(self, name: str) -> Path:
        path = self.work / name
        shutil.rmtree(path, ignore_errors=True)
        return path

    # -- copy
    def copy(self) -> None:
        reference = self.dir("copy-reference")
        timed([*COPIER, "copy", "--defaults", str(self.src), str(reference)], self.work)
        floor = self.dir("floor-copy")
        plain_template(reference, floor, self.head, self.answers_template)
        check = self.dir("copy-floor-check")
        timed([*COPIER, "copy", "--defaults", str(floor), str(check)], self.work)
        diff = same_output(reference, check)
        if diff:
            raise SystemExit(f"the floor does not render the same files: {diff[:5]}")
        runs = {"template": ([], []), "floor": ([], [])}
        for rep in range(self.reps):
            order = [("template", self.src), ("floor", floor)]
            for name, src in order if rep % 2 == 0 else order[::-1]:
                dst = self.dir(f"copy-{name}-{rep}")
                _, wall, cpu = timed([*COPIER, "copy", "--defaults", str(src), str(dst)], self.work)
                runs[name][0].append(wall)
                runs[name][1].append(cpu)
                shutil.rmtree(dst)
        self.results["copy"] = self._ratio(runs, files=len(files_of(reference)))

    # -- update
    def update(self) -> None:
        old = render(self.src, self.dir("update-old"), dict(FIXED), vcs_ref=self.oldest)
        new = render(self.src, self.dir("update-new"), dict(FIXED), vcs_ref=self.head)
        going_away = files_of(old) - files_of(new)
        project = start_project(self.src, self.dir("update-project"), self.oldest, {})
        edits = apply_user_edits(project, going_away)

        floor = self.dir("floor-update")
        plain_template(old, floor, self.oldest, self.answers_template)
        plain_template(new, floor, self.head, self.answers_template)
        floor_project = self.dir("update-floor-project")
        timed([*COPIER, "copy", "--defaults", "--vcs-ref", self.oldest, str(floor), str(floor_project)], self.work)
        git(floor_project, "init", "-q", "-b", "main")
        commit_all(floor_project, "Render floor")
        apply_user_edits(floor_project, going_away)

        runs = {"template": ([], []), "floor": ([], [])}
        lost, failures = 0, 0
        for rep in range(self.reps):
            order = [("template", project), ("floor", floor_project)]
            for name, base in order if rep % 2 == 0 else order[::-1]:
                work = fresh_copy(base, self.work / f"update-{name}-{rep}")
                result, wall, cpu = timed_update(work, self.head)
                if name == "template":
                    failures += result.returncode != 0 or recorded_commit(work) != self.head
                    lost += len(lost_lines(work, edits))
                elif result.returncode != 0:
                    raise SystemExit(f"floor update failed: {result.stderr}")
                runs[name][0].append(wall)
                runs[name][1].append(cpu)
                if rep or name == "floor":
                    shutil.rmtree(work)
        self.results["update"] = {**self._ratio(runs), "lost_lines": lost, "failures": failures,
                                  "hop": f"{self.oldest} -> {self.head}"}
        self.updated_project = self.work / "update-template-0"

    def _ratio(self, runs: dict, **extra) -> dict:
        tw, tc = med(runs["template"][0]), med(runs["template"][1])
        fw, fc = med(runs["floor"][0]), med(runs["floor"][1])
        return {"template_wall": tw, "floor_wall": fw, "ratio_wall": tw / fw,
                "template_cpu": tc, "floor_cpu": fc, "ratio_cpu": tc / fc, "reps": self.reps, **extra}

    # -- breakdown and experiments (in-process where Copier is driven directly)
    def breakdown(self) -> None:
        import jinja2
        import jinja2.environment as jenv
        import jinja2.sandbox

        out: dict = {}
        _, wall, cpu = timed([sys.executable, "-c", "import copier, copier._main"], self.work)
        out["import_copier_cpu"] = cpu

        compile_cpu = [0.0]
        original = jenv.Environment.compile

        def counting(self_, *args, **kwargs):
            start = self_cpu()
            try:
                return original(self_, *args, **kwargs)
            finally:
                compile_cpu[0] += self_cpu() - start

        jenv.Environment.compile = counting
        try:
            start = self_cpu()
            copier.run_copy(str(self.src), str(self.dir("bd-copy")), defaults=True, quiet=True)
            out["render_cpu"] = self_cpu() - start
            out["compile_cpu"] = compile_cpu[0]
        finally:
            jenv.Environment.compile = original
        out["templates"] = sum(1 for p in (self.src / "template").rglob("*.jinja"))
        out["template_bytes"] = sum(p.stat().st_size for p in (self.src / "template").rglob("*.jinja"))

        # Tried: only the files a migration needs (Copier's exclude with negated patterns).
        start = self_cpu()
        copier.run_copy(str(self.src), str(self.dir("bd-one-file")), defaults=True, quiet=True,
                        exclude=["*", "!11_Learning/glossary.md"])
        out["one_file_render_cpu"] = self_cpu() - start

        # Tried: a Jinja bytecode cache shared by renders (Copier has no setting for it;
        # patched in here only to measure what it would save).
        class MemoryCache(jinja2.BytecodeCache):
            store: dict = {}

            def get_cache_key(self, name, filename=None):
                return name  # the clone's temp path changes every run; the checksum guards the source

            def load_bytecode(self, bucket):
                if bucket.key in self.store:
                    bucket.bytecode_from_string(self.store[bucket.key])

            def dump_bytecode(self, bucket):
                self.store[bucket.key] = bucket.bytecode_to_string()

        init = jinja2.sandbox.SandboxedEnvironment.__init__

        def with_cache(self_, *args, **kwargs):
            kwargs.setdefault("bytecode_cache", MemoryCache())
            init(self_, *args, **kwargs)

        jinja2.sandbox.SandboxedEnvironment.__init__ = with_cache
        try:
            warm = []
            for rep in range(3):
                start = self_cpu()
                copier.run_copy(str(self.src), str(self.dir(f"bd-cache-{rep}")), defaults=True, quiet=True)
                warm.append(self_cpu() - start)
            out["cached_render_cpu"] = min(warm[1:])
        finally:
            jinja2.sandbox.SandboxedEnvironment.__init__ = init

        # The update's parts: the after migration re-run by hand on an updated
        # project does the same work again (it is idempotent) and writes nothing.
        project = getattr(self, "updated_project", None)
        if project is None or not project.exists():
            project = start_project(self.src, self.dir("bd-project"), self.oldest, {})
            renovate_update(project, self.head, trust=True)
        migration = self.src / "migrations" / "v1_1_0.py"
        _, _, out["after_migration_cpu"] = timed([sys.executable, str(migration), "after", ANSWERS], project)
        _, _, out["before_migration_cpu"] = timed([sys.executable, str(migration), "before", ANSWERS], project)
        self.results["breakdown"] = out

    # -- growth with products
    def products(self, sizes: list[int]) -> None:
        rows = []
        for n in sizes:
            row = {"products": n}
            # copy: the repository, then every further product the way a team adds it
            repo = self.dir(f"products-copy-{n}")
            _, wall, cpu = timed([*COPIER, "copy", "--defaults", str(self.src), str(repo)], self.work)
            walls, cpus = [wall], [cpu]
            for k in range(1, n):
                _, wall, cpu = timed([sys.executable, "tools/dpf.py", "add-product", f"Product {k:02d}",
                                      "--purpose", f"Numbers of business line {k} for its planners."], repo)
                walls.append(wall)
                cpus.append(cpu)
            row["copy_wall"], row["copy_cpu"] = sum(walls), sum(cpus)
            # health: best of three on that repository
            health = [timed([sys.executable, "tools/dpf.py", "health", "--json"], repo, check=False) for _ in range(3)]
            report = json.loads(health[0][0].stdout)
            row["health_wall"] = min(h[1] for h in health)
            row["health_cpu"] = min(h[2] for h in health)
            row["health_errors"] = report["errors"]
            shutil.rmtree(repo)
            # update: the same number of products at the oldest release, bumped in Renovate's order
            project = start_project(self.src, self.dir(f"products-update-{n}"), self.oldest, {})
            for k in range(1, n):
                slug = f"product-{k:02d}"
                copier.run_copy(str(self.src), str(project / "01_Data_Products" / slug), vcs_ref=self.oldest,
                                defaults=True, quiet=True,
                                data={**FIXED, "scope": "product", "product_name": f"Product {k:02d}",
                                      "product_slug": slug})
            commit_all(project, f"{n} products")
            base = git(project, "rev-parse", "HEAD").strip()
            order = sorted(a.relative_to(project).as_posix() for a in project.rglob(ANSWERS))
            wall = cpu = 0.0
            failed = 0
            for answers in order:
                # Renovate gives every answers file its own branch, cut from the base branch:
                # a clean checkout of the base per file, set up outside the timed command.
                git(project, "reset", "-q", "--hard", base)
                git(project, "clean", "-q", "-fdx")
                folder = (project / answers).parent
                result, w, c = timed_update(folder, self.head, ANSWERS)
                failed += result.returncode != 0 or recorded_commit(folder) != self.head
                wall, cpu = wall + w, cpu + c
            row["update_wall"], row["update_cpu"], row["update_failures"] = wall, cpu, failed
            row["update_files"], row["update_sequence"] = len(order), "renovate-per-file"
            shutil.rmtree(project)
            rows.append(row)
            print(f"  products {n}: {row}", file=sys.stderr, flush=True)
        self.results["products"] = rows

    # -- fleet
    def fleet(self, count: int, workers: int, seed: int) -> None:
        jobs = [(self.src, self.work / "fleet", self.earlier, self.head, seed, i) for i in range(count)]
        (self.work / "fleet").mkdir(exist_ok=True)
        start = time.perf_counter()
        with Pool(workers) as pool:
            results = []
            for res in pool.imap_unordered(fleet_repo, jobs):
                results.append(res)
                if len(results) % 10 == 0 or not res["ok"]:
                    print(f"  fleet {len(results)}/{count}: {res}", file=sys.stderr, flush=True)
        walls = [r["wall"] for r in results if r.get("error") is None]
        self.results["fleet"] = {
            "repos": count, "workers": workers, "seed": seed,
            "ok": sum(r["ok"] for r in results),
            "lost_lines": sum(r["lost"] for r in results),
            "user_lines": sum(r["lines"] for r in results),
            "with_conflicts": sum(r["conflicts"] > 0 for r in results),
            "median_wall": med(walls), "worst_wall": max(walls, default=float("nan")),
            "median_cpu": med([r["cpu"] for r in results if r.get("error") is None]),
            "worst_cpu": max((r["cpu"] for r in results if r.get("error") is None), default=float("nan")),
            "harness_errors": sum(r.get("error") is not None for r in results),
            "elapsed": time.perf_counter() - start,
            "by_start": {t: sum(r["start"] == t for r in results) for t in self.earlier},
            "failures": [r for r in results if not r["ok"]][:10],
        }


def fleet_repo(job) -> dict:
    """One repository of the fleet; a crash of the harness itself counts as a failure."""
    try:
        return _fleet_repo(job)
    except Exception as exc:  # noqa: BLE001 - reported in the table, never hidden
        return {"i": job[5], "start": "?", "ok": False, "rc": None, "wall": 0.0, "cpu": 0.0, "lines": 0,
                "lost": 0, "conflicts": 0, "error": f"{type(exc).__name__}: {exc}"[:800]}


def _fleet_repo(job) -> dict:
    """One generated repository: random answers at a random earlier release, a random
    month of user edits, then Renovate's command line to HEAD."""
    src, base, earlier, head, seed, i = job
    rng = random.Random(seed * 100_003 + i)
    answers = random_answers(rng)
    start_tag = rng.choice(earlier)
    where = base / f"repo-{i:03d}"
    shutil.rmtree(where, ignore_errors=True)
    project = start_project(src, where / "project", start_tag, answers)
    new = render(src, where / "head", answers, vcs_ref=head)
    going_away = files_of(project) - files_of(new)
    edits = user_edits(project, going_away, rng.randrange(1, 10_000), tag=f"r{i}")
    cpu, t0 = children_cpu(), time.perf_counter()
    result = renovate_update(project, head, trust=True)
    wall, cpu = time.perf_counter() - t0, children_cpu() - cpu
    lost = lost_lines(project, edits) if result.returncode == 0 else edits.lines
    came_back = [d for d in edits.deleted if (project / d).exists()]
    leftovers = [f for f in files_of(project) if f.endswith((".rej", ".orig"))]
    ok = (result.returncode == 0 and recorded_commit(project) == head and not lost
          and not came_back and not leftovers)
    out = {"i": i, "start": start_tag, "ok": ok, "rc": result.returncode, "wall": wall, "cpu": cpu,
           "lines": len(edits.lines), "lost": len(lost), "conflicts": len(conflict_markers(project)),
           "came_back": came_back, "leftovers": leftovers,
           "answers": {k: v for k, v in answers.items() if k in ("orchestrator", "transformation_tool", "ci_platform")}}
    if not ok:
        out["stderr"] = result.stderr[-800:]
        out["lost_sample"] = lost[:3]
    else:
        shutil.rmtree(where)
    return out


# ---------------------------------------------------------------------- report


def machine() -> dict:
    cpu_model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    from importlib.metadata import version

    return {
        "nproc": os.cpu_count(), "cpu": cpu_model, "python": platform.python_version(),
        "copier": version("copier"), "jinja2": version("jinja2"),
        "git": subprocess.run(["git", "--version"], capture_output=True, text=True).stdout.split()[-1],
        "os": f"{platform.system()} {platform.release()}",
    }


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def report(results: dict, info: dict) -> str:
    lines = []
    add = lines.append
    m = info["machine"]
    add(f"Machine: {m['nproc']} CPUs ({m['cpu']}), {m['os']}, Python {m['python']}, copier {m['copier']}, "
        f"Jinja2 {m['jinja2']}, git {m['git']}; load average {info['load_before']} at start, "
        f"{info['load_after']} at end; {info['when']}; template HEAD tagged {results.get('head')}.")
    add("")
    if "copy" in results or "update" in results:
        add("| measure | this template | floor | ratio (wall) | ratio (CPU) | target | verdict (CPU) |")
        add("| --- | --- | --- | --- | --- | --- | --- |")
        def ratio_row(label: str, r: dict, target: float, extra: str = "") -> None:
            add(f"| {label}, median of {r['reps']} | {r['template_wall']:.2f} s wall, {r['template_cpu']:.2f} s CPU | "
                f"{r['floor_wall']:.2f} s, {r['floor_cpu']:.2f} s | {r['ratio_wall']:.2f}x | {r['ratio_cpu']:.2f}x | "
                f"<= {target}x | {verdict(r['ratio_cpu'] <= target)}{extra} |")

        if "copy" in results:
            ratio_row(f"`copier copy --defaults` ({results['copy']['files']} files)", results["copy"], 1.25)
        if "update" in results:
            u = results["update"]
            ratio_row(f"update {u['hop']} with user edits, Renovate's command", u, 1.5,
                      f" ({u['failures']} failed, {u['lost_lines']} lines lost)")
        add("")
    if "breakdown" in results:
        b = results["breakdown"]
        add("| where the time goes (CPU) | seconds | share |")
        add("| --- | --- | --- |")
        add(f"| one render in-process ({b['templates']} Jinja files, {b['template_bytes'] // 1024} KiB) | "
            f"{b['render_cpu']:.2f} | 100% |")
        add(f"| ... of which Jinja compiling templates | {b['compile_cpu']:.2f} | {b['compile_cpu'] / b['render_cpu']:.0%} |")
        add(f"| Python start + `import copier` (every CLI call, every migration stage) | {b['import_copier_cpu']:.2f} | |")
        if "update" in results:
            u = results["update"]
            add(f"| one update (median above) | {u['template_cpu']:.2f} | 100% |")
            rest = u["template_cpu"] - b["after_migration_cpu"] - b["before_migration_cpu"]
            add(f"| ... the after migration (renders the files it merges, from both releases) | {b['after_migration_cpu']:.2f} | "
                f"{b['after_migration_cpu'] / u['template_cpu']:.0%} |")
            add(f"| ... the before migration (renames an answer) | {b['before_migration_cpu']:.2f} | "
                f"{b['before_migration_cpu'] / u['template_cpu']:.0%} |")
            add(f"| ... Copier itself (3 renders: old release, new release twice; git diff and apply) | "
                f"{rest:.2f} | {rest / u['template_cpu']:.0%} |")
        add(f"| adopted: a migration renders only the files it merges (`exclude`), e.g. one file | "
            f"{b['one_file_render_cpu']:.2f} | {b['one_file_render_cpu'] / b['render_cpu']:.0%} of a render |")
        add(f"| tried: Jinja bytecode cache, warm (not settable from a template) | {b['cached_render_cpu']:.2f} | "
            f"{b['cached_render_cpu'] / b['render_cpu']:.0%} of a render |")
        add("")
    if "products" in results:
        rows = results["products"]
        run = results.get("runs", {}).get("products")
        if run:  # measured in a later run than the sections above (--merge)
            m = run["machine"]
            add(f"Products measured on their own: {run['when']}, {m['nproc']} CPUs ({m['cpu']}), {m['os']}, "
                f"Python {m['python']}, copier {m['copier']}, Jinja2 {m['jinja2']}, git {m['git']}; load average {run['load_before']} at start, {run['load_after']} at end; "
                f"template HEAD tagged {run['head']}.")
            add("")
        # Runs before the per-file sequence updated every answers file in turn in one tree.
        sequence = ("one clean checkout of the base per answers file, as Renovate's branches"
                    if rows[0].get("update_sequence") == "renovate-per-file" else "one tree, file after file")
        add(f"| products | copy (wall / CPU) | update, every answers file: {sequence} (wall / CPU) | "
            "update per product (wall / CPU) | health (wall / CPU) |")
        add("| --- | --- | --- | --- | --- |")
        for r in rows:
            n = r["products"]
            add(f"| {n} | {r['copy_wall']:.1f} s / {r['copy_cpu']:.1f} s | "
                f"{r['update_wall']:.1f} s / {r['update_cpu']:.1f} s"
                f"{' (' + str(r['update_failures']) + ' failed)' if r['update_failures'] else ''} | "
                f"{r['update_wall'] / n:.2f} s / {r['update_cpu'] / n:.2f} s | "
                f"{r['health_wall'] * 1000:.0f} ms / {r['health_cpu'] * 1000:.0f} ms"
                f"{' (' + str(r['health_errors']) + ' errors)' if r['health_errors'] else ''} |")
        if len(rows) >= 3:
            # Linear: each product beyond the middle size costs no more than a product
            # costs on average at the middle size (+25% for noise). The average carries
            # the fixed cost (Python start, the repository itself), so a linear cost
            # passes with room and a quadratic one fails once its growth outweighs it;
            # unlike a line through the two smallest sizes, this does not break when
            # the first 10 products cost less than the noise (the health check).
            a, b, c = rows[0], rows[1], rows[-1]
            cells = []
            for key in ("copy", "update", "health"):
                marginal = (c[f"{key}_cpu"] - b[f"{key}_cpu"]) / (c["products"] - b["products"])
                average = b[f"{key}_cpu"] / b["products"]
                ratio = marginal / average
                unit, name = (1000, "ms") if key == "health" else (1, "s")
                cells.append(f"{marginal * unit:.{2 if key != 'health' else 1}f} {name} vs "
                             f"{average * unit:.{2 if key != 'health' else 1}f} {name} "
                             f"({ratio:.2f}x, {'linear' if ratio <= 1.25 else 'SUPERLINEAR'})")
            cells.insert(2, "")
            add(f"| CPU per product from {b['products']} to {c['products']} vs per product at "
                f"{b['products']} | " + " | ".join(cells) + " |")
        add("")
    if "fleet" in results:
        f = results["fleet"]
        starts = ", ".join(f"{n} from {t}" for t, n in f["by_start"].items())
        add("| fleet | value |")
        add("| --- | --- |")
        add(f"| repositories (random answers and edits; {starts}) | {f['repos']} |")
        add(f"| updated to HEAD with every user line (success) | {f['ok']} |")
        add(f"| user-written lines lost (of {f['user_lines']}) | {f['lost_lines']} |")
        if f.get("harness_errors"):
            add(f"| repos where the benchmark itself crashed (counted as failures) | {f['harness_errors']} |")
        add(f"| left with conflict markers to resolve (lines kept) | {f['with_conflicts']} |")
        add(f"| time per repo: median / worst (wall, {f['workers']} at a time) | {f['median_wall']:.1f} s / {f['worst_wall']:.1f} s |")
        add(f"| time per repo: median / worst (CPU) | {f['median_cpu']:.1f} s / {f['worst_cpu']:.1f} s |")
        add(f"| whole fleet, elapsed | {f['elapsed'] / 60:.1f} min |")
        add("")
    return "\n".join(lines)


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
