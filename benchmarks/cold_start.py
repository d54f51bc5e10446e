"""Benchmark: what a cold run pays before its first step does any work (issue 42 item 5).

    .venv/bin/python benchmarks/cold_start.py                    # each part in a fresh process, median of 3
    .venv/bin/python benchmarks/cold_start.py --without-archive  # Spark without the JVM class archive

Each line is a new Python process timed from outside, from its start to its exit, so every line includes
the ones above it; the difference between two lines is the price of what the lower one adds:

* Python with pyspark imported; then dagster; then our Definitions loaded (every asset, check, resource);
* a Spark session in this process (the JVM start) and one trivial query, without Delta;
* the same with the project's own Spark settings: the Delta jars resolved by Ivy (from its cache after the
  first run) and Delta's SQL extension, then one trivial query;
* that, plus a first Delta write and read of a one-row table (Delta's classes loaded, its log written);
* a Dagster run of one asset that does nothing (an ephemeral instance): Dagster's run start and end.

The Spark lines use the JVM class archive ``scripts/setup.sh`` builds (``video_assets/io/jvm_archive.py``)
unless ``--without-archive`` is given.
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PARTS = {
    "python + import pyspark": "import pyspark",
    "+ import dagster": "import pyspark, dagster",
    "+ load video_assets Definitions": "from video_assets.definitions import defs",
    "Spark session without Delta + 1 query": (
        "from pyspark.sql import SparkSession\n"
        "spark = SparkSession.builder.master('local[*]').config('spark.ui.enabled', 'false').getOrCreate()\n"
        "spark.range(1).count()"
    ),
    "Spark session, project settings (Delta jars via Ivy) + 1 query": (
        "from video_assets.io.spark import SparkResource\n"
        "spark = SparkResource().get_session()\n"
        "spark.range(1).count()"
    ),
    "+ first Delta write and read (1 row)": (
        "import sys\n"
        "from video_assets.io.spark import SparkResource\n"
        "spark = SparkResource().get_session()\n"
        "spark.range(1).write.format('delta').save(sys.argv[1] + '/t')\n"
        "spark.read.format('delta').load(sys.argv[1] + '/t').count()"
    ),
    "Dagster run of one no-op asset (ephemeral instance)": (
        "import dagster as dg\n"
        "@dg.asset\n"
        "def nothing():\n"
        "    return None\n"
        "assert dg.materialize([nothing]).success"
    ),
}


def timed(code: str, scratch: Path, env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", code, str(scratch)], cwd=ROOT, env=env, check=True, capture_output=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--without-archive", action="store_true", help="start Spark without the JVM class archive")
    args = parser.parse_args()
    env = dict(os.environ)
    if args.without_archive:
        env["VIDEO_ASSETS_CACHE_DIR"] = tempfile.mkdtemp(prefix="no-archive-")  # an empty cache: no archive
    print(f"{'part (each a fresh process, start to exit)':<64} {'median s':>9} {'all runs':>22}")
    for label, code in PARTS.items():
        runs = []
        for _ in range(args.repeats):
            with tempfile.TemporaryDirectory(prefix="cold-start-") as scratch:
                runs.append(timed(code, Path(scratch), env))
        shown = " ".join(f"{r:.1f}" for r in runs)
        print(f"{label:<64} {statistics.median(runs):>9.2f} {shown:>22}")


if __name__ == "__main__":
    main()
