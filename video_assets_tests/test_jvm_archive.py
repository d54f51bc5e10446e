"""The JVM class archive is used only by the JVM it was built for, and only where this process starts Spark."""

import json
from pathlib import Path

from video_assets import config
from video_assets.io import jvm_archive

LOCAL = {"spark.master": "local[*]", "spark.jars.packages": "io.delta:delta-spark_4.2_2.13:4.4.0"}


def test_without_an_archive_spark_starts_as_it_always_did(tmp_path, monkeypatch):
    monkeypatch.setenv(config.CACHE_DIR_VARIABLE, str(tmp_path))
    assert jvm_archive.with_archive(LOCAL) == LOCAL


def test_an_archive_built_for_these_jars_is_mapped_by_the_local_jvm(tmp_path, monkeypatch):
    monkeypatch.setenv(config.CACHE_DIR_VARIABLE, str(tmp_path))
    archive = jvm_archive.archive_path(LOCAL)
    archive.parent.mkdir(parents=True)
    archive.write_bytes(b"archive")
    assert archive.parent == tmp_path / "jvm"
    assert jvm_archive.with_archive(LOCAL) == {**LOCAL, jvm_archive.OPTION: f"-XX:SharedArchiveFile={archive}"}
    # Other Delta jars: another archive, not this one.
    other = {**LOCAL, "spark.jars.packages": "io.delta:delta-spark_2.13:4.0.0"}
    assert jvm_archive.archive_path(other) != archive
    assert jvm_archive.with_archive(other) == other
    # A JVM this process does not start, or whose default options someone else sets, is left alone.
    remote_master = {**LOCAL, "spark.master": "spark://cluster:7077"}
    assert jvm_archive.with_archive(remote_master) == remote_master
    own_options = {**LOCAL, jvm_archive.OPTION: "-Xss4m"}
    assert jvm_archive.with_archive(own_options) == own_options


def test_an_archive_path_a_jvm_option_cannot_hold_is_never_used(tmp_path, monkeypatch):
    cache = tmp_path / "my cache"
    monkeypatch.setenv(config.CACHE_DIR_VARIABLE, str(cache))
    archive = jvm_archive.archive_path(LOCAL)
    archive.parent.mkdir(parents=True)
    archive.write_bytes(b"archive")
    assert jvm_archive.with_archive(LOCAL) == LOCAL
    assert jvm_archive.build() is None


def test_archives_of_a_virtualenv_or_java_that_is_gone_are_removed_and_no_other_file(tmp_path):
    venv, java = tmp_path / "venv" / "pyspark", tmp_path / "java"
    venv.mkdir(parents=True)
    java.write_text("")
    folder = tmp_path / "jvm"
    folder.mkdir()

    def archive(name: str, pyspark_folder: Path | None, java_path: Path | None = java) -> Path:
        built = folder / f"spark-{name}.jsa"
        built.write_bytes(b"archive")
        if pyspark_folder is not None:
            identity = {"pyspark": ["4.2.0", str(pyspark_folder)], "java": str(java_path)}
            built.with_suffix(".json").write_text(json.dumps(identity))
        return built

    in_use = archive("in-use", venv)
    venv_gone = archive("venv-gone", tmp_path / "deleted-clone" / "pyspark")
    java_gone = archive("java-gone", venv, tmp_path / "old-java")
    unrecorded = archive("unrecorded", None)  # built before records were kept: not known to be stale
    (folder / "spark-garbled.json").write_text("{not json")
    someone_elses = folder / "notes.txt"
    someone_elses.write_text("mine")

    assert jvm_archive.remove_stale(folder) == [java_gone, venv_gone]
    assert sorted(p.name for p in folder.iterdir()) == [
        "notes.txt", "spark-garbled.json", "spark-in-use.jsa", "spark-in-use.json", "spark-unrecorded.jsa"
    ]
    assert in_use.is_file() and unrecorded.is_file() and not venv_gone.exists()
