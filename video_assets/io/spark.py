"""The one place a SparkSession is built: lazily started, with Delta Lake.

Lazy so that a process that only launches steps elsewhere (the Databricks
step launcher's side) never starts a JVM. Three kinds of session, and no other
module asks which one it got:

* the classic embedded session (local default): ``local[*]`` in this process;
* a Spark Connect session, when ``remote`` is set (``spark: remote:`` in the
  YAML, or VIDEO_ASSETS_SPARK_REMOTE): this process holds no JVM;
* a Databricks Connect session (``spark: databricks_connect:``): Databricks'
  own client (``databricks.connect.DatabricksSession``) on serverless compute
  or a cluster, with databricks-sdk's credentials; this process holds no JVM;
* the session Databricks gives the step, wherever the compute provides one
  (``DATABRICKS_RUNTIME_VERSION`` or ``SPARK_REMOTE`` set, or the step
  launcher's marker): the builder's plain ``getOrCreate()`` returns it,
  classic on a dedicated cluster, Spark Connect on serverless and
  standard-access compute; only session-level settings are applied there.

Code that runs in a step therefore uses only DataFrame and SQL APIs that both
kinds have: no SparkContext, Py4J or RDDs.
"""

import functools
import itertools
import os
import re
from importlib import metadata
from pathlib import Path

import dagster as dg
from pydantic import Field, PrivateAttr

from video_assets import config
from video_assets.io import jvm_archive

_DELTA_EXTENSIONS = {
    "spark.sql.extensions": "io.delta.sql.DeltaSparkSessionExtension",
    "spark.sql.catalog.spark_catalog": "org.apache.spark.sql.delta.catalog.DeltaCatalog",
}


class SparkStartupError(RuntimeError):
    """Spark (or its Delta jars) could not start; the message says what to check."""


def delta_package_coordinate() -> str:
    """Maven coordinate of the Delta jar matching the installed pyspark and delta-spark."""
    import pyspark  # noqa: PLC0415 - only where Spark starts

    return delta_maven_coordinate(pyspark.__version__, metadata.version("delta-spark"))


def delta_maven_coordinate(spark_version: str, delta_version: str) -> str:
    """The Delta jar on Maven Central for a Spark and a Delta release (the jar version is the delta-spark package's).

    Delta 4.0 publishes one artifact per Scala version (``delta-spark_2.13``, built for Spark 4.0);
    from Delta 4.1 on, one per Spark minor it supports (``delta-spark_4.1_2.13``).
    """
    delta_release = tuple(int(part) for part in re.findall(r"\d+", delta_version)[:2])
    if delta_release < (4, 1):
        return f"io.delta:delta-spark_2.13:{delta_version}"
    spark_minor = ".".join(spark_version.split(".")[:2])
    return f"io.delta:delta-spark_{spark_minor}_2.13:{delta_version}"


# What delta-spark's Maven artifact pulls in, transitively, that Spark may already ship: the Hadoop
# client, Parquet, Jackson, Log4j/SLF4J, compression codecs (group, artifact).
_DELTA_DEPENDENCIES_SPARK_MAY_SHIP = (
    ("org.apache.hadoop", "hadoop-client-api"),
    ("org.apache.hadoop", "hadoop-client-runtime"),
    *(
        ("org.apache.parquet", f"parquet-{part}")
        for part in ("hadoop", "column", "common", "encoding", "format-structures", "jackson")
    ),
    *(("com.fasterxml.jackson.core", f"jackson-{part}") for part in ("databind", "core", "annotations")),
    *(("org.apache.logging.log4j", f"log4j-{part}") for part in ("core", "api", "slf4j2-impl")),
    ("org.slf4j", "slf4j-api"),
    ("org.xerial.snappy", "snappy-java"),
    ("com.github.luben", "zstd-jni"),
    ("io.airlift", "aircompressor"),
    ("org.roaringbitmap", "RoaringBitmap"),
    ("commons-pool", "commons-pool"),
    ("com.google.code.findbugs", "jsr305"),
)


