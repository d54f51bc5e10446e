"""video_assets/config.py: every environment variable read in one place, and resources/*.yaml found when installed."""

import ast
import os
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

from video_assets import config
from video_assets.config import ConfigurationError, Settings, from_environment

PACKAGE_DIR = config.PROJECT_ROOT / "video_assets"

DEFAULTS = Settings(
    environment="local",
    landing_dir=None,
    warehouse_dir=None,
    events_table=None,
    events_time_column=None,
    videos_table=None,
    allow_empty_overwrite=None,
    partition_start="2024-01-01",
    late_data_interval_seconds=300,
    freshness_deadline_cron="0 6 * * *",
    daily_schedule_time=(1, 0),
    max_quarantine_share=0.05,
    spark_remote=None,
    databricks_host="",
    databricks_token="",
    on_databricks=False,
    cache_dir=None,
)


# --- the variables ------------------------------------------------------------------------------------


def test_nothing_set_gives_the_documented_defaults():
    assert from_environment({}) == DEFAULTS
    # Set but blank counts as not set.
    assert from_environment({name: "  " for name in config.variables()}) == DEFAULTS


def test_every_variable_is_parsed_to_its_type():
    settings = from_environment(
        {
            "VIDEO_ASSETS_ENV": " Databricks ",
            "VIDEO_ASSETS_LANDING_DIR": "s3://bucket/landing",
            "VIDEO_ASSETS_WAREHOUSE_DIR": "main.video_assets",
            "VIDEO_ASSETS_EVENTS_TABLE": " main.bronze.video_events ",
            "VIDEO_ASSETS_EVENTS_TIME_COLUMN": "event_time",
            "VIDEO_ASSETS_VIDEOS_TABLE": "/Volumes/main/bronze/videos",
            "VIDEO_ASSETS_ALLOW_EMPTY_OVERWRITE": "Yes",
            "VIDEO_ASSETS_PARTITION_START": "2024-01-14",
            "VIDEO_ASSETS_LATE_DATA_INTERVAL_SECONDS": "45",
            "VIDEO_ASSETS_FRESHNESS_DEADLINE_CRON": "30 7 * * *",
            "VIDEO_ASSETS_DAILY_SCHEDULE_TIME": "23:05",
            "VIDEO_ASSETS_MAX_QUARANTINE_SHARE": "2%",
            "VIDEO_ASSETS_SPARK_REMOTE": "sc://connect.example:15002",
            "DATABRICKS_HOST": "adb-1.2.azuredatabricks.net",
            "DATABRICKS_TOKEN": " dapi-abc ",
            "VIDEO_ASSETS_ON_DATABRICKS": "1",
            "VIDEO_ASSETS_CACHE_DIR": " /var/cache/va ",
        }
    )
    assert settings == Settings(
        environment="databricks",
        landing_dir="s3://bucket/landing",
        warehouse_dir="main.video_assets",
        events_table="main.bronze.video_events",
        events_time_column="event_time",
        videos_table="/Volumes/main/bronze/videos",
        allow_empty_overwrite=True,
        partition_start="2024-01-14",
        late_data_interval_seconds=45,
        freshness_deadline_cron="30 7 * * *",
        daily_schedule_time=(23, 5),
        max_quarantine_share=0.02,
        spark_remote="sc://connect.example:15002",
        databricks_host="https://adb-1.2.azuredatabricks.net",
        databricks_token="dapi-abc",
        on_databricks=True,
        cache_dir="/var/cache/va",
    )
    assert from_environment({"VIDEO_ASSETS_ALLOW_EMPTY_OVERWRITE": "0"}).allow_empty_overwrite is False
    assert from_environment({"VIDEO_ASSETS_MAX_QUARANTINE_SHARE": "0.1"}).max_quarantine_share == 0.1
    assert from_environment({"DATABRICKS_HOST": "http://127.0.0.1:8080"}).databricks_host == "http://127.0.0.1:8080"


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("VIDEO_ASSETS_ENV", "prod", "VIDEO_ASSETS_ENV='prod' is not one of local, databricks"),
        ("VIDEO_ASSETS_ALLOW_EMPTY_OVERWRITE", "maybe", "use 1/true/yes or 0/false/no"),
        ("VIDEO_ASSETS_PARTITION_START", "14.01.2024", "expected a day as YYYY-MM-DD, e.g. 2024-01-01"),
        ("VIDEO_ASSETS_LATE_DATA_INTERVAL_SECONDS", "soon", "'soon' is not a whole number of seconds"),
        ("VIDEO_ASSETS_LATE_DATA_INTERVAL_SECONDS", "0", "must be at least 1 second, got 0"),
        ("VIDEO_ASSETS_FRESHNESS_DEADLINE_CRON", "6 am", "expected five fields"),
        ("VIDEO_ASSETS_DAILY_SCHEDULE_TIME", "1am", "expected HH:MM \\(UTC\\), e.g. 01:00"),
        ("VIDEO_ASSETS_DAILY_SCHEDULE_TIME", "24:00", "expected HH:MM \\(UTC\\), e.g. 01:00"),
        ("VIDEO_ASSETS_MAX_QUARANTINE_SHARE", "7", "a share between 0 and 1 \\(0.05\\) or a percent \\(5%\\)"),
        ("VIDEO_ASSETS_MAX_QUARANTINE_SHARE", "lots", "a share between 0 and 1"),
        ("VIDEO_ASSETS_MAX_QUARANTINE_SHARE", "nan", "a share between 0 and 1"),
        ("VIDEO_ASSETS_EVENTS_TIME_COLUMN", "event time", "expected a column name"),
    ],
)
def test_an_invalid_value_names_the_variable_and_a_valid_value(name, value, message):
    with pytest.raises(ConfigurationError, match=message) as error:
        from_environment({name: value})
    assert name in str(error.value)


