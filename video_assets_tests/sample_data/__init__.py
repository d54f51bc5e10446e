"""The sample-data generator (video_assets.sample_data), checked on the files it writes."""
