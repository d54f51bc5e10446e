#!/usr/bin/env bash
# Writes the README's three pictures, as headless Chromium renders them, from the demo's results:
#
#   docs/images/asset-graph.png     the global asset lineage page, every group expanded: assets
#                                   materialized for the demo week, check status on each node
#   docs/images/retention-plot.png  video_engagement_summary's latest materialization (its Events tab)
#                                   with the retention_top_videos picture opened ("[Show Markdown]")
#   docs/images/report.png          the demo week's HTML report (`video-assets report`), as a file:// URL
#
#   scripts/screenshot.sh [output-folder]      # default docs/images
#
# The demo's results are its run history in .dagster_home, its warehouse and its report. When
# they are missing (no materialization of video_engagement_summary recorded, or no report), the
# script runs `bash scripts/demo.sh` first (a few minutes). It then starts dagster-webserver
# alone (no daemons, so nothing is launched) on a free loopback port with a throwaway COPY of
# .dagster_home, waits until the code location has loaded, drives Chromium over the DevTools
# protocol (video_assets_tests/e2e/browser.py: the plot sits behind a click), and stops the
# webserver. Installs Debian's `chromium` with apt-get when it is missing.
# GRAPH_WINDOW_SIZE (default 2400,1300) is large enough for the graph to draw every node in full
# (name, partitions, checks); at smaller sizes it zooms out and shows names only.
set -euo pipefail
cd "$(dirname "$0")/.."
PROJECT_DIR="$PWD"
OUT_DIR="$(realpath -m "${1:-$PROJECT_DIR/docs/images}")"
GRAPH_WINDOW_SIZE="${GRAPH_WINDOW_SIZE:-2400,1300}"

say() { printf '\033[1m[screenshot]\033[0m %s\n' "$*"; }

[ -x .venv/bin/python ] || bash scripts/setup.sh
PY="$PROJECT_DIR/.venv/bin/python"