def test_the_environment_is_read_anew_on_every_call(monkeypatch):
    monkeypatch.setenv("VIDEO_ASSETS_PARTITION_START", "2024-03-01")
    assert from_environment().partition_start == "2024-03-01"
    monkeypatch.setenv("VIDEO_ASSETS_PARTITION_START", "2024-04-01")
    assert from_environment().partition_start == "2024-04-01"
    monkeypatch.delenv("VIDEO_ASSETS_PARTITION_START")
    assert from_environment().partition_start == "2024-01-01"


def test_the_token_never_appears_in_the_settings_text():
    settings = from_environment({"DATABRICKS_TOKEN": "dapi-secret-123"})
    assert settings.databricks_token == "dapi-secret-123"
    assert "dapi-secret-123" not in repr(settings) and "dapi-secret-123" not in str(settings)


def test_only_the_projects_own_variables_are_forwarded_and_never_the_launching_side_ones():
    environ = {
        "VIDEO_ASSETS_PARTITION_START": "2024-01-14",
        "VIDEO_ASSETS_SOMETHING_NEW": "x",  # not a variable of config.py: it may hold anything
        "VIDEO_ASSETS_API_KEY": "secret",
        "VIDEO_ASSETS_ON_DATABRICKS": "1",
        "VIDEO_ASSETS_SPARK_REMOTE": "sc://localhost:15002",  # where runs are launched, not where steps run
        "DATABRICKS_TOKEN": "dapi-secret",
        "HOME": "/root",
    }
    assert config.forwarded_variables(environ) == {"VIDEO_ASSETS_PARTITION_START": "2024-01-14"}


def test_a_spark_connect_address_comes_from_the_variable_or_the_yaml(monkeypatch):
    monkeypatch.delenv("VIDEO_ASSETS_SPARK_REMOTE", raising=False)
    assert config.spark_remote({"spark": {"master": "local[*]"}}) is None
    assert config.spark_remote({"spark": {"remote": "sc://yaml-host:15002"}}) == "sc://yaml-host:15002"
    monkeypatch.setenv("VIDEO_ASSETS_SPARK_REMOTE", "sc://env-host:15002")
    assert config.spark_remote({"spark": {"remote": "sc://yaml-host:15002"}}) == "sc://env-host:15002"
    monkeypatch.setenv("VIDEO_ASSETS_SPARK_REMOTE", "localhost:15002")
    with pytest.raises(ConfigurationError, match="VIDEO_ASSETS_SPARK_REMOTE='localhost:15002'.*sc://localhost:15002"):
        config.spark_remote({})
    monkeypatch.delenv("VIDEO_ASSETS_SPARK_REMOTE")
    with pytest.raises(ConfigurationError, match="spark.remote in the resources YAML='http://x'"):
        config.spark_remote({"spark": {"remote": "http://x"}})