def spark_jar_artifacts() -> set[str]:
    """Artifact names of the jars the installed Spark ships (``hadoop-client-api`` for hadoop-client-api-3.5.0.jar)."""
    try:
        # Private to pyspark, but the very rule (SPARK_HOME, else the package) by which Spark starts.
        from pyspark.find_spark_home import _find_spark_home  # noqa: PLC0415

        jars = Path(_find_spark_home()) / "jars"
    except (Exception, SystemExit):  # noqa: BLE001 - pyspark exits when it finds no Spark: its own start reports that
        return set()
    return {match[1] for path in jars.glob("*.jar") if (match := re.match(r"(.+?)-\d", path.name))}


def delta_package_exclusions() -> str:
    """spark.jars.excludes: Delta's transitive dependencies that the installed Spark already ships.

    Spark's own copies come first on the driver's classpath, so the older
    copies Delta depends on are never loaded; left in, they are still
    resolved, and copied (about 70 MB) into the work folder of every new
    session. Only artifacts with a jar in Spark's jars folder are excluded,
    and nothing when that folder cannot be found (pyspark's finder moved or
    found no Spark): then Delta's whole tree is fetched, as before.
    """
    shipped = spark_jar_artifacts()
    return ",".join(
        f"{group}:{artifact}" for group, artifact in _DELTA_DEPENDENCIES_SPARK_MAY_SHIP if artifact in shipped
    )


class DatabricksConnectConfig(dg.Config):
    """``spark.databricks_connect`` of the YAML, as checked by ``config.databricks_connect``."""

    serverless: bool = Field(default=False, description="Serverless compute.")
    cluster_id: str | None = Field(default=None, description="A cluster to run on (instead of serverless).")
    profile: str | None = Field(
        default=None, description="A ~/.databrickscfg profile; unset: databricks-sdk's default configuration."
    )


