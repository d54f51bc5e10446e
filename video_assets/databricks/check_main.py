"""Entry point of `video-assets databricks check`'s task on Databricks (a ``spark_python_task``), on any compute.

Uploaded next to code.zip and run on its own, before the project's code is
importable:

    python check_main.py <code.zip> <warehouse location> <result.json>

It unpacks code.zip onto ``sys.path`` and hands over to
``video_assets.databricks.check_task``; whatever stops it before that (code.zip
unreadable, the package not importable) is written to the result file too,
which the launching side reads back.
"""

import json
import site
import sys
import tempfile
import traceback
import zipfile


def main(code_zip_path: str, warehouse: str, result_path: str) -> int:
    try:
        with tempfile.TemporaryDirectory() as unpacked:
            with zipfile.ZipFile(code_zip_path) as archive:
                archive.extractall(unpacked)
            site.addsitedir(unpacked)
            from video_assets.databricks.check_task import run_check  # noqa: PLC0415 - importable only now

            return run_check(warehouse, result_path, globals().get("dbutils"))
    except Exception as error:  # noqa: BLE001 - reported to the launching side, which says what to do
        with open(result_path, "w", encoding="utf-8") as handle:
            json.dump({"ok": False, "error": f"{type(error).__name__}: {error}",
                       "traceback": traceback.format_exc()[-3000:]}, handle)
        return 1


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:4]))
