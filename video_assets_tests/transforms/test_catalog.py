"""The catalog file (SEMANTICS.md 1, catalog paragraph): durations, rejected rows, duplicates, counts."""

import pytest
from pyspark.sql import functions as F

from video_assets.sources.catalog import load_catalog_file as load_catalog
from video_assets.transforms.catalog import CATALOG_COLUMNS, CatalogHeaderError


def read_catalog(spark, csv: str):
    return load_catalog(spark, csv).videos


def catalog_counts(spark, csv: str):
    return load_catalog(spark, csv).counts


def write_csv(tmp_path, content: bytes) -> str:
    path = tmp_path / "videos.csv"
    path.write_bytes(content)
    return str(path)


def table(frame):
    """{video_id: (title, duration_seconds, category, published_at as 'YYYY-MM-DD HH:MM:SS')}."""
    rows = frame.select(
        "video_id", "title", "duration_seconds", "category",
        F.date_format("published_at", "yyyy-MM-dd HH:mm:ss").alias("published_at"),
    ).collect()
    assert len(rows) == len({row["video_id"] for row in rows}), "one row per video"
    return {
        row["video_id"]: (row["title"], row["duration_seconds"], row["category"], row["published_at"])
        for row in rows
    }


def test_only_a_finite_positive_decimal_is_a_duration(spark, tmp_path):
    csv = write_csv(tmp_path, (
        b"video_id,title,duration_seconds\n"
        b"ok,Fine,300\n"
        b"sci,Scientific, 2.5e2 \n"
        b"empty,Empty,\n"
        b"nan,NaN,NaN\n"
        b"inf,Inf,Infinity\n"
        b"neginf,NegInf,-Infinity\n"
        b"huge,Huge,1e400\n"
        b"zero,Zero,0\n"
        b"neg,Negative,-5\n"
        b'thousands,Thousands,"1,234"\n'
        b"text,Text,five minutes\n"
        b"hex,Hex,0x1p3\n"
        b"suffix,Suffix,300d\n"
    ))
    durations = {video: values[1] for video, values in table(read_catalog(spark, csv)).items()}
    assert durations == {
        "ok": 300.0, "sci": 250.0, "empty": None, "nan": None, "inf": None, "neginf": None, "huge": None,
        "zero": None, "neg": None, "thousands": None, "text": None, "hex": None, "suffix": None,
    }
    counts = catalog_counts(spark, csv)
    assert (counts.rows_read, counts.videos, counts.rejected, counts.without_duration) == (13, 13, 0, 11)


REJECTIONS_CSV = (
    b"video_id,title,duration_seconds\n"   # line 1
    b"v1,One,100\n"                        # 2  video
    b"# comment line\n"                    # 3  comment_line
    b"#v9,Hash,9\n"                        # 4  comment_line, though it has three values
    b'v2,"Unterminated,200\n'              # 5  bad_quoting
    b'v3,Fo"ur,5\n'                        # 6  bad_quoting: a quote inside an unquoted value
    b"v4,Four,1,234\n"                     # 7  wrong_field_count: the unquoted comma makes four values
    b"v5,Five\n"                           # 8  wrong_field_count
    b",No id,50\n"                         # 9  missing_video_id
    b'"  ",Blank id,60\n'                  # 10 missing_video_id
    b'v6,"Six, the ""best""",600\n'        # 11 video: the unterminated quote above spoiled only its line
    b"   \n"                               # 12 blank: not a row
    b'"v7" , "Seven" ,"7"\n'               # 13 video: spaces around quoted values are allowed
)


def test_rejected_rows_are_not_videos(spark, tmp_path):
    csv = write_csv(tmp_path, REJECTIONS_CSV)
    assert table(read_catalog(spark, csv)) == {
        "v1": ("One", 100.0, None, None),
        "v6": ('Six, the "best"', 600.0, None, None),
        "v7": ("Seven", 7.0, None, None),
    }


def test_rejected_rows_are_counted_by_reason_with_samples(spark, tmp_path):
    counts = catalog_counts(spark, write_csv(tmp_path, REJECTIONS_CSV))
    assert counts.as_dict() == {
        "rows_read": 11,
        "videos": 3,
        "duplicate_rows": 0,
        "rejected": 8,
        "rejected_by_reason": {"comment_line": 2, "bad_quoting": 2, "wrong_field_count": 2, "missing_video_id": 2},
        "without_duration": 0,
        "rejected_samples": [
            "line 3 (comment_line): # comment line",
            "line 4 (comment_line): #v9,Hash,9",
            'line 5 (bad_quoting): v2,"Unterminated,200',
            'line 6 (bad_quoting): v3,Fo"ur,5',
            "line 7 (wrong_field_count): v4,Four,1,234",
        ],
        "ignored_columns": [],
    }
    assert counts.rows_read == counts.videos + counts.duplicate_rows + counts.rejected


