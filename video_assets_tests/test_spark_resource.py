"""The local SparkResource fetches Delta from Maven Central, without the libraries Spark already ships."""

from pathlib import Path

from pyspark.find_spark_home import _find_spark_home

from video_assets.io.spark import SparkResource, delta_maven_coordinate, delta_package_exclusions, spark_jar_artifacts

SPARK_JARS = {path.name for path in (Path(_find_spark_home()) / "jars").glob("*.jar")}


def test_delta_is_fetched_without_the_jars_spark_ships_itself():
    settings = SparkResource().settings()
    assert settings["spark.jars.packages"].startswith("io.delta:delta-spark_")
    excluded = settings["spark.jars.excludes"].split(",")
    # Spark ships a newer Hadoop client, Jackson and Parquet than the versions Delta's artifact asks for.
    assert {
        "org.apache.hadoop:hadoop-client-runtime",
        "com.fasterxml.jackson.core:jackson-databind",
        "org.apache.parquet:parquet-hadoop",
    } <= set(excluded)
    for item in excluded:
        artifact = item.split(":")[1]
        assert any(name.startswith(f"{artifact}-") for name in SPARK_JARS), f"{item}: Spark has no such jar"
    assert not [item for item in excluded if item.startswith("io.delta:")]


def test_only_what_the_spark_in_use_ships_is_excluded(monkeypatch, tmp_path):
    (tmp_path / "jars").mkdir()
    for name in ("spark-core_2.13-4.2.0.jar", "zstd-jni-1.5.7-7.jar", "log4j-slf4j2-impl-2.25.4.jar"):
        (tmp_path / "jars" / name).touch()
    monkeypatch.setenv("SPARK_HOME", str(tmp_path))  # pyspark's own rule: SPARK_HOME, when set, is the Spark
    assert spark_jar_artifacts() == {"spark-core_2.13", "zstd-jni", "log4j-slf4j2-impl"}
    assert delta_package_exclusions() == "org.apache.logging.log4j:log4j-slf4j2-impl,com.github.luben:zstd-jni"

    (tmp_path / "jars" / "zstd-jni-1.5.7-7.jar").unlink()
    (tmp_path / "jars" / "log4j-slf4j2-impl-2.25.4.jar").unlink()
    assert "spark.jars.excludes" not in SparkResource().settings()


def test_a_spark_that_cannot_be_found_excludes_nothing(monkeypatch):
    import pyspark.find_spark_home

    def no_spark():
        raise SystemExit(-1)  # what pyspark's finder does when it finds no Spark

    monkeypatch.setattr(pyspark.find_spark_home, "_find_spark_home", no_spark)
    assert spark_jar_artifacts() == set()
    assert "spark.jars.excludes" not in SparkResource().settings()


def test_without_delta_packages_nothing_is_resolved_or_excluded():
    settings = SparkResource(use_delta_packages=False).settings()
    assert "spark.jars.packages" not in settings and "spark.jars.excludes" not in settings


def test_the_delta_jar_is_the_artifact_delta_publishes_for_that_line():
    # On Maven Central (io.delta): Delta 4.0.x only as delta-spark_2.13, built for Spark 4.0; from Delta 4.1 on,
    # one artifact per Spark minor (delta-spark_4.0_2.13, delta-spark_4.1_2.13, ...).
    assert delta_maven_coordinate("4.0.1", "4.0.0") == "io.delta:delta-spark_2.13:4.0.0"
    assert delta_maven_coordinate("4.0.0", "4.0.1") == "io.delta:delta-spark_2.13:4.0.1"
    assert delta_maven_coordinate("4.0.1", "4.1.0") == "io.delta:delta-spark_4.0_2.13:4.1.0"
    assert delta_maven_coordinate("4.1.4", "4.1.0") == "io.delta:delta-spark_4.1_2.13:4.1.0"
    assert delta_maven_coordinate("4.2.0", "4.4.0") == "io.delta:delta-spark_4.2_2.13:4.4.0"
    assert delta_maven_coordinate("4.1.0", "4.1.0rc1") == "io.delta:delta-spark_4.1_2.13:4.1.0rc1"


def test_a_session_joined_rather_than_started_never_asks_for_delta_spark(monkeypatch):
    # Databricks Connect, serverless and a Spark Connect server's clients have no delta-spark distribution
    # (databricks-connect forbids installing one next to it): only a local start needs Delta's jar version.
    import video_assets.io.spark as spark_module

    def not_installed(name):
        raise spark_module.metadata.PackageNotFoundError(name)

    joined = []
    monkeypatch.setattr(spark_module.metadata, "version", not_installed)
    monkeypatch.setattr(spark_module, "connect_to_spark", lambda remote, settings: joined.append((remote, settings)) or remote)
    assert SparkResource(remote="sc://server:15002").get_session() == "sc://server:15002"
    # The session the compute provides (here SPARK_REMOTE's): the builder's own getOrCreate, then the settings.
    monkeypatch.setenv("SPARK_REMOTE", "sc://serverless:15002")
    monkeypatch.setattr(
        spark_module, "apply_session_settings", lambda session, settings: joined.append((session, settings))
    )
    monkeypatch.setattr("pyspark.sql.SparkSession.Builder.getOrCreate", lambda builder: "provided")
    assert SparkResource().get_session() == "provided"
    assert [remote for remote, _ in joined] == ["sc://server:15002", "provided"]
    for _, settings in joined:
        assert settings["spark.sql.session.timeZone"] == "UTC" and "spark.jars.packages" not in settings
