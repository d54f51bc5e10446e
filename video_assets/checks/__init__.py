"""Data quality: the tables' contract (pandera + Spark rules), invariants, and their evaluation in each asset's step.

docs/checks.md lists every check and what to do when one fails.
"""