CHROMIUM="$(command -v chromium || command -v chromium-browser || true)"
if [ -z "$CHROMIUM" ]; then
  say "chromium not found: installing Debian's chromium package"
  sudo_cmd=""; [ "$(id -u)" = "0" ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends chromium
  CHROMIUM="$(command -v chromium)"
fi

# Prints the demo report's path when the demo's results are there; exits 3 when they are not.
demo_report() {
  "$PY" - <<'PYTHON'
import sys
from datetime import date, timedelta
from pathlib import Path

home = Path(".dagster_home")
if not (home / "dagster.yaml").is_file():
    sys.exit(3)
import dagster as dg

from video_assets.cli import DEMO_DAYS, DEMO_START
from video_assets.reporting.html_report import default_report_path

first_day = date.fromisoformat(DEMO_START)
report = default_report_path(first_day, first_day + timedelta(days=DEMO_DAYS - 1))
with dg.DagsterInstance.from_config(str(home)) as instance:
    latest = instance.get_latest_materialization_event(dg.AssetKey("video_engagement_summary"))
if latest is None or not report.is_file():
    sys.exit(3)
print(report)
PYTHON
}

status=0; REPORT="$(demo_report)" || status=$?
if [ "$status" = 3 ]; then
  say "the demo has not been run here (nothing materialized in .dagster_home, or no report): running bash scripts/demo.sh first"
  bash scripts/demo.sh
  REPORT="$(demo_report)"
elif [ "$status" != 0 ]; then
  say "could not read the demo's results in .dagster_home (see the error above)"; exit 1
fi
say "demo results: .dagster_home, report $REPORT"

WORK="$(mktemp -d -t readme-shots.XXXXXX)"
export DAGSTER_HOME="$WORK/dagster_home"
# A copy: the webserver may migrate or add to its instance; the demo's history stays as it was.
cp -a .dagster_home "$DAGSTER_HOME"
mkdir -p "$DAGSTER_HOME/.nux"
# The "Join the Dagster community" dialog shows once per instance; mark it seen.
echo "seen: 1" > "$DAGSTER_HOME/.nux/nux.yaml"

PORT="$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
# A session of its own, so that stopping it reaches the code server it starts too.
setsid "$PROJECT_DIR/.venv/bin/dagster-webserver" -w workspace.yaml -h 127.0.0.1 -p "$PORT" \
  >"$WORK/webserver.log" 2>&1 </dev/null &
SERVER_PID=$!

stop_server() {
  if kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM -- "-$SERVER_PID" 2>/dev/null || kill -TERM "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 1 40); do
      kill -0 -- "-$SERVER_PID" 2>/dev/null || break
      sleep 0.5
    done
    kill -KILL -- "-$SERVER_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap stop_server EXIT

say "webserver on 127.0.0.1:$PORT (pid $SERVER_PID), waiting for the code location"
mkdir -p "$OUT_DIR"
"$PY" - "$PORT" "$SERVER_PID" "$CHROMIUM" "$GRAPH_WINDOW_SIZE" "$REPORT" "$WORK" "$OUT_DIR" <<'PYTHON' || {
import json, os, shutil, sys, time, urllib.request
from pathlib import Path
from urllib.parse import quote

from video_assets_tests.e2e.browser import INLINE_PNG_LOADED, HeadlessChromium

port, pid, binary, graph_size, report, work, out_dir = sys.argv[1:]
pid, work, out_dir = int(pid), Path(work), Path(out_dir)
base = f"http://127.0.0.1:{port}"
query = """{ workspaceOrError { ... on Workspace { locationEntries { loadStatus
  locationOrLoadError { __typename ... on PythonError { message } } } } }
  assetNodes { assetKey { path } groupName } }"""
deadline = time.time() + 240
while True:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        sys.exit("the webserver exited; see its log below")
    try:
        request = urllib.request.Request(f"{base}/graphql", data=json.dumps({"query": query}).encode(),
                                         headers={"Content-Type": "application/json"})
        data = json.loads(urllib.request.urlopen(request, timeout=10).read())["data"]
        entries = data["workspaceOrError"]["locationEntries"]
        errors = [e["locationOrLoadError"].get("message") for e in entries
                  if (e["locationOrLoadError"] or {}).get("__typename") == "PythonError"]
        if errors:
            sys.exit("code location failed to load:\n" + "\n".join(errors))
        if entries and all(e["loadStatus"] == "LOADED" for e in entries) and data["assetNodes"]:
            break
    except Exception:
        pass
    if time.time() > deadline:
        sys.exit("webserver not ready after 240 s")
    time.sleep(1)
names = [node["assetKey"]["path"][-1] for node in data["assetNodes"]]
groups = sorted({f"global@global:{node['groupName']}" for node in data["assetNodes"]})


def shot(browser, name, selector=None):
    written = browser.screenshot(work / name, selector)
    shutil.move(written, out_dir / name)
    print(f"\033[1m[screenshot]\033[0m wrote {out_dir / name}", flush=True)


width, height = (int(value) for value in graph_size.split(","))
with HeadlessChromium(binary, width, height, timeout=120) as browser:
    # 1. The lineage page: every node drawn with its materialization and check status.
    browser.open(f"{base}/asset-groups?expanded={quote(','.join(groups), safe=',@:')}")
    browser.wait_for_text(["Global asset lineage", *names], timeout=120)
    # Each node fetches its own status after it is drawn: until then it shows "Loading...".
    browser.wait_for("!document.body.innerText.includes('Loading')", timeout=120, what="node status loaded")
    browser.settle(3)
    shot(browser, "asset-graph.png")

    # 2. The latest materialization of video_engagement_summary, its retention picture opened.
    browser.resize(1400, 900)
    browser.open(f"{base}/assets/video_engagement_summary?view=events")
    browser.show_markdown("retention_top_videos", timeout=120)
    browser.wait_for(INLINE_PNG_LOADED, timeout=60, what="the retention plot decoded")
    browser.settle(2)
    shot(browser, "retention-plot.png")

    # 3. The HTML report, top of the page: headline numbers, the top videos' charts and their platforms.
    browser.resize(1280, 1980)
    browser.open(Path(report).as_uri())
    browser.wait_for("[...document.images].length > 0 && [...document.images].every("
                     "(img) => img.complete && img.naturalWidth > 0)", timeout=60, what="the report's charts")
    browser.settle(1)
    shot(browser, "report.png")
PYTHON
  say "failed; the webserver's log:"; tail -n 60 "$WORK/webserver.log" >&2; exit 1; }
