"""Which budget a pytest run is held to, and how the line reads."""

from video_assets_tests.time_budget import QUICK_TIER_MARKERS, budget_for, budget_line


def test_the_whole_folder_without_markers_is_the_full_suite_and_the_readme_markers_the_quick_tier():
    assert budget_for("", "", whole_test_folder=True) == ("full suite", 900)
    assert budget_for(QUICK_TIER_MARKERS, "", whole_test_folder=True) == ("quick tier", 180)
    assert budget_for("not slow and  not e2e and not databricks", "", whole_test_folder=True) == ("quick tier", 180)


def test_any_other_subset_has_no_budget():
    assert budget_for("", "", whole_test_folder=False) is None
    assert budget_for("slow", "", whole_test_folder=True) is None
    assert budget_for("", "volume", whole_test_folder=True) is None
    assert budget_for(QUICK_TIER_MARKERS, "", whole_test_folder=False) is None


def test_the_budget_line_says_within_or_by_how_much_over():
    assert budget_line("quick tier", 179.6, 180) == (
        "quick tier: 180 s of tests against a budget of 180 s (3 min): within budget"
    )
    assert budget_line("full suite", 1049.2, 900) == (
        "full suite: 1049 s of tests against a budget of 900 s (15 min): OVER BUDGET by 149 s"
    )
