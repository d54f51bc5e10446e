"""Running steps on Databricks: the step launcher and its staging, the remote entry point, and the workspace check.

Kept free of imports: the remote step imports ``video_assets.databricks.remote_step`` on a cluster or a
serverless environment where dagster-databricks (the launching side) is not installed.
"""
