#!/usr/bin/env bash
# A third-party SSE client (npm `eventsource`) follows a run while its
# events are written, across a restart of the server in the middle: the
# server ends the stream with `end` {"reason":"shutdown"}, the client comes
# back by itself with Last-Event-ID to the new server, and gets every event
# once, in order, then `end` {"reason":"finished"}.
set -euo pipefail
src=$1
bin=$2
writer=$3
tools=$src/build/tools
[[ -d $tools/node_modules/eventsource ]] || { echo "npm eventsource is not installed (scripts/install-deps)"; exit 1; }
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; tail -5 "$work/serve.log" || true; exit 1; }
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
api=http://127.0.0.1:$port
mkdir -p "$work/repos/shop"
echo '{"name":"shop"}' >"$work/repos/shop/package.json"
serve() {
  PRODSPRINT_SERVER_REPOS_ROOT=$work/repos "$bin" serve --dev --listen "127.0.0.1:$port" \
    --state "$work/state" >>"$work/serve.log" 2>&1 &
  server=$!
  pids+=($server)
  for _ in $(seq 100); do curl -sf "$api/healthz" >/dev/null && return; sleep 0.05; done
  fail "the server did not start"
}
serve
sleep 0.2
code=$(grep -o 'code=[A-Za-z0-9_-]*' "$work/serve.log" | head -1 | cut -d= -f2)
curl -s -c "$work/jar" -o /dev/null "$api/v1/auth/dev?code=$code"
token=$(curl -s -b "$work/jar" -H 'X-Requested-With: test' -d '{"name":"es","role":"developer"}' \
  "$api/v1/orgs/default/tokens" | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
project=$(curl -s -H "Authorization: Bearer $token" \
  -d "{\"repo_url\":\"$work/repos/shop\",\"workspace\":\"default/default\"}" "$api/v1/projects/import" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["project_id"])')

# The writer makes a run and appends 60 events at 20 per second, then
# run.done, straight into the store (as a worker elsewhere would).
"$writer" --port "$port" --token "$token" --db "$work/state/state.db" --project "$project" \
  --clients 0 --events 60 --rate 20 >"$work/writer.out" 2>/dev/null &
pids+=($!)
for _ in $(seq 100); do grep -q '"run"' "$work/writer.out" 2>/dev/null && break; sleep 0.05; done
run=$(head -1 "$work/writer.out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["run"])')
node "$src/tests/api/eventsource_client.mjs" "$api/v1/runs/$run/stream" "$token" "$tools" \
  >"$work/client.out" 2>"$work/client.err" &
client=$!
pids+=($client)

sleep 1.2
kill -TERM "$server"; wait "$server" 2>/dev/null || true
sleep 0.5
serve
wait "$client" || fail "the client did not finish: $(cat "$work/client.out" "$work/client.err")"
python3 - "$work/client.out" "$api" "$run" "$token" <<'PY'
import json, sys, urllib.request
got = json.loads(open(sys.argv[1]).read())
req = urllib.request.Request(f"{sys.argv[2]}/v1/runs/{sys.argv[3]}/events?limit=5000",
                             headers={"Authorization": "Bearer " + sys.argv[4]})
want = [e["seq"] for e in json.load(urllib.request.urlopen(req))["items"]]
assert got["shutdowns"] >= 1, f"the stream did not see the restart: {got}"
assert got["ids"] == want, f"ids differ:\n got {got['ids']}\nwant {want}"
print(f"ok: {len(want)} events, each once and in order, across {got['shutdowns']} restart(s)")
PY
