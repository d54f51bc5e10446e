"""Data quality: the tables' contract (pandera), asset checks, cross-asset invariants (docs/checks.md)."""

from video_assets.checks.asset_checks import all_checks

__all__ = ["all_checks"]
