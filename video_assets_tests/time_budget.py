"""The suite's time against its budget, printed at the end of every pytest run (a line, never a failure).

Budgets on this 2-core machine: the full suite within 15 minutes of tests (the runtime matrix included), the
quick tier (``-m "not slow and not e2e and not databricks"``) within 3. A run
of any other subset prints its slowest tests and total with no budget line to
hold it to. The hooks are imported by the tests' conftest.py.
"""

from __future__ import annotations

import time
from collections import defaultdict
from pathlib import Path

QUICK_TIER_MARKERS = "not slow and not e2e and not databricks"
FULL_SUITE_BUDGET_SECONDS = 15 * 60
QUICK_TIER_BUDGET_SECONDS = 3 * 60
SLOWEST_SHOWN = 10

_started = time.monotonic()
_seconds_by_test: dict[str, float] = defaultdict(float)


def budget_for(markexpr: str, keyword: str, whole_test_folder: bool) -> tuple[str, int] | None:
    """(what ran, its budget in seconds) for the whole suite or the quick tier; None for any other subset."""
    if not whole_test_folder or keyword:
        return None
    normalized = " ".join(markexpr.split())
    if not normalized:
        return "full suite", FULL_SUITE_BUDGET_SECONDS
    if normalized == QUICK_TIER_MARKERS:
        return "quick tier", QUICK_TIER_BUDGET_SECONDS
    return None


def budget_line(what: str, seconds: float, budget: int) -> str:
    verdict = "within budget" if seconds <= budget else f"OVER BUDGET by {seconds - budget:.0f} s"
    return f"{what}: {seconds:.0f} s of tests against a budget of {budget} s ({budget // 60} min): {verdict}"


def _ran_the_whole_test_folder(config) -> bool:
    folders = [Path(str(config.rootpath), path).resolve() for path in config.getini("testpaths")]
    given = [Path(str(config.invocation_params.dir), arg.split("::")[0]).resolve() for arg in config.args]
    return bool(folders) and sorted(given) == sorted(folders)


def pytest_runtest_logreport(report) -> None:
    _seconds_by_test[report.nodeid] += report.duration  # setup + call + teardown


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    if not _seconds_by_test:
        return
    total = time.monotonic() - _started
    write = terminalreporter.write_line
    terminalreporter.write_sep("=", "time budget")
    write(f"{SLOWEST_SHOWN} slowest tests (setup + call + teardown, seconds):")
    slowest = sorted(_seconds_by_test.items(), key=lambda item: item[1], reverse=True)[:SLOWEST_SHOWN]
    for nodeid, seconds in slowest:
        write(f"  {seconds:7.1f}  {nodeid}")
    write(f"total: {total:.0f} s for {len(_seconds_by_test)} tests ({sum(_seconds_by_test.values()):.0f} s inside tests)")
    budget = budget_for(config.option.markexpr or "", config.option.keyword or "", _ran_the_whole_test_folder(config))
    if budget is None:
        write(
            f"a subset of the suite: no budget applies (full suite {FULL_SUITE_BUDGET_SECONDS // 60} min, "
            f'quick tier -m "{QUICK_TIER_MARKERS}" {QUICK_TIER_BUDGET_SECONDS // 60} min)'
        )
        return
    write(budget_line(budget[0], total, budget[1]))
