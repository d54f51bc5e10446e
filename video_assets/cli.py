"""`video-assets`: generate sample data, run the whole graph locally, print what the tables hold.

    video-assets generate --days 7 --users 500 --out data/landing
    video-assets demo                      # generate a week (if absent), run everything, summarize
    video-assets run --from D --to D       # every asset for those days in one run (the environment's landing)
    video-assets summary                   # rows per table, quarantine by reason
    video-assets report [--from D --to D] [--out PATH]   # one self-contained HTML page of the results
    video-assets connect-server [--port 15002]          # local Spark + Delta serving Spark Connect clients
    video-assets export TABLE [--format parquet|csv] [--from D --to D] [--out DIR]   # plain files, no Delta needed
    video-assets databricks check          # is the workspace of resources/databricks.yaml ready? one line per item
"""

import argparse
import os
import sys
import time
from datetime import date, timedelta
from pathlib import Path

DEMO_START, DEMO_DAYS = "2024-01-15", 7


def _generate(argv: list[str]) -> int:
    from video_assets import sample_data  # noqa: PLC0415 - keeps `video-assets --help` fast

    return sample_data.cli(argv)


def run_graph(first_day: str, last_day: str) -> bool:
    """Materializes every asset (and runs its checks) for first_day..last_day in one in-process run.

    The console gets one line per finished step; every log line of the run
    goes to a file under the Dagster home (or the system temp folder), whose
    path is printed. A failed step prints its error in full.
    """
    import tempfile  # noqa: PLC0415

    import dagster as dg  # noqa: PLC0415

    from video_assets.console import CONSOLE_LOGGERS, stderr_into  # noqa: PLC0415
    from video_assets.dagster_internals import (  # noqa: PLC0415
        ASSET_PARTITION_RANGE_END_TAG,
        ASSET_PARTITION_RANGE_START_TAG,
    )
    from video_assets.definitions import defs  # noqa: PLC0415

    home = os.environ.get("DAGSTER_HOME")
    instance = dg.DagsterInstance.get() if home else dg.DagsterInstance.ephemeral()
    log_dir = Path(home or tempfile.gettempdir()) / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"run-{first_day}_{last_day}-{int(time.time())}.log"
    print(f"Full log of the run: {log_path}")
    job = defs.resolve_job_def("video_engagement_job").with_logger_defs(CONSOLE_LOGGERS)
    # Spark's start-up chatter (Ivy, log4j, JVM warnings) and its warnings go to the log file, not the terminal.
    with stderr_into(log_path):
        result = job.execute_in_process(
            instance=instance,
            run_config={"loggers": {"step_lines": {}, "run_file": {"config": {"path": str(log_path)}}}},
            tags={ASSET_PARTITION_RANGE_START_TAG: first_day, ASSET_PARTITION_RANGE_END_TAG: last_day},
            raise_on_error=False,
        )
    if not result.success:
        print(f"The run failed; Spark's and Dagster's own messages are in {log_path}")
    if home:
        print(f"The run in the UI (bash scripts/ui.sh): http://127.0.0.1:3000/runs/{result.run_id}")
    return result.success


def print_summary() -> None:
    """Rows per table and the quarantine by reason (small aggregates read back from Delta)."""
    from video_assets.config import build_resources  # noqa: PLC0415

    resources = build_resources()
    try:
        _print_tables(resources["warehouse"], resources["spark"].get_session())
    finally:
        resources["spark"].release()


