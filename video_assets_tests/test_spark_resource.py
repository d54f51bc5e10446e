"""The local SparkResource fetches Delta from Maven Central, without the libraries Spark already ships."""

from pathlib import Path

from pyspark.find_spark_home import _find_spark_home

from video_assets.io.spark import SparkResource, delta_package_exclusions, spark_jar_artifacts

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
