"""resources/databricks.yaml and the launcher's packaging, without a workspace (fast)."""

import os
import re
import subprocess
import sys
import tomllib
import zipfile

import dagster as dg
import pytest
from dagster._core.code_pointer import FileCodePointer, ModuleCodePointer
from dagster._core.definitions.reconstruct import ReconstructableJob, ReconstructableRepository

from video_assets import config
from video_assets.databricks import launcher as databricks

pytestmark = pytest.mark.databricks



def _committed() -> dict:
    return config.load_environment_config("databricks")


def test_the_committed_yaml_builds_a_step_launcher_without_credentials():
    resources = config.build_resources("databricks")
    assert isinstance(resources["step_launcher"], dg.ResourceDefinition)
    settings = databricks.validate_databricks_config(_committed()["databricks"])
    assert settings["run_config"]["cluster"]["new"]["spark_version"]
    assert settings["staging_prefix"].startswith("/")


def test_the_yaml_holds_no_credentials():
    text = (config.RESOURCES_DIR / "databricks.yaml").read_text()
    assert not re.search(r"dapi[0-9a-f]{8,}", text)
    assert not set(_committed()["databricks"]) & set(databricks._RESERVED_KEYS)


@pytest.mark.parametrize("key", sorted(databricks._RESERVED_KEYS))
def test_credentials_and_package_path_cannot_come_from_the_yaml(key):
    section = {**_committed()["databricks"], key: "x"}
    with pytest.raises(databricks.DatabricksConfigurationError, match=f"remove databricks.{key}"):
        databricks.validate_databricks_config(section)


def test_yaml_mistakes_are_reported_at_load_time():
    section = {**_committed()["databricks"], "poll_interval_seconds": 5}
    with pytest.raises(databricks.DatabricksConfigurationError, match="poll_interval_seconds"):
        databricks.validate_databricks_config(section)
    with pytest.raises(databricks.DatabricksConfigurationError, match="run_config.cluster is required"):
        databricks.validate_databricks_config({"run_config": {}})


def _name(requirement: str) -> str:
    return re.split(r"[\[<>=!~ ]", requirement, maxsplit=1)[0].lower()


def test_the_step_gets_the_core_dependencies_with_dagster_pinned():
    """The YAML's libraries are pyproject.toml's core dependencies, dagster aside (the launcher pins it to the
    version installed here): what the remote step imports that Databricks does not provide. No extras."""
    core = tomllib.loads((config.PROJECT_ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    dependencies = databricks.pinned_dependencies(_committed()["databricks"]["run_config"])
    assert sorted(dependencies) == sorted(
        [*(requirement for requirement in core if _name(requirement) != "dagster"), f"dagster=={dg.__version__}"]
    )
    assert not [requirement for requirement in dependencies if "[" in requirement]


@pytest.mark.parametrize(
    "package",
    ["pyspark==4.0.0", "pandera[pyspark]>=0.35,<0.36", "dagster-pyspark", "Delta_Spark>=4", "databricks-connect==17.3.*",
     "pyspark-client", "dagster-databricks==0.29.27"],
)
def test_a_library_that_would_replace_databricks_spark_is_refused_at_load(package):
    section = _committed()["databricks"]
    run_config = {**section["run_config"], "libraries": [{"pypi": {"package": package}}]}
    with pytest.raises(
        databricks.DatabricksConfigurationError, match=re.escape(f"databricks.run_config.libraries lists {package!r}")
    ):
        databricks.validate_databricks_config({**section, "run_config": run_config})


def test_other_libraries_and_extras_pass():
    run_config = {"libraries": [{"pypi": {"package": p}} for p in ("pandera[io]>=0.35", "pysparkling==1", "dagster==1.13.27")]}
    assert databricks.pinned_dependencies(run_config) == ["pandera[io]>=0.35", "pysparkling==1", "dagster==1.13.27"]


def test_on_databricks_the_definitions_import_no_launcher():
    """The remote step rebuilds the definitions where dagster-databricks is not installed (its requirements include
    pyspark): there the step launcher is the none resource, and databricks/launcher.py is never imported."""
    script = (
        "import sys\n"
        "import video_assets.definitions as definitions\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in ('dagster_databricks', 'dagster_pyspark')"
        " or m == 'video_assets.databricks.launcher')\n"
        "assert loaded == [], loaded\n"
        "print(definitions.defs.resources['step_launcher'].description)\n"
    )
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("VIDEO_ASSETS_", "DATABRICKS_"))},
        "VIDEO_ASSETS_ENV": "databricks", databricks.ON_CLUSTER_VARIABLE: "1",
    }
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip().endswith("Steps run in this process.")