def _print_tables(warehouse, spark) -> None:
    from pyspark.sql import functions as F  # noqa: PLC0415

    from video_assets.tables import TABLES  # noqa: PLC0415

    print(f"\nWarehouse: {warehouse.location}")
    print(f"{'table':34} {'rows':>10}  days")
    for name, spec in TABLES.items():
        location = warehouse.table(name)
        if not location.exists(spark):
            print(f"{name:34} {'(missing)':>10}")
            continue
        table = location.read(spark)
        if spec.partition_column:
            row = table.agg(F.count(F.lit(1)).alias("n"), F.countDistinct(spec.partition_column).alias("d")).first()
            print(f"{name:34} {row['n']:>10}  {row['d']}")
        else:
            print(f"{name:34} {table.count():>10}")
    quarantine = warehouse.table("raw_video_events_quarantine")
    if quarantine.exists(spark):
        print("\nQuarantined records by reason:")
        for row in quarantine.read(spark).groupBy("reason").count().orderBy(F.desc("count")).collect():
            print(f"  {row['reason']:24} {row['count']:>8}")
    tiers = warehouse.table("engagement_tier_summary")
    if tiers.exists(spark):
        print("\nUser-video-days by engagement tier (all days):")
        for row in tiers.read(spark).groupBy("engagement_tier").agg(F.sum("pair_count").alias("pairs")).collect():
            print(f"  {row['engagement_tier']:10} {row['pairs']:>8}")


def _demo(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="video-assets demo", description="Sample week through the whole graph.")
    parser.add_argument("--users", type=int, default=500)
    parser.add_argument("--regenerate", action="store_true", help="write the sample landing again")
    args = parser.parse_args(argv)
    from video_assets.config import landing_location, load_environment_config  # noqa: PLC0415

    landing = Path(landing_location(load_environment_config("local")))
    last_day = (date.fromisoformat(DEMO_START) + timedelta(days=DEMO_DAYS - 1)).isoformat()
    if args.regenerate or not (landing / "events").exists():
        _generate(["--days", str(DEMO_DAYS), "--users", str(args.users), "--start-date", DEMO_START, "--out", str(landing)])
    started = time.perf_counter()
    print(f"Materializing every asset for {DEMO_START}..{last_day} in one run (local Spark + Delta)...")
    ok = run_graph(DEMO_START, last_day)
    print(f"Run {'succeeded' if ok else 'FAILED'} in {time.perf_counter() - started:.0f} s")
    print_summary()
    if ok:
        from video_assets.reporting.html_report import write_report  # noqa: PLC0415

        report = write_report(date.fromisoformat(DEMO_START), date.fromisoformat(last_day), None)
        print(f"\nReport (open in a browser or send it): {report}")
    return 0 if ok else 1


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a date YYYY-MM-DD") from None


def _run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="video-assets run",
        description=(
            "Materialize every asset (checks included) for the days given, in one run, on the environment's "
            "landing and warehouse. With DAGSTER_HOME set the run is recorded there and waits for the pools "
            "its instance configures, so two runs started together take turns at each table."
        ),
    )
    parser.add_argument("--from", dest="first_day", type=_day, required=True, metavar="YYYY-MM-DD")
    parser.add_argument("--to", dest="last_day", type=_day, metavar="YYYY-MM-DD", help="last day (default: --from)")
    args = parser.parse_args(argv)
    last_day = args.last_day or args.first_day
    if args.first_day > last_day:
        parser.error(f"--from {args.first_day} is after --to {last_day}")
    return 0 if run_graph(args.first_day.isoformat(), last_day.isoformat()) else 1


def _report(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="video-assets report",
        description="One self-contained HTML page of the engagement tables (default: every day present).",
    )
    parser.add_argument("--from", dest="first_day", type=_day, metavar="YYYY-MM-DD", help="first day, YYYY-MM-DD (default: the first present)")
    parser.add_argument("--to", dest="last_day", type=_day, metavar="YYYY-MM-DD", help="last day, YYYY-MM-DD (default: the last present)")
    parser.add_argument(
        "--out", type=Path, help="HTML file to write (default: data/reports/engagement-<from>_<to>.html)"
    )
    args = parser.parse_args(argv)
    if args.first_day and args.last_day and args.first_day > args.last_day:
        parser.error(f"--from {args.first_day} is after --to {args.last_day}")
    from video_assets.reporting.html_report import ReportError, write_report  # noqa: PLC0415

    try:
        path = write_report(args.first_day, args.last_day, args.out)
    except ReportError as error:
        print(f"video-assets report: {error}", file=sys.stderr)
        return 1
    print(path)
    return 0


