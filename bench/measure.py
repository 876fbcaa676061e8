"""Measuring: each section of the benchmark (copy, update, breakdown, products, fleet) as a
method of Bench, which fills `results` with raw figures; bench/report.py turns them into the
README's tables and bench/run.py is the command line."""

from __future__ import annotations

import json
import os
import platform
import random
import resource
import shutil
import statistics
import subprocess
import sys
import time
from multiprocessing import Pool
from pathlib import Path

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