def test_the_source_tables_come_from_the_yaml_or_the_variables(monkeypatch):
    assert config.table_sources({}) == config.TableSources(None, "timestamp", None)
    yaml_config = {"landing": {"events_table": "main.bronze.events", "events_time_column": "ts", "videos_table": "v"}}
    assert config.table_sources(yaml_config) == config.TableSources("main.bronze.events", "ts", "v")
    monkeypatch.setenv("VIDEO_ASSETS_EVENTS_TABLE", "/data/bronze/events")
    monkeypatch.setenv("VIDEO_ASSETS_EVENTS_TIME_COLUMN", "event_time")
    assert config.table_sources(yaml_config) == config.TableSources("/data/bronze/events", "event_time", "v")
    monkeypatch.delenv("VIDEO_ASSETS_EVENTS_TIME_COLUMN")
    with pytest.raises(ConfigurationError, match="landing.events_time_column in the resources YAML='a b'"):
        config.table_sources({"landing": {"events_time_column": "a b"}})


def test_a_variable_wins_over_the_yaml(monkeypatch):
    yaml_config = {
        "landing": {"location": "dbfs:/yaml/landing"},
        "warehouse": {"location": "dbfs:/yaml/warehouse", "allow_empty_overwrite": True},
    }
    assert config.landing_location(yaml_config) == "dbfs:/yaml/landing"
    assert config.landing_location_source("databricks") == "resources/databricks.yaml (landing.location)"
    assert config.warehouse_location(yaml_config) == "dbfs:/yaml/warehouse"
    assert config.allow_empty_overwrite(yaml_config) is True
    monkeypatch.setenv("VIDEO_ASSETS_LANDING_DIR", "/mnt/landing")
    monkeypatch.setenv("VIDEO_ASSETS_WAREHOUSE_DIR", "main.video_assets")
    monkeypatch.setenv("VIDEO_ASSETS_ALLOW_EMPTY_OVERWRITE", "no")
    assert config.landing_location(yaml_config) == "/mnt/landing"
    assert config.landing_location_source("databricks") == "the environment variable VIDEO_ASSETS_LANDING_DIR"
    assert config.warehouse_location(yaml_config) == "main.video_assets"
    assert config.allow_empty_overwrite(yaml_config) is False
    # Neither set: the built-in defaults, relative to the project root.
    monkeypatch.delenv("VIDEO_ASSETS_LANDING_DIR")
    monkeypatch.delenv("VIDEO_ASSETS_WAREHOUSE_DIR")
    monkeypatch.delenv("VIDEO_ASSETS_ALLOW_EMPTY_OVERWRITE")
    assert config.landing_location({}) == str(config.PROJECT_ROOT / "data" / "landing")
    assert config.warehouse_location({}) == str(config.PROJECT_ROOT / "data" / "warehouse")
    assert config.allow_empty_overwrite({}) is False


# --- only config.py reads the environment; no import cycle ------------------------------------------------

# The reads that stay outside config.py (see its docstring).
ALLOWED_OUTSIDE = {
    ("cli.py", "DAGSTER_HOME"),
    ("io/spark.py", "JAVA_HOME"),
    ("io/jvm_archive.py", "JAVA_HOME"),
    ("io/spark.py", "SPARK_REMOTE"),
    ("io/spark.py", "DATABRICKS_RUNTIME_VERSION"),
}


def _environment_reads(path: Path) -> list[str]:
    """Source lines of `path` that touch os.environ / os.getenv (or import them from os)."""
    tree = ast.parse(path.read_text())
    lines = path.read_text().splitlines()
    found = []
    for node in ast.walk(tree):
        touches = (
            isinstance(node, ast.Attribute)
            and node.attr in ("environ", "getenv", "environb", "getenvb")
            and isinstance(node.value, ast.Name)
            and node.value.id == "os"
        ) or (
            isinstance(node, ast.ImportFrom)
            and node.module == "os"
            and {alias.name for alias in node.names} & {"environ", "getenv"}
        )
        if touches:
            found.append(lines[node.lineno - 1].strip())
    return found