class SparkResource(dg.ConfigurableResource):
    """Gives assets a SparkSession, started on first use and shared by the whole process."""

    master: str = Field(default="local[*]", description="Spark master; ignored on a Databricks cluster.")
    app_name: str = Field(default="video_assets")
    shuffle_partitions: int = Field(
        default=16,
        description=(
            "spark.sql.shuffle.partitions. Adaptive execution merges small ones, so a small day costs "
            "nothing extra, and a long range's shuffles stay in tasks that fit in memory."
        ),
    )
    ui_enabled: bool = Field(default=False, description="Start the Spark web UI (port 4040).")
    driver_memory: str = Field(default="4g")
    use_delta_packages: bool = Field(
        default=True,
        description="Fetch the Delta jars from Maven Central (cached in ~/.ivy2). Off where the cluster ships Delta.",
    )
    conf: dict[str, str] = Field(default_factory=dict, description="Extra Spark settings, applied last.")
    remote: str | None = Field(
        default=None,
        description=(
            "A Spark Connect server (sc://host:port) to run on instead of starting Spark in this process; "
            "VIDEO_ASSETS_SPARK_REMOTE wins over it. The server must have Delta's SQL extension. With "
            "databricks_connect: the connection string Databricks Connect's client uses instead of its compute."
        ),
    )
    databricks_connect: DatabricksConnectConfig | None = Field(
        default=None,
        description="Run on Databricks through Databricks Connect (databricks-connect installed, no pyspark).",
    )
    interpreted_below_events: int = Field(
        default=50_000,
        ge=0,
        description=(
            "Steps run their queries interpreted, without generating and compiling Java for each, while "
            "raw_video_events holds fewer events than this (the steps after the raw stage), or once the raw "
            "step has read fewer landing lines (0: never). On a few thousand rows compiling costs more than "
            "it saves (docs/performance.md). Only where this process started Spark itself (the local default)."
        ),
    )

    _session = PrivateAttr(default=None)
    _started_here = PrivateAttr(default=False)  # a classic session this process started (or joined locally)
    _compiled_settings = PrivateAttr(default=None)  # its code-generation settings, read before the first switch

    def settings(self) -> dict[str, str]:
        """Every Spark setting this resource applies when it starts a session."""
        settings = self._base_settings()
        if self.use_delta_packages:
            settings["spark.jars.packages"] = delta_package_coordinate()
            exclusions = delta_package_exclusions()
            if exclusions:
                settings["spark.jars.excludes"] = exclusions
        settings.update(self.conf)
        return settings

    def _base_settings(self) -> dict[str, str]:
        return {
            "spark.master": self.master,
            "spark.app.name": self.app_name,
            "spark.sql.shuffle.partitions": str(self.shuffle_partitions),
            "spark.ui.enabled": str(self.ui_enabled).lower(),
            # Progress bars would interleave with Dagster's run log.
            "spark.ui.showConsoleProgress": "false",
            "spark.driver.memory": self.driver_memory,
            "spark.sql.session.timeZone": "UTC",
            "spark.sql.adaptive.enabled": "true",
            # Delta log replay in a few tasks rather than 50: our tables have few files.
            "spark.databricks.delta.snapshotPartitions": "2",
            # The session stage's windows hold one user's (or user-video's) events at a time; Spark's
            # default spills such a group to disk beyond 4,096 rows, which made the stage 1.5x slower on
            # the benchmark. 128k rows of a few hundred bytes stay far below a task's memory.
            "spark.sql.windowExec.buffer.in.memory.threshold": "131072",
            # The JVM's compiler skips methods over 8,000 bytes of bytecode, and the code Spark generates for
            # a stage of many columns can be larger: the session stage's pass after its last window ran in
            # Java's bytecode interpreter, a quarter of its CPU samples (docs/performance.md). Only a JVM this
            # process starts reads it.
            "spark.driver.extraJavaOptions": "-XX:-DontCompileHugeMethods",
            # What SparkContext.setLogLevel did, as a setting: a Spark Connect client has no SparkContext.
            "spark.log.level": "WARN",
            **_DELTA_EXTENSIONS,
        }

    def session_settings(self) -> dict[str, str]:
        """The settings a session that this process did not start takes at run time (SQL and Delta's)."""
        return {
            key: value
            for key, value in {**self._base_settings(), **self.conf}.items()
            if key.startswith(("spark.sql.", "spark.databricks.delta.")) and key not in _DELTA_EXTENSIONS
        }

    def get_session(self):
        """The process's SparkSession, starting it (and fetching Delta jars) on first call."""
        if self._session is None:
            if self.databricks_connect is not None:
                self._session = databricks_connect_session(self.databricks_connect, self.remote, self.session_settings())
            elif self.remote:
                self._session = connect_to_spark(self.remote, self.session_settings())
            elif compute_provides_session():
                self._session = provided_session(self.session_settings())
            else:
                self._session = start_spark_session(self.settings())
                self._started_here = True
        return self._session

    def teardown_after_execution(self, context) -> None:
        """At the end of the step (or of an in-process run): the Spark Connect session is released."""
        self.release()

    def release(self) -> None:
        """Releases the Spark Connect session this resource opened. A Connect server keeps a session its client
        left without releasing it, with its settings, views and plans, until its idle timeout (an hour on
        open-source Spark), and every process that runs steps opens one. A session this process started (classic)
        or one the compute provided is left alone."""
        opened_connect = self.databricks_connect is not None or bool(self.remote)  # get_session's first two cases
        if opened_connect and self._session is not None:
            self._session.stop()  # best effort and idempotent: a server already gone is not an error
            self._session = None

    def interprets_small_runs(self) -> bool:
        """Whether steps may switch this process's session to interpreted queries (``use_interpreted``)."""
        self.get_session()
        return self._started_here and self.interpreted_below_events > 0

    def use_interpreted(self, interpreted: bool) -> None:
        """Runs the next queries interpreted, or with generated code as the session started; results are the
        same either way (Spark's own tests run both paths). Only on a session this process started."""
        if not self.interprets_small_runs():
            return
        if self._compiled_settings is None:
            self._compiled_settings = {key: self._session.conf.get(key) for key in _INTERPRETED}
        for key, value in (_INTERPRETED if interpreted else self._compiled_settings).items():
            self._session.conf.set(key, value)

    def serve_spark_connect(self, port: int):
        """Starts this process's classic session with Spark's Connect plugin on ``port``, and returns it.

        Any Spark Connect client (``remote: sc://localhost:<port>``) then runs on
        this JVM, with Delta's SQL extension and catalog; the plugin's jar ships with pyspark.
        """
        if self._session is not None:
            raise SparkStartupError("Spark already started in this process without the Spark Connect plugin.")
        self._session = start_spark_session({**self.settings(), **spark_connect_server_settings(port)})
        return self._session

    @property
    def spark_session(self):
        return self.get_session()