def test_code_zip_holds_the_package_and_the_yamls_only(tmp_path):
    names = databricks.build_code_zip(tmp_path / "code.zip")
    with zipfile.ZipFile(tmp_path / "code.zip") as archive:
        assert sorted(archive.namelist()) == sorted(names)
    assert {"video_assets/__init__.py", "video_assets/definitions.py", "resources/databricks.yaml"} <= set(names)
    assert all(n.startswith(("video_assets/", "resources/")) for n in names)
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc") or "/." in n]


def test_code_zip_leaves_out_the_sample_data_generator(tmp_path):
    names = databricks.build_code_zip(tmp_path / "code.zip")
    assert (config.PROJECT_ROOT / "video_assets" / "sample_data" / "__init__.py").is_file()
    assert not [n for n in names if n.startswith("video_assets/sample_data/")]
    assert "video_assets/definitions.py" in names
    assert "video_assets/transforms/events.py" in names


def _job(pointer) -> ReconstructableJob:
    return ReconstructableJob(ReconstructableRepository(pointer), "__ASSET_JOB")


def test_the_remote_step_does_not_import_from_the_launching_checkout():
    pointer = ModuleCodePointer("video_assets.definitions", "defs", str(config.PROJECT_ROOT))
    recon_job = databricks.detach_from_local_checkout(_job(pointer))
    assert recon_job.repository.pointer == ModuleCodePointer("video_assets.definitions", "defs", None)


def test_jobs_outside_the_package_are_refused_before_upload():
    with pytest.raises(databricks.DatabricksConfigurationError, match="not a module of the video_assets package"):
        databricks.detach_from_local_checkout(
            _job(ModuleCodePointer("video_assets_tests.jobs", "defs", "/somewhere"))
        )
    with pytest.raises(databricks.DatabricksConfigurationError):
        databricks.detach_from_local_checkout(_job(FileCodePointer("/tmp/job.py", "defs", "/tmp")))


def test_the_cluster_gets_the_launching_side_settings(monkeypatch):
    monkeypatch.setenv("VIDEO_ASSETS_WAREHOUSE_DIR", "main.video_assets")
    monkeypatch.setenv("VIDEO_ASSETS_PARTITION_START", "2024-01-14")
    monkeypatch.delenv("VIDEO_ASSETS_LANDING_DIR", raising=False)
    forwarded = databricks.remote_environment()
    assert forwarded["VIDEO_ASSETS_ENV"] == "databricks"
    assert forwarded["VIDEO_ASSETS_WAREHOUSE_DIR"] == "main.video_assets"  # Unity Catalog schema, as is
    assert forwarded["VIDEO_ASSETS_LANDING_DIR"] == _committed()["landing"]["location"]
    assert forwarded["VIDEO_ASSETS_PARTITION_START"] == "2024-01-14"
    assert forwarded[databricks.ON_CLUSTER_VARIABLE] == "1"


def test_on_the_cluster_the_step_launcher_is_inert(monkeypatch):
    monkeypatch.setenv(databricks.ON_CLUSTER_VARIABLE, "1")
    resource = databricks.build_step_launcher(_committed()["databricks"])
    assert resource.resource_fn(dg.build_init_resource_context()) is None