def test_a_video_listed_twice_keeps_a_usable_duration_then_the_first_title(spark, tmp_path):
    csv = write_csv(tmp_path, (
        b"video_id,title,duration_seconds\n"
        b"d1,Aardvark,\n"      # first title, but no duration
        b"d1,Gamma,90\n"
        b"d1,Beta,120\n"       # wins: usable duration, then first title
        b"d2,Same,NaN\n"       # wins: same title, no durations, the earlier line
        b"d2,Same,0\n"
        b"d3,Only,30\n"
    ))
    loaded = load_catalog(spark, csv)
    assert table(loaded.videos) == {
        "d1": ("Beta", 120.0, None, None),
        "d2": ("Same", None, None, None),
        "d3": ("Only", 30.0, None, None),
    }
    counts = loaded.counts
    assert (counts.rows_read, counts.videos, counts.duplicate_rows, counts.rejected, counts.without_duration) == (
        6, 3, 3, 0, 1,
    )
    assert counts.rejected_samples == ()
    assert loaded.outcomes.where("outcome = 'video'").select("line_number").orderBy("line_number").collect() == [
        (4,), (5,), (7,),
    ]


def test_five_column_file_with_optional_values(spark, tmp_path):
    csv = write_csv(tmp_path, (
        b"video_id,title,duration_seconds,category,published_at\n"
        b"v1,First video,600,howto,2023-12-01\n"
        b"v2,Second video,300,,\n"
        b"v3,Third,90,music,not a date\n"
        b"v4,Fourth,45,news,2024-04-02T10:30:00Z\n"
        b"v5,Short row,10\n"   # a five-column file needs five values
    ))
    loaded = load_catalog(spark, csv)
    assert loaded.videos.columns == list(CATALOG_COLUMNS)
    assert table(loaded.videos) == {
        "v1": ("First video", 600.0, "howto", "2023-12-01 00:00:00"),
        "v2": ("Second video", 300.0, None, None),
        "v3": ("Third", 90.0, "music", None),
        "v4": ("Fourth", 45.0, "news", "2024-04-02 10:30:00"),
    }
    assert loaded.counts.rejected_by_reason["wrong_field_count"] == 1
    assert (loaded.counts.rows_read, loaded.counts.videos, loaded.counts.rejected) == (5, 4, 1)


def test_clean_three_column_file_with_bom_crlf_and_header_in_any_order(spark, tmp_path):
    csv = write_csv(
        tmp_path,
        "\ufeffTitle,Video_ID,notes,duration_seconds\r\nIntro,v1,draft,600\r\n\r\nOutro,v2,,30.5\r\n".encode(),
    )
    loaded = load_catalog(spark, csv)
    assert dict(zip(loaded.videos.columns, (f.dataType.simpleString() for f in loaded.videos.schema.fields))) == {
        "video_id": "string", "title": "string", "duration_seconds": "double",
        "category": "string", "published_at": "timestamp",
    }
    assert table(loaded.videos) == {"v1": ("Intro", 600.0, None, None), "v2": ("Outro", 30.5, None, None)}
    assert loaded.counts.as_dict() == {
        "rows_read": 2, "videos": 2, "duplicate_rows": 0, "rejected": 0,
        "rejected_by_reason": {"comment_line": 0, "bad_quoting": 0, "wrong_field_count": 0, "missing_video_id": 0},
        "without_duration": 0, "rejected_samples": [], "ignored_columns": ["notes"],
    }


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"video_id,title,length\nv1,One,300\n", "lacks duration_seconds"),
        (b"id,title,duration_seconds\nv1,One,300\n", "lacks video_id"),
        (b"v1,One,300\n", "lacks video_id, title, duration_seconds"),
        (b"video_id,title,duration_seconds,Video_ID\n", "repeats video_id"),
        (b'video_id,"title,duration_seconds\n', "is not a CSV record"),
        (b"\n  \n", "has no header line"),
    ],
)
def test_an_unusable_header_is_an_error_naming_the_file_and_the_expected_header(spark, tmp_path, content, problem):
    csv = write_csv(tmp_path, content)
    with pytest.raises(CatalogHeaderError) as error:
        read_catalog(spark, csv)
    message = str(error.value)
    assert csv in message
    assert problem in message
    assert "expected the header video_id,title,duration_seconds[,category,published_at]" in message
