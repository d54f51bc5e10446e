"""One Dagster step run from its staged files, on any Databricks compute (serverless and Spark Connect included).

Imports dagster and the project only, never dagster-databricks (whose
requirements include pyspark from PyPI): config.pkl is plain data here. The
launching side (``databricks/launcher.py``) reads back what this writes next
to the step's files, in the format dagster-databricks' launcher reads:
``<attempt>_events.pkl`` (the step's event records, gzipped pickle of
``serialize_value``, rewritten as events arrive), ``stdout`` and ``stderr``.
"""

import contextlib
import gzip
import io
import os
import pickle
import sys
import time
import traceback

from video_assets import config
from video_assets.databricks.dagster_internals import (
    PICKLED_EVENTS_FILE_NAME,
    external_instance_from_step_run_ref,
    run_step_from_ref,
    serialize_value,
)

EVENTS_WRITE_INTERVAL_SECONDS = 1.0


class _EventFile:
    """Every event record so far, rewritten whole (atomically) at most once a second and at the end."""

    def __init__(self, path: str):
        self.path = path
        self.records: list = []
        self.written_at = 0.0
        self.write()

    def add(self, record) -> None:
        self.records.append(record)
        if time.monotonic() - self.written_at >= EVENTS_WRITE_INTERVAL_SECONDS:
            self.write()

    def write(self) -> None:
        partial = f"{self.path}.partial"
        with gzip.open(partial, "wb") as handle:
            pickle.dump(serialize_value(self.records), handle)
        os.replace(partial, self.path)
        self.written_at = time.monotonic()


def _export_environment(step_config: dict, dbutils) -> None:
    """The variables and secrets the launcher asked for (config.pkl, plain data), as dagster-databricks' set-up
    exports them."""
    config.export(step_config["env_variables"])
    if step_config["secrets"] and dbutils is None:
        from databricks.sdk.runtime import dbutils  # noqa: PLC0415 - only on Databricks

    for secret in step_config["secrets"]:
        print(f"Exporting {secret['name']} from Databricks secret {secret['key']}, scope {secret['scope']}")
        config.export({secret["name"]: dbutils.secrets.get(scope=secret["scope"], key=secret["key"])})


def run_staged_step(step_run_ref_path: str, config_path: str, dbutils=None) -> int:
    """Runs the pickled step; 0 when it ran (its own failure travels as events), 1 when it could not run."""
    folder = os.path.dirname(step_run_ref_path)
    stdout, stderr = io.StringIO(), io.StringIO()
    code = 1
    try:
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            try:
                with open(config_path, "rb") as handle:
                    _export_environment(pickle.load(handle), dbutils)
                with open(step_run_ref_path, "rb") as handle:
                    step_run_ref = pickle.load(handle)
                known = step_run_ref.known_state
                attempt = known.get_retry_state().get_attempt_count(step_run_ref.step_key) if known else 0
                events = _EventFile(os.path.join(folder, f"{attempt}_{PICKLED_EVENTS_FILE_NAME}"))
                instance = external_instance_from_step_run_ref(step_run_ref, event_listener_fn=events.add)
                for _ in run_step_from_ref(step_run_ref, instance):
                    pass
                events.write()
                code = 0
            except Exception:  # noqa: BLE001 - printed for the launcher, which quotes the last error line
                traceback.print_exc()
    finally:
        for name, captured, stream in (("stdout", stdout, sys.stdout), ("stderr", stderr, sys.stderr)):
            text = captured.getvalue()
            with open(os.path.join(folder, name), "w", encoding="utf-8") as handle:
                handle.write(text)
            stream.write(text)
    return code
