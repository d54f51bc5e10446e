"""Entry point of one step on Databricks (a ``spark_python_task``), on any kind of compute.

Uploaded by the step launcher next to the step's files and run on its own,
before the project's code is importable:

    python step_main.py <step_run_ref.pkl> <config.pkl> <code.zip>

dagster-databricks' own entry point hands a ``SparkContext`` (``sc``) to its
set-up, and serverless compute and standard-access clusters are Spark
Connect: there is none. This one unpacks code.zip onto ``sys.path`` and hands
over to ``video_assets.databricks.remote_step``, which needs only the files and
``dbutils``. (The launcher falls back to dagster-databricks' entry point only
for ``storage:`` keys, which need a SparkContext.)
"""

import site
import sys
import tempfile
import zipfile


def main(step_run_ref_path: str, config_path: str, code_zip_path: str) -> int:
    with tempfile.TemporaryDirectory() as unpacked:
        with zipfile.ZipFile(code_zip_path) as archive:
            archive.extractall(unpacked)
        site.addsitedir(unpacked)
        from video_assets.databricks.remote_step import run_staged_step  # noqa: PLC0415 - importable only now

        return run_staged_step(step_run_ref_path, config_path, globals().get("dbutils"))


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:4]))
