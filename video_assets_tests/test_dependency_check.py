"""databricks/dependency_check.py: reading a resolver's answer, and which requirement brings a Spark of its own (fast)."""

from video_assets.databricks.dependency_check import Resolution, parse_uv_compile, requirement_name

# `uv pip compile` output for ["pyyaml>=6", "pandera[pyspark]>=0.35,<0.36"], shortened.
UV_OUTPUT = """\
numpy==2.5.5
    # via
    #   pandas
    #   pyspark
pandas==3.1.1
    # via pyspark
pandera==0.35.0
    # via -r -
py4j==0.10.9.9
    # via pyspark
pyspark==4.3.0
    # via pandera
PyYAML==6.0.4
typing_extensions==4.16.0
    # via pandera
"""


def test_the_annotated_output_gives_versions_and_who_requires_what():
    packages, required_by = parse_uv_compile(UV_OUTPUT)
    assert packages == {
        "numpy": "2.5.5", "pandas": "3.1.1", "pandera": "0.35.0", "py4j": "0.10.9.9", "pyspark": "4.3.0",
        "pyyaml": "6.0.4", "typing-extensions": "4.16.0",
    }
    assert required_by["numpy"] == ("pandas", "pyspark")
    assert required_by["pyspark"] == ("pandera",)
    assert required_by["pandera"] == () and required_by["pyyaml"] == ()


def test_the_requirement_that_brings_pyspark_is_named_as_it_was_given():
    requirements = ("pyyaml>=6", "pandera[pyspark]>=0.35,<0.36")
    resolution = Resolution(requirements, *parse_uv_compile(UV_OUTPUT))
    assert resolution.spark_packages() == {"pyspark": "4.3.0"}
    assert resolution.brought_by("pyspark") == ["pandera[pyspark]>=0.35,<0.36"]
    assert resolution.brought_by("numpy") == ["pandera[pyspark]>=0.35,<0.36"]  # through pandas and pyspark
    assert resolution.brought_by("pyyaml") == ["pyyaml>=6"]
    clean = Resolution(("pyyaml>=6",), {"pyyaml": "6.0.4"}, {"pyyaml": ()})
    assert clean.spark_packages() == {}


def test_requirement_names_are_compared_normalized():
    assert requirement_name("Pandera[pyspark]>=0.35") == "pandera"
    assert requirement_name("dagster_databricks==0.29.27") == "dagster-databricks"
    assert requirement_name("delta.spark ; python_version>'3'") == "delta-spark"
