"""The emulated cluster's driver: run by the emulator as a script, never imported by tests.

    python cluster_driver.py cluster <spec.json>   an all-purpose cluster: start Spark + Delta,
                                                   publish the Py4J gateway, live until stdin closes
    python cluster_driver.py run <spec.json>       one spark_python_task in a fresh Python process

A run attaches to its cluster's JVM when the spec names a gateway (runs on an
existing cluster share the driver JVM and SparkContext, as notebooks and
Python tasks do on Databricks), starts its own Spark (a new job cluster), or,
on serverless compute (SPARK_REMOTE set), starts nothing: the task's own
SparkSession.builder.getOrCreate() is a Spark Connect session, which refuses
the DataFrame cache as serverless compute does (``refuse_caching``).
Then it executes the task's python file as ``__main__`` with the globals a
Databricks Python task has (``spark``, ``sc``, ``dbutils``), its parameters
in sys.argv, and writes a small report (which ``video_assets`` it imported,
the VIDEO_ASSETS_* variables it saw) for the tests.

This script lives next to the tests but must not import them or the project:
the emulator starts it with a PYTHONPATH holding only a sitecustomize that
hides editable installs, so ``video_assets`` can come only from the uploaded
code.zip, exactly as on a cluster.
"""

import json
import os
import runpy
import sys
import time
import traceback


class SecretNotFound(Exception):
    """What dbutils.secrets.get raises on Databricks for an unknown scope/key (an IllegalArgumentException)."""


class _Secrets:
    def __init__(self, values: dict[str, str]):
        self._values = values

    def get(self, scope: str, key: str) -> str:
        try:
            return self._values[f"{scope}/{key}"]
        except KeyError:
            raise SecretNotFound(
                f"java.lang.IllegalArgumentException: Secret does not exist with scope: {scope} and key: {key}"
            ) from None

    def listScopes(self):  # noqa: N802 - dbutils' spelling
        return sorted({name.split("/", 1)[0] for name in self._values})


class DBUtils:
    """The part of Databricks' dbutils that a step launcher's entry point uses."""

    def __init__(self, secrets: dict[str, str]):
        self.secrets = _Secrets(secrets)


def start_spark(settings: dict[str, str]):
    from pyspark.sql import SparkSession

    builder = SparkSession.builder
    for key, value in settings.items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session


def attach_spark():
    """The cluster's SparkSession, reached through the gateway in PYSPARK_GATEWAY_PORT/SECRET."""
    from pyspark import SparkConf, SparkContext
    from pyspark.java_gateway import launch_gateway
    from pyspark.sql import SparkSession

    gateway = launch_gateway()  # connects to the running JVM: the variables are set
    jvm = gateway.jvm
    jsc = jvm.org.apache.spark.api.java.JavaSparkContext(jvm.org.apache.spark.SparkContext.getOrCreate())
    sc = SparkContext(gateway=gateway, jsc=jsc, conf=SparkConf(_jvm=jvm, _jconf=jsc.getConf()))
    return SparkSession(sc, jvm.org.apache.spark.sql.SparkSession.builder().getOrCreate())


def run_cluster(spec: dict) -> int:
    spark = start_spark(spec["spark_settings"])
    gateway = spark.sparkContext._gateway
    parameters = gateway.java_parameters if hasattr(gateway, "java_parameters") else gateway.gateway_parameters
    ready = {
        "port": parameters.port,
        "secret": parameters.auth_token,
        "jars": spark.sparkContext.getConf().get("spark.jars", ""),
        "pid": os.getpid(),
    }
    temp = spec["ready_file"] + ".tmp"
    with open(temp, "w") as handle:
        json.dump(ready, handle)
    os.replace(temp, spec["ready_file"])
    print("cluster ready", flush=True)
    # A running all-purpose cluster has done Delta work before: warm the JVM's Delta code paths.
    warm = os.path.join(os.path.dirname(spec["ready_file"]), "warm-up-table")
    spark.range(10).write.format("delta").mode("overwrite").save(warm)
    spark.read.format("delta").load(warm).where("id > 4").count()
    print("cluster warm", flush=True)
    sys.stdin.read()  # the emulator holds the other end; EOF = terminate the cluster
    spark.stop()
    return 0


# What Databricks serverless answers to DataFrame.persist / cache / unpersist (its "caching limitations").
SERVERLESS_CACHE_ERROR = "[NOT_SUPPORTED_WITH_SERVERLESS] PERSIST TABLE is not supported on serverless compute."


def refuse_caching() -> None:
    """DataFrame.persist, cache and unpersist fail on this Spark Connect client, as on Databricks serverless."""
    from pyspark.errors.exceptions.connect import AnalysisException
    from pyspark.sql.connect.client.core import SparkConnectClient

    analyze = SparkConnectClient._analyze

    def refusing(self, method, **kwargs):
        if method in ("persist", "unpersist"):
            raise AnalysisException(SERVERLESS_CACHE_ERROR, sql_state="0A000")
        return analyze(self, method, **kwargs)

    SparkConnectClient._analyze = refusing


# What a test may want to know was, or was not, installed where the task ran.
_REPORTED_DISTRIBUTIONS = (
    "databricks-connect", "pyspark", "pyspark-client", "pyspark-connect", "delta-spark", "dagster",
    "dagster-databricks", "dagster-pyspark", "pandera",
)


def _distributions() -> dict[str, str]:
    from importlib import metadata

    found = {}
    for name in _REPORTED_DISTRIBUTIONS:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return found


def run_task(spec: dict) -> int:
    started = time.time()
    report: dict = {
        "cwd": os.getcwd(),
        "attached": "PYSPARK_GATEWAY_PORT" in os.environ,
        # Serverless compute: the task gets a Spark Connect address and dbutils, no JVM, no SparkContext.
        "serverless": "SPARK_REMOTE" in os.environ,
        "spark_remote": os.environ.get("SPARK_REMOTE"),
        "python": "%d.%d" % sys.version_info[:2],
        "distributions": _distributions(),
    }
    code = 1
    try:
        task_globals = {"dbutils": DBUtils(spec["secrets"])}
        if report["serverless"]:
            refuse_caching()
        else:
            spark = attach_spark() if report["attached"] else start_spark(spec["spark_settings"])
            task_globals.update({"spark": spark, "sc": spark.sparkContext})
        report["spark_ready_seconds"] = round(time.time() - started, 2)
        sys.argv = [spec["python_file"], *spec["parameters"]]
        runpy.run_path(spec["python_file"], init_globals=task_globals, run_name="__main__")
        code = 0
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
    except BaseException as error:  # noqa: BLE001 - the task's error is the run's result
        traceback.print_exc()
        report["error"] = f"{type(error).__name__}: {error}"
    finally:
        module = sys.modules.get("video_assets")
        report["video_assets_file"] = getattr(module, "__file__", None)
        report["environment"] = {k: v for k, v in os.environ.items() if k.startswith("VIDEO_ASSETS_")}
        report["seconds"] = round(time.time() - started, 2)
        with open(spec["report_file"], "w") as handle:
            json.dump(report, handle, indent=2)
        sys.stdout.flush()
        sys.stderr.flush()
    return code


def main() -> None:
    mode, spec_path = sys.argv[1], sys.argv[2]
    with open(spec_path) as handle:
        spec = json.load(handle)
    code = run_cluster(spec) if mode == "cluster" else run_task(spec)
    sys.stdout.flush()
    sys.stderr.flush()
    # Py4J and the step's own threads must not keep a finished task alive.
    os._exit(code)


if __name__ == "__main__":
    main()
