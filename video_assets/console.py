"""A quiet console for runs started from the command line: one line per finished step, everything in a file.

``step_lines_logger`` prints, when a step finishes, its name, seconds, the
rows written per table and the check verdicts; a failed step prints its
error in full (with the remedy the error message carries). ``run_file_logger``
writes every Dagster log line of the run (DEBUG included) to a file, so
nothing is lost by keeping the console short.
"""

import logging
import os
import sys
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg

from video_assets.dagster_internals import dagster_event_of


@dataclass
class _Step:
    rows: dict[str, int] = field(default_factory=dict)
    # (table, check) -> (passed, severity); a range run records each check once per day too: counted once
    checks: dict[tuple[str, str], tuple[bool, str]] = field(default_factory=dict)

    def verdicts(self) -> tuple[int, list[str]]:
        failed = [f"{name} {severity}" for (_, name), (ok, severity) in self.checks.items() if not ok]
        return len(self.checks) - len(failed), failed


def step_line(step: str, seconds: float, rows: dict[str, int], passed: int, failed: list[str]) -> str:
    """``✓ video_sessions      12.3 s  video_sessions 1,234 · watch_intervals 2,345 rows  checks 5/5``."""
    written = " · ".join(f"{table} {count:,}" for table, count in rows.items())
    checks = passed + len(failed)
    verdict = f"checks {passed}/{checks}" + (f" (failed: {', '.join(failed)})" if failed else "") if checks else ""
    return f"  ✓ {step:28} {seconds:7.1f} s  {written + ' rows' if written else '':60} {verdict}".rstrip()


class StepLines(logging.Handler):
    """Collects a step's materializations and check results, prints one line when the step ends."""

    def __init__(self, stream=None):
        super().__init__(logging.DEBUG)
        self.stream = stream or sys.stdout
        self.steps: dict[str, _Step] = {}

    def emit(self, record: logging.LogRecord) -> None:
        event = dagster_event_of(record)
        if event is None or event.step_key is None:
            return
        step = self.steps.setdefault(event.step_key, _Step())
        kind = event.event_type_value
        if kind == "ASSET_MATERIALIZATION":
            materialization = event.event_specific_data.materialization
            rows = materialization.metadata.get("dagster/row_count")
            if rows is not None:
                step.rows[materialization.asset_key.to_user_string()] = int(rows.value)
        elif kind == "ASSET_CHECK_EVALUATION":
            evaluation = event.event_specific_data
            key = (evaluation.asset_key.to_user_string(), evaluation.check_name)
            passed_so_far = step.checks.get(key, (True, ""))[0]
            step.checks[key] = (passed_so_far and evaluation.passed, evaluation.severity.value)
        elif kind == "STEP_SUCCESS":
            seconds = event.event_specific_data.duration_ms / 1000
            print(step_line(event.step_key, seconds, step.rows, *step.verdicts()), file=self.stream, flush=True)
        elif kind == "STEP_FAILURE":
            error = event.event_specific_data.error
            message = error.message.strip() if error else record.getMessage()
            print(f"  ✗ {event.step_key} FAILED: {message}", file=self.stream, flush=True)


@dg.logger(description="One line per finished step on the console (step, seconds, rows, check verdicts).")
def step_lines_logger(_init_context) -> logging.Logger:
    logger = logging.getLogger("video_assets.step_lines")
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    logger.handlers = [StepLines()]
    return logger


@dg.logger(
    config_schema={"path": dg.Field(str, description="File that receives every log line of the run.")},
    description="Every log line of the run, DEBUG included, appended to a file.",
)
def run_file_logger(init_context) -> logging.Logger:
    logger = logging.getLogger("video_assets.run_file")
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    handler = logging.FileHandler(init_context.logger_config["path"], encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    logger.handlers = [handler]
    return logger


CONSOLE_LOGGERS = {"step_lines": step_lines_logger, "run_file": run_file_logger}


@contextmanager
def stderr_into(path: Path):
    """This process's standard error (file descriptor 2) appends to ``path`` for the body of the ``with``.

    A JVM started meanwhile (Spark's, with its Ivy resolution, log4j start-up
    lines and warnings) inherits it and keeps writing there: the terminal
    shows only the run's own lines, the run's log file everything.
    """
    sys.stderr.flush()
    saved = os.dup(2)
    target = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.dup2(target, 2)
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)
        os.close(target)

