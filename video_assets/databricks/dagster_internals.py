"""The step launcher's door to Dagster's private modules (``video_assets/dagster_internals.py`` has the rest).

Private names can move in any Dagster release; ``video_assets_tests/test_dagster_internals.py`` imports
every one of them on each quick run, naming the one that moved.
"""

# The Databricks step launcher: validating its config the way Dagster will (to fail early with our own
# message), and the name of the pickled step file the stock launcher uploads (we upload it ourselves).
from dagster._config import process_config  # noqa: F401
from dagster._core.execution.plan.external_step import PICKLED_STEP_RUN_REF_FILE_NAME  # noqa: F401

# Our launch loop (databricks/launcher.py: volume or DBFS staging, serverless submits) and the serverless
# entry point (databricks/remote_step.py): a step as a pickled reference and back, the events file both sides
# read and write in dagster-databricks' format, and the interrupt window that lets a run be cancelled.
from dagster._core.errors import raise_execution_interrupts  # noqa: F401
from dagster._core.execution.plan.external_step import (  # noqa: F401
    PICKLED_EVENTS_FILE_NAME,
    external_instance_from_step_run_ref,
    run_step_from_ref,
    step_context_to_step_run_ref,
)
from dagster._serdes import deserialize_value, serialize_value  # noqa: F401
from dagster._utils.backoff import backoff  # noqa: F401
