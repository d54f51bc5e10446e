"""Two writers of one table: Delta commit races are recognised, and located on the days they touch."""

from video_assets.io.delta import _conflict_kind, _touches_days


def test_a_commit_race_is_recognised_and_located():
    assert _conflict_kind(RuntimeError("io.delta.exceptions.ConcurrentAppendException: Files were added")) == (
        "ConcurrentAppendException"
    )
    assert _conflict_kind(RuntimeError("[DELTA_CONCURRENT_APPEND.WITH_PARTITION_HINT] ...")) == "DELTA_CONCURRENT_APPEND"
    assert _conflict_kind(ValueError("a bug")) is None
    rival = {"predicate": "[\"(event_date >= DATE'2024-01-16' AND event_date < DATE'2024-01-18')\"]", "mode": "Overwrite"}
    assert _touches_days(rival, ("2024-01-17", "2024-01-18"))
    assert not _touches_days(rival, ("2024-01-15", "2024-01-16"))
    assert _touches_days({"predicate": None, "mode": "Overwrite"}, ("2024-01-15", "2024-01-16"))
    assert not _touches_days({"predicate": None, "mode": "Append"}, ("2024-01-15", "2024-01-16"))
