#!/usr/bin/env bash
# Sets up everything the project needs on a fresh machine, idempotently:
# a Java runtime (for Spark), Python 3.11, the virtualenv .venv with the
# project and its dev extras. Safe to run again; it skips what is in place.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }

apt_install() {
  local sudo_cmd=""
  if [ "$(id -u)" != "0" ]; then sudo_cmd="sudo"; fi
  if [ -z "${VIDEO_ASSETS_APT_UPDATED:-}" ]; then
    $sudo_cmd apt-get update -qq
    export VIDEO_ASSETS_APT_UPDATED=1
  fi
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "$@"
}

if ! command -v java >/dev/null 2>&1; then
  say "java not found: installing openjdk-17-jre-headless (Spark needs a Java runtime)"
  apt_install openjdk-17-jre-headless
fi

PYTHON="${PYTHON:-}"
if [ -z "$PYTHON" ]; then
  for candidate in python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
      PYTHON="$candidate"; break
    fi
  done
fi
if [ -z "$PYTHON" ]; then
  say "Python 3.11 not found: installing python3.11 and python3.11-venv"
  apt_install python3.11 python3.11-venv
  PYTHON=python3.11
fi

if [ ! -x .venv/bin/python ]; then
  say "creating .venv with $PYTHON"
  "$PYTHON" -m venv .venv || { apt_install python3.11-venv && "$PYTHON" -m venv .venv; }
fi

stamp=.venv/.installed-$(cat pyproject.toml constraints.txt 2>/dev/null | sha256sum | cut -c1-16)
if [ ! -f "$stamp" ]; then
  say "installing the project and its dependencies into .venv (first time: a few minutes)"
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -c constraints.txt -e ".[dev]"
  rm -f .venv/.installed-*
  touch "$stamp"
fi
say "ready: $(.venv/bin/python --version), $(java -version 2>&1 | head -1)"
