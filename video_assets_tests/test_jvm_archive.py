"""The JVM class archive is used only by the JVM it was built for, and only where this process starts Spark."""

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
