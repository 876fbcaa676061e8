"""The reliability suites' figures: `say()` prints one line per finding and hands its numbers
to an end-of-run summary, the totals the README quotes.

A pytest plugin (tests/conftest.py lists it in `pytest_plugins`), so the summary is printed
by the process that writes the terminal report, xdist's controller included; the figures
travel there on each test report's `user_properties`."""

from __future__ import annotations

import pytest

KEY = "reliability"
_running: list[pytest.Item] = []  # the test being run in this process (one at a time per xdist worker)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    _running.append(item)
    try:
        yield
    finally:
        _running.pop()


def say(text: str, area: str, **figures: int) -> None:
    """Print a figure line and count its numbers under `area` ("<n> <title>": n orders the summary)."""
    print(f"[{KEY}]", text, flush=True)
    if _running:
        _running[-1].user_properties.append((KEY, {"area": area, **figures}))


def totals(reports) -> dict[str, dict[str, int]]:
    """Figures summed per area, with how many tests reported there and how many of those failed."""
    areas: dict[str, dict[str, int]] = {}
    for outcome, report in reports:
        if getattr(report, "when", "call") != "call":
            continue
        figures = [f for key, f in getattr(report, "user_properties", ()) if key == KEY]
        for figure in figures:
            area = areas.setdefault(figure["area"], {"tests": 0, "tests_failed": 0})
            for name, value in figure.items():
                if name != "area":
                    area[name] = area.get(name, 0) + value
        if figures:
            area = areas[figures[0]["area"]]
            area["tests"] += 1
            area["tests_failed"] += outcome == "failed"
    return areas


def pytest_terminal_summary(terminalreporter):
    reports = [(outcome, report) for outcome in ("passed", "failed", "xfailed")
               for report in terminalreporter.stats.get(outcome, [])]
    areas = totals(reports)
    if not areas:
        return
    terminalreporter.write_sep("=", "reliability figures")
    for name in sorted(areas):
        line = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in areas[name].items())
        terminalreporter.write_line(f"{name[2:]}: {line}")
