"""Reporting: the Markdown tables of a run's raw figures (bench/measure.py), as the README
quotes them; `python bench/run.py --report-from bench/latest.json` prints them again."""

from __future__ import annotations


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def report(results: dict, info: dict) -> str:
    def own_run(what: str, run: dict | None) -> None:
        """A section measured in another run than the tables above (--merge): its own machine line."""
        if run:
            m = run["machine"]
            add(f"{what}: {run['when']}, {m['nproc']} CPUs ({m['cpu']}), {m['os']}, "
                f"Python {m['python']}, copier {m['copier']}, Jinja2 {m['jinja2']}, git {m['git']}; load average "
                f"{run['load_before']} at start, {run['load_after']} at end; template HEAD tagged {run['head']}.")
            add("")

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
        own_run("Products measured on their own", results.get("runs", {}).get("products"))
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
            b, c = rows[1], rows[-1]
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
        own_run("The fleet measured on its own", results.get("runs", {}).get("fleet"))
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
