"""Makes a test fail where step code asks an observed frame for its schema before the frame's action.

On a Spark Connect 4.0 server (DBR 17.3 and databricks-connect 17.3 against it) such a question caches the
analyzed plan, and the action then runs from that cache without registering the observation: its values
never arrive (SPARK-53908). Newer Spark, classic or Connect, forgives it, so the tests on the local default
would never see it; this guard turns the mistake into an error on any session.
"""

import sys

from pyspark.sql import DataFrame

from video_assets.io import spark as spark_module

_MESSAGE = (
    "an observed frame was asked for its {} before its action: on Spark Connect 4.0 the observation then "
    "never receives its values (SPARK-53908); ask the frame before observing it (io.spark.observed)"
)


def _refusing(name):
    def refuse(self):
        raise AssertionError(_MESSAGE.format(name))

    return property(refuse)


def _guarded(frame: DataFrame) -> DataFrame:
    guarded_type = type(f"Unanalyzed{type(frame).__name__}", (type(frame),), {
        "schema": _refusing("schema"), "columns": _refusing("columns"), "dtypes": _refusing("dtypes"),
    })
    frame.__class__ = guarded_type
    return frame


def refuse_analysis_of_observed_frames(monkeypatch) -> None:
    """Every ``observed`` frame of the project's modules refuses ``schema``, ``columns`` and ``dtypes``."""
    real = spark_module.observed

    def guarded_observed(frame, aggregates):
        observed_frame, observation = real(frame, aggregates)
        return _guarded(observed_frame), observation

    for name, module in list(sys.modules.items()):
        if name.startswith("video_assets.") and getattr(module, "observed", None) is real:
            monkeypatch.setattr(module, "observed", guarded_observed)
