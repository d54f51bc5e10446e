"""Freshness: every daily table is expected to be refreshed each morning by a deadline (UTC).

``with_freshness_policies`` gives every *partitioned* asset the same
``FreshnessPolicy.cron`` (Dagster 1.13's freshness API), so nothing has to
be repeated on each decorator. The freshness daemon (``freshness: enabled``
in dagster.yaml, running under ``dagster dev``) evaluates it and shows each
asset as Fresh / Stale in the UI.

The deadline is ``VIDEO_ASSETS_FRESHNESS_DEADLINE_CRON`` (default
``0 6 * * *``: 06:00 UTC). The window in which a materialization counts
opens at 00:00 UTC of the deadline's day, when yesterday's partition has
become complete, so the policy reads "yesterday's data by 06:00": an asset
is fresh when it was materialized between 00:00 and the deadline (or later
that day). How Dagster evaluates it: it looks at the asset's latest
materialization of *any* partition; the daily schedule
(automation/schedules.py) is what makes that materialization yesterday's.

The policy alone cannot tell that *yesterday's partition* is missing (a
backfill of last year at 05:00 makes an asset look fresh). So every daily
asset also gets a **time-partition freshness check**
(``partition_freshness_checks``, on the asset's Checks tab as
``freshness_check``): after the deadline it fails (WARN) unless the latest
complete partition - yesterday's - has been materialized. The sensor
``freshness_checks_sensor`` evaluates them; it runs under the daemon of
``scripts/ui.sh`` (started by default) and launches tiny check-only runs that
read Dagster's event log, never Spark.

The unpartitioned assets (video_catalog, user_video_engagement,
video_lifetime_summary) get no policy: the catalog changes when the catalog
file does, and the all-time tables follow the daily tables (automation
condition eager).
"""

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta, timezone

import dagster as dg

from video_assets import config
from video_assets.dagster_internals import get_next_cron_tick, get_smallest_cron_interval

DEADLINE_CRON_ENV = config.FRESHNESS_DEADLINE_CRON_VARIABLE
DEFAULT_DEADLINE_CRON = config.DEFAULT_FRESHNESS_DEADLINE_CRON
_REFERENCE_MIDNIGHT = datetime(2024, 1, 1, tzinfo=timezone.utc)


def deadline_cron() -> str:
    """The deadline as a cron string (UTC), from VIDEO_ASSETS_FRESHNESS_DEADLINE_CRON."""
    return config.from_environment().freshness_deadline_cron


def lower_bound_for(cron: str) -> timedelta:
    """From 00:00 UTC to the deadline's time of day (at least 1 minute, at most the cron's interval)."""
    tick = get_next_cron_tick(cron, _REFERENCE_MIDNIGHT, "UTC")
    since_midnight = tick - tick.replace(hour=0, minute=0, second=0, microsecond=0)
    interval = get_smallest_cron_interval(cron, "UTC")
    if since_midnight < timedelta(minutes=1):
        return interval
    return min(since_midnight, interval)


def freshness_policy(cron: str | None = None) -> dg.FreshnessPolicy:
    cron = cron or deadline_cron()
    try:
        return dg.FreshnessPolicy.cron(deadline_cron=cron, lower_bound_delta=lower_bound_for(cron), timezone="UTC")
    except Exception as error:  # dagster raises CheckError for a bad cron string
        raise ValueError(f"{DEADLINE_CRON_ENV}={cron!r} is not a usable cron deadline: {error}") from error


def with_freshness_policies(
    assets: Iterable[dg.AssetsDefinition], policy: dg.FreshnessPolicy | None = None
) -> Sequence[dg.AssetsDefinition]:
    """The same assets, every partitioned one with the freshness policy (an explicit one is kept)."""
    policy = policy or freshness_policy()

    def attach(spec: dg.AssetSpec) -> dg.AssetSpec:
        if spec.partitions_def is None or spec.freshness_policy is not None:
            return spec
        return spec.replace_attributes(freshness_policy=policy)

    return dg.map_asset_specs(attach, list(assets))


def partition_freshness_checks(assets: Iterable[dg.AssetsDefinition]) -> Sequence[dg.AssetChecksDefinition]:
    """A WARN check per daily asset: yesterday's partition exists once the deadline has passed."""
    daily = [key for assets_def in assets for key in assets_def.keys if assets_def.partitions_def is not None]
    return dg.build_time_partition_freshness_checks(
        assets=daily, deadline_cron=deadline_cron(), timezone="UTC", severity=dg.AssetCheckSeverity.WARN
    )


def freshness_checks_sensor(checks: Sequence[dg.AssetChecksDefinition]) -> dg.SensorDefinition:
    """Evaluates the partition freshness checks; on by default, so the daemon of ``dagster dev`` runs it."""
    return dg.build_sensor_for_freshness_checks(
        freshness_checks=checks,
        minimum_interval_seconds=300,
        default_status=dg.DefaultSensorStatus.RUNNING,
    )
