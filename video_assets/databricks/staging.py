"""Where the step launcher stages a step's files: a Unity Catalog volume, or the legacy DBFS root.

``staging_prefix`` of resources/databricks.yaml decides:

* ``/Volumes/<catalog>/<schema>/<volume>/<folder>``: the Files API
  (``WorkspaceClient().files``) from the launching side, and the same
  ``/Volumes/…`` path on the task (volumes are mounted on every kind of
  compute, serverless included). What accounts opened today have.
* ``dbfs:/<folder>`` or ``/<folder>``: the DBFS API, and ``/dbfs/<folder>`` on
  the task. Only where the workspace still has a DBFS root.
"""

from dataclasses import dataclass
from io import BytesIO

VOLUMES = "/Volumes/"
_DBFS_DISABLED = "DBFS root is disabled"


class StagingLocationError(RuntimeError):
    """The staging location cannot be used on this workspace; the message says which setting to change."""


def normalized_prefix(staging_prefix: str) -> str:
    """The prefix as an absolute path: ``dbfs:/x`` and ``dbfs:///x`` are ``/x``; volumes stay as they are."""
    if staging_prefix.startswith("dbfs:"):
        return "/" + staging_prefix.removeprefix("dbfs:").lstrip("/")
    return staging_prefix


def is_volume(staging_prefix: str) -> bool:
    return normalized_prefix(staging_prefix).startswith(VOLUMES)


def _is_missing(error: Exception) -> bool:
    code = getattr(error, "error_code", None)
    return code in ("RESOURCE_DOES_NOT_EXIST", "NOT_FOUND") or type(error).__name__ in ("NotFound", "ResourceDoesNotExist")


@dataclass
class StagedFiles:
    """Reads, writes and removes staged files through the API that fits the prefix.

    ``client`` is dagster-databricks' DatabricksClient (its DBFS helpers and its
    SDK WorkspaceClient). Paths are the ones ``remote_path`` gives.
    """

    client: object
    prefix: str

    @property
    def on_volume(self) -> bool:
        return is_volume(self.prefix)

    def remote_path(self, *parts: str) -> str:
        """A staged file as the launching side names it (``/Volumes/…`` or ``dbfs:///…``)."""
        path = "/".join([normalized_prefix(self.prefix).rstrip("/"), *parts])
        return path if self.on_volume else f"dbfs://{path}"  # dbfs:///x, as dagster-databricks spells it

    def task_path(self, *parts: str) -> str:
        """The same file as the task's process opens it (``/Volumes/…`` or the DBFS mount ``/dbfs/…``)."""
        path = "/".join([normalized_prefix(self.prefix).rstrip("/"), *parts])
        return path if self.on_volume else f"/dbfs{path}"

    def write(self, data: bytes, path: str) -> None:
        try:
            if self.on_volume:
                self.client.workspace_client.files.upload(path, BytesIO(data), overwrite=True)
            else:
                self.client.put_file(BytesIO(data), path, overwrite=True)
        except Exception as error:
            if _DBFS_DISABLED in str(error):
                raise StagingLocationError(
                    f"This workspace has no DBFS root ({error}): set databricks.staging_prefix in "
                    "resources/databricks.yaml to a Unity Catalog volume folder, "
                    "/Volumes/<catalog>/<schema>/<volume>/<folder>."
                ) from error
            raise

    def read(self, path: str) -> bytes | None:
        """The file's bytes, or None when it is not there (yet)."""
        try:
            if self.on_volume:
                return self.client.workspace_client.files.download(path).contents.read()
            return self.client.read_file(path)
        except Exception as error:  # the SDK's NotFound / ResourceDoesNotExist, by code or by class
            if _is_missing(error):
                return None
            raise

    def remove_folder(self, folder: str) -> None:
        """Deletes a staging folder and what it holds."""
        if not self.on_volume:
            self.client.workspace_client.dbfs.delete("/" + folder.removeprefix("dbfs:").lstrip("/"), recursive=True)
            return
        files = self.client.workspace_client.files
        for entry in list(files.list_directory_contents(folder)):
            if entry.is_directory:
                self.remove_folder(entry.path)
            else:
                files.delete(entry.path)
        files.delete_directory(folder)