def test_only_config_reads_environment_variables():
    outside = []
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        relative = path.relative_to(PACKAGE_DIR).as_posix()
        if relative == "config.py":
            continue
        for line in _environment_reads(path):
            if not any(relative == file and f'"{name}"' in line for file, name in ALLOWED_OUTSIDE):
                outside.append(f"{relative}: {line}")
    assert outside == []
    assert _environment_reads(PACKAGE_DIR / "config.py")  # the scan does see a read


def _imported_modules(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names |= {f"{node.module}.{alias.name}" for alias in node.names}
    return names


def test_config_imports_the_launcher_only_when_it_builds_the_resources():
    # The launcher reads its settings from config; config builds the launcher inside build_resources only, so
    # importing either never imports the other first (no cycle at import time).
    launcher = PACKAGE_DIR / "databricks" / "launcher.py"
    assert "video_assets.config" in _imported_modules(launcher)
    module_level = {
        node.module for node in ast.parse((PACKAGE_DIR / "config.py").read_text()).body
        if isinstance(node, ast.ImportFrom) and node.module
    }
    assert not {m for m in module_level if m.startswith("video_assets.") and m != "video_assets.sql_names"}
    assert "video_assets.databricks.launcher" in _imported_modules(PACKAGE_DIR / "config.py")


def test_config_is_cheap_and_the_launcher_imports():
    """In a fresh interpreter: config pulls in neither Dagster nor Spark (only sql_names, which needs neither);
    the launcher loads too."""
    script = (
        "import sys\n"
        "import video_assets.config\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('dagster', 'pyspark', 'video_assets')"
        " and m not in ('video_assets', 'video_assets.config', 'video_assets.sql_names'))\n"
        "assert heavy == [], heavy\n"
        "import video_assets.databricks.launcher\n"
        "print('ok')\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr[-2000:]


# --- resources/*.yaml ---------------------------------------------------------------------------------


def test_the_yaml_comes_from_the_installed_package_before_the_source_tree(monkeypatch, tmp_path):
    installed = tmp_path / "site" / "fake_installed_resources"
    installed.mkdir(parents=True)
    (installed / "local.yaml").write_text("landing:\n  location: /from/the/package\n")
    (installed / "databricks.yaml").write_text("landing:\n  location: dbfs:/from/the/package\n")
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    monkeypatch.setattr(config, "RESOURCES_PACKAGE", "fake_installed_resources")
    monkeypatch.setattr(config, "RESOURCES_DIR", tmp_path / "no_source_tree")
    assert config.load_environment_config("local") == {"landing": {"location": "/from/the/package"}}
    assert config.load_environment_config("databricks") == {"landing": {"location": "dbfs:/from/the/package"}}


def test_without_the_package_data_the_source_tree_is_used(monkeypatch, tmp_path):
    monkeypatch.setattr(config, "RESOURCES_PACKAGE", "video_assets_no_such_resources")
    assert config.environment_yaml("databricks") == config.PROJECT_ROOT / "resources" / "databricks.yaml"
    assert config.load_environment_config("local")["spark"]["master"] == "local[*]"
    # Found nowhere: empty, so the built-in defaults apply.
    monkeypatch.setattr(config, "RESOURCES_DIR", tmp_path / "absent")
    assert config.load_environment_config("local") == {}


def test_invalid_yaml_names_the_file(monkeypatch, tmp_path):
    (tmp_path / "local.yaml").write_text("landing: [unclosed\n")
    monkeypatch.setattr(config, "RESOURCES_PACKAGE", "video_assets_no_such_resources")
    monkeypatch.setattr(config, "RESOURCES_DIR", tmp_path)
    with pytest.raises(ConfigurationError, match=re.escape(str(tmp_path / "local.yaml")) + " is not valid YAML"):
        config.load_environment_config("local")


def test_pyproject_lists_every_package_and_ships_the_yaml_as_package_data():
    setuptools = tomllib.loads((config.PROJECT_ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    folders = {
        ".".join(path.parent.relative_to(config.PROJECT_ROOT).parts)
        for path in PACKAGE_DIR.rglob("__init__.py")
        if "__pycache__" not in path.parts
    }
    assert set(setuptools["packages"]) == folders | {config.RESOURCES_PACKAGE}
    assert setuptools["package-dir"] == {config.RESOURCES_PACKAGE: "resources"}
    assert setuptools["package-data"] == {config.RESOURCES_PACKAGE: ["*.yaml"]}


@pytest.mark.slow  # pip builds a wheel in a subprocess
def test_a_built_wheel_carries_the_yaml_and_finds_it_without_the_source_tree(tmp_path):
    """A non-editable install: build the wheel from a copy of the sources, unpack it, load both YAMLs from it."""
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(config.PROJECT_ROOT / name, source / name)
    shutil.copytree(config.PROJECT_ROOT / "resources", source / "resources")
    shutil.copytree(PACKAGE_DIR, source / "video_assets", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(tmp_path / "dist"), str(source)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert built.returncode == 0, built.stderr[-3000:]
    (wheel,) = (tmp_path / "dist").glob("video_assets-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        yamls = sorted(name for name in archive.namelist() if name.endswith(".yaml"))
        assert yamls == [
            "video_assets/_resources/databricks-connect.yaml",
            "video_assets/_resources/databricks.yaml",
            "video_assets/_resources/local.yaml",
        ]
        archive.extractall(tmp_path / "site")
    assert not (tmp_path / "resources").exists()  # beside the unpacked package there is no source tree

    script = (
        "import video_assets.config as c\n"
        "assert c.PROJECT_ROOT == __import__('pathlib').Path(r'%s'), c.PROJECT_ROOT\n"
        "assert not c.RESOURCES_DIR.exists()\n"
        "print(c.environment_yaml('local'))\n"
        "print(c.load_environment_config('local')['spark']['master'])\n"
        "print(c.load_environment_config('databricks')['landing']['location'])\n"
    ) % (tmp_path / "site")
    environ = {**os.environ, "PYTHONPATH": str(tmp_path / "site")}
    loaded = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, env=environ, cwd=tmp_path
    )
    assert loaded.returncode == 0, loaded.stderr[-3000:]
    assert loaded.stdout.splitlines() == [
        str(tmp_path / "site" / "video_assets" / "_resources" / "local.yaml"),
        "local[*]",
        "/Volumes/main/video_assets/landing/landing",
    ]


def test_on_a_cluster_the_yaml_is_found_in_the_unpacked_code_zip(tmp_path):
    """What a Databricks cluster does with code.zip: unpack it, put the folder on sys.path, import from it."""
    from video_assets.databricks import launcher as databricks

    names = databricks.build_code_zip(tmp_path / "code.zip")
    assert {"resources/local.yaml", "resources/databricks.yaml"} <= set(names)
    with zipfile.ZipFile(tmp_path / "code.zip") as archive:
        archive.extractall(tmp_path / "unpacked")
    script = (
        "import video_assets.config as c\n"
        "print(c.environment_yaml('databricks'))\n"
        "print(c.load_environment_config('databricks')['warehouse']['location'])\n"
    )
    environ = {**os.environ, "PYTHONPATH": str(tmp_path / "unpacked")}
    loaded = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, env=environ, cwd=tmp_path
    )
    assert loaded.returncode == 0, loaded.stderr[-3000:]
    assert loaded.stdout.splitlines() == [
        str(tmp_path / "unpacked" / "resources" / "databricks.yaml"),
        "main.video_assets",
    ]


# --- the README table is the one list -------------------------------------------------------------------


def test_the_readme_table_lists_exactly_the_variables_config_reads():
    readme = (config.PROJECT_ROOT / "README.md").read_text()
    section = readme.split("\n## Configuration\n", 1)[1].split("\n## ", 1)[0]
    documented = re.findall(r"^\| `([A-Z][A-Z0-9_]+)` \|", section, flags=re.MULTILINE)
    assert len(documented) == len(set(documented)), documented
    assert set(documented) == set(config.variables())


def test_every_variable_has_a_default_and_a_description():
    for name, meta in config.variables().items():
        assert meta["default"] and meta["description"], name
