"""Automation of the asset graph: sensors (and, later, schedules), registered in video_assets.definitions.

Each automation module exposes its definitions; this package collects them in
plain lists so the Definitions object takes them in one place:

    dg.Definitions(..., sensors=automation.sensors, schedules=automation.schedules)

To add one, define it in its own module here and append it to the list below.
"""

from video_assets.automation.late_data import late_data_sensor

sensors = [late_data_sensor]
schedules = []

__all__ = ["late_data_sensor", "schedules", "sensors"]