# Whole-stage code generation off, and expressions evaluated by Spark's interpreted implementations.
_INTERPRETED = {"spark.sql.codegen.wholeStage": "false", "spark.sql.codegen.factoryMode": "NO_CODEGEN"}


def spark_connect_server_settings(port: int) -> dict[str, str]:
    """The settings that make a classic session also serve Spark Connect clients on ``port``."""
    return {
        "spark.plugins": "org.apache.spark.sql.connect.SparkConnectPlugin",
        "spark.connect.grpc.binding.port": str(port),
    }


def compute_provides_session() -> bool:
    """True where the compute hands this process its Spark: on Databricks (the runtime's own variable, or the
    step launcher's marker), or wherever Spark's own ``SPARK_REMOTE`` names a Spark Connect server."""
    return bool(
        os.environ.get("DATABRICKS_RUNTIME_VERSION")
        or os.environ.get("SPARK_REMOTE")
        or config.from_environment().on_databricks
    )


def provided_session(settings: dict[str, str]):
    """The session the compute provides, from the builder's plain ``getOrCreate()``, with ``settings`` applied.

    No other option goes to the builder: Databricks returns its own session
    (classic, or Spark Connect on serverless) whatever is asked, and pyspark
    refuses a master next to SPARK_REMOTE.
    """
    from pyspark.sql import SparkSession  # noqa: PLC0415 - keep import cost off the launching side

    try:
        session = SparkSession.builder.getOrCreate()
    except Exception as error:  # pyspark raises several unrelated types here
        raise SparkStartupError(
            "The compute did not provide a Spark session (SparkSession.builder.getOrCreate()). "
            f"Underlying error: {type(error).__name__}: {str(error).strip()[-800:]}"
        ) from error
    apply_session_settings(session, settings)
    return session


def start_spark_session(settings: dict[str, str]):
    from pyspark.sql import SparkSession  # noqa: PLC0415 - keep import cost off the launching side

    active = SparkSession.getActiveSession()
    if active is not None:
        return active  # a notebook's, or a test's: used as it is
    builder = SparkSession.builder
    for key, value in jvm_archive.with_archive(settings).items():
        builder = builder.config(key, value)
    try:
        session = builder.getOrCreate()
    except Exception as error:  # pyspark raises several unrelated types here
        package = settings.get("spark.jars.packages", "")
        java_home = os.environ.get("JAVA_HOME", "(not set)")
        raise SparkStartupError(
            "Spark did not start. "
            f"Check that a Java 17+ runtime is installed (`java -version`; JAVA_HOME={java_home}) and, "
            f"when it is the first start on this machine, that Maven Central is reachable so Spark can fetch "
            f"the Delta jars '{package}' into ~/.ivy2 (behind a proxy, set spark.jars.ivySettings in "
            f"resources/<env>.yaml; offline, put the jars in place and set spark.jars instead). "
            f"Underlying error: {type(error).__name__}: {str(error).strip()[-800:]}"
        ) from error
    return session


# Settings a client may change on a Spark Connect server's session: the rest (master, memory, jars,
# extensions) belong to the server's own start. The time zone is the one every date in the contract needs.
_REQUIRED_SESSION_SETTINGS = ("spark.sql.session.timeZone",)


