"""The quiet console's line per finished step."""

from video_assets.console import step_line


def test_a_step_line_names_the_step_its_seconds_rows_and_check_verdicts():
    line = step_line(
        "video_sessions", 12.34, {"video_sessions": 20722, "watch_intervals": 31491}, 6, ["events_in_sessions ERROR"]
    )
    assert line.startswith("  ✓ video_sessions")
    assert "   12.3 s" in line
    assert "video_sessions 20,722 · watch_intervals 31,491 rows" in line
    assert line.endswith("checks 6/7 (failed: events_in_sessions ERROR)")


def test_a_step_without_tables_or_checks_is_just_its_name_and_time():
    assert step_line("video_catalog", 2.0, {}, 0, []) == "  ✓ video_catalog                    2.0 s"
