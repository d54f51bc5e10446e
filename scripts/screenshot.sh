#!/usr/bin/env bash
# Writes docs/images/asset-graph.png: the global asset lineage page of the Dagster
# UI, all groups expanded, as headless Chromium renders it.
#
#   scripts/screenshot.sh [output.png]
#
# Starts dagster-webserver on a free loopback port with a throwaway DAGSTER_HOME
# (a copy of the project's dagster.yaml; nothing is materialized), waits until
# the code location has loaded, takes the screenshot and stops the webserver.
# Installs Debian's `chromium` with apt-get when /usr/bin/chromium is missing.
# WINDOW_SIZE (default 2400,1300) is large enough for the UI to draw every node
# in full (name, partitions, kinds); at smaller sizes it zooms out and shows names only.
set -euo pipefail
cd "$(dirname "$0")/.."
PROJECT_DIR="$PWD"
OUTPUT="${1:-$PROJECT_DIR/docs/images/asset-graph.png}"
WINDOW_SIZE="${WINDOW_SIZE:-2400,1300}"

say() { printf '\033[1m[screenshot]\033[0m %s\n' "$*"; }

[ -x .venv/bin/python ] || scripts/setup.sh
PY="$PROJECT_DIR/.venv/bin/python"

CHROMIUM="$(command -v chromium || command -v chromium-browser || true)"
if [ -z "$CHROMIUM" ]; then
  say "chromium not found: installing Debian's chromium package"
  sudo_cmd=""; [ "$(id -u)" = "0" ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends chromium
  CHROMIUM="$(command -v chromium)"
fi

WORK="$(mktemp -d -t asset-graph-shot.XXXXXX)"
export DAGSTER_HOME="$WORK/dagster_home"
mkdir -p "$DAGSTER_HOME/.nux"
cp dagster.yaml "$DAGSTER_HOME/dagster.yaml"
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
# Prints the lineage URL with every asset group expanded once the location has loaded.
URL="$("$PY" - "$PORT" "$SERVER_PID" <<'PYTHON'
import json, os, sys, time, urllib.request
port, pid = sys.argv[1], int(sys.argv[2])
base = f"http://127.0.0.1:{port}"
query = """{ workspaceOrError { ... on Workspace { locationEntries { loadStatus
  locationOrLoadError { __typename ... on PythonError { message } } } } }
  assetNodes { groupName repository { name location { name } } } }"""
deadline = time.time() + 240
while True:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        sys.exit("the webserver exited; see its log above")
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
groups = set()
for node in data["assetNodes"]:
    repo = node["repository"]
    # Group ids of the lineage page: global ones, and per code location (behind a UI feature flag).
    groups.add(f"global@global:{node['groupName']}")
    groups.add(f"{repo['name']}@{repo['location']['name']}:{node['groupName']}")
print(f"{base}/asset-groups?expanded=" + ",".join(sorted(groups)))
PYTHON
)" || { cat "$WORK/webserver.log" >&2; exit 1; }

say "rendering $URL"
mkdir -p "$(dirname "$OUTPUT")"
rm -f "$WORK/shot.png"
timeout 180 "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-dev-shm-usage --disable-quic \
  --no-first-run --disable-background-networking --disable-component-update --disable-sync \
  --hide-scrollbars --user-data-dir="$WORK/chromium-profile" --window-size="$WINDOW_SIZE" \
  --virtual-time-budget=15000 --screenshot="$WORK/shot.png" "$URL" >"$WORK/chromium.log" 2>&1 || {
  cat "$WORK/chromium.log" >&2; exit 1; }
[ -s "$WORK/shot.png" ] || { say "chromium wrote no screenshot"; cat "$WORK/chromium.log" >&2; exit 1; }
mv "$WORK/shot.png" "$OUTPUT"
say "wrote $OUTPUT"
