"""The quiet console's line per finished step, and the `video-assets run` command's arguments."""

import pytest

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


def test_run_command_refuses_bad_days_before_starting_anything(capsys, monkeypatch):
    from video_assets import cli

    started = []
    monkeypatch.setattr(cli, "run_graph", lambda first, last: started.append((first, last)) or True)
    for argv in (["run"], ["run", "--from", "2024-13-01"], ["run", "--from", "2024-01-16", "--to", "2024-01-15"]):
        with pytest.raises(SystemExit) as stop:
            cli.main(argv)
        assert stop.value.code == 2
    errors = capsys.readouterr().err
    assert "the following arguments are required: --from" in errors
    assert "'2024-13-01' is not a date YYYY-MM-DD" in errors
    assert "--from 2024-01-16 is after --to 2024-01-15" in errors
    assert started == []
    assert cli.main(["run", "--from", "2024-01-15"]) == 0
    assert started == [("2024-01-15", "2024-01-15")]


def test_stderr_of_the_process_and_its_children_goes_to_the_file_for_the_run_only(tmp_path, capfd):
    """Issue 41 item 5: Spark's JVM (a child process) wrote ~30 lines of Ivy and log4j to the terminal."""
    import os
    import subprocess

    from video_assets.console import stderr_into

    log = tmp_path / "run.log"
    log.write_text("first line\n")
    with stderr_into(log):
        os.write(2, b"from python\n")  # what sys.stderr does outside pytest's capture
        subprocess.run(["sh", "-c", "echo from a child >&2"], check=True)
    os.write(2, b"after the run\n")
    assert log.read_text() == "first line\nfrom python\nfrom a child\n"
    assert capfd.readouterr().err == "after the run\n"
