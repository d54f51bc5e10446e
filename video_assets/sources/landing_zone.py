"""The ``landing`` resource: where events and the catalog come from, and the one place that picks the source kind."""

import dagster as dg
from pydantic import Field

from video_assets import config
from video_assets.sources.catalog import CatalogFile, CatalogTable
from video_assets.sources.event_files import LandingFiles
from video_assets.sources.event_table import EventsTable
from video_assets.sources.interface import CatalogSource, EventSource

EVENTS_TABLE_SETTING = f"landing.events_table of the resources YAML or {config.EVENTS_TABLE_VARIABLE}"
VIDEOS_TABLE_SETTING = f"landing.videos_table of the resources YAML or {config.VIDEOS_TABLE_VARIABLE}"


class LandingZone(dg.ConfigurableResource):
    """The landing zone (a folder or URI), and optionally the existing tables read instead of its files."""

    location: str = Field(description="Root of the landing zone: events/date=YYYY-MM-DD/ and videos/videos.csv.")
    location_source: str = Field(
        default="the landing resource's config (landing.location)",
        description="Where `location` was set (an environment variable or a YAML key), named in error messages.",
    )
    events_table: str | None = Field(
        default=None,
        description=(
            "Read raw events from this existing Delta table instead of events/date=*/ files: a catalog name "
            "(catalog.schema.table) or a Delta path. Only ever read."
        ),
    )
    events_time_column: str = Field(
        default="timestamp", description="The events table's event-time column (TIMESTAMP); a row's day is its UTC date."
    )
    videos_table: str | None = Field(
        default=None, description="Read the video catalog from this table instead of videos/videos.csv."
    )

    def events(self) -> EventSource:
        """The configured event source: the events table when one is set, else the landing zone's files."""
        if self.events_table:
            return EventsTable(self.events_table, self.events_time_column, EVENTS_TABLE_SETTING)
        return LandingFiles(self.location, self.location_source)

    def catalog(self) -> CatalogSource:
        """The configured catalog source: the videos table when one is set, else videos/videos.csv."""
        if self.videos_table:
            return CatalogTable(self.videos_table, VIDEOS_TABLE_SETTING)
        return CatalogFile(self.location, self.location_source)
