#!/usr/bin/env bash
# From a fresh clone: install what is missing, generate a week of sample data,
# materialize every asset for the whole week in one run on local Spark + Delta,
# and print a summary. The run is recorded in .dagster_home, so `bash scripts/ui.sh`
# shows it afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
mkdir -p .dagster_home
cp dagster.yaml .dagster_home/dagster.yaml
export DAGSTER_HOME="$PWD/.dagster_home"
exec .venv/bin/video-assets demo "$@"
