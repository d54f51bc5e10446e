"""Charts: valid, small, stable PNGs; markdown that carries them."""

import base64
import math
import subprocess
import sys
from datetime import date, timedelta
from io import BytesIO

import pytest
from PIL import Image

from video_assets.reporting import charts
from video_assets.settings import TIERS, EngagementSettings

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
SIZE_LIMIT = 60_000
THRESHOLDS = {"High": 70.0, "Medium": 40.0, "Low": 20.0}


def realistic_curves(videos=10, buckets=20):
    return [
        (f"Video {index}: a long catalog title that needs cutting",
         [round(max(0.0, 1 - (k / buckets) ** (0.5 + 0.2 * index)), 4) for k in range(buckets)])
        for index in range(videos)
    ]


def realistic_tier_rows(days=30):
    first = date(2024, 1, 1)
    return [
        (first + timedelta(days=offset), tier, 40 + (offset * 7 + position * 13) % 90)
        for offset in range(days)
        for position, tier in enumerate(TIERS)
    ]


def realistic_bins():
    return [(float(start), int(300 * math.exp(-(((start - 45) / 20) ** 2)))) for start in range(0, 100, 5)]


def realistic_stop_points(videos=5, parts=20):
    """Per video, (title, retention curve, furthest-point shares that add up to 1, milestone shares)."""
    found = []
    for title, curve in realistic_curves(videos, parts):
        drops = [max(0.0, curve[k] - (curve[k + 1] if k + 1 < parts else 0.0)) for k in range(parts)]
        total = sum(drops) or 1.0
        reached = [curve[min(parts - 1, round(parts * percent / 100))] for percent in (25, 50, 75, 95)]
        found.append((title, curve, [round(drop / total, 4) for drop in drops], reached))
    return found


def all_charts():
    audience = realistic_stop_points()
    return {
        "retention": charts.retention_chart(realistic_curves()),
        "tier_mix": charts.tier_mix_chart(realistic_tier_rows()),
        "histogram": charts.score_histogram_chart(realistic_bins(), THRESHOLDS),
        "retention_and_stops": charts.retention_and_stop_points_chart([video[:3] for video in audience]),
        "funnel": charts.milestone_funnel_chart([(video[0], video[3]) for video in audience]),
    }


@pytest.fixture(scope="module")
def drawn():
    return all_charts()


@pytest.mark.parametrize(
    ("name", "size"),
    [
        ("retention", (700, 320)),  # 7 x 3.2 inches at 100 dpi
        ("tier_mix", (700, 320)),
        ("histogram", (700, 320)),
        ("retention_and_stops", (1000, 330)),  # two panels side by side
        ("funnel", (700, 300)),
    ],
)
def test_each_chart_is_a_small_png_of_the_fixed_size(drawn, name, size):
    png = drawn[name]
    assert png.startswith(PNG_MAGIC)
    assert len(png) < SIZE_LIMIT
    image = Image.open(BytesIO(png))
    image.verify()
    assert image.size == size


def test_the_same_input_gives_the_same_bytes_and_another_input_other_bytes(drawn):
    assert all_charts() == drawn
    assert charts.retention_chart(realistic_curves(videos=9)) != drawn["retention"]
    assert charts.tier_mix_chart(realistic_tier_rows(days=29)) != drawn["tier_mix"]
    assert charts.score_histogram_chart(realistic_bins(), {"High": 75.0, "Medium": 40.0, "Low": 20.0}) != drawn[
        "histogram"
    ]
    fewer = realistic_stop_points(videos=4)
    assert charts.retention_and_stop_points_chart([video[:3] for video in fewer]) != drawn["retention_and_stops"]
    assert charts.milestone_funnel_chart([(video[0], video[3]) for video in fewer]) != drawn["funnel"]


def test_no_software_or_time_stamp_in_the_png(drawn):
    for png in drawn.values():
        assert b"tEXt" not in png and b"tIME" not in png and b"iTXt" not in png


def test_empty_inputs_still_draw_a_chart():
    for png in (
        charts.retention_chart([]),
        charts.retention_and_stop_points_chart([]),
        charts.milestone_funnel_chart([]),
        charts.tier_mix_chart([]),
        charts.score_histogram_chart([(float(start), 0) for start in range(0, 100, 5)], THRESHOLDS),
    ):
        assert png.startswith(PNG_MAGIC)


def test_an_unknown_tier_is_refused():
    with pytest.raises(ValueError, match="Premium"):
        charts.tier_mix_chart([("2024-01-01", "Premium", 3)])


def test_tier_of_a_score_follows_the_thresholds():
    assert [charts.tier_of(score, THRESHOLDS) for score in (100.0, 70.0, 69.9, 40.0, 20.0, 19.9, 0.0)] == [
        "High", "High", "Medium", "Medium", "Low", "Minimal", "Minimal",
    ]
    assert charts.tier_thresholds(EngagementSettings(tier_high_min_score=80.0)) == {
        "High": 80.0, "Medium": 40.0, "Low": 20.0,
    }


def test_markdown_image_carries_the_png_as_base64(drawn):
    png = drawn["histogram"]
    markdown = charts.as_markdown_image(png, "Scores [all days]")
    prefix = "![Scores (all days)](data:image/png;base64,"
    assert markdown.startswith(prefix) and markdown.endswith(")")
    assert base64.b64decode(markdown[len(prefix):-1]) == png


def test_markdown_table_escapes_pipes():
    table = charts.markdown_table(["video", "viewers"], [["a|b", 3], ["c", 10]])
    assert table == "| video | viewers |\n|---|---|\n| a\\|b | 3 |\n| c | 10 |"


def test_nothing_imports_matplotlib_before_a_chart_is_drawn_and_never_pyplot():
    script = (
        "import sys\n"
        "import video_assets.reporting.charts as charts, video_assets.reporting.html_report\n"
        "assert 'matplotlib' not in sys.modules, 'matplotlib imported at module import'\n"
        "charts.retention_chart([('a', [1.0, 0.5])])\n"
        "assert 'matplotlib' in sys.modules and 'matplotlib.pyplot' not in sys.modules\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
