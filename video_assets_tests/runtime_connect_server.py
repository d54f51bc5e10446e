"""A Spark Connect server with Delta, run by runtimes.ConnectServers in a Spark line's own environment.

Standalone (only pyspark): it stands for the Spark that Databricks runs, so it uses none of the project's
code. Its one argument is JSON: port, delta_package (Maven coordinate), settings (extra Spark settings),
warehouse. It prints VIDEO_ASSETS_CONNECT_SERVER_READY when clients may connect and runs until SIGTERM, or
exits with 3 when its SparkContext stops.
"""

import json
import signal
import sys
import threading

from pyspark.sql import SparkSession

def main() -> None:
    arguments = json.loads(sys.argv[1])
    settings = {
        "spark.master": "local[*]",
        "spark.app.name": "video_assets_tests connect server",
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.driver.memory": "1g",
        "spark.sql.shuffle.partitions": "2",
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.warehouse.dir": arguments["warehouse"],
        "spark.jars.packages": arguments["delta_package"],
        "spark.sql.extensions": "io.delta.sql.DeltaSparkSessionExtension",
        "spark.sql.catalog.spark_catalog": "org.apache.spark.sql.delta.catalog.DeltaCatalog",
        "spark.plugins": "org.apache.spark.sql.connect.SparkConnectPlugin",
        "spark.connect.grpc.binding.port": str(arguments["port"]),
        "spark.log.level": "WARN",
        # What databricks-connect's createDataFrame asks the server before sending a frame (17.3 and 18.3 both
        # read all of them; open-source Spark 4.0 defines none but the first, 4.1 answers the size limit as
        # "3221225472b", which 18.3 cannot int()): set here with 4.1's defaults, as plain numbers, the way
        # Databricks' servers answer. Frames under the threshold (ours) are sent whole, as open-source
        # clients send them.
        **{f"spark.sql.session.localRelation{name}": str(value) for name, value in {
            "CacheThreshold": 1024**2, "SizeLimit": 3 * 1024**3, "ChunkSizeRows": 10_000,
            "ChunkSizeBytes": 16 * 1024**2, "BatchOfChunksSizeBytes": 1024**3,
        }.items()},
        **arguments["settings"],
    }
    builder = SparkSession.builder
    for key, value in settings.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    print(f"VIDEO_ASSETS_CONNECT_SERVER_READY Spark {spark.version} on port {arguments['port']}", flush=True)

    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    signal.signal(signal.SIGINT, lambda *_: stopped.set())
    # A server whose SparkContext stopped (a JVM error) answers every client with an error: exit instead, so
    # that ConnectServers starts a new one for the next test.
    while not stopped.wait(2):
        if spark.sparkContext._jsc.sc().isStopped():
            print("VIDEO_ASSETS_CONNECT_SERVER_STOPPED: the SparkContext stopped", flush=True)
            sys.exit(3)
    spark.stop()


if __name__ == "__main__":
    main()
