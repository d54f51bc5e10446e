#!/usr/bin/env bash
# Starts the Dagster UI for this project: the webserver and the daemons
# (run queue, backfills, sensors, schedules, freshness) via `dagster dev`.
#
#   scripts/ui.sh                 # http://127.0.0.1:3000
#   PORT=3100 scripts/ui.sh       # another port
#
# Works on a fresh machine: scripts/setup.sh installs Java, a Python 3.11-3.13 and the
# virtualenv first (idempotent, quick when everything is in place). The Dagster
# instance lives in <project>/.dagster_home (run history, event logs, sensor
# cursors; SQLite), with a copy of the project's dagster.yaml refreshed on every
# start. Data goes where resources/local.yaml (or VIDEO_ASSETS_LANDING_DIR /
# VIDEO_ASSETS_WAREHOUSE_DIR) says. The UI listens on the loopback interface
# only; from another machine use an SSH tunnel (ssh -L 3000:127.0.0.1:3000 host).
# Stop with Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
PROJECT_DIR="$PWD"

scripts/setup.sh

export DAGSTER_HOME="$PROJECT_DIR/.dagster_home"
mkdir -p "$DAGSTER_HOME"
cp "$PROJECT_DIR/dagster.yaml" "$DAGSTER_HOME/dagster.yaml"
export PATH="$PROJECT_DIR/.venv/bin:$PATH"

PORT="${PORT:-3000}"
printf '\033[1m[ui]\033[0m DAGSTER_HOME=%s\n' "$DAGSTER_HOME"
printf '\033[1m[ui]\033[0m asset lineage: http://127.0.0.1:%s/asset-groups  (Ctrl-C stops the UI and daemons)\n' "$PORT"
# A shell that starts jobs in the background (`scripts/ui.sh &` from a script, nohup,
# some CI runners) hands them SIGINT ignored, and `dagster dev` maps SIGTERM to
# whatever SIGINT does: it would then ignore both. Restore the default handlers
# before becoming `dagster dev`, so that Ctrl-C and `kill <pid>` always stop it.
exec "$PROJECT_DIR/.venv/bin/python" -c '
import os, signal, sys
for number in (signal.SIGINT, signal.SIGTERM):
    signal.signal(number, signal.SIG_DFL)
os.execv(sys.argv[1], sys.argv[1:])
' "$PROJECT_DIR/.venv/bin/dagster" dev -w "$PROJECT_DIR/workspace.yaml" -h 127.0.0.1 -p "$PORT"
