"""``python -m video_assets.sample_data ...``: the same as ``video-assets generate ...``."""

from video_assets.sample_data.command import cli

raise SystemExit(cli())