def test_credentials_come_from_the_environment_only(monkeypatch):
    resource = databricks.build_step_launcher(_committed()["databricks"])
    with pytest.raises(databricks.DatabricksConfigurationError, match="DATABRICKS_HOST and DATABRICKS_TOKEN"):
        resource.resource_fn(dg.build_init_resource_context())
    monkeypatch.setenv("DATABRICKS_HOST", "adb-1.2.azuredatabricks.net")
    monkeypatch.setenv("DATABRICKS_TOKEN", "dapi-test")
    launcher = resource.resource_fn(dg.build_init_resource_context())
    assert isinstance(launcher, databricks.VideoAssetsStepLauncher)
    assert launcher.databricks_host == "https://adb-1.2.azuredatabricks.net"
    assert launcher.local_dagster_job_package_path == str(config.PROJECT_ROOT)
    assert launcher.env_variables["VIDEO_ASSETS_ENV"] == "databricks"


@pytest.mark.parametrize("name", ["MY_API_KEY", "SERVICE_TOKEN", "DB_PASSWORD", "AWS_SECRET_ACCESS_KEY", "KEY"])
def test_env_variables_named_like_secrets_are_refused_at_load(name):
    section = {**_committed()["databricks"], "env_variables": {"REGION": "eu", name: "value"}}
    with pytest.raises(databricks.DatabricksConfigurationError, match=f"{name}.*secrets_to_env_variables"):
        databricks.validate_databricks_config(section)


def test_plain_env_variables_and_the_keep_staging_switch_pass():
    section = {**_committed()["databricks"], "env_variables": {"REGION": "eu", "KEYBOARD_LAYOUT": "us"}}
    assert databricks.validate_databricks_config(section)["keep_staging_files"] is False
    kept = databricks.validate_databricks_config({**section, "keep_staging_files": True})
    assert kept["keep_staging_files"] is True and kept["env_variables"] == {"REGION": "eu", "KEYBOARD_LAYOUT": "us"}
    with pytest.raises(databricks.DatabricksConfigurationError, match="keep_staging_files must be true or false"):
        databricks.validate_databricks_config({**section, "keep_staging_files": "yes"})


def test_the_default_serverless_environment_is_the_newest_whose_client_the_tests_run():
    from video_assets_tests.runtimes import SPARK_LINES

    tested = [int(line.serverless_environment_version) for line in SPARK_LINES.values() if line.databricks_connect]
    assert databricks.DEFAULT_SERVERLESS_ENVIRONMENT_VERSION == str(max(tested)) == "5"
    serverless = {"run_config": {"cluster": {"serverless": None}}, "staging_prefix": "/Volumes/c/s/v/f"}
    assert databricks.validate_databricks_config(serverless)["serverless"] == {"environment_version": "5"}


def test_the_committed_yaml_stages_on_a_volume_with_the_dbfs_lines_commented():
    text = (config.RESOURCES_DIR / "databricks.yaml").read_text()
    committed = _committed()
    assert committed["databricks"]["staging_prefix"].startswith("/Volumes/")
    assert committed["landing"]["location"].startswith("/Volumes/")
    assert committed["warehouse"]["location"] == "main.video_assets"
    legacy = [line.strip() for line in text.splitlines() if "dbfs:/" in line or "/dagster_staging/" in line]
    assert legacy and all(line.startswith("#") for line in legacy), legacy


def test_the_entry_script_goes_to_a_workspace_folder_named_after_its_content(tmp_path):
    settings = databricks.validate_databricks_config(_committed()["databricks"])
    assert settings["workspace_folder"] == databricks.DEFAULT_WORKSPACE_FOLDER == "/Workspace/Shared/video_assets"
    script = tmp_path / "step_main.py"
    script.write_text("print('one')\n")
    first = databricks.entry_point_path("/Workspace/Shared/video_assets/", script)
    assert re.fullmatch(r"/Workspace/Shared/video_assets/step_main-[0-9a-f]{12}\.py", first)
    assert databricks.entry_point_path("/Workspace/Shared/video_assets", script) == first
    script.write_text("print('two')\n")
    assert databricks.entry_point_path("/Workspace/Shared/video_assets", script) != first
    for wrong in ("/Shared/video_assets", "/Volumes/main/x/y/z", 3):
        with pytest.raises(databricks.DatabricksConfigurationError, match="databricks.workspace_folder="):
            databricks.validate_databricks_config({**_committed()["databricks"], "workspace_folder": wrong})
