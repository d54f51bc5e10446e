"""Pictures and a report of the engagement tables.

``charts``      small Python data -> PNG bytes (matplotlib, Agg, no pyplot) and markdown helpers
``aggregates``  Delta tables (Spark DataFrames) -> the small Python data the charts draw
``html_report`` the aggregates -> one self-contained HTML file (`video-assets report`)
"""
