"""Steps after the raw stage run their queries interpreted while raw_video_events is small
(SparkResource.interpreted_below_events), and only on a session this process started."""

import logging
from types import SimpleNamespace

import pytest

from video_assets.assets.common import choose_query_execution
from video_assets.io.delta import DeltaWarehouse
from video_assets.io.spark import SparkResource

WHOLE_STAGE, FACTORY = "spark.sql.codegen.wholeStage", "spark.sql.codegen.factoryMode"
COMPILED = {WHOLE_STAGE: "true", FACTORY: "FALLBACK"}
INTERPRETED = {WHOLE_STAGE: "false", FACTORY: "NO_CODEGEN"}


@pytest.fixture
def compiled_session(spark):
    """The shared session with Spark's own code-generation settings (the tests' are interpreted), restored after."""
    before = {key: spark.conf.get(key) for key in COMPILED}
    for key, value in COMPILED.items():
        spark.conf.set(key, value)
    yield spark
    for key, value in before.items():
        spark.conf.set(key, value)


def _settings(spark) -> dict[str, str]:
    return {key: spark.conf.get(key) for key in COMPILED}


def _write_events(spark, location: str, count: int) -> None:
    rows = [(f"e{i}",) for i in range(count)]
    spark.createDataFrame(rows, "event_key string").write.format("delta").mode("append").save(location)


def test_a_step_runs_interpreted_while_raw_events_are_fewer_than_the_setting(compiled_session, tmp_path, caplog):
    spark = compiled_session
    warehouse = DeltaWarehouse(location=str(tmp_path / "warehouse"), spark=SparkResource(interpreted_below_events=3))
    context = SimpleNamespace(log=logging.getLogger("step"))

    choose_query_execution(context, warehouse)  # no raw_video_events yet: nothing is known, code is compiled
    assert _settings(spark) == COMPILED

    _write_events(spark, f"{warehouse.location}/raw_video_events", 2)
    with caplog.at_level(logging.INFO, logger="step"):
        choose_query_execution(context, warehouse)
    assert _settings(spark) == INTERPRETED
    assert "raw_video_events holds 2 events (fewer than spark.interpreted_below_events = 3): the step's queries run interpreted" in caplog.text

    _write_events(spark, f"{warehouse.location}/raw_video_events", 1)  # 3 events: not fewer than 3
    choose_query_execution(context, warehouse)
    assert _settings(spark) == COMPILED

    # The raw stage's steps always go back to the settings the session started with.
    warehouse.spark.use_interpreted(True)
    assert _settings(spark) == INTERPRETED
    warehouse.spark.use_interpreted(False)
    assert _settings(spark) == COMPILED


def test_zero_turns_it_off(compiled_session, tmp_path):
    warehouse = DeltaWarehouse(location=str(tmp_path / "warehouse"), spark=SparkResource(interpreted_below_events=0))
    _write_events(compiled_session, f"{warehouse.location}/raw_video_events", 1)
    choose_query_execution(SimpleNamespace(log=logging.getLogger("step")), warehouse)
    assert _settings(compiled_session) == COMPILED


def test_a_negative_threshold_is_refused_naming_the_setting():
    with pytest.raises(Exception, match="interpreted_below_events"):
        SparkResource(interpreted_below_events=-1)


def test_a_session_the_compute_provides_is_never_switched(compiled_session, monkeypatch):
    # On a Databricks cluster the runtime hands the step its session (here: the shared one, through getOrCreate).
    monkeypatch.setenv("DATABRICKS_RUNTIME_VERSION", "17.3")
    resource = SparkResource(interpreted_below_events=10**9)
    # The provided session gets the project's session settings: the shared session's own are put back after.
    before = {key: compiled_session.conf.get(key, None) for key in resource.session_settings()}
    try:
        assert resource.get_session() is compiled_session
        assert not resource.interprets_small_runs()
        resource.use_interpreted(True)
        assert _settings(compiled_session) == COMPILED
    finally:
        for key, value in before.items():
            if value is None:
                compiled_session.conf.unset(key)
            else:
                compiled_session.conf.set(key, value)