def connect_to_spark(remote: str, settings: dict[str, str]):
    """A Spark Connect session on ``remote`` (sc://host:port), with this project's session settings applied.

    The server must run Delta's SQL extension and catalog (the README's
    recipe starts one). A setting the server refuses is skipped, except the
    UTC time zone, without which every day boundary would move.
    """
    from pyspark.sql import SparkSession  # noqa: PLC0415 - keep import cost off the launching side

    try:
        session = SparkSession.builder.remote(remote).getOrCreate()
        apply_session_settings(session, settings)
    except spark_errors() as error:
        raise SparkStartupError(
            f"Could not use the Spark Connect server {remote} (VIDEO_ASSETS_SPARK_REMOTE or spark.remote in "
            "resources/<env>.yaml). Check that it is running and reachable, and that it was started with "
            "Delta's SQL extension (README, 'Spark Connect'). "
            f"Underlying error: {type(error).__name__}: {str(error).strip()[-800:]}"
        ) from error
    return session


def apply_session_settings(session, settings: dict[str, str]) -> None:
    """Sets ``settings`` on a session this process did not start; one the session refuses is skipped, except
    the UTC time zone, without which every day boundary would move."""
    for key, value in settings.items():
        try:
            session.conf.set(key, value)
        except spark_errors():
            if key in _REQUIRED_SESSION_SETTINGS:
                raise


def databricks_connect_session(connect: DatabricksConnectConfig, remote: str | None, settings: dict[str, str]):
    """A session of Databricks Connect's own client (``DatabricksSession``), with ``settings`` applied.

    Its compute is ``remote`` (a Spark Connect connection string) when given,
    else serverless or the cluster; its credentials come from databricks-sdk's
    configuration, or the named profile.
    """
    where = config.DatabricksConnect(
        serverless=connect.serverless, cluster_id=connect.cluster_id, profile=connect.profile, remote=remote
    ).describe()
    try:
        from databricks.connect import DatabricksSession  # noqa: PLC0415 - installed only for this mode
    except ImportError as error:
        raise SparkStartupError(
            f"spark.databricks_connect asks for {where}, but databricks-connect is not installed in this "
            "environment. Install it where no pyspark is installed (they cannot share an environment): "
            "pip install 'databricks-connect==17.3.*' (Python 3.12), the client line of your compute."
        ) from error
    builder = DatabricksSession.builder
    if remote:
        builder = builder.remote(remote)
    else:
        if connect.profile:
            builder = builder.profile(connect.profile)
        builder = builder.serverless() if connect.serverless else builder.clusterId(connect.cluster_id)
    try:
        session = builder.getOrCreate()
        apply_session_settings(session, settings)
    except Exception as error:  # databricks-sdk's configuration errors as well as Spark's
        raise SparkStartupError(
            f"Could not open a Spark session through {where} (spark.databricks_connect in resources/<env>.yaml). "
            "Check the workspace credentials (`databricks auth describe`, or the profile named), that the compute "
            "exists and you may use it, and that the databricks-connect version matches it. "
            f"Underlying error: {type(error).__name__}: {str(error).strip()[-800:]}"
        ) from error
    return session


@functools.cache
def spark_errors() -> tuple[type[BaseException], ...]:
    """What a failed Spark call raises, on a classic session (PySpark's or Py4J's) and on Spark Connect.

    For ``except spark_errors():`` (evaluated only when something was raised, so pyspark's import cost
    stays off the launching side).
    """
    from pyspark.errors import PySparkException  # noqa: PLC0415

    try:
        from py4j.protocol import Py4JError  # noqa: PLC0415 - a Spark Connect client may not ship Py4J
    except ImportError:
        return (PySparkException,)
    return (PySparkException, Py4JError)



_observation_ids = itertools.count()


def observed(frame, aggregates: dict):
    """(the frame with ``aggregates`` counted as its rows go by, the Observation); read ``.get`` after the action.

    Call it last, right before the action (the writers do: DeltaWarehouse.write_table, ScratchRows.write), and
    ask nothing of the observed frame or of a frame built on it (``schema``, ``columns``) until then: a Spark
    Connect 4.0 server caches the plan that such a question analyzes and runs the action from that cache
    without registering the observation, whose values then never arrive (SPARK-53908, fixed in Spark 4.1).
    """
    from pyspark.sql import Observation  # noqa: PLC0415 - only where Spark runs

    observation = Observation(f"observed_{next(_observation_ids)}")
    return frame.observe(observation, *[value.alias(name) for name, value in aggregates.items()]), observation
