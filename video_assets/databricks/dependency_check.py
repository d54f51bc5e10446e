"""Would installing a Databricks environment's dependencies bring a pyspark of its own? Resolved, never installed.

Databricks provides Spark where a step runs (a cluster's runtime; on serverless
the environment's databricks-connect, which ships the ``pyspark`` module
without the ``pyspark`` distribution). A dependency that requires pyspark,
pyspark-client, pyspark-connect or delta-spark would have pip install that
distribution over it, which stops the session. ``resolve`` asks a resolver
for the full set the requirements would install, from nothing, for Python
3.12 (serverless environments 4 and 5, DBR 17.3 and 18):

* ``uv pip compile --python-version 3.12`` when uv can be had (the setup
  installs it in .venv): first from uv's cache only (what this machine
  installed is there), then from PyPI when the cache cannot answer; its
  ``# via`` annotations say which requirement brings a package;
* otherwise ``pip install --dry-run --report`` in a throwaway virtualenv of
  this interpreter (pip resolves for the Python it runs on).
"""

import importlib.util
import json
import re
import shutil
import subprocess
import sys
import tempfile
import venv
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

DATABRICKS_PYTHON = "3.12"
# Distributions that hold Spark's Python side (or need a pyspark distribution of their own).
SPARK_DISTRIBUTIONS = ("pyspark", "pyspark-client", "pyspark-connect", "delta-spark")
RESOLVE_TIMEOUT_SECONDS = 300


class ResolutionFailed(RuntimeError):
    """The resolver could not resolve the requirements; the message ends with its own words."""


def normalized_name(name: str) -> str:
    """A distribution's name as PEP 503 compares it: ``Pandera_Core`` and ``pandera.core`` are ``pandera-core``."""
    return re.sub(r"[-_.]+", "-", name.strip()).lower()


def requirement_name(requirement: str) -> str:
    """``pandera[pyspark]>=0.35`` -> ``pandera``."""
    return normalized_name(re.split(r"[\[<>=!~;@ ]", requirement.strip(), maxsplit=1)[0])


@dataclass(frozen=True)
class Resolution:
    """What the requirements would install: name -> version, and (uv only) name -> the packages requiring it."""

    requirements: tuple[str, ...]
    packages: dict[str, str]
    required_by: dict[str, tuple[str, ...]] = field(default_factory=dict)
    resolver: str = "uv"
    python: str = DATABRICKS_PYTHON

    def spark_packages(self) -> dict[str, str]:
        """The Spark distributions among the packages (what must be empty)."""
        return {name: version for name, version in self.packages.items() if name in SPARK_DISTRIBUTIONS}

    def brought_by(self, name: str) -> list[str]:
        """The requirements (as given) that lead to ``name``; empty when the resolver did not say."""
        requested = {requirement_name(requirement): requirement for requirement in self.requirements}
        seen, queue, roots = set(), [name], []
        while queue:
            current = queue.pop()
            if current in seen:
                continue
            seen.add(current)
            if current in requested:
                roots.append(requested[current])
            queue.extend(self.required_by.get(current, ()))
        return sorted(roots)


def resolve(requirements: Sequence[str], python: str = DATABRICKS_PYTHON) -> Resolution:
    """The packages ``requirements`` would install from nothing (see the module docstring)."""
    requirements = tuple(requirements)
    uv = _uv_command()
    if uv is None:
        return _resolve_with_pip(requirements)
    try:
        output = _run([*uv, "pip", "compile", "--offline", "--python-version", python, "--no-header", "-q", "-"],
                      requirements)
    except ResolutionFailed:
        output = _run([*uv, "pip", "compile", "--python-version", python, "--no-header", "-q", "-"], requirements)
    packages, required_by = parse_uv_compile(output)
    return Resolution(requirements, packages, required_by, resolver="uv", python=python)


def parse_uv_compile(output: str) -> tuple[dict[str, str], dict[str, tuple[str, ...]]]:
    """(name -> version, name -> the packages that require it) from ``uv pip compile``'s annotated output."""
    packages: dict[str, str] = {}
    required_by: dict[str, list[str]] = {}
    current = None
    for line in output.splitlines():
        pinned = re.match(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?==(\S+)", line)
        if pinned:
            current = normalized_name(pinned[1])
            packages[current] = pinned[3]
            required_by.setdefault(current, [])
            continue
        via = re.match(r"^\s+#\s+(?:via\s+)?([A-Za-z0-9][A-Za-z0-9._-]*)\s*$", line)
        if current and via and via[1] != "via":
            required_by[current].append(normalized_name(via[1]))
    return packages, {name: tuple(parents) for name, parents in required_by.items()}


def _uv_command() -> list[str] | None:
    if importlib.util.find_spec("uv") is not None:
        return [sys.executable, "-m", "uv"]
    found = shutil.which("uv")
    return [found] if found else None


def _run(command: list[str], requirements: Sequence[str]) -> str:
    try:
        done = subprocess.run(
            command, input="\n".join(requirements) + "\n", capture_output=True, text=True,
            timeout=RESOLVE_TIMEOUT_SECONDS,
        )
    except subprocess.TimeoutExpired:
        raise ResolutionFailed(f"the resolver took more than {RESOLVE_TIMEOUT_SECONDS} s") from None
    if done.returncode != 0:
        raise ResolutionFailed(" ".join(done.stderr.strip().splitlines()[-6:]) or f"exit code {done.returncode}")
    return done.stdout


def _resolve_with_pip(requirements: tuple[str, ...]) -> Resolution:
    with tempfile.TemporaryDirectory(prefix="video-assets-resolve-") as folder:
        venv.create(folder, with_pip=True)
        python = Path(folder) / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python")
        report = Path(folder) / "report.json"
        requirements_file = Path(folder) / "requirements.txt"
        requirements_file.write_text("\n".join(requirements) + "\n")
        _run(
            [str(python), "-m", "pip", "install", "--dry-run", "--ignore-installed", "--quiet",
             "--disable-pip-version-check", "--report", str(report), "-r", str(requirements_file)],
            (),
        )
        installed = json.loads(report.read_text())["install"]
    packages = {normalized_name(item["metadata"]["name"]): item["metadata"]["version"] for item in installed}
    version = ".".join(map(str, sys.version_info[:2]))
    return Resolution(requirements, packages, {}, resolver="pip", python=version)
