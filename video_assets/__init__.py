"""video_assets: raw video-player events to engagement metrics, as a Dagster asset graph on Spark + Delta."""
