#!/usr/bin/env bash
# Sets up everything the project needs on a fresh machine, idempotently:
# a Java runtime (for Spark), a Python 3.11-3.13, the virtualenv .venv with the
# project and the extras a laptop needs (pyproject.toml). Safe to run again; it skips what is in place.
# PYTHON=/path/to/python picks the interpreter for .venv (and rebuilds .venv
# if it was made with a different Python version).
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }
die() { printf '\033[1m[setup]\033[0m error: %s\n' "$*" >&2; exit 1; }

apt_update() {
  local sudo_cmd=""
  if [ "$(id -u)" != "0" ]; then sudo_cmd="sudo"; fi
  if [ -z "${VIDEO_ASSETS_APT_UPDATED:-}" ]; then
    $sudo_cmd apt-get update -qq
    export VIDEO_ASSETS_APT_UPDATED=1
  fi
}

apt_install() {
  local sudo_cmd=""
  if [ "$(id -u)" != "0" ]; then sudo_cmd="sudo"; fi
  apt_update
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "$@"
}

if ! command -v java >/dev/null 2>&1; then
  say "java not found: installing openjdk-17-jre-headless (Spark needs a Java runtime)"
  apt_install openjdk-17-jre-headless
fi

# Python versions the project supports: keep in step with requires-python in pyproject.toml.
SUPPORTED_PYTHONS="3.11-3.13"
is_supported_python() {
  "$1" -c 'import sys; sys.exit(not ((3, 11) <= sys.version_info[:2] <= (3, 13)))' >/dev/null 2>&1
}
python_version() { "$1" -c 'import sys; print("%d.%d" % sys.version_info[:2])'; }

# The apt package's upstream version as major.minor ("3.12.3-1ubuntu1" -> "3.12"), empty if apt has none.
apt_candidate_version() {
  apt-cache policy "$1" 2>/dev/null \
    | sed -n 's/^ *Candidate: *\([0-9][0-9]*\.[0-9][0-9]*\).*/\1/p' | head -1
}

# Finds the interpreter for a new .venv and prints it. An explicit $PYTHON wins.
# Otherwise 3.12 comes first because Databricks runtimes ship 3.12, so local runs
# match production; then 3.11 (the version the project was first built on) and
# 3.13; finally plain python3 if it is one of those versions under another name.
# A candidate that exists but does not run (e.g. a pyenv shim for a version not
# activated) is skipped.
find_python() {
  if [ -n "${PYTHON:-}" ]; then echo "$PYTHON"; return; fi
  local candidate
  for candidate in python3.12 python3.11 python3.13 python3; do
    if command -v "$candidate" >/dev/null 2>&1 && is_supported_python "$candidate"; then
      echo "$candidate"; return
    fi
  done
}

# Installs a supported Python with apt and prints it. The distribution's own
# python3 comes first (Ubuntu 24.04 ships 3.12, Debian 12 ships 3.11) because a
# versioned package such as python3.11 often does not exist there.
install_python_with_apt() {
  command -v apt-get >/dev/null 2>&1 \
    || die "no Python $SUPPORTED_PYTHONS found and apt-get is unavailable: install one, then rerun with PYTHON=/path/to/python"
  apt_update >&2
  local distro_version version
  distro_version="$(apt_candidate_version python3)"
  case "$distro_version" in
    3.11|3.12|3.13)
      say "installing the distribution's python3 ($distro_version) and python3-venv" >&2
      apt_install python3 python3-venv >&2
      echo "/usr/bin/python$distro_version"; return ;;
  esac
  for version in 3.12 3.11 3.13; do
    if [ -n "$(apt_candidate_version "python$version")" ]; then
      say "installing python$version and python$version-venv" >&2
      apt_install "python$version" "python$version-venv" >&2
      echo "/usr/bin/python$version"; return
    fi
  done
  die "apt offers no Python $SUPPORTED_PYTHONS (its python3 is ${distro_version:-absent}): install one, then rerun with PYTHON=/path/to/python"
}

if [ -n "${PYTHON:-}" ] && ! is_supported_python "$PYTHON"; then
  die "PYTHON=$PYTHON is not a working Python $SUPPORTED_PYTHONS"
fi

# Keeps an existing .venv only if its Python is supported, it has pip, and (when
# PYTHON is set) it matches that interpreter's version.
if [ -e .venv ]; then
  reason=""
  if ! is_supported_python .venv/bin/python; then
    reason="its Python ($(python_version .venv/bin/python 2>/dev/null || echo 'not runnable')) is not $SUPPORTED_PYTHONS"
  elif ! .venv/bin/python -m pip --version >/dev/null 2>&1; then
    reason="it has no pip (an earlier venv creation failed half-way)"
  elif [ -n "${PYTHON:-}" ] \
      && [ "$(python_version .venv/bin/python)" != "$(python_version "$PYTHON")" ]; then
    reason="it has Python $(python_version .venv/bin/python) and PYTHON=$PYTHON is $(python_version "$PYTHON")"
  fi
  if [ -n "$reason" ]; then
    say "recreating .venv: $reason"
    rm -rf .venv
  fi
fi

if [ ! -e .venv ]; then
  python="$(find_python)"
  if [ -z "$python" ]; then
    say "no Python $SUPPORTED_PYTHONS found"
    python="$(install_python_with_apt)"
  fi
  say "creating .venv with $python ($(python_version "$python"))"
  if ! "$python" -m venv .venv; then
    # Debian and Ubuntu ship venv's ensurepip separately, as pythonX.Y-venv.
    rm -rf .venv
    apt_install "python$(python_version "$python")-venv"
    "$python" -m venv .venv
  fi
fi

# Everything a laptop runs: the local Spark engine, the Databricks step launcher, the UI and the tests. Only the
# core dependencies go where Databricks provides Spark (pyproject.toml says why).
EXTRAS="local,launch,ui,dev"

stamp=.venv/.installed-$({ cat pyproject.toml constraints.txt 2>/dev/null; echo "$EXTRAS"; } | sha256sum | cut -c1-16)
if [ ! -f "$stamp" ]; then
  say "installing the project and its dependencies into .venv (first time: a minute or two)"
  # uv resolves and installs the same pinned set about twice as fast as pip
  # (55 s against 132 s on 2 cores); pip stays the fallback if uv cannot be had.
  # --compile-bytecode does what pip does by default: where PYTHONDONTWRITEBYTECODE
  # is set, no process would otherwise ever find dagster or pyspark compiled.
  if ! { .venv/bin/python -m pip install --quiet --disable-pip-version-check "uv==0.13.9" \
      && .venv/bin/python -m uv pip install --quiet --compile-bytecode --python .venv/bin/python \
           -c constraints.txt -e ".[$EXTRAS]"; }; then
    say "uv did not install the project: falling back to pip"
    .venv/bin/python -m pip install --quiet --upgrade pip
    .venv/bin/python -m pip install --quiet -c constraints.txt -e ".[$EXTRAS]"
  fi
  rm -f .venv/.installed-*
  touch "$stamp"
fi
# Once per machine (about a minute): the classes Spark and Delta load at every start, archived so that each
# later JVM maps them instead (video_assets/io/jvm_archive.py: ~5 s off every cold run). Without it, runs are
# only slower.
.venv/bin/python -m video_assets.io.jvm_archive || say "no JVM class archive: Spark starts without it"
say "ready: $(.venv/bin/python --version), $(java -version 2>&1 | head -1)"