def _connect_server(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="video-assets connect-server",
        description=(
            "Start Spark with Delta as resources/local.yaml configures it, serving Spark Connect clients on "
            "sc://localhost:PORT until interrupted; point the graph at it with VIDEO_ASSETS_SPARK_REMOTE."
        ),
    )
    parser.add_argument("--port", type=int, default=15002, help="gRPC port (default 15002, Spark's own)")
    args = parser.parse_args(argv)
    from video_assets.config import build_resources  # noqa: PLC0415

    spark = build_resources("local")["spark"]
    session = spark.model_copy(update={"remote": None}).serve_spark_connect(args.port)
    print(f"Spark Connect server with Delta on sc://localhost:{args.port} (Spark {session.version}); Ctrl-C stops it.")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        session.stop()
    return 0


def _export(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="video-assets export",
        description=(
            "Write a table's current rows as plain Parquet (or CSV) files that pandas, pyarrow, polars or DuckDB "
            "read without Delta support: user_video_engagement's deletion vectors are a feature delta-rs cannot "
            "read (docs/reading-tables.md). Reads the environment's warehouse with Spark."
        ),
    )
    parser.add_argument("table", help="the table's name (docs/tables.md)")
    parser.add_argument("--format", default="parquet", choices=("parquet", "csv"), help="default: parquet")
    parser.add_argument("--from", dest="first_day", type=_day, metavar="YYYY-MM-DD", help="daily tables: first day")
    parser.add_argument("--to", dest="last_day", type=_day, metavar="YYYY-MM-DD", help="daily tables: last day")
    parser.add_argument(
        "--out", metavar="DIR",
        help="folder to write, replaced if it holds a previous export (default: data/export/<table>)",
    )
    args = parser.parse_args(argv)
    from video_assets.io.export import ExportError, check_request, export_table  # noqa: PLC0415

    try:
        check_request(args.table, args.format, args.first_day, args.last_day)
    except ValueError as error:
        parser.error(str(error))
    from video_assets.config import build_resources  # noqa: PLC0415

    resources = build_resources()
    try:
        result = export_table(
            resources["spark"].get_session(), resources["warehouse"], args.table, args.out, args.format,
            args.first_day, args.last_day,
        )
    except ExportError as error:
        print(f"video-assets export: {error}", file=sys.stderr)
        return 1
    finally:
        resources["spark"].release()
    print(f"Wrote {result.rows} rows of {result.table} ({result.days}) as {result.file_format} to {result.path}")
    return 0


def _databricks(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="video-assets databricks",
        description=(
            "check: is the workspace of resources/databricks.yaml ready for the step launcher? Checks the YAML, "
            "that DATABRICKS_HOST / DATABRICKS_TOKEN are accepted, that the staging folder is writable, readable "
            "and deletable, that the environment's dependencies resolve without pyspark, and runs a one-row Delta "
            "round trip on the configured compute. One line per item; the token is never printed."
        ),
    )
    parser.add_argument("command", choices=("check",))
    parser.add_argument(
        "--timeout", type=float, default=900, metavar="SECONDS",
        help="how long the task may take, compute start included (default 900: a new job cluster starts in 3-6 min)",
    )
    args = parser.parse_args(argv)
    from video_assets.databricks.workspace_check import OK, check_workspace  # noqa: PLC0415

    print("video-assets databricks check: resources/databricks.yaml, DATABRICKS_HOST, DATABRICKS_TOKEN")
    results = check_workspace(task_timeout_seconds=args.timeout)
    return 0 if all(result.status == OK for result in results) else 1


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    commands = {
        "generate": _generate, "demo": _demo, "run": _run, "summary": lambda _: print_summary() or 0,
        "report": _report, "connect-server": _connect_server, "export": _export, "databricks": _databricks,
    }
    if not argv or argv[0] not in commands:
        print(__doc__.strip())
        return 0 if argv[:1] in ([], ["-h"], ["--help"]) else 2
    return commands[argv[0]](argv[1:])


if __name__ == "__main__":
    raise SystemExit(main())
