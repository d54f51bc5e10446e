"""Automation of the asset graph: sensors, schedules and freshness, registered in video_assets.definitions.

    late_data.py   late_data_sensor: re-materializes days whose landing files changed
    schedules.py   daily_engagement_schedule
    freshness.py   the freshness policy of the daily tables

``sensors`` collects every sensor of this package for ``dg.Definitions(sensors=...)``;
to add one, define it in its own module here and append it to the list.
"""

from video_assets.automation.late_data import late_data_sensor

sensors = [late_data_sensor]

__all__ = ["late_data_sensor", "sensors"]
